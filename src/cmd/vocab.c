/* PLACEHOLDER: replaced by the real 'mmdb vocab' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_vocab(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'vocab' is not available in this build");
}

/* PLACEHOLDER: replaced by the real 'mmdb tokenize' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_tokenize(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'tokenize' is not available in this build");
}

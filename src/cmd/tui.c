/* PLACEHOLDER: replaced by the real 'mmdb tui' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_tui(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'tui' is not available in this build");
}

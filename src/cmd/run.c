/* PLACEHOLDER: replaced by the real 'mmdb run' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_run(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'run' is not available in this build");
}

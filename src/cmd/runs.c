/* PLACEHOLDER: replaced by the real 'mmdb runs' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_runs(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'runs' is not available in this build");
}

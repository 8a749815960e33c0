/* PLACEHOLDER: replaced by the real 'mmdb stats' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_stats(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'stats' is not available in this build");
}

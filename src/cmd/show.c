/* PLACEHOLDER: replaced by the real 'mmdb show' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_show(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'show' is not available in this build");
}

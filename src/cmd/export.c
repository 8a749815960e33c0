/* PLACEHOLDER: replaced by the real 'mmdb export' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_export(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'export' is not available in this build");
}

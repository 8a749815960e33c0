/* PLACEHOLDER: replaced by the real 'mmdb compare' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_compare(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'compare' is not available in this build");
}

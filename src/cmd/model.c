/* PLACEHOLDER: replaced by the real 'mmdb model' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_model(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'model' is not available in this build");
}

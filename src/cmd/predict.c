/* PLACEHOLDER: replaced by the real 'mmdb predict' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_predict(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'predict' is not available in this build");
}

/* PLACEHOLDER: replaced by the real 'mmdb images' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_images(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'images' is not available in this build");
}

/* PLACEHOLDER: replaced by the real 'mmdb ingest' (delete this line and the body). */
#include "cmds.h"
#include "../util.h"

int cmd_ingest(int argc, char **argv, struct mmdb_ctx *ctx)
{
	return error("'ingest' is not available in this build");
}

/* mmdb init: create the database or migrate it to this binary's schema. */
#include "cmds.h"
#include "../db.h"
#include "../util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_init(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct db *db = NULL;
	int c, before = 0, target = 0;
	FILE *f;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_int(optarg, 1, db_schema_version(), "--to", &target))
				return 2;
			break;
		case 'h':
			printf("usage: mmdb init [--to N]\n\nCreates the database (%s) or migrates it to schema "
			       "version %d\n(or only up to version N with --to).\n", ctx->db_path,
			       db_schema_version());
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc)
		return usage_error("init: unexpected argument '%s'", argv[optind]);

	if ((f = fopen(ctx->db_path, "rb"))) {
		fclose(f);
		if (db_open(&db, ctx->db_path, DB_NO_MIGRATE))
			return 1;
		before = db_user_version(db);
		if (before < 0 || db_migrate(db, target)) {
			db_close(db);
			return 1;
		}
	} else if (db_open(&db, ctx->db_path, DB_NO_MIGRATE) || db_migrate(db, target)) {
		db_close(db);
		return 1;
	}
	if (!ctx->quiet) {
		int after = db_user_version(db);
		if (before == after)
			printf("%s: schema version %d, up to date\n", ctx->db_path, after);
		else
			printf("%s: schema version %d -> %d\n", ctx->db_path, before, after);
	}
	db_close(db);
	return 0;
}

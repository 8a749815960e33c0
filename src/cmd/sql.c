/*
 * mmdb sql: SQL over everything. Read-only unless --write; output as an
 * aligned table, CSV or JSON.
 */
#include "cmds.h"
#include "../db.h"
#include "../output.h"
#include "../util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void sql_usage(FILE *f)
{
	fprintf(f, "usage: mmdb sql [--format table|csv|json] [--write] \"SQL\" (or SQL on stdin)\n\n"
		   "Runs SQL over the database. Without --write, statements that would change\n"
		   "the database are refused. Useful views: run_summary, epoch_settings,\n"
		   "prediction_posts.\n");
}

struct sql_state {
	struct table *t;
	int fmt;
};

static int sql_row(struct db_stmt *st, long row, void *data)
{
	struct sql_state *s = data;
	int i, n = db_column_count(st);
	if (row == 0) {
		/* a new statement: flush the previous one's table */
		if (s->t) {
			table_print(s->t, stdout, s->fmt);
			table_free(s->t);
		}
		s->t = table_new(n);
		for (i = 0; i < n; i++)
			table_set_header(s->t, i, db_column_name(st, i));
		return 0;
	}
	table_add_row(s->t);
	for (i = 0; i < n; i++) {
		switch (db_column_type(st, i)) {
		case DB_NULL: table_cell_null(s->t, i); break;
		case DB_INTEGER: table_cell_int(s->t, i, db_column_int(st, i)); break;
		case DB_FLOAT: table_cell_double(s->t, i, db_column_double(st, i)); break;
		case DB_BLOB: {
			char buf[32];
			snprintf(buf, sizeof(buf), "<blob %d bytes>", db_column_bytes(st, i));
			table_cell_text(s->t, i, buf);
			break;
		}
		default: table_cell_text(s->t, i, db_column_text(st, i)); break;
		}
	}
	return 0;
}

int cmd_sql(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "write", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sql_state s = { NULL, FMT_TABLE };
	struct strbuf sql = STRBUF_INIT;
	struct db *db = NULL;
	int c, write = 0, ret = 0;

	while ((c = getopt_long(argc, argv, "f:wh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((s.fmt = output_format_parse(optarg)) < 0)
				return usage_error("sql: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'w': write = 1; break;
		case 'h': sql_usage(stdout); return 0;
		default: sql_usage(stderr); return 2;
		}
	}
	if (optind + 1 < argc)
		return usage_error("sql: give the SQL as one argument (quote it)");
	if (optind < argc) {
		sb_adds(&sql, argv[optind]);
	} else {
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			sb_add(&sql, buf, n);
		if (!sql.len)
			return usage_error("sql: no SQL given");
	}
	if (db_open(&db, ctx->db_path, write ? DB_NO_CREATE : DB_READONLY)) {
		ret = 1;
		goto out;
	}
	if (db_run_script(db, sql.buf, !write, sql_row, &s))
		ret = 1;
	if (s.t) {
		/* JSON output: one array per statement; a failed statement prints none. */
		if (!ret || s.fmt != FMT_JSON)
			table_print(s.t, stdout, s.fmt);
		table_free(s.t);
	}
out:
	db_close(db);
	sb_release(&sql);
	return ret;
}

/*
 * results: query-to-table and label-name helpers for the result commands.
 */
#include "results.h"
#include "db.h"
#include "output.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct table *results_query(struct db *db, const char *sql, int64_t id, const char *text)
{
	struct db_stmt *st = NULL;
	struct table *t;

	if (db_prepare(db, &st, sql))
		return NULL;
	if (strstr(sql, "?1"))
		db_bind_int(st, 1, id);
	if (text && strstr(sql, "?2"))
		db_bind_text(st, 2, text, -1);
	t = results_from_stmt(st);
	db_finalize(st);
	return t;
}

struct table *results_from_stmt(struct db_stmt *st)
{
	struct table *t;
	int i, n, rc;

	n = db_column_count(st);
	t = table_new(n);
	for (i = 0; i < n; i++)
		table_set_header(t, i, db_column_name(st, i));
	while ((rc = db_step(st)) == DB_ROW) {
		table_add_row(t);
		for (i = 0; i < n; i++) {
			switch (db_column_type(st, i)) {
			case DB_NULL: table_cell_null(t, i); break;
			case DB_INTEGER: table_cell_int(t, i, db_column_int(st, i)); break;
			case DB_FLOAT: table_cell_double(t, i, db_column_double(st, i)); break;
			default: table_cell_text(t, i, db_column_text(st, i)); break;
			}
		}
	}
	if (rc < 0) {
		table_free(t);
		return NULL;
	}
	return t;
}

void results_json_member(const struct table *t, const char *key, int first, int as_object)
{
	printf("%s\"%s\": ", first ? "" : ",\n", key);
	if (as_object)
		table_print_object(t, stdout);
	else
		table_print(t, stdout, FMT_JSON);
	fflush(stdout);
}

int results_label_names(struct db *db, const char *scheme, char ***names)
{
	struct db_stmt *st = NULL;
	char **v;
	int C = scheme[0] - '0', rc, k;

	if (C != 2 && C != 3 && C != 6)
		return error("unknown label scheme '%s'", scheme);
	v = xcalloc((size_t)C, sizeof(char *));
	if (db_prepare(db, &st, "SELECT label, name FROM label_names WHERE scheme = ?1")) {
		free(v);
		return -1;
	}
	db_bind_text(st, 1, scheme, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		k = (int)db_column_int(st, 0);
		if (k >= 0 && k < C && !v[k])
			v[k] = xstrdup(db_column_text(st, 1));
	}
	db_finalize(st);
	for (k = 0; k < C; k++)
		if (!v[k]) {
			char buf[16];
			snprintf(buf, sizeof(buf), "%d", k);
			v[k] = xstrdup(buf);
		}
	*names = v;
	return C;
}

void results_free_names(char **names, int n)
{
	int k;
	if (!names)
		return;
	for (k = 0; k < n; k++)
		free(names[k]);
	free(names);
}

/*
 * mmdb compare RUN RUN...: the hyperparameters that differ, metrics side by
 * side, per-class F1 and its change against the first run, and the test
 * posts the first run gets right and another gets wrong (and the reverse).
 */
#include "cmds.h"
#include "../db.h"
#include "../output.h"
#include "../results.h"
#include "../train.h"
#include "../util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 16

static const char *const metric_keys[] = {
	"status", "epochs_done", "best_epoch", "best_val_accuracy", "best_val_f1", "test_accuracy",
	"test_precision", "test_recall", "test_f1", "test_f1_macro", "train_samples_per_s",
	"seconds",
};

struct kv {
	char *key;
	char *val[MAX_RUNS];
};

static int config_diff(struct db *db, const int64_t *ids, int n, struct table **out)
{
	struct db_stmt *st = NULL;
	struct kv *kv = NULL;
	size_t nkv = 0, alloc = 0, k;
	int r, rc, ret = -1;
	struct table *t;

	if (db_prepare(db, &st, "SELECT j.key, CASE j.type WHEN 'true' THEN 'true' WHEN 'false' "
				"THEN 'false' WHEN 'null' THEN NULL ELSE j.value END FROM runs, "
				"json_each(runs.config) j WHERE runs.id = ?1 AND j.key NOT IN "
				"('argv', 'name', 'notes') ORDER BY j.id"))
		return -1;
	for (r = 0; r < n; r++) {
		db_reset(st);
		db_bind_int(st, 1, ids[r]);
		while ((rc = db_step(st)) == DB_ROW) {
			const char *key = db_column_text(st, 0), *v = db_column_text(st, 1);
			for (k = 0; k < nkv; k++)
				if (!strcmp(kv[k].key, key))
					break;
			if (k == nkv) {
				ALLOC_GROW(kv, nkv + 1, alloc);
				memset(&kv[nkv], 0, sizeof(kv[nkv]));
				kv[nkv++].key = xstrdup(key);
			}
			free(kv[k].val[r]);
			kv[k].val[r] = xstrdup(v ? v : "");
		}
		if (rc < 0)
			goto out;
	}
	t = table_new(n + 1);
	table_set_header(t, 0, "setting");
	for (r = 0; r < n; r++) {
		char h[32];
		snprintf(h, sizeof(h), "run %lld", (long long)ids[r]);
		table_set_header(t, r + 1, h);
	}
	for (k = 0; k < nkv; k++) {
		int differ = 0;
		for (r = 1; r < n; r++)
			if (strcmp(kv[k].val[r] ? kv[k].val[r] : "", kv[k].val[0] ? kv[k].val[0] : ""))
				differ = 1;
		if (!differ)
			continue;
		table_add_row(t);
		table_cell_text(t, 0, kv[k].key);
		for (r = 0; r < n; r++)
			table_cell_text(t, r + 1, kv[k].val[r]);
	}
	*out = t;
	ret = 0;
out:
	for (k = 0; k < nkv; k++) {
		free(kv[k].key);
		for (r = 0; r < MAX_RUNS; r++)
			free(kv[k].val[r]);
	}
	free(kv);
	db_finalize(st);
	return ret;
}

static struct table *metrics_side(struct db *db, const int64_t *ids, int n)
{
	struct db_stmt *st = NULL;
	struct table *t;
	size_t m;
	int r;

	t = table_new(n + 1 + (n == 2));
	table_set_header(t, 0, "metric");
	for (r = 0; r < n; r++) {
		char h[32];
		snprintf(h, sizeof(h), "run %lld", (long long)ids[r]);
		table_set_header(t, r + 1, h);
		table_set_precision(t, r + 1, 4);
	}
	if (n == 2) {
		table_set_header(t, 3, "delta");
		table_set_precision(t, 3, 4);
	}
	for (m = 0; m < ARRAY_SIZE(metric_keys); m++) {
		char sql[256];
		double v[MAX_RUNS];
		int isnull[MAX_RUNS];
		snprintf(sql, sizeof(sql), "SELECT %s FROM run_summary WHERE id = ?1", metric_keys[m]);
		if (db_prepare(db, &st, sql)) {
			table_free(t);
			return NULL;
		}
		table_add_row(t);
		table_cell_text(t, 0, metric_keys[m]);
		for (r = 0; r < n; r++) {
			db_reset(st);
			db_bind_int(st, 1, ids[r]);
			isnull[r] = 1;
			if (db_step(st) == DB_ROW && db_column_type(st, 0) != DB_NULL) {
				isnull[r] = 0;
				if (db_column_type(st, 0) == DB_TEXT) {
					table_cell_text(t, r + 1, db_column_text(st, 0));
					isnull[r] = 1;
				} else if (db_column_type(st, 0) == DB_INTEGER) {
					v[r] = (double)db_column_int(st, 0);
					table_cell_int(t, r + 1, db_column_int(st, 0));
				} else {
					v[r] = db_column_double(st, 0);
					table_cell_double(t, r + 1, v[r]);
				}
			}
		}
		if (n == 2 && !isnull[0] && !isnull[1])
			table_cell_double(t, 3, v[1] - v[0]);
		db_finalize(st);
		st = NULL;
	}
	return t;
}

static struct table *class_deltas(struct db *db, const int64_t *ids, int n)
{
	struct strbuf sql = STRBUF_INIT;
	struct table *t;
	int r;

	/* F1 per class on test at each run's best epoch; delta against the first run. */
	sb_addf(&sql, "SELECT label, name");
	for (r = 0; r < n; r++)
		sb_addf(&sql, ", f1_%d AS \"f1 run %lld\"", r, (long long)ids[r]);
	for (r = 1; r < n; r++)
		sb_addf(&sql, ", f1_%d - f1_0 AS \"delta %lld\"", r, (long long)ids[r]);
	sb_adds(&sql, " FROM (SELECT n.label AS label, n.name AS name");
	for (r = 0; r < n; r++)
		sb_addf(&sql, ", (SELECT c.f1 FROM class_metrics c JOIN runs x ON x.id = c.run_id "
			      "WHERE c.run_id = %lld AND c.epoch = x.best_epoch AND c.split = 'test' "
			      "AND c.label = n.label) AS f1_%d", (long long)ids[r], r);
	sb_addf(&sql, " FROM label_names n WHERE n.scheme = (SELECT label FROM runs WHERE id = %lld) "
		      "ORDER BY n.label)", (long long)ids[0]);
	t = results_query(db, sql.buf, 0, NULL);
	sb_release(&sql);
	if (t)
		for (r = 2; r < 2 + 2 * n - 1; r++)
			table_set_precision(t, r, 4);
	return t;
}

/* Test posts run a gets right and run b wrong (right = 1) or the reverse. */
static struct table *disagreements(struct db *db, int64_t a, int64_t b, int limit,
				   int64_t *count_ab, int64_t *count_ba)
{
	char sql[1024];
	struct table *t;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM predictions x JOIN predictions y ON "
		 "y.post_id = x.post_id AND y.run_id = %lld AND y.split = 'test' WHERE x.run_id = "
		 "%lld AND x.split = 'test' AND x.pred = x.label AND y.pred <> y.label",
		 (long long)b, (long long)a);
	if (db_query_int(db, sql, 0, count_ab))
		return NULL;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM predictions x JOIN predictions y ON "
		 "y.post_id = x.post_id AND y.run_id = %lld AND y.split = 'test' WHERE x.run_id = "
		 "%lld AND x.split = 'test' AND x.pred <> x.label AND y.pred = y.label",
		 (long long)b, (long long)a);
	if (db_query_int(db, sql, 0, count_ba))
		return NULL;
	snprintf(sql, sizeof(sql),
		 "SELECT CASE WHEN x.pred = x.label THEN 'run %lld' ELSE 'run %lld' END AS right, "
		 "x.post_id, ln.name AS label, px.name AS pred_%lld, py.name AS pred_%lld, s.title "
		 "FROM predictions x JOIN predictions y ON y.post_id = x.post_id AND y.run_id = %lld "
		 "JOIN runs r ON r.id = x.run_id JOIN posts s ON s.id = x.post_id "
		 "LEFT JOIN label_names ln ON ln.scheme = r.label AND ln.label = x.label "
		 "LEFT JOIN label_names px ON px.scheme = r.label AND px.label = x.pred "
		 "LEFT JOIN label_names py ON py.scheme = r.label AND py.label = y.pred "
		 "WHERE x.run_id = %lld AND x.split = 'test' AND y.split = 'test' AND "
		 "(x.pred = x.label) <> (y.pred = y.label) "
		 "ORDER BY x.pred = x.label DESC, abs(x.prob_label - y.prob_label) DESC LIMIT %d",
		 (long long)a, (long long)b, (long long)a, (long long)b, (long long)b, (long long)a,
		 limit);
	t = results_query(db, sql, 0, NULL);
	return t;
}

int cmd_compare(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t ids[MAX_RUNS];
	struct table *cfg = NULL, *met = NULL, *cls = NULL;
	int c, n = 0, i, r, limit = 10, ret = 1;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_int(optarg, 0, 100000, "--limit", &limit))
				return 2;
			break;
		case 'h':
			printf("usage: mmdb compare [--limit N] RUN RUN...\n\nRuns side by side: the "
			       "settings that differ, metrics (with the change for\ntwo runs), "
			       "per-class test F1 and its change against the first run, and\nup to N "
			       "(10) test posts the first run gets right and another wrong, and the\n"
			       "reverse.\n");
			return 0;
		default: return 2;
		}
	}
	if (argc - optind < 2)
		return usage_error("compare: give at least two runs");
	if (argc - optind > MAX_RUNS)
		return usage_error("compare: at most %d runs", MAX_RUNS);
	for (i = optind; i < argc; i++)
		if (run_lookup(ctx->db, argv[i], &ids[n++]))
			return 1;
	if (config_diff(ctx->db, ids, n, &cfg) || !(met = metrics_side(ctx->db, ids, n)) ||
	    !(cls = class_deltas(ctx->db, ids, n)))
		goto out;
	printf("== settings that differ\n");
	if (table_rows(cfg))
		table_print(cfg, stdout, FMT_TABLE);
	else
		printf("(none)\n");
	printf("\n== metrics\n");
	table_print(met, stdout, FMT_TABLE);
	printf("\n== per-class test F1 (best epoch)\n");
	table_print(cls, stdout, FMT_TABLE);
	for (r = 1; r < n; r++) {
		int64_t ab = 0, ba = 0;
		struct table *d = disagreements(ctx->db, ids[0], ids[r], limit, &ab, &ba);
		if (!d)
			goto out;
		printf("\n== test posts: run %lld right and run %lld wrong: %lld; the reverse: %lld\n",
		       (long long)ids[0], (long long)ids[r], (long long)ab, (long long)ba);
		if (table_rows(d))
			table_print(d, stdout, FMT_TABLE);
		table_free(d);
	}
	ret = 0;
out:
	table_free(cfg);
	table_free(met);
	table_free(cls);
	return ret;
}

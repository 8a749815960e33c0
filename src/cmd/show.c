/*
 * mmdb show RUN: one run in full: its settings and resolved config, the
 * epoch table, per-class metrics, the confusion matrix with class names,
 * and the test metrics.
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

/*
 * The run's rows, then its config's keys. Each setting once, as the
 * dashboard's run screen shows it: a config key the rows already give
 * (name, notes, tags, vocab) is left out, and a text-only or image-only
 * run's fusion is 'none' (its config keeps the default it never used).
 */
static const char run_sql[] =
	"WITH r(o, key, value) AS (SELECT 1, 'id', id FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 2, 'name', name FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 3, 'status', status FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 4, 'reason', reason FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 5, 'notes', notes FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 6, 'tags', (SELECT group_concat(tag, ',') FROM run_tags WHERE run_id = ?1) "
	"UNION ALL SELECT 7, 'created_at', created_at FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 8, 'finished_at', finished_at FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 9, 'seconds', round(seconds, 1) FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 10, 'epochs_done', epochs_done FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 11, 'best_epoch', best_epoch FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 12, 'posts', train_posts || ' train, ' || validate_posts || ' validate, ' "
	"|| test_posts || ' test' FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 13, 'vocab', coalesce((SELECT path FROM vocabs v WHERE v.id = runs.vocab_id), "
	"json_extract(runs.config, '$.vocab')) FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 14, 'checkpoint_best', checkpoint_best FROM runs WHERE id = ?1 "
	"UNION ALL SELECT 15, 'versions', 'mmdb ' || mmdb_version || ', libtorch ' || "
	"coalesce(torch_version, '?') FROM runs WHERE id = ?1) "
	"SELECT key, value FROM (SELECT o, key, value FROM r "
	"UNION ALL SELECT 100 + j.id, j.key, CASE WHEN j.key = 'fusion' AND "
	"instr(runs.modalities, ',') = 0 THEN 'none' WHEN j.type = 'array' THEN j.value "
	"WHEN j.type = 'true' THEN 'true' WHEN j.type = 'false' THEN 'false' ELSE j.value END "
	"FROM runs, json_each(runs.config) j WHERE runs.id = ?1 AND j.key <> 'argv' "
	"AND j.key NOT IN (SELECT key FROM r)) ORDER BY o";

static const char epochs_sql[] =
	"SELECT t.epoch, t.loss AS train_loss, t.accuracy AS train_acc, t.lr, t.samples_per_s, t.loader_wait, "
	"t.seconds AS train_s, v.loss AS val_loss, v.accuracy AS val_acc, v.precision AS val_p, "
	"v.recall AS val_r, v.f1 AS val_f1, v.f1_macro AS val_f1_macro "
	"FROM epochs t LEFT JOIN epochs v ON v.run_id = t.run_id AND v.epoch = t.epoch AND "
	"v.split = 'validate' WHERE t.run_id = ?1 AND t.split = 'train' ORDER BY t.epoch";

static const char classes_sql[] =
	"SELECT c.split, c.label, n.name, c.precision, c.recall, c.f1, c.support "
	"FROM class_metrics c JOIN runs r ON r.id = c.run_id "
	"LEFT JOIN label_names n ON n.scheme = r.label AND n.label = c.label "
	"WHERE c.run_id = ?1 AND c.epoch = r.best_epoch AND c.split IN ('validate', 'test') "
	"ORDER BY c.split = 'test' DESC, c.label";

static const char test_sql[] =
	"SELECT epoch, loss, accuracy, precision, recall, f1, precision_macro, recall_macro, "
	"f1_macro, samples FROM epochs WHERE run_id = ?1 AND split = 'test'";

static const char confusion_sql[] =
	"SELECT c.label, c.pred, c.count FROM confusion c JOIN runs r ON r.id = c.run_id "
	"WHERE c.run_id = ?1 AND c.epoch = r.best_epoch AND c.split = ?2";

static void set_precisions(struct table *t, int from, int to, int digits)
{
	int i;
	for (i = from; i <= to; i++)
		table_set_precision(t, i, digits);
}

/* The confusion matrix of split at the best epoch, rows true, columns predicted. */
static struct table *confusion_table(struct db *db, int64_t id, const char *split,
				     const char *scheme)
{
	struct db_stmt *st = NULL;
	char **names = NULL;
	int64_t *cnt;
	struct table *t = NULL;
	int C, k, j, rc, any = 0;

	if ((C = results_label_names(db, scheme, &names)) < 0)
		return NULL;
	cnt = xcalloc((size_t)C * C, sizeof(int64_t));
	if (db_prepare(db, &st, confusion_sql))
		goto out;
	db_bind_int(st, 1, id);
	db_bind_text(st, 2, split, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		k = (int)db_column_int(st, 0);
		j = (int)db_column_int(st, 1);
		if (k >= 0 && k < C && j >= 0 && j < C) {
			cnt[k * C + j] = db_column_int(st, 2);
			any = 1;
		}
	}
	if (rc < 0 || !any)
		goto out;
	t = table_new(C + 1);
	table_set_header(t, 0, "true \\ predicted");
	for (j = 0; j < C; j++)
		table_set_header(t, j + 1, names[j]);
	for (k = 0; k < C; k++) {
		table_add_row(t);
		table_cell_text(t, 0, names[k]);
		for (j = 0; j < C; j++)
			table_cell_int(t, j + 1, cnt[k * C + j]);
	}
out:
	db_finalize(st);
	free(cnt);
	results_free_names(names, C);
	return t;
}

int cmd_show(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct table *run = NULL, *ep = NULL, *cls = NULL, *test = NULL, *conf = NULL;
	char scheme[8] = "6way", split[16] = "test";
	struct db_stmt *st = NULL;
	int c, fmt = FMT_TABLE, ret = 1;
	int64_t id, ntest = 0;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0 || fmt == FMT_CSV)
				return usage_error("show: format '%s' (table or json)", optarg);
			break;
		case 'h':
			printf("usage: mmdb show [--format table|json] RUN\n\nOne run in full (RUN is "
			       "an id or a name): settings, epochs, per-class\nmetrics and confusion "
			       "matrix at the best epoch, test metrics.\n");
			return 0;
		default: return 2;
		}
	}
	if (optind + 1 != argc)
		return usage_error("show: give one RUN (id or name)");
	train_mark_crashed(ctx->db, 600);
	if (run_lookup(ctx->db, argv[optind], &id))
		return 1;
	if (db_prepare(ctx->db, &st, "SELECT label, (SELECT count(*) FROM epochs WHERE run_id = ?1 "
				     "AND split = 'test') FROM runs WHERE id = ?1"))
		return 1;
	db_bind_int(st, 1, id);
	if (db_step(st) == DB_ROW) {
		snprintf(scheme, sizeof(scheme), "%s", db_column_text(st, 0));
		ntest = db_column_int(st, 1);
	}
	db_finalize(st);
	if (!ntest)
		snprintf(split, sizeof(split), "validate");

	if (!(run = results_query(ctx->db, run_sql, id, NULL)) ||
	    !(ep = results_query(ctx->db, epochs_sql, id, NULL)) ||
	    !(cls = results_query(ctx->db, classes_sql, id, NULL)) ||
	    !(test = results_query(ctx->db, test_sql, id, NULL)))
		goto out;
	conf = confusion_table(ctx->db, id, split, scheme);
	set_precisions(ep, 1, 2, 4);
	set_precisions(ep, 4, 4, 1);
	set_precisions(ep, 5, 5, 3);
	set_precisions(ep, 6, 6, 1);
	set_precisions(ep, 7, 12, 4);
	set_precisions(cls, 3, 5, 4);
	set_precisions(test, 1, 8, 4);

	if (fmt == FMT_JSON) {
		printf("{");
		results_json_member(run, "run", 1, 1);
		results_json_member(ep, "epochs", 0, 0);
		results_json_member(cls, "classes", 0, 0);
		results_json_member(test, "test", 0, 0);
		if (conf)
			results_json_member(conf, "confusion", 0, 0);
		printf("}\n");
	} else {
		printf("== run\n");
		table_print(run, stdout, FMT_TABLE);
		printf("\n== epochs\n");
		if (table_rows(ep))
			table_print(ep, stdout, FMT_TABLE);
		else
			printf("(none finished yet)\n");
		if (table_rows(cls)) {
			printf("\n== per class (best epoch)\n");
			table_print(cls, stdout, FMT_TABLE);
		}
		if (conf) {
			printf("\n== confusion matrix (%s, best epoch; rows true, columns predicted)\n",
			       split);
			table_print(conf, stdout, FMT_TABLE);
		}
		printf("\n== test (best checkpoint)\n");
		if (table_rows(test))
			table_print(test, stdout, FMT_TABLE);
		else
			printf("(not evaluated yet)\n");
	}
	ret = 0;
out:
	table_free(run);
	table_free(ep);
	table_free(cls);
	table_free(test);
	table_free(conf);
	return ret;
}

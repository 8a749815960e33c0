/*
 * mmdb export --run RUN --what epochs|predictions|config --format csv|json:
 * a run's rows for other tools. Numbers keep full precision.
 */
#include "cmds.h"
#include "../db.h"
#include "../output.h"
#include "../results.h"
#include "../train.h"
#include "../util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char epochs_sql[] =
	"SELECT run_id, epoch, split, loss, accuracy, precision, recall, f1, precision_macro, "
	"recall_macro, f1_macro, lr, seconds, samples_per_s, loader_wait, samples, created_at "
	"FROM epochs WHERE run_id = ?1 ORDER BY epoch, split = 'test', split";
static const char predictions_sql[] =
	"SELECT p.run_id, p.post_id, p.split, p.label, ln.name AS label_name, p.pred, "
	"pn.name AS pred_name, p.pred = p.label AS correct, p.prob_pred, p.prob_label, p.probs "
	"FROM predictions p JOIN runs r ON r.id = p.run_id "
	"LEFT JOIN label_names ln ON ln.scheme = r.label AND ln.label = p.label "
	"LEFT JOIN label_names pn ON pn.scheme = r.label AND pn.label = p.pred "
	"WHERE p.run_id = ?1 ORDER BY p.split, p.post_id";
static const char config_sql[] =
	"SELECT key, CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE value END "
	"AS value FROM runs, json_each(runs.config) WHERE runs.id = ?1 ORDER BY json_each.id";

int cmd_export(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "what", required_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = NULL, *what = NULL;
	struct table *t = NULL;
	struct db_stmt *st = NULL;
	int c, fmt = FMT_CSV;
	int64_t id;

	while ((c = getopt_long(argc, argv, "r:w:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': spec = optarg; break;
		case 'w': what = optarg; break;
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0 || fmt == FMT_TABLE)
				return usage_error("export: format '%s' (csv or json)", optarg);
			break;
		case 'h':
			printf("usage: mmdb export --run RUN --what epochs|predictions|config "
			       "[--format csv|json]\n\nWrites a run's epoch rows, its predictions "
			       "(with label names) or its\nconfiguration to stdout (default csv).\n");
			return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return usage_error("export: unexpected argument '%s'", argv[optind]);
	if (!spec || !what)
		return usage_error("export: --run RUN and --what epochs|predictions|config are needed");
	if (strcmp(what, "epochs") && strcmp(what, "predictions") && strcmp(what, "config"))
		return usage_error("export: --what: '%s' (epochs, predictions or config)", what);
	if (run_lookup(ctx->db, spec, &id))
		return 1;
	if (!strcmp(what, "config") && fmt == FMT_JSON) {
		/* The stored JSON object itself. */
		if (db_prepare(ctx->db, &st, "SELECT json(config) FROM runs WHERE id = ?1"))
			return 1;
		db_bind_int(st, 1, id);
		if (db_step(st) == DB_ROW)
			printf("%s\n", db_column_text(st, 0));
		db_finalize(st);
		return 0;
	}
	t = results_query(ctx->db, !strcmp(what, "epochs") ? epochs_sql :
			  !strcmp(what, "predictions") ? predictions_sql : config_sql, id, NULL);
	if (!t)
		return 1;
	table_print(t, stdout, fmt);
	table_free(t);
	return 0;
}

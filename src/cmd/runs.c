/*
 * mmdb runs: one row per run with the settings that differ across the
 * listed runs and the key metrics; `mmdb runs rm RUN` removes a run, its
 * rows and its checkpoint files. Runs whose process died are marked
 * crashed first.
 */
#include "cmds.h"
#include "../db.h"
#include "../output.h"
#include "../train.h"
#include "../util.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Seconds without a heartbeat after which a run on another host is crashed. */
#define STALE_SECONDS 600

/* The columns of `mmdb runs` in csv/json, in order; the first 22 are the
 * documented keys. */
static const char *const cols[] = {
	"id", "name", "status", "label", "modalities", "fusion", "text_model", "image_model",
	"lr", "batch_size", "epochs_done", "best_epoch", "best_val_accuracy", "best_val_f1",
	"test_accuracy", "test_precision", "test_recall", "test_f1", "test_f1_macro",
	"train_samples_per_s", "seconds",
	/* settings shown in the table when they differ */
	"epochs", "optimizer", "weight_decay", "scheduler", "dropout", "max_len", "image_size",
	"class_weights", "seed", "device", "preset", "tags", "reason", "created_at",
	"sweep", "world_size", "backend",
};
#define NCOLS ((int)ARRAY_SIZE(cols))
/* Settings that the table shows only when they differ across runs. */
static const char *const varying[] = {
	"label", "modalities", "fusion", "text_model", "image_model", "lr", "batch_size",
	"optimizer", "weight_decay", "scheduler", "dropout", "max_len", "image_size",
	"class_weights", "seed", "device", "preset", "tags", "world_size",
};

static const char runs_sql[] =
	"SELECT * FROM (SELECT s.id, s.name, s.status, s.label, s.modalities, s.fusion, s.text_model, "
	"s.image_model, s.lr, s.batch_size, s.epochs_done, s.best_epoch, s.best_val_accuracy, "
	"s.best_val_f1, s.test_accuracy, s.test_precision, s.test_recall, s.test_f1, "
	"s.test_f1_macro, s.train_samples_per_s, s.seconds, s.epochs, r.optimizer, "
	"r.weight_decay, r.scheduler, r.dropout, r.max_len, r.image_size, r.class_weights, "
	"r.seed, r.device, r.preset, s.tags, r.reason, s.created_at, s.sweep, s.world_size, "
	"s.backend "
	"FROM run_summary s JOIN runs r ON r.id = s.id) WHERE 1";

struct cellv {
	int type;
	int64_t i;
	double d;
	char *s;       /* text form (all types) */
};

static int col_index(const char *name)
{
	int i;
	for (i = 0; i < NCOLS; i++)
		if (!strcmp(cols[i], name))
			return i;
	return -1;
}

static void put_cell(struct table *t, int col, const struct cellv *c)
{
	switch (c->type) {
	case DB_NULL: table_cell_null(t, col); break;
	case DB_INTEGER: table_cell_int(t, col, c->i); break;
	case DB_FLOAT: table_cell_double(t, col, c->d); break;
	default: table_cell_text(t, col, c->s); break;
	}
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path) ? -1 : 0;
}

static int runs_rm(int argc, char **argv, struct mmdb_ctx *ctx)
{
	struct db_stmt *st = NULL;
	char dir[4096], status[32] = "";
	int64_t id;
	int force = 0, i, ret = 1;
	const char *spec = NULL;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = 1;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: mmdb runs rm [--force] RUN\n\nRemoves a run (id or name): its "
			       "rows and <cache>/runs/<id>/.\nA run still training is refused "
			       "unless --force.\n");
			return 0;
		} else if (!spec)
			spec = argv[i];
		else
			return usage_error("runs rm: unexpected argument '%s'", argv[i]);
	}
	if (!spec)
		return usage_error("runs rm: which run? (mmdb runs rm RUN)");
	train_mark_crashed(ctx->db, STALE_SECONDS);
	if (run_lookup(ctx->db, spec, &id))
		return 1;
	if (db_prepare(ctx->db, &st, "SELECT status FROM runs WHERE id = ?1"))
		return 1;
	db_bind_int(st, 1, id);
	if (db_step(st) == DB_ROW)
		snprintf(status, sizeof(status), "%s", db_column_text(st, 0));
	db_finalize(st);
	st = NULL;
	if (!strcmp(status, "running") && !force) {
		error("run %lld is still training: stop it first (or --force)", (long long)id);
		return 1;
	}
	if (db_begin(ctx->db))
		return 1;
	if (db_prepare(ctx->db, &st, "DELETE FROM runs WHERE id = ?1"))
		goto fail;
	db_bind_int(st, 1, id);
	if (db_step(st) < 0)
		goto fail;
	db_finalize(st);
	st = NULL;
	/* Tables without a foreign key to runs. */
	if (db_prepare(ctx->db, &st, "DELETE FROM predictions WHERE run_id = ?1"))
		goto fail;
	db_bind_int(st, 1, id);
	if (db_step(st) < 0)
		goto fail;
	db_finalize(st);
	st = NULL;
	if (db_commit(ctx->db))
		goto fail;
	snprintf(dir, sizeof(dir), "%s/runs/%lld", ctx->cache_dir, (long long)id);
	if (access(dir, F_OK) == 0 && nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS)) {
		error("run %lld removed from the database, but not '%s': %s", (long long)id, dir,
		      strerror(errno));
		return 1;
	}
	if (!ctx->quiet)
		printf("removed run %lld\n", (long long)id);
	return 0;
fail:
	db_finalize(st);
	db_rollback(ctx->db);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmdb runs [--sort [-]COL] [--status S] [--tag T] [--sweep NAME]\n"
		   "                 [--where EXPR] [--format table|csv|json]\n"
		   "       mmdb runs rm [--force] RUN\n\n"
		   "One row per run: the settings that differ across the listed runs and the key\n"
		   "metrics (the table), or every column (csv, json). --sort takes a column name\n"
		   "(a leading '-' sorts descending; default: id); --where an SQL expression over\n"
		   "the run_summary view's columns, e.g. \"test_f1 > 0.8\"; --sweep the runs of a\n"
		   "sweep's trials (csv and json name each run's sweep, null for none).\n");
}

int cmd_runs(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "sort", required_argument, NULL, 's' },
		{ "status", required_argument, NULL, 'S' },
		{ "tag", required_argument, NULL, 't' },
		{ "where", required_argument, NULL, 'w' },
		{ "sweep", required_argument, NULL, 'W' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sort = "id", *status = NULL, *tag = NULL, *where = NULL, *sweep = NULL;
	struct strbuf sql = STRBUF_INIT;
	struct db_stmt *st = NULL;
	struct cellv *cells = NULL;
	size_t nrows = 0, alloc = 0, r;
	struct table *t = NULL;
	int c, fmt = FMT_TABLE, desc = 0, i, rc, ret = 1;

	if (argc > 1 && !strcmp(argv[1], "rm"))
		return runs_rm(argc - 1, argv + 1, ctx);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': sort = optarg; break;
		case 'S': status = optarg; break;
		case 't': tag = optarg; break;
		case 'w': where = optarg; break;
		case 'W': sweep = optarg; break;
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0)
				return usage_error("runs: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return usage_error("runs: unexpected argument '%s' (did you mean 'runs rm'?)", argv[optind]);
	if (*sort == '-') {
		desc = 1;
		sort++;
	}
	if (col_index(sort) < 0)
		return usage_error("runs: --sort: unknown column '%s'", sort);
	if (train_mark_crashed(ctx->db, STALE_SECONDS) < 0)
		return 1;

	sb_adds(&sql, runs_sql);
	if (status)
		sb_adds(&sql, " AND status = :status");
	if (tag)
		sb_adds(&sql, " AND id IN (SELECT run_id FROM run_tags WHERE tag = :tag)");
	if (sweep) {
		int64_t nsweeps = 0;
		struct db_stmt *sc = NULL;
		if (db_prepare(ctx->db, &sc, "SELECT count(*) FROM sweeps WHERE name = ?1"))
			goto out;
		db_bind_text(sc, 1, sweep, -1);
		if (db_step(sc) == DB_ROW)
			nsweeps = db_column_int(sc, 0);
		db_finalize(sc);
		if (!nsweeps) {
			error("no sweep '%s' (see 'mmdb sweep ls')", sweep);
			goto out;
		}
		sb_adds(&sql, " AND sweep = :sweep");
	}
	if (where)
		sb_addf(&sql, " AND id IN (SELECT id FROM run_summary WHERE (%s))", where);
	/* NULLs last either way, then id for a stable order. */
	sb_addf(&sql, " ORDER BY %s IS NULL, %s %s, id", sort, sort, desc ? "DESC" : "ASC");
	if (db_prepare(ctx->db, &st, sql.buf))
		goto out;
	if (status)
		db_bind_text(st, db_bind_index(st, ":status"), status, -1);
	if (tag)
		db_bind_text(st, db_bind_index(st, ":tag"), tag, -1);
	if (sweep)
		db_bind_text(st, db_bind_index(st, ":sweep"), sweep, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		ALLOC_GROW(cells, (nrows + 1) * NCOLS, alloc);
		for (i = 0; i < NCOLS; i++) {
			struct cellv *cv = &cells[nrows * NCOLS + i];
			const char *s;
			cv->type = db_column_type(st, i);
			cv->i = db_column_int(st, i);
			cv->d = db_column_double(st, i);
			s = db_column_text(st, i);
			cv->s = xstrdup(s ? s : "");
		}
		nrows++;
	}
	if (rc < 0)
		goto out;

	if (fmt != FMT_TABLE) {
		t = table_new(NCOLS);
		for (i = 0; i < NCOLS; i++)
			table_set_header(t, i, cols[i]);
		for (r = 0; r < nrows; r++) {
			table_add_row(t);
			for (i = 0; i < NCOLS; i++)
				put_cell(t, i, &cells[r * NCOLS + i]);
		}
	} else {
		int show[ARRAY_SIZE(varying)], nshow = 0, k, col;
		static const char *const metric_cols[] = {
			"best_epoch", "best_val_accuracy", "best_val_f1", "test_accuracy", "test_f1",
			"test_f1_macro", "train_samples_per_s", "seconds",
		};
		static const char *const metric_heads[] = {
			"best", "val_acc", "val_f1", "test_acc", "test_f1", "test_f1_macro",
			"samples/s", "seconds",
		};
		for (k = 0; k < (int)ARRAY_SIZE(varying); k++) {
			int ci = col_index(varying[k]);
			show[k] = 0;
			for (r = 1; r < nrows; r++)
				if (strcmp(cells[r * NCOLS + ci].s, cells[ci].s))
					show[k] = 1;
			nshow += show[k];
		}
		t = table_new(4 + nshow + (int)ARRAY_SIZE(metric_cols));
		table_set_header(t, 0, "id");
		table_set_header(t, 1, "name");
		table_set_header(t, 2, "status");
		col = 3;
		for (k = 0; k < (int)ARRAY_SIZE(varying); k++)
			if (show[k])
				table_set_header(t, col++, varying[k]);
		table_set_header(t, col, "epochs");
		for (k = 0; k < (int)ARRAY_SIZE(metric_cols); k++) {
			table_set_header(t, col + 1 + k, metric_heads[k]);
			if (k > 0 && k < 6)
				table_set_precision(t, col + 1 + k, 4);
		}
		table_set_precision(t, col + 7, 1);
		table_set_precision(t, col + 8, 1);
		for (r = 0; r < nrows; r++) {
			struct cellv *row = &cells[r * NCOLS];
			char ep[64];
			table_add_row(t);
			put_cell(t, 0, &row[col_index("id")]);
			put_cell(t, 1, &row[col_index("name")]);
			put_cell(t, 2, &row[col_index("status")]);
			col = 3;
			for (k = 0; k < (int)ARRAY_SIZE(varying); k++)
				if (show[k])
					put_cell(t, col++, &row[col_index(varying[k])]);
			snprintf(ep, sizeof(ep), "%s/%s", row[col_index("epochs_done")].s,
				 row[col_index("epochs")].s);
			table_cell_text(t, col, ep);
			for (k = 0; k < (int)ARRAY_SIZE(metric_cols); k++)
				put_cell(t, col + 1 + k, &row[col_index(metric_cols[k])]);
		}
	}
	if (fmt == FMT_TABLE && !nrows)
		printf("no runs%s\n", status || tag || where || sweep ? " match" : " yet: start one with 'mmdb run'");
	else
		table_print(t, stdout, fmt);
	ret = 0;
out:
	for (r = 0; r < nrows * NCOLS; r++)
		free(cells[r].s);
	free(cells);
	table_free(t);
	db_finalize(st);
	sb_release(&sql);
	return ret;
}

/*
 * mmdb sweep: many runs from one command. `create` (sweep_create.c) stores
 * a sweep and its pending trials; `run` is a worker that claims trials one
 * at a time (src/sweep.c: one transaction each) and trains each as `mmdb
 * run` would, in this process, with the sweep's pruning rule after every
 * epoch; `show`, `ls` and `rm` report and remove.
 */
#include "cmds.h"
#include "run_args.h"
#include "sweep_int.h"
#include "../db.h"
#include "../output.h"
#include "../sweep.h"
#include "../train.h"
#include "../util.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds without news after which a worker on another host is gone. */
#define STALE_SECONDS 600

static const char usage_text[] =
	"usage: mmdb sweep create NAME [--grid KEY=V1,V2,...]... [--random KEY=LO:HI[:log]]...\n"
	"                         [--trials N] [--seed N] [--metric M] [--prune asha|median|none]\n"
	"                         [-- RUN FLAGS...]\n"
	"       mmdb sweep run NAME [--device D] [--max-trials N] [--threads N] [--workers N]\n"
	"       mmdb sweep show NAME [--format table|json]\n"
	"       mmdb sweep ls [--format table|csv|json]\n"
	"       mmdb sweep rm [--force] NAME\n"
	"\n"
	"A sweep is a queue of trials in the database: each trial is one 'mmdb run' with\n"
	"the sweep's fixed flags and its own values of the swept ones. Any number of\n"
	"workers ('mmdb sweep run', e.g. one per GPU) drain it at once; no trial runs\n"
	"twice, and a trial whose worker died is resumed by the next worker.\n"
	"'mmdb sweep COMMAND -h' says more.\n";

static const char run_usage[] =
	"usage: mmdb sweep run NAME [--device D] [--max-trials N] [--threads N] [--workers N]\n"
	"\n"
	"A worker: claims the next trial of sweep NAME (a crashed or interrupted one\n"
	"first, to resume its run; else the lowest pending one), trains it as 'mmdb run'\n"
	"does (its run is named NAME-<trial> and linked to the sweep), and repeats until\n"
	"nothing is left to claim or --max-trials trials are done. Start one worker per\n"
	"device; a trial pruned by the sweep's rule ends with status 'pruned'. Ctrl-C\n"
	"interrupts the trial (the next worker resumes it) and stops the worker.\n"
	"\n"
	"  --device D        auto|cpu|cuda|cuda:N for this worker's trials\n"
	"  --threads N  --workers N   as for 'mmdb run'\n"
	"  --max-trials N    stop after N trials (0 = no limit)\n"
	"  --dry-claim       claim trials and mark them completed without training (for\n"
	"                    timing the queue: prints each claim's milliseconds)\n";

/* A JSON array of strings (the sweep's fixed flags) as an argv; appended to *argv. */
static int json_array_argv(struct db *db, const char *json, int *argc, char ***argv,
			   size_t *alloc)
{
	struct db_stmt *st = NULL;
	int rc;
	if (db_prepare(db, &st, "SELECT value FROM json_each(?1) ORDER BY key"))
		return -1;
	db_bind_text(st, 1, json, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *s = db_column_text(st, 0);
		ALLOC_GROW(*argv, (size_t)*argc + 2, *alloc);
		(*argv)[(*argc)++] = xstrdup(s ? s : "");
		(*argv)[*argc] = NULL;
	}
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

static void push_arg(int *argc, char ***argv, size_t *alloc, const char *s)
{
	ALLOC_GROW(*argv, (size_t)*argc + 2, *alloc);
	(*argv)[(*argc)++] = xstrdup(s);
	(*argv)[*argc] = NULL;
}

/* Params (a JSON object) as "--key value" pairs, the values as written. */
static int params_argv(struct db *db, const char *json, int append, int *argc, char ***argv,
		       size_t *alloc, struct strbuf *desc)
{
	struct db_stmt *st = NULL;
	int rc;
	if (db_prepare(db, &st, "SELECT key, CASE WHEN type = 'text' THEN value ELSE ?1 -> fullkey "
				"END FROM json_each(?1)"))
		return -1;
	db_bind_text(st, 1, json, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		struct strbuf flag = STRBUF_INIT;
		const char *k = db_column_text(st, 0), *v = db_column_text(st, 1);
		sb_addf(&flag, "--%s", k);
		if (append) {
			push_arg(argc, argv, alloc, flag.buf);
			push_arg(argc, argv, alloc, v ? v : "");
		}
		if (desc)
			sb_addf(desc, "%s%s=%s", desc->len ? " " : "", k, v ? v : "");
		sb_release(&flag);
	}
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

struct worker {
	struct mmdb_ctx *ctx;
	struct sweep sw;
	const char *device;
	int threads, workers;
};

static int prune_hook(void *arg, int64_t run_id, const struct epoch_result *r, char *reason,
		      size_t len)
{
	struct worker *w = arg;
	return sweep_prune_check(w->ctx->db, &w->sw, run_id, r, reason, len) == 1;
}

static void push_overrides(const struct worker *w, int *argc, char ***argv, size_t *alloc)
{
	char buf[32];
	if (w->device) {
		push_arg(argc, argv, alloc, "--device");
		push_arg(argc, argv, alloc, w->device);
	}
	if (w->threads > 0) {
		snprintf(buf, sizeof(buf), "%d", w->threads);
		push_arg(argc, argv, alloc, "--threads");
		push_arg(argc, argv, alloc, buf);
	}
	if (w->workers > 0) {
		snprintf(buf, sizeof(buf), "%d", w->workers);
		push_arg(argc, argv, alloc, "--workers");
		push_arg(argc, argv, alloc, buf);
	}
}

/* A run's status and reason; status "" when the run is gone. */
static int run_status(struct db *db, int64_t id, char *status, size_t n, struct strbuf *reason)
{
	struct db_stmt *st = NULL;
	int rc;
	*status = 0;
	if (db_prepare(db, &st, "SELECT status, reason FROM runs WHERE id = ?1"))
		return -1;
	db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		snprintf(status, n, "%s", db_column_text(st, 0));
		if (db_column_text(st, 1))
			sb_adds(reason, db_column_text(st, 1));
	}
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

/*
 * Trains (or resumes) one claimed trial and records its end. Returns 0 to
 * go on, 1 when interrupted (the worker stops), -1 when the trial could not
 * start (put back to pending; the worker stops: its setup is at fault).
 */
static int train_trial(struct worker *w, struct sweep_trial *t)
{
	struct db *db = w->ctx->db;
	struct run_config cfg;
	struct strbuf desc = STRBUF_INIT, reason = STRBUF_INIT, name = STRBUF_INIT;
	char **argv = NULL, status[32] = "", msg[512];
	size_t alloc = 0;
	int argc = 0, rc, ret = 0;
	int64_t run_id = 0;

	memset(&cfg, 0, sizeof(cfg));
	if (t->resume) {
		if (run_status(db, t->run_id, status, sizeof(status), &reason))
			goto cannot_start;
		/* Its worker died after the run ended, before the trial was updated. */
		if (!strcmp(status, "completed") || !strcmp(status, "early_stopped") ||
		    !strcmp(status, "pruned") || !strcmp(status, "failed")) {
			sweep_finish(db, &w->sw, t->id, t->run_id, status, reason.len ? reason.buf : NULL);
			goto out;
		}
		if (!*status)
			t->resume = 0; /* its run was removed: start afresh */
	}
	if (t->resume) {
		run_id = t->run_id;
		if (run_stored_argv(db, run_id, &argc, &argv))
			goto cannot_start;
		alloc = (size_t)argc + 1;
	} else {
		push_arg(&argc, &argv, &alloc, "run");
		if (json_array_argv(db, w->sw.run_args, &argc, &argv, &alloc))
			goto cannot_start;
		sb_addf(&name, "%s-%d", w->sw.name, t->idx);
		push_arg(&argc, &argv, &alloc, "--name");
		push_arg(&argc, &argv, &alloc, name.buf);
	}
	if (params_argv(db, t->params, !t->resume, &argc, &argv, &alloc, &desc))
		goto cannot_start;
	push_overrides(w, &argc, &argv, &alloc);
	if (!w->ctx->quiet)
		fprintf(stderr, "sweep %s: trial %d (%s)%s\n", w->sw.name, t->idx, desc.buf,
			t->resume ? ": resuming its run" : "");
	if (run_parse_args(argc, argv, &cfg, NULL))
		goto cannot_start;
	cfg.sweep_id = w->sw.id;
	cfg.trial_id = t->id;
	cfg.after_epoch = strcmp(w->sw.prune, "none") ? prune_hook : NULL;
	cfg.after_epoch_arg = w;
	rc = run_train(w->ctx, &cfg, argc, argv, t->resume ? t->run_id : 0, &run_id);
	if (rc < 0 && !run_id)
		goto cannot_start;
	sb_reset(&reason);
	if (run_status(db, run_id, status, sizeof(status), &reason) || !*status)
		snprintf(status, sizeof(status), "%s", rc == 0 ? "completed" : rc == 1 ? "interrupted"
			 : rc == 2 ? "pruned" : "failed");
	/* A run still 'running' here could not record its end (a lock): say so. */
	if (!strcmp(status, "running"))
		snprintf(status, sizeof(status), "%s", rc == 1 ? "interrupted" : "failed");
	if (sweep_finish(db, &w->sw, t->id, run_id, status, reason.len ? reason.buf : NULL))
		ret = -1;
	if (!w->ctx->quiet)
		fprintf(stderr, "sweep %s: trial %d: run %lld %s\n", w->sw.name, t->idx,
			(long long)run_id, status);
	if (rc == 1)
		ret = 1;
	goto out;
cannot_start:
	error_last(msg, sizeof(msg));
	sweep_unclaim(db, t->id);
	error("sweep %s: trial %d could not start (it is pending again): %s", w->sw.name, t->idx,
	      msg);
	ret = -1;
out:
	free((void *)cfg.tags);
	run_argv_free(argc, argv);
	sb_release(&desc);
	sb_release(&reason);
	sb_release(&name);
	return ret;
}

static int sweep_run(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "max-trials", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "workers", required_argument, NULL, 'w' },
		{ "dry-claim", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct worker w;
	char id[300];
	const char *name = NULL;
	int c, max_trials = 0, dry = 0, done = 0, rc, ret = 0;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': w.device = optarg; break;
		case 'n': if (parse_int(optarg, 0, 1 << 30, "--max-trials", &max_trials)) return 2; break;
		case 't': if (parse_int(optarg, 0, 1024, "--threads", &w.threads)) return 2; break;
		case 'w': if (parse_int(optarg, 1, 256, "--workers", &w.workers)) return 2; break;
		case 'D': dry = 1; break;
		case 'h': fputs(run_usage, stdout); return 0;
		default: return 2;
		}
	}
	if (optind >= argc)
		return usage_error("sweep run: which sweep? (mmdb sweep run NAME)");
	if (optind + 1 < argc)
		return usage_error("sweep run: unexpected argument '%s'", argv[optind + 1]);
	name = argv[optind];
	{
		/* --device, --threads and --workers as `mmdb run` checks them. */
		struct run_config cfg;
		char **pargv = NULL;
		size_t palloc = 0;
		int pargc = 0;
		push_arg(&pargc, &pargv, &palloc, "run");
		push_overrides(&w, &pargc, &pargv, &palloc);
		rc = run_parse_args(pargc, pargv, &cfg, NULL);
		if (!rc)
			free((void *)cfg.tags);
		run_argv_free(pargc, pargv);
		if (rc)
			return 2;
	}
	if (sweep_get(ctx->db, name, &w.sw))
		return 1;
	sweep_worker_id(id, sizeof(id));
	while (!max_trials || done < max_trials) {
		struct sweep_trial t;
		double t0 = now_seconds(), ms;
		rc = sweep_claim(ctx->db, w.sw.id, id, STALE_SECONDS, &t);
		ms = (now_seconds() - t0) * 1000.0;
		if (rc < 0) {
			ret = 1;
			break;
		}
		if (rc == 0)
			break;
		done++;
		if (dry) {
			printf("claim %d %.3f\n", t.idx, ms);
			rc = sweep_finish(ctx->db, &w.sw, t.id, 0, "completed", "dry claim: not trained");
			sweep_trial_release(&t);
			if (rc) {
				ret = 1;
				break;
			}
			continue;
		}
		rc = train_trial(&w, &t);
		sweep_trial_release(&t);
		if (rc) {
			ret = rc == 1 ? 130 : 1;
			break;
		}
	}
	if (!ret && !ctx->quiet && !dry)
		fprintf(stderr, "sweep %s: worker %s done after %d trial%s\n", w.sw.name, id, done,
			done == 1 ? "" : "s");
	sweep_release(&w.sw);
	return ret;
}

/* Quotes s for a POSIX shell when it needs it. */
static void sb_add_shell(struct strbuf *sb, const char *s)
{
	const char *p;
	int plain = *s != 0;
	for (p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,+-@%", *p))
			plain = 0;
	if (plain) {
		sb_adds(sb, s);
		return;
	}
	sb_addc(sb, '\'');
	for (p = s; *p; p++) {
		if (*p == '\'')
			sb_adds(sb, "'\\''");
		else
			sb_addc(sb, *p);
	}
	sb_addc(sb, '\'');
}

/* The swept keys, in the order of the first trial's params. */
static int sweep_keys(struct db *db, int64_t sweep_id, char ***keys, int *nkeys)
{
	struct db_stmt *st = NULL;
	size_t alloc = 0;
	int rc;
	*keys = NULL;
	*nkeys = 0;
	if (db_prepare(db, &st, "SELECT j.key FROM sweep_trials t, json_each(t.params) j WHERE "
				"t.id = (SELECT min(id) FROM sweep_trials WHERE sweep_id = ?1)"))
		return -1;
	db_bind_int(st, 1, sweep_id);
	while ((rc = db_step(st)) == DB_ROW) {
		ALLOC_GROW(*keys, (size_t)*nkeys + 1, alloc);
		(*keys)[(*nkeys)++] = xstrdup(db_column_text(st, 0));
	}
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

static void keys_free(char **keys, int n)
{
	while (n-- > 0)
		free(keys[n]);
	free(keys);
}

/* A JSON path for a key: $."key". Keys are option names (letters, digits, '-'). */
static void key_path(char *buf, size_t n, const char *key)
{
	snprintf(buf, n, "$.\"%s\"", key);
}

static int sweep_show(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sweep sw;
	struct db_stmt *st = NULL;
	struct strbuf sql = STRBUF_INIT, out = STRBUF_INIT, cmd = STRBUF_INIT;
	struct table *t = NULL;
	char **keys = NULL, path[300];
	int nkeys = 0, c, fmt = FMT_TABLE, rc, k, ret = 1, minimize, nrows = 0;
	int64_t best_idx = 0, best_run = 0, counts[8] = { 0 };
	double best_metric = NAN;
	static const char *const statuses[] = { "pending", "running", "completed", "early_stopped",
						"pruned", "failed", "crashed", "interrupted" };

	memset(&sw, 0, sizeof(sw));
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			fmt = output_format_parse(optarg);
			if (fmt != FMT_TABLE && fmt != FMT_JSON)
				return usage_error("sweep show: unknown format '%s' (table, json)", optarg);
			break;
		case 'h':
			printf("usage: mmdb sweep show NAME [--format table|json]\n\nThe trials of a sweep "
			       "with their parameters, status and metric, best first;\nthe best "
			       "configuration as a 'mmdb run' command line; for each swept\nparameter the "
			       "metric's mean per value.\n");
			return 0;
		default: return 2;
		}
	}
	if (optind >= argc)
		return usage_error("sweep show: which sweep? (mmdb sweep show NAME)");
	if (optind + 1 < argc)
		return usage_error("sweep show: unexpected argument '%s'", argv[optind + 1]);
	if (sweep_get(ctx->db, argv[optind], &sw))
		return 1;
	minimize = !strcmp(sw.goal, "min");
	if (sweep_mark_crashed(ctx->db, sw.id, STALE_SECONDS) || sweep_keys(ctx->db, sw.id, &keys, &nkeys))
		goto out;

	/* Trials, best first. */
	if (db_prepare(ctx->db, &st, minimize ?
		       "SELECT idx, status, metric, run_id, worker, reason, params FROM sweep_trials "
		       "WHERE sweep_id = ?1 ORDER BY metric IS NULL, metric ASC, idx" :
		       "SELECT idx, status, metric, run_id, worker, reason, params FROM sweep_trials "
		       "WHERE sweep_id = ?1 ORDER BY metric IS NULL, metric DESC, idx"))
		goto out;
	db_bind_int(st, 1, sw.id);
	t = table_new(5 + nkeys);
	table_set_header(t, 0, "trial");
	table_set_header(t, 1, "status");
	table_set_header(t, 2, sw.metric);
	table_set_precision(t, 2, 4);
	table_set_header(t, 3, "run");
	for (k = 0; k < nkeys; k++)
		table_set_header(t, 4 + k, keys[k]);
	table_set_header(t, 4 + nkeys, "reason");
	sb_adds(&out, "[");
	while ((rc = db_step(st)) == DB_ROW) {
		const char *status = db_column_text(st, 1), *params = db_column_text(st, 6);
		struct db_stmt *pv = NULL;
		size_t s;
		for (s = 0; s < ARRAY_SIZE(statuses); s++)
			if (!strcmp(statuses[s], status))
				counts[s]++;
		if (!best_idx && db_column_type(st, 2) != DB_NULL) {
			best_idx = db_column_int(st, 0);
			best_metric = db_column_double(st, 2);
			best_run = db_column_type(st, 3) == DB_NULL ? 0 : db_column_int(st, 3);
		}
		table_add_row(t);
		table_cell_int(t, 0, db_column_int(st, 0));
		table_cell_text(t, 1, status);
		if (db_column_type(st, 2) != DB_NULL)
			table_cell_double(t, 2, db_column_double(st, 2));
		if (db_column_type(st, 3) != DB_NULL)
			table_cell_int(t, 3, db_column_int(st, 3));
		if (db_column_text(st, 5))
			table_cell_text(t, 4 + nkeys, db_column_text(st, 5));
		if (db_prepare(ctx->db, &pv, "SELECT CASE WHEN json_type(?1, ?2) = 'text' THEN "
					     "json_extract(?1, ?2) ELSE ?1 -> ?2 END"))
			goto out;
		for (k = 0; k < nkeys; k++) {
			key_path(path, sizeof(path), keys[k]);
			db_reset(pv);
			db_bind_text(pv, 1, params, -1);
			db_bind_text(pv, 2, path, -1);
			if (db_step(pv) == DB_ROW && db_column_text(pv, 0))
				table_cell_text(t, 4 + k, db_column_text(pv, 0));
		}
		db_finalize(pv);
		/* JSON: one object per trial. */
		sb_addf(&out, "%s\n    {\"trial\": %lld, \"status\": ", nrows ? "," : "",
			(long long)db_column_int(st, 0));
		sb_add_json_str(&out, status);
		if (db_column_type(st, 2) != DB_NULL)
			sb_addf(&out, ", \"metric\": %.17g", db_column_double(st, 2));
		else
			sb_adds(&out, ", \"metric\": null");
		if (db_column_type(st, 3) != DB_NULL)
			sb_addf(&out, ", \"run\": %lld", (long long)db_column_int(st, 3));
		else
			sb_adds(&out, ", \"run\": null");
		sb_adds(&out, ", \"worker\": ");
		if (db_column_text(st, 4))
			sb_add_json_str(&out, db_column_text(st, 4));
		else
			sb_adds(&out, "null");
		sb_adds(&out, ", \"reason\": ");
		if (db_column_text(st, 5))
			sb_add_json_str(&out, db_column_text(st, 5));
		else
			sb_adds(&out, "null");
		sb_addf(&out, ", \"params\": %s}", params);
		nrows++;
	}
	db_finalize(st);
	st = NULL;
	if (rc < 0)
		goto out;
	sb_adds(&out, nrows ? "\n  ]" : "]");

	/* The best trial as a ready command line. */
	if (best_idx) {
		char **fargv = NULL;
		size_t falloc = 0;
		int fargc = 0, i;
		struct db_stmt *pj = NULL;
		sb_adds(&cmd, "mmdb run");
		if (json_array_argv(ctx->db, sw.run_args, &fargc, &fargv, &falloc))
			goto out;
		if (db_prepare(ctx->db, &pj, "SELECT params FROM sweep_trials WHERE sweep_id = ?1 AND "
					     "idx = ?2")) {
			run_argv_free(fargc, fargv);
			goto out;
		}
		db_bind_int(pj, 1, sw.id);
		db_bind_int(pj, 2, best_idx);
		if (db_step(pj) == DB_ROW)
			params_argv(ctx->db, db_column_text(pj, 0), 1, &fargc, &fargv, &falloc, NULL);
		db_finalize(pj);
		for (i = 0; i < fargc; i++) {
			sb_addc(&cmd, ' ');
			sb_add_shell(&cmd, fargv[i]);
		}
		run_argv_free(fargc, fargv);
	}

	if (fmt == FMT_TABLE) {
		size_t s;
		int first = 1;
		printf("sweep %s: %s, %d trials (", sw.name, sw.method, sw.trials);
		for (s = 0; s < ARRAY_SIZE(statuses); s++)
			if (counts[s]) {
				printf("%s%lld %s", first ? "" : ", ", (long long)counts[s], statuses[s]);
				first = 0;
			}
		printf("); metric %s (%s is best), prune %s", sw.metric, minimize ? "lower" : "higher",
		       sw.prune);
		if (sw.has_seed)
			printf(", seed %lld", (long long)sw.seed);
		printf("\n\n");
		table_print(t, stdout, FMT_TABLE);
		if (best_idx)
			printf("\nbest: trial %lld (run %lld), %s %.4f\n  %s\n", (long long)best_idx,
			       (long long)best_run, sw.metric, best_metric, cmd.buf);
		else
			printf("\nno trial has a %s yet\n", sw.metric);
	} else {
		printf("{\"name\": ");
		sb_reset(&sql);
		sb_add_json_str(&sql, sw.name);
		printf("%s, \"method\": \"%s\", \"metric\": \"%s\", \"goal\": \"%s\", \"prune\": \"%s\", "
		       "\"seed\": ", sql.buf, sw.method, sw.metric, sw.goal, sw.prune);
		if (sw.has_seed)
			printf("%lld", (long long)sw.seed);
		else
			printf("null");
		printf(", \"spec\": %s, \"run_args\": %s,\n  \"trials\": %s,\n  \"best\": ", sw.spec,
		       sw.run_args, out.buf);
		if (best_idx) {
			sb_reset(&sql);
			sb_add_json_str(&sql, cmd.buf);
			printf("{\"trial\": %lld, \"run\": %lld, \"metric\": %.17g, \"command\": %s}",
			       (long long)best_idx, (long long)best_run, best_metric, sql.buf);
		} else {
			printf("null");
		}
		printf(",\n  \"means\": {");
	}

	/* The metric's mean per value of each swept key; per quarter of the
	 * trials (by value) for a number with more than 8 values (--random). */
	if (fmt == FMT_TABLE && nkeys)
		printf("\nmean %s per value:\n", sw.metric);
	for (k = 0; k < nkeys; k++) {
		int n = 0, binned = 0;
		key_path(path, sizeof(path), keys[k]);
		if (db_prepare(ctx->db, &st, "SELECT count(DISTINCT params -> ?2) > 8 AND "
					     "count(*) FILTER (WHERE json_type(params, ?2) IN ('integer', "
					     "'real')) = count(*) FROM sweep_trials WHERE sweep_id = ?1"))
			goto out;
		db_bind_int(st, 1, sw.id);
		db_bind_text(st, 2, path, -1);
		if (db_step(st) == DB_ROW)
			binned = (int)db_column_int(st, 0);
		db_finalize(st);
		st = NULL;
		if (db_prepare(ctx->db, &st, binned ?
			       "SELECT min(v), max(v), avg(metric), count(metric), count(*) FROM (SELECT "
			       "json_extract(params, ?2) AS v, metric, ntile(4) OVER (ORDER BY "
			       "json_extract(params, ?2)) AS q FROM sweep_trials WHERE sweep_id = ?1) "
			       "GROUP BY q ORDER BY q" :
			       "SELECT CASE WHEN json_type(params, ?2) = 'text' THEN json_extract(params, ?2) "
			       "ELSE params -> ?2 END AS v, json_type(params, ?2) = 'text', avg(metric), "
			       "count(metric), count(*) FROM sweep_trials WHERE sweep_id = ?1 GROUP BY v "
			       "ORDER BY json_extract(params, ?2)"))
			goto out;
		db_bind_int(st, 1, sw.id);
		db_bind_text(st, 2, path, -1);
		sb_reset(&sql);
		sb_add_json_str(&sql, keys[k]);
		if (fmt == FMT_TABLE)
			printf("  %s%s:", keys[k], binned ? " (quarters of the trials by value)" : "");
		else
			printf("%s\n    %s: [", k ? "," : "", sql.buf);
		while ((rc = db_step(st)) == DB_ROW) {
			int have = db_column_type(st, 2) != DB_NULL;
			const char *v = db_column_text(st, 0);
			char what[128];
			sb_reset(&sql);
			if (binned) {
				snprintf(what, sizeof(what), "%.4g..%.4g", db_column_double(st, 0),
					 db_column_double(st, 1));
				sb_addf(&sql, "\"from\": %.17g, \"to\": %.17g", db_column_double(st, 0),
					db_column_double(st, 1));
			} else {
				snprintf(what, sizeof(what), "%s", v ? v : "");
				sb_adds(&sql, "\"value\": ");
				if (v && !db_column_int(st, 1))
					sb_adds(&sql, v); /* a JSON number, as written */
				else
					sb_add_json_str(&sql, v ? v : "");
			}
			if (fmt == FMT_TABLE && have)
				printf("%s %s %.4f (%lld of %lld)", n ? "," : "", what, db_column_double(st, 2),
				       (long long)db_column_int(st, 3), (long long)db_column_int(st, 4));
			else if (fmt == FMT_TABLE)
				printf("%s %s - (0 of %lld)", n ? "," : "", what, (long long)db_column_int(st, 4));
			else {
				printf("%s{%s, \"mean\": ", n ? ", " : "", sql.buf);
				if (have)
					printf("%.17g", db_column_double(st, 2));
				else
					printf("null");
				printf(", \"trials\": %lld, \"with_metric\": %lld}",
				       (long long)db_column_int(st, 4), (long long)db_column_int(st, 3));
			}
			n++;
		}
		db_finalize(st);
		st = NULL;
		if (rc < 0)
			goto out;
		printf(fmt == FMT_TABLE ? "\n" : "]");
	}
	if (fmt != FMT_TABLE)
		printf("%s}\n}\n", nkeys ? "\n  " : "");
	ret = 0;
out:
	db_finalize(st);
	table_free(t);
	keys_free(keys, nkeys);
	sb_release(&sql);
	sb_release(&out);
	sb_release(&cmd);
	sweep_release(&sw);
	return ret;
}

static int sweep_ls(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const heads[] = { "name", "method", "metric", "prune", "trials", "pending",
					     "running", "done", "pruned", "failed", "best",
					     "created_at" };
	struct db_stmt *st = NULL;
	struct table *t = NULL;
	int c, fmt = FMT_TABLE, rc, i, ret = 1;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0)
				return usage_error("sweep ls: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'h':
			printf("usage: mmdb sweep ls [--format table|csv|json]\n\nEvery sweep: its trials "
			       "by status and the best metric so far.\n");
			return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return usage_error("sweep ls: unexpected argument '%s'", argv[optind]);
	/* A dead worker's trials show as crashed. */
	if (db_prepare(ctx->db, &st, "SELECT DISTINCT sweep_id FROM sweep_trials WHERE status = 'running'"))
		return 1;
	while ((rc = db_step(st)) == DB_ROW)
		if (sweep_mark_crashed(ctx->db, db_column_int(st, 0), STALE_SECONDS))
			break;
	db_finalize(st);
	if (db_prepare(ctx->db, &st,
		       "SELECT s.name, s.method, s.metric, s.prune, s.trials, "
		       "count(*) FILTER (WHERE t.status = 'pending'), "
		       "count(*) FILTER (WHERE t.status = 'running'), "
		       "count(*) FILTER (WHERE t.status IN ('completed', 'early_stopped')), "
		       "count(*) FILTER (WHERE t.status = 'pruned'), "
		       "count(*) FILTER (WHERE t.status IN ('failed', 'crashed', 'interrupted')), "
		       "CASE s.goal WHEN 'min' THEN min(t.metric) ELSE max(t.metric) END, s.created_at "
		       "FROM sweeps s LEFT JOIN sweep_trials t ON t.sweep_id = s.id GROUP BY s.id "
		       "ORDER BY s.id"))
		return 1;
	t = table_new((int)ARRAY_SIZE(heads));
	for (i = 0; i < (int)ARRAY_SIZE(heads); i++)
		table_set_header(t, i, heads[i]);
	table_set_precision(t, 10, 4);
	while ((rc = db_step(st)) == DB_ROW) {
		table_add_row(t);
		for (i = 0; i < (int)ARRAY_SIZE(heads); i++) {
			switch (db_column_type(st, i)) {
			case DB_NULL: table_cell_null(t, i); break;
			case DB_INTEGER: table_cell_int(t, i, db_column_int(st, i)); break;
			case DB_FLOAT: table_cell_double(t, i, db_column_double(st, i)); break;
			default: table_cell_text(t, i, db_column_text(st, i)); break;
			}
		}
	}
	if (rc < 0)
		goto out;
	if (fmt == FMT_TABLE && !table_rows(t))
		printf("no sweeps yet: create one with 'mmdb sweep create'\n");
	else
		table_print(t, stdout, fmt);
	ret = 0;
out:
	db_finalize(st);
	table_free(t);
	return ret;
}

static int sweep_rm(int argc, char **argv, struct mmdb_ctx *ctx)
{
	struct sweep sw;
	struct db_stmt *st = NULL;
	const char *name = NULL;
	int64_t running = 0, nruns = 0;
	int force = 0, i, ret = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f")) {
			force = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: mmdb sweep rm [--force] NAME\n\nRemoves a sweep and its trials. "
			       "Their runs are kept (no longer linked to a\nsweep; remove them with 'mmdb "
			       "runs rm'). A sweep with a trial still training is\nrefused unless "
			       "--force.\n");
			return 0;
		} else if (argv[i][0] == '-') {
			return usage_error("sweep rm: unknown option '%s'", argv[i]);
		} else if (!name) {
			name = argv[i];
		} else {
			return usage_error("sweep rm: unexpected argument '%s'", argv[i]);
		}
	}
	if (!name)
		return usage_error("sweep rm: which sweep? (mmdb sweep rm NAME)");
	if (sweep_get(ctx->db, name, &sw))
		return 1;
	if (sweep_mark_crashed(ctx->db, sw.id, STALE_SECONDS))
		goto out;
	if (db_prepare(ctx->db, &st, "SELECT count(*) FILTER (WHERE status = 'running'), "
				     "(SELECT count(*) FROM runs WHERE sweep_id = ?1) FROM sweep_trials "
				     "WHERE sweep_id = ?1"))
		goto out;
	db_bind_int(st, 1, sw.id);
	if (db_step(st) == DB_ROW) {
		running = db_column_int(st, 0);
		nruns = db_column_int(st, 1);
	}
	db_finalize(st);
	st = NULL;
	if (running && !force) {
		error("sweep '%s' has %lld trial%s training: stop its workers first (or --force)", name,
		      (long long)running, running == 1 ? "" : "s");
		goto out;
	}
	if (db_prepare(ctx->db, &st, "DELETE FROM sweeps WHERE id = ?1"))
		goto out;
	db_bind_int(st, 1, sw.id);
	if (db_step(st) < 0)
		goto out;
	if (!ctx->quiet)
		printf("removed sweep %s (%d trials; its %lld run%s kept)\n", name, sw.trials,
		       (long long)nruns, nruns == 1 ? " is" : "s are");
	ret = 0;
out:
	db_finalize(st);
	sweep_release(&sw);
	return ret;
}

int cmd_sweep(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **, struct mmdb_ctx *);
	} subs[] = {
		{ "create", sweep_create }, { "run", sweep_run }, { "show", sweep_show },
		{ "ls", sweep_ls }, { "rm", sweep_rm },
	};
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(subs[i].name, argv[1]))
			return subs[i].fn(argc - 1, argv + 1, ctx);
	return usage_error("sweep: unknown command '%s' (create, run, show, ls, rm)", argv[1]);
}

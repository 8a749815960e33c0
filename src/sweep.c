/*
 * sweep: a sweep's queue of trials and its pruning rules. See sweep.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "sweep.h"
#include "db.h"
#include "train.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *dup_col(struct db_stmt *st, int i)
{
	const char *s = db_column_text(st, i);
	return s ? xstrdup(s) : NULL;
}

int sweep_get(struct db *db, const char *name, struct sweep *s)
{
	struct db_stmt *st = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	if (db_prepare(db, &st, "SELECT id, name, method, metric, goal, prune, spec, run_args, seed, "
				"trials FROM sweeps WHERE name = ?1"))
		return -1;
	db_bind_text(st, 1, name, -1);
	rc = db_step(st);
	if (rc == DB_ROW) {
		s->id = db_column_int(st, 0);
		s->name = dup_col(st, 1);
		s->method = dup_col(st, 2);
		s->metric = dup_col(st, 3);
		s->goal = dup_col(st, 4);
		s->prune = dup_col(st, 5);
		s->spec = dup_col(st, 6);
		s->run_args = dup_col(st, 7);
		s->has_seed = db_column_type(st, 8) != DB_NULL;
		s->seed = db_column_int(st, 8);
		s->trials = (int)db_column_int(st, 9);
	}
	db_finalize(st);
	if (rc < 0)
		return -1;
	if (rc == DB_DONE)
		return error("no sweep '%s' (see 'mmdb sweep ls')", name);
	return 0;
}

void sweep_release(struct sweep *s)
{
	free(s->name);
	free(s->method);
	free(s->metric);
	free(s->goal);
	free(s->prune);
	free(s->spec);
	free(s->run_args);
	memset(s, 0, sizeof(*s));
}

static const struct {
	const char *metric, *epoch_col;
	int minimize;
} metrics[] = {
	{ "best_val_f1", "f1", 0 },
	{ "best_val_accuracy", "accuracy", 0 },
	{ "best_val_f1_macro", "f1_macro", 0 },
	{ "best_val_loss", "loss", 1 },
	{ "test_f1", "f1", 0 },
	{ "test_accuracy", "accuracy", 0 },
	{ "test_f1_macro", "f1_macro", 0 },
};

int sweep_metric(const char *metric, const char **epoch_col, int *minimize)
{
	size_t i;
	for (i = 0; i < ARRAY_SIZE(metrics); i++)
		if (!strcmp(metrics[i].metric, metric)) {
			if (epoch_col)
				*epoch_col = metrics[i].epoch_col;
			if (minimize)
				*minimize = metrics[i].minimize;
			return 0;
		}
	return -1;
}

const char *sweep_metric_names(void)
{
	return "best_val_f1, best_val_accuracy, best_val_f1_macro, best_val_loss, test_f1, "
	       "test_accuracy, test_f1_macro";
}

void sweep_worker_id(char *buf, size_t n)
{
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	snprintf(buf, n, "%s:%ld", host, (long)getpid());
}

void sweep_trial_release(struct sweep_trial *t)
{
	free(t->params);
	memset(t, 0, sizeof(*t));
}

/*
 * 1 when the worker "host:pid" of a running trial is gone: on this host its
 * pid no longer exists (kill(pid, 0)), or nothing has been heard of it (its
 * run's heartbeat, or else the claim) for 4 x stale_seconds (a pid reused
 * by another process); on another host, nothing heard for stale_seconds.
 */
static int worker_gone(const char *worker, double last_heard, double stale_seconds)
{
	char host[256] = "";
	const char *colon = worker ? strrchr(worker, ':') : NULL;
	long pid;
	char *end;

	if (!colon)
		return last_heard > 0 && wall_now() - last_heard > stale_seconds;
	gethostname(host, sizeof(host) - 1);
	if (strlen(host) != (size_t)(colon - worker) || strncmp(worker, host, strlen(host)))
		return wall_now() - last_heard > stale_seconds;
	pid = strtol(colon + 1, &end, 10);
	if (*end || pid <= 0)
		return 1;
	if (pid == (long)getpid())
		return 0;
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return 1;
	/* Alive, but silent for far longer than a heartbeat: the pid was reused. */
	return last_heard > 0 && wall_now() - last_heard > 4 * stale_seconds;
}

/* Marks crashed the running trials of the sweep whose worker is gone. */
static int mark_crashed(struct db *db, int64_t sweep_id, double stale_seconds)
{
	struct db_stmt *st = NULL, *up = NULL;
	int rc, ret = -1;

	if (db_prepare(db, &st, "SELECT t.id, t.worker, max(coalesce(t.claimed_at, 0), "
				"coalesce(r.heartbeat_at, 0)) FROM sweep_trials t LEFT JOIN runs r ON "
				"r.id = t.run_id WHERE t.sweep_id = ?1 AND t.status = 'running'"))
		return -1;
	db_bind_int(st, 1, sweep_id);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *w = db_column_text(st, 1);
		struct strbuf why = STRBUF_INIT;
		if (!worker_gone(w, db_column_double(st, 2), stale_seconds))
			continue;
		if (!up && db_prepare(db, &up, "UPDATE sweep_trials SET status = 'crashed', reason = ?2 "
					       "WHERE id = ?1 AND status = 'running'"))
			goto out;
		sb_addf(&why, "worker %s stopped without finishing the trial", w ? w : "?");
		db_reset(up);
		db_bind_int(up, 1, db_column_int(st, 0));
		db_bind_text(up, 2, why.buf, -1);
		rc = db_step(up);
		sb_release(&why);
		if (rc < 0)
			goto out;
	}
	if (rc == DB_DONE)
		ret = 0;
out:
	db_finalize(st);
	db_finalize(up);
	return ret;
}

int sweep_mark_crashed(struct db *db, int64_t sweep_id, double stale_seconds)
{
	return mark_crashed(db, sweep_id, stale_seconds);
}

int sweep_claim(struct db *db, int64_t sweep_id, const char *worker, double stale_seconds,
		struct sweep_trial *t)
{
	struct db_stmt *st = NULL;
	int rc, ret = -1;

	memset(t, 0, sizeof(*t));
	if (db_begin(db))
		return -1;
	if (mark_crashed(db, sweep_id, stale_seconds))
		goto fail;
	/* Crashed and interrupted trials first: their runs are under way. */
	if (db_prepare(db, &st, "SELECT id, idx, params, run_id, status != 'pending' FROM sweep_trials "
				"WHERE sweep_id = ?1 AND status IN ('pending', 'crashed', 'interrupted') "
				"ORDER BY status = 'pending', idx LIMIT 1"))
		goto fail;
	db_bind_int(st, 1, sweep_id);
	rc = db_step(st);
	if (rc < 0)
		goto fail;
	if (rc == DB_DONE) {
		db_finalize(st);
		return db_commit(db) ? -1 : 0;
	}
	t->id = db_column_int(st, 0);
	t->idx = (int)db_column_int(st, 1);
	t->params = dup_col(st, 2);
	t->run_id = db_column_type(st, 3) == DB_NULL ? 0 : db_column_int(st, 3);
	t->resume = (int)db_column_int(st, 4) && t->run_id > 0;
	db_finalize(st);
	st = NULL;
	if (db_prepare(db, &st, "UPDATE sweep_trials SET status = 'running', worker = ?2, "
				"claimed_at = ?3, finished_at = NULL, reason = NULL WHERE id = ?1"))
		goto fail;
	db_bind_int(st, 1, t->id);
	db_bind_text(st, 2, worker, -1);
	db_bind_double(st, 3, wall_now());
	if (db_step(st) < 0)
		goto fail;
	db_finalize(st);
	st = NULL;
	if (db_commit(db))
		goto fail;
	return 1;
fail:
	db_finalize(st);
	db_rollback(db);
	sweep_trial_release(t);
	return ret;
}

int sweep_finish(struct db *db, const struct sweep *s, int64_t trial_id, int64_t run_id,
		 const char *status, const char *reason)
{
	struct db_stmt *st = NULL;
	struct strbuf sql = STRBUF_INIT;
	int ret = -1;

	if (sweep_metric(s->metric, NULL, NULL))
		return error("sweep '%s': unknown metric '%s'", s->name, s->metric);
	/* s->metric is one of the known run_summary columns: safe to paste. */
	sb_addf(&sql, "UPDATE sweep_trials SET status = ?2, run_id = ?3, reason = ?4, finished_at = ?5, "
		      "metric = (SELECT %s FROM run_summary WHERE id = ?3) WHERE id = ?1", s->metric);
	if (db_prepare(db, &st, sql.buf))
		goto out;
	db_bind_int(st, 1, trial_id);
	db_bind_text(st, 2, status, -1);
	if (run_id > 0)
		db_bind_int(st, 3, run_id);
	else
		db_bind_null(st, 3);
	db_bind_text(st, 4, reason, -1);
	db_bind_double(st, 5, wall_now());
	if (db_step(st) >= 0)
		ret = 0;
out:
	db_finalize(st);
	sb_release(&sql);
	return ret;
}

int sweep_unclaim(struct db *db, int64_t trial_id)
{
	struct db_stmt *st = NULL;
	int ret = -1;
	if (db_prepare(db, &st, "UPDATE sweep_trials SET status = 'pending', worker = NULL, "
				"claimed_at = NULL WHERE id = ?1 AND status = 'running'"))
		return -1;
	db_bind_int(st, 1, trial_id);
	if (db_step(st) >= 0)
		ret = 0;
	db_finalize(st);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* 1 when epoch is an ASHA rung: 1, 3, 9, 27, ... */
static int is_rung(int epoch)
{
	int r;
	for (r = 1; r <= epoch; r *= 3)
		if (r == epoch)
			return 1;
	return 0;
}

int sweep_prune_check(struct db *db, const struct sweep *s, int64_t run_id,
		      const struct epoch_result *r, char *reason, size_t reason_len)
{
	struct db_stmt *st = NULL;
	struct strbuf sql = STRBUF_INIT;
	const char *col = NULL;
	double mine, *others = NULL;
	size_t n = 0, alloc = 0, i;
	int minimize = 0, asha, rc, ret = -1;

	asha = !strcmp(s->prune, "asha");
	if (!asha && strcmp(s->prune, "median"))
		return 0;
	if (sweep_metric(s->metric, &col, &minimize))
		return 0;
	if (asha && !is_rung(r->epoch))
		return 0;
	mine = !strcmp(col, "f1") ? r->f1 : !strcmp(col, "accuracy") ? r->accuracy
	       : !strcmp(col, "f1_macro") ? r->f1_macro : r->loss;
	if (isnan(mine))
		mine = minimize ? INFINITY : -INFINITY;
	/* col is from the table above. */
	sb_addf(&sql, "SELECT e.%s FROM epochs e JOIN runs r ON r.id = e.run_id WHERE "
		      "r.sweep_id = ?1 AND r.id != ?2 AND e.epoch = ?3 AND e.split = 'validate' AND "
		      "e.%s IS NOT NULL", col, col);
	if (db_prepare(db, &st, sql.buf))
		goto out;
	db_bind_int(st, 1, s->id);
	db_bind_int(st, 2, run_id);
	db_bind_int(st, 3, r->epoch);
	while ((rc = db_step(st)) == DB_ROW) {
		ALLOC_GROW(others, n + 1, alloc);
		/* Lower is better for a loss: negate, so that higher is better below. */
		others[n++] = minimize ? -db_column_double(st, 0) : db_column_double(st, 0);
	}
	if (rc < 0)
		goto out;
	if (minimize)
		mine = -mine;
	ret = 0;
	if (asha) {
		/* Top 1/3 of the trials at this rung (this one included), at least one. */
		size_t total = n + 1, keep = total / 3 ? total / 3 : 1, better = 0;
		for (i = 0; i < n; i++)
			if (others[i] > mine)
				better++;
		if (better >= keep) {
			snprintf(reason, reason_len, "asha: rung at epoch %d: validate %s %.4g is not in the "
				 "top 1/3 of the %zu trials that reached it (%zu better, %zu go on)",
				 r->epoch, col, minimize ? -mine : mine, total, better, keep);
			ret = 1;
		}
	} else if (n >= 2) {
		double median;
		qsort(others, n, sizeof(*others), cmp_double);
		median = n % 2 ? others[n / 2] : (others[n / 2 - 1] + others[n / 2]) / 2;
		if (mine < median) {
			snprintf(reason, reason_len, "median: epoch %d: validate %s %.4g is worse than the "
				 "median %.4g of %zu other trials at that epoch", r->epoch, col,
				 minimize ? -mine : mine, minimize ? -median : median, n);
			ret = 1;
		}
	}
out:
	free(others);
	db_finalize(st);
	sb_release(&sql);
	return ret;
}

/*
 * train_db: every database write of a training run. Rows of one epoch go
 * in one BEGIN IMMEDIATE transaction; INSERT OR REPLACE makes an epoch
 * redone after a crash overwrite its rows instead of failing.
 */
#include "train_int.h"
#include "db.h"
#include "torch/mt.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bind_text_or_null(struct db_stmt *st, int i, const char *s)
{
	if (s)
		db_bind_text(st, i, s, -1);
	else
		db_bind_null(st, i);
}

static void bind_double_or_null(struct db_stmt *st, int i, double v)
{
	if (isnan(v) || isinf(v))
		db_bind_null(st, i);
	else
		db_bind_double(st, i, v);
}

static void bind_named_text(struct db_stmt *st, const char *name, const char *s)
{
	bind_text_or_null(st, db_bind_index(st, name), s);
}

static void bind_named_int(struct db_stmt *st, const char *name, int64_t v)
{
	db_bind_int(st, db_bind_index(st, name), v);
}

static void bind_named_double(struct db_stmt *st, const char *name, double v)
{
	db_bind_double(st, db_bind_index(st, name), v);
}

int tdb_create_run(struct db *db, const struct run_config *cfg, const char *config_json,
		   int64_t vocab_id, const int counts[3], const char *torch_version, int64_t *id)
{
	struct db_stmt *st = NULL;
	char host[256] = "", now[32];
	int i;
	int64_t dataset = 0;
	const char *mod = cfg->modalities == (MT_TEXT | MT_IMAGE) ? "text,image"
			  : cfg->modalities == MT_TEXT ? "text" : "image";

	gethostname(host, sizeof(host) - 1);
	iso8601_now(now, sizeof(now));
	if (db_query_int(db, "SELECT coalesce(min(dataset_id), 0) FROM posts", 0, &dataset))
		return -1;
	if (db_begin(db))
		return -1;
	if (db_prepare(db, &st,
		       "INSERT INTO runs (name, status, notes, preset, label, modalities, fusion, "
		       "text_model, image_model, lr, batch_size, epochs, optimizer, weight_decay, "
		       "scheduler, dropout, max_len, image_size, class_weights, seed, device, amp, "
		       "config, dataset_id, vocab_id, train_posts, validate_posts, test_posts, "
		       "started_at, heartbeat_at, pid, host, progress, seconds, mmdb_version, "
		       "torch_version, sweep_id, trial_id, text_model_dir, text_config_sha256, "
		       "text_weights_sha256) VALUES (:name, 'running', :notes, :preset, :label, :mod, "
		       ":fusion, :tm, :im, :lr, :bs, :epochs, :opt, :wd, :sched, :dropout, :maxlen, "
		       ":imgsize, :cw, :seed, :device, :amp, :config, :dataset, :vocab, :ntrain, "
		       ":nval, :ntest, :started, :hb, :pid, :host, 0, 0, :ver, :tver, :sweep, :trial, "
		       ":tdir, :tcfg, :twt)"))
		goto fail;
	bind_named_text(st, ":name", cfg->name);
	bind_named_text(st, ":notes", cfg->notes);
	bind_named_text(st, ":preset", cfg->preset);
	bind_named_text(st, ":label", cfg->label);
	bind_named_text(st, ":mod", mod);
	bind_named_text(st, ":fusion", cfg->modalities == (MT_TEXT | MT_IMAGE) ?
			fusion_name(cfg->fusion) : NULL);
	bind_named_text(st, ":tm", cfg->modalities & MT_TEXT ? cfg->text_model : NULL);
	bind_named_text(st, ":im", cfg->modalities & MT_IMAGE ? cfg->image_model : NULL);
	bind_named_double(st, ":lr", cfg->lr);
	bind_named_int(st, ":bs", cfg->batch_size);
	bind_named_int(st, ":epochs", cfg->epochs);
	bind_named_text(st, ":opt", optimizer_name(cfg->optimizer));
	bind_named_double(st, ":wd", cfg->weight_decay);
	bind_named_text(st, ":sched", scheduler_name(cfg->scheduler));
	bind_named_double(st, ":dropout", cfg->dropout);
	if (cfg->modalities & MT_TEXT)
		bind_named_int(st, ":maxlen", cfg->max_len);
	if (cfg->modalities & MT_IMAGE)
		bind_named_int(st, ":imgsize", cfg->image_size);
	bind_named_text(st, ":cw", cfg->class_weights_balanced ? "balanced" : "none");
	bind_named_int(st, ":seed", (int64_t)cfg->seed);
	bind_named_text(st, ":device", cfg->device);
	bind_named_int(st, ":amp", cfg->amp);
	bind_named_text(st, ":config", config_json);
	if (dataset)
		bind_named_int(st, ":dataset", dataset);
	if (vocab_id)
		bind_named_int(st, ":vocab", vocab_id);
	bind_named_int(st, ":ntrain", counts[0]);
	bind_named_int(st, ":nval", counts[1]);
	bind_named_int(st, ":ntest", counts[2]);
	bind_named_text(st, ":started", now);
	bind_named_double(st, ":hb", wall_now());
	bind_named_int(st, ":pid", getpid());
	bind_named_text(st, ":host", host);
	bind_named_text(st, ":ver", MMDB_VERSION);
	bind_named_text(st, ":tver", torch_version);
	if (cfg->sweep_id)
		bind_named_int(st, ":sweep", cfg->sweep_id);
	if (cfg->trial_id)
		bind_named_int(st, ":trial", cfg->trial_id);
	if (cfg->modalities & MT_TEXT) {
		bind_named_text(st, ":tdir", cfg->text_model_dir);
		bind_named_text(st, ":tcfg", cfg->text_config_sha256);
		bind_named_text(st, ":twt", cfg->text_weights_sha256);
	}
	if (db_step(st) < 0)
		goto fail;
	db_finalize(st);
	st = NULL;
	*id = db_last_insert_rowid(db);
	/* The trial knows its run from the start: a worker killed now leaves a
	 * trial whose run the next worker resumes. */
	if (cfg->trial_id) {
		if (db_prepare(db, &st, "UPDATE sweep_trials SET run_id = ?1 WHERE id = ?2"))
			goto fail;
		db_bind_int(st, 1, *id);
		db_bind_int(st, 2, cfg->trial_id);
		if (db_step(st) < 0)
			goto fail;
		db_finalize(st);
		st = NULL;
	}
	if (db_prepare(db, &st, "INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?1, ?2)"))
		goto fail;
	for (i = 0; i < cfg->ntags; i++) {
		db_reset(st);
		db_bind_int(st, 1, *id);
		db_bind_text(st, 2, cfg->tags[i], -1);
		if (db_step(st) < 0)
			goto fail;
	}
	db_finalize(st);
	return db_commit(db);
fail:
	db_finalize(st);
	db_rollback(db);
	return -1;
}

int tdb_resume_run(struct db *db, int64_t id)
{
	struct db_stmt *st = NULL;
	char host[256] = "";
	int ret = -1;

	gethostname(host, sizeof(host) - 1);
	if (db_prepare(db, &st, "UPDATE runs SET status = 'running', reason = NULL, finished_at = NULL, "
				"heartbeat_at = ?2, pid = ?3, host = ?4 WHERE id = ?1"))
		return -1;
	db_bind_int(st, 1, id);
	db_bind_double(st, 2, wall_now());
	db_bind_int(st, 3, getpid());
	db_bind_text(st, 4, host, -1);
	if (db_step(st) >= 0)
		ret = 0;
	db_finalize(st);
	return ret;
}

int tdb_set_checkpoints(struct db *db, int64_t id, const char *best, const char *last)
{
	struct db_stmt *st = NULL;
	int ret = -1;
	if (db_prepare(db, &st, "UPDATE runs SET checkpoint_best = ?2, checkpoint_last = ?3 WHERE id = ?1"))
		return -1;
	db_bind_int(st, 1, id);
	db_bind_text(st, 2, best, -1);
	db_bind_text(st, 3, last, -1);
	if (db_step(st) >= 0)
		ret = 0;
	db_finalize(st);
	return ret;
}

int tdb_heartbeat(struct db *db, int64_t id, double progress)
{
	struct db_stmt *st = NULL;
	int ret = -1;
	if (db_prepare(db, &st, "UPDATE runs SET heartbeat_at = ?2, progress = ?3 WHERE id = ?1"))
		return -1;
	db_bind_int(st, 1, id);
	db_bind_double(st, 2, wall_now());
	db_bind_double(st, 3, progress);
	if (db_step_quiet(st) >= 0) /* not fatal: silent (a lock held a while, ...) */
		ret = 0;
	db_finalize(st);
	return ret;
}

/* An epochs row of an evaluated split, plus its class_metrics and confusion. */
static int write_eval(struct db *db, int64_t id, int epoch, const char *split,
		      const struct eval_result *r, double lr)
{
	struct db_stmt *st = NULL;
	const struct metrics *m = &r->m;
	int C = m->num_classes, k, j;

	if (db_prepare(db, &st,
		       "INSERT OR REPLACE INTO epochs (run_id, epoch, split, loss, accuracy, precision, "
		       "recall, f1, precision_macro, recall_macro, f1_macro, lr, seconds, samples_per_s, "
		       "samples) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"))
		return -1;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, epoch);
	db_bind_text(st, 3, split, -1);
	bind_double_or_null(st, 4, r->loss);
	db_bind_double(st, 5, m->accuracy);
	db_bind_double(st, 6, m->precision_weighted);
	db_bind_double(st, 7, m->recall_weighted);
	db_bind_double(st, 8, m->f1_weighted);
	db_bind_double(st, 9, m->precision_macro);
	db_bind_double(st, 10, m->recall_macro);
	db_bind_double(st, 11, m->f1_macro);
	if (lr > 0)
		db_bind_double(st, 12, lr);
	db_bind_double(st, 13, r->seconds);
	bind_double_or_null(st, 14, r->seconds > 0 ? r->n / r->seconds : NAN);
	db_bind_int(st, 15, r->n);
	if (db_step(st) < 0)
		goto fail;
	db_finalize(st);
	if (db_prepare(db, &st, "INSERT OR REPLACE INTO class_metrics (run_id, epoch, split, label, "
				"precision, recall, f1, support) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"))
		return -1;
	for (k = 0; k < C; k++) {
		db_reset(st);
		db_bind_int(st, 1, id);
		db_bind_int(st, 2, epoch);
		db_bind_text(st, 3, split, -1);
		db_bind_int(st, 4, k);
		db_bind_double(st, 5, m->precision[k]);
		db_bind_double(st, 6, m->recall[k]);
		db_bind_double(st, 7, m->f1[k]);
		db_bind_int(st, 8, m->support[k]);
		if (db_step(st) < 0)
			goto fail;
	}
	db_finalize(st);
	if (db_prepare(db, &st, "INSERT OR REPLACE INTO confusion (run_id, epoch, split, label, pred, "
				"count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"))
		return -1;
	for (k = 0; k < C; k++)
		for (j = 0; j < C; j++) {
			db_reset(st);
			db_bind_int(st, 1, id);
			db_bind_int(st, 2, epoch);
			db_bind_text(st, 3, split, -1);
			db_bind_int(st, 4, k);
			db_bind_int(st, 5, j);
			db_bind_int(st, 6, m->confusion[k * C + j]);
			if (db_step(st) < 0)
				goto fail;
		}
	db_finalize(st);
	return 0;
fail:
	db_finalize(st);
	return -1;
}

int tdb_write_epoch(struct db *db, int64_t id, int epoch, const struct train_figures *tf,
		    const struct eval_result *val, int best_epoch, double progress,
		    double run_seconds)
{
	struct db_stmt *st = NULL;

	if (db_begin(db))
		return -1;
	if (db_prepare(db, &st,
		       "INSERT OR REPLACE INTO epochs (run_id, epoch, split, loss, lr, seconds, "
		       "samples_per_s, loader_wait, samples, accuracy) VALUES (?1, ?2, 'train', ?3, ?4, "
		       "?5, ?6, ?7, ?8, ?9)"))
		goto fail;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, epoch);
	bind_double_or_null(st, 3, tf->loss);
	db_bind_double(st, 4, tf->lr);
	db_bind_double(st, 5, tf->seconds);
	bind_double_or_null(st, 6, tf->samples_per_s);
	bind_double_or_null(st, 7, tf->wait_share);
	db_bind_int(st, 8, tf->samples);
	bind_double_or_null(st, 9, tf->accuracy);
	if (db_step(st) < 0)
		goto fail;
	db_finalize(st);
	st = NULL;
	if (write_eval(db, id, epoch, "validate", val, tf->lr))
		goto fail;
	if (db_prepare(db, &st, "UPDATE runs SET epochs_done = ?2, best_epoch = ?3, progress = ?4, "
				"seconds = ?5, heartbeat_at = ?6 WHERE id = ?1"))
		goto fail;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, epoch);
	if (best_epoch > 0)
		db_bind_int(st, 3, best_epoch);
	db_bind_double(st, 4, progress);
	db_bind_double(st, 5, run_seconds);
	db_bind_double(st, 6, wall_now());
	if (db_step(st) < 0)
		goto fail;
	db_finalize(st);
	return db_commit(db);
fail:
	db_finalize(st);
	db_rollback(db);
	return -1;
}

static int write_predictions(struct db *db, struct db_stmt *st, int64_t id, const char *split,
			     const struct eval_result *r)
{
	struct strbuf sb = STRBUF_INIT;
	int i, k, C = r->num_classes;

	for (i = 0; i < r->n; i++) {
		const float *p = r->probs + (size_t)i * C;
		int pred = metrics_argmax(p, C);
		sb_reset(&sb);
		sb_addc(&sb, '[');
		for (k = 0; k < C; k++)
			sb_addf(&sb, "%s%.6g", k ? ", " : "", (double)p[k]);
		sb_addc(&sb, ']');
		db_reset(st);
		db_bind_int(st, 1, id);
		db_bind_text(st, 2, r->post_ids[i], -1);
		db_bind_text(st, 3, split, -1);
		db_bind_int(st, 4, r->labels[i]);
		db_bind_int(st, 5, pred);
		db_bind_double(st, 6, p[pred]);
		db_bind_double(st, 7, p[r->labels[i]]);
		db_bind_text(st, 8, sb.buf, (int)sb.len);
		if (db_step(st) < 0) {
			sb_release(&sb);
			return -1;
		}
	}
	sb_release(&sb);
	return 0;
}

int tdb_write_final(struct db *db, int64_t id, int best_epoch, const struct eval_result *val,
		    const struct eval_result *test, const char *status, double run_seconds)
{
	struct db_stmt *st = NULL;
	char now[32];

	iso8601_now(now, sizeof(now));
	if (db_begin(db))
		return -1;
	if (test && write_eval(db, id, best_epoch, "test", test, 0))
		goto fail;
	if (db_prepare(db, &st, "INSERT OR REPLACE INTO predictions (run_id, post_id, split, label, "
				"pred, prob_pred, prob_label, probs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"))
		goto fail;
	if (val && write_predictions(db, st, id, "validate", val))
		goto fail;
	if (test && write_predictions(db, st, id, "test", test))
		goto fail;
	db_finalize(st);
	if (db_prepare(db, &st, "UPDATE runs SET status = ?2, reason = NULL, finished_at = ?3, "
				"seconds = ?4, progress = 1, pid = NULL WHERE id = ?1"))
		goto fail;
	db_bind_int(st, 1, id);
	db_bind_text(st, 2, status, -1);
	db_bind_text(st, 3, now, -1);
	db_bind_double(st, 4, run_seconds);
	if (db_step(st) < 0)
		goto fail;
	db_finalize(st);
	return db_commit(db);
fail:
	db_finalize(st);
	db_rollback(db);
	return -1;
}

static int set_status(struct db *db, int64_t id, const char *status, const char *reason,
		      double run_seconds, int only_running)
{
	struct db_stmt *st = NULL;
	char now[32];
	int ret = -1;

	iso8601_now(now, sizeof(now));
	if (db_prepare(db, &st, only_running ?
		       "UPDATE runs SET status = ?2, reason = ?3, finished_at = ?4, seconds = ?5, "
		       "pid = NULL WHERE id = ?1 AND status = 'running'" :
		       "UPDATE runs SET status = ?2, reason = ?3, finished_at = ?4, "
		       "seconds = ?5, pid = NULL WHERE id = ?1"))
		return -1;
	db_bind_int(st, 1, id);
	db_bind_text(st, 2, status, -1);
	bind_text_or_null(st, 3, reason);
	db_bind_text(st, 4, now, -1);
	db_bind_double(st, 5, run_seconds);
	/* Locked by another process: the error that ended the run said so, and
	 * a row left 'running' is marked crashed (resumable) once we are gone. */
	if (db_step_quiet(st) >= 0)
		ret = 0;
	else if (!db_is_busy(db))
		error("cannot record run %lld as %s: %s (database '%s')", (long long)id, status,
		      db_errmsg(db), db_path(db));
	db_finalize(st);
	return ret;
}

int tdb_set_dist(struct db *db, int64_t id, int world_size, const char *backend)
{
	struct db_stmt *st = NULL;
	int ret = -1;
	if (db_prepare(db, &st, "UPDATE runs SET world_size = ?2, backend = ?3 WHERE id = ?1"))
		return -1;
	db_bind_int(st, 1, id);
	db_bind_int(st, 2, world_size);
	db_bind_text(st, 3, backend, -1);
	if (db_step(st) >= 0)
		ret = 0;
	db_finalize(st);
	return ret;
}

int tdb_set_status(struct db *db, int64_t id, const char *status, const char *reason,
		   double run_seconds)
{
	return set_status(db, id, status, reason, run_seconds, 0);
}

int tdb_fail_running(struct db *db, int64_t id, const char *reason, double run_seconds)
{
	return set_status(db, id, "failed", reason, run_seconds, 1);
}

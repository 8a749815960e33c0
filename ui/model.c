/*
 * model: the dashboard's SQL. See model.h.
 */
#define _XOPEN_SOURCE 700
#include "model.h"
#include "db.h"
#include "util.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *col_str(struct db_stmt *st, int i)
{
	const char *s = db_column_text(st, i);
	return s ? xstrdup(s) : NULL;
}

static double col_num(struct db_stmt *st, int i)
{
	return db_column_type(st, i) == DB_NULL ? NAN : db_column_double(st, i);
}

static int64_t col_int(struct db_stmt *st, int i)
{
	return db_column_type(st, i) == DB_NULL ? -1 : db_column_int(st, i);
}

/* Steps st to the end, handing each row to fn; finalizes st. */
typedef int (*row_fn)(struct db_stmt *st, void *data);
static int each_row(struct db_stmt *st, row_fn fn, void *data)
{
	int rc, ret = 0;
	while ((rc = db_step(st)) == DB_ROW)
		if (fn(st, data)) {
			ret = -1;
			break;
		}
	if (rc < 0)
		ret = -1;
	db_finalize(st);
	return ret;
}

/* ---- runs ---- */

#define RUN_COLUMNS \
	"SELECT r.id, r.name, r.status, r.label, r.modalities, r.fusion, r.text_model," \
	" r.image_model, r.optimizer, r.preset, r.notes, r.created_at, r.lr, r.dropout," \
	" r.progress, r.seconds, r.batch_size, r.epochs, r.epochs_done, r.best_epoch," \
	" CAST(strftime('%s', COALESCE(r.started_at, r.created_at)) AS INTEGER)," \
	" CAST(strftime('%s', r.finished_at) AS INTEGER)," \
	" bv.f1, bv.accuracy, t.accuracy, t.f1," \
	" (SELECT group_concat(tag, ',') FROM run_tags g WHERE g.run_id = r.id)," \
	" (SELECT max(epoch) FROM epochs e WHERE e.run_id = r.id AND e.split = 'validate')," \
	" r.heartbeat_at, r.sweep_id," \
	" (SELECT t.idx FROM sweep_trials t WHERE t.id = r.trial_id)," \
	" (SELECT s.name FROM sweeps s WHERE s.id = r.sweep_id)" \
	" FROM runs r" \
	" LEFT JOIN epochs bv ON bv.run_id = r.id AND bv.epoch = r.best_epoch AND bv.split = 'validate'" \
	" LEFT JOIN epochs t ON t.run_id = r.id AND t.split = 'test' AND t.epoch =" \
	"  (SELECT max(epoch) FROM epochs e2 WHERE e2.run_id = r.id AND e2.split = 'test')"

static void run_from_row(struct db_stmt *st, struct run_row *r)
{
	r->id = db_column_int(st, 0);
	r->name = col_str(st, 1);
	r->status = col_str(st, 2);
	r->label = col_str(st, 3);
	r->modalities = col_str(st, 4);
	r->fusion = col_str(st, 5);
	r->text_model = col_str(st, 6);
	r->image_model = col_str(st, 7);
	r->optimizer = col_str(st, 8);
	r->preset = col_str(st, 9);
	r->notes = col_str(st, 10);
	r->created_at = col_str(st, 11);
	r->lr = col_num(st, 12);
	r->dropout = col_num(st, 13);
	r->progress = col_num(st, 14);
	r->seconds = col_num(st, 15);
	r->batch_size = col_int(st, 16);
	r->epochs = col_int(st, 17);
	r->epochs_done = col_int(st, 18);
	r->best_epoch = col_int(st, 19);
	r->started = col_int(st, 20);
	r->finished = col_int(st, 21);
	r->val_f1 = col_num(st, 22);
	r->val_acc = col_num(st, 23);
	r->test_acc = col_num(st, 24);
	r->test_f1 = col_num(st, 25);
	r->tags = col_str(st, 26);
	r->last_epoch = col_int(st, 27);
	r->heartbeat = col_num(st, 28);
	r->sweep_id = col_int(st, 29);
	r->trial_idx = col_int(st, 30);
	r->sweep = col_str(st, 31);
}

int run_is_stale(const struct run_row *r, double now_unix)
{
	return r->status && !strcmp(r->status, "running") && !isnan(r->heartbeat) &&
	       now_unix - r->heartbeat > RUN_STALE_SECONDS;
}

static int add_run(struct db_stmt *st, void *data)
{
	struct run_list *l = data;
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	run_from_row(st, &l->v[l->n++]);
	return 0;
}

int model_runs_running(struct db *db, struct run_list *out)
{
	struct db_stmt *st;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, &st, RUN_COLUMNS " WHERE r.status = 'running' ORDER BY r.id"))
		return -1;
	return each_row(st, add_run, out);
}

int model_runs_sig(struct db *db, struct runs_sig *out)
{
	struct db_stmt *st;
	int rc;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, &st, "SELECT count(*), total(id), total(status = 'running'),"
				" (SELECT count(*) FROM run_tags) FROM runs"))
		return -1;
	rc = db_step(st);
	if (rc == DB_ROW) {
		out->count = db_column_int(st, 0);
		out->id_sum = db_column_int(st, 1);
		out->running = db_column_int(st, 2);
		out->tags = db_column_int(st, 3);
	}
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

int model_runs_newest(struct db *db, int limit, struct run_list *out)
{
	struct db_stmt *st;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, &st, RUN_COLUMNS " ORDER BY r.id DESC LIMIT ?"))
		return -1;
	db_bind_int(st, 1, limit);
	return each_row(st, add_run, out);
}

int model_runs_after(struct db *db, int64_t after, int limit, struct run_list *out)
{
	struct db_stmt *st;
	if (db_prepare(db, &st, RUN_COLUMNS " WHERE r.id > ? ORDER BY r.id LIMIT ?"))
		return -1;
	db_bind_int(st, 1, after);
	db_bind_int(st, 2, limit);
	return each_row(st, add_run, out);
}

int model_run(struct db *db, int64_t id, struct run_row *out)
{
	struct db_stmt *st;
	int rc;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, &st, RUN_COLUMNS " WHERE r.id = ?"))
		return -1;
	db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW)
		run_from_row(st, out);
	db_finalize(st);
	return rc < 0 ? -1 : rc == DB_ROW ? 0 : MODEL_GONE;
}

void run_row_release(struct run_row *r)
{
	free(r->name); free(r->status); free(r->label); free(r->modalities);
	free(r->fusion); free(r->text_model); free(r->image_model); free(r->optimizer);
	free(r->preset); free(r->notes); free(r->tags); free(r->created_at); free(r->sweep);
	memset(r, 0, sizeof(*r));
}

void run_list_release(struct run_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		run_row_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

double run_duration(const struct run_row *r, double now)
{
	if (!isnan(r->seconds))
		return r->seconds;
	if (r->started < 0)
		return NAN;
	if (r->finished >= 0)
		return (double)(r->finished - r->started);
	if (r->status && !strcmp(r->status, "running"))
		return now - (double)r->started;
	return NAN;
}

/* ---- settings ---- */

static void kv_add(struct kv_list *l, const char *k, const char *v)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n].key = xstrdup(k);
	l->v[l->n].val = xstrdup(v ? v : "");
	l->n++;
}

/* Columns that describe the run's bookkeeping rather than its settings. */
static int skip_setting(const char *k)
{
	static const char *const skip[] = { "id", "name", "config", "status", "reason", "notes",
		"created_at", "started_at", "finished_at", "heartbeat_at", "pid", "progress", "seconds",
		"epochs_done", "best_epoch", "checkpoint_best", "checkpoint_last", "host", "sweep_id",
		"trial_id", NULL };
	int i;
	for (i = 0; skip[i]; i++)
		if (!strcmp(k, skip[i]))
			return 1;
	return 0;
}

/* Config keys shown elsewhere (title, notes) or too long for a setting. */
static int skip_config_key(const char *k)
{
	return !strcmp(k, "argv") || !strcmp(k, "name") || !strcmp(k, "notes") || !strcmp(k, "tags");
}

static int has_str(char *const *v, size_t n, const char *s)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

int model_settings(struct db *db, int64_t run, struct kv_list *out)
{
	struct db_stmt *st = NULL;
	char **cols = NULL;
	size_t ncols = 0, i;
	int rc, c, ret = 0;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, &st, "SELECT r.*, (SELECT name FROM sweeps s WHERE s.id = r.sweep_id),"
				" (SELECT idx FROM sweep_trials t WHERE t.id = r.trial_id)"
				" FROM runs r WHERE r.id = ?"))
		return -1;
	db_bind_int(st, 1, run);
	rc = db_step(st);
	if (rc != DB_ROW) {
		db_finalize(st);
		return rc < 0 ? -1 : MODEL_GONE;
	}
	/* Every column of runs (the last two are the sweep's name and trial number). */
	ncols = (size_t)db_column_count(st) - 2;
	cols = xcalloc(ncols, sizeof(*cols));
	for (c = 0; c < (int)ncols; c++) {
		const char *k = db_column_name(st, c), *v = db_column_text(st, c);
		cols[c] = xstrdup(k);
		if (!strcmp(k, "fusion") && !v) {
			const char *mod = kv_get(out, "modalities");
			if (mod && !strchr(mod, ','))
				kv_add(out, k, "none");   /* one modality: nothing to fuse */
			continue;
		}
		if (!strcmp(k, "world_size") && v && !strcmp(v, "1"))
			continue;   /* one process: the usual case */
		if (v && !skip_setting(k))
			kv_add(out, k, v);
	}
	if (db_column_text(st, (int)ncols))
		kv_add(out, "sweep", db_column_text(st, (int)ncols));
	if (db_column_text(st, (int)ncols + 1))
		kv_add(out, "trial", db_column_text(st, (int)ncols + 1));
	db_finalize(st);
	/* Then the config keys no column holds (the columns are the same settings). */
	if (db_prepare(db, &st, "SELECT j.key, j.value FROM runs r, json_each(r.config) j"
				" WHERE r.id = ? ORDER BY j.key"))
		goto fail;
	db_bind_int(st, 1, run);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *k = db_column_text(st, 0);
		if (!k || has_str(cols, ncols, k) || skip_config_key(k) || kv_get(out, k))
			continue;
		kv_add(out, k, db_column_text(st, 1));
	}
	if (rc < 0)
		ret = -1;
	db_finalize(st);
	goto out;
fail:
	ret = -1;
out:
	for (i = 0; i < ncols; i++)
		free(cols[i]);
	free(cols);
	return ret;
}

void kv_list_release(struct kv_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const char *kv_get(const struct kv_list *l, const char *key)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return l->v[i].val;
	return NULL;
}

/* ---- epochs ---- */

static int add_epoch(struct db_stmt *st, void *data)
{
	struct epoch_list *l = data;
	struct epoch_row *e;
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	e = &l->v[l->n++];
	e->epoch = db_column_int(st, 0);
	snprintf(e->split, sizeof(e->split), "%s", db_column_text(st, 1) ? db_column_text(st, 1) : "");
	e->loss = col_num(st, 2);
	e->acc = col_num(st, 3);
	e->precision = col_num(st, 4);
	e->recall = col_num(st, 5);
	e->f1 = col_num(st, 6);
	e->f1_macro = col_num(st, 7);
	e->lr = col_num(st, 8);
	e->seconds = col_num(st, 9);
	e->samples_per_s = col_num(st, 10);
	return 0;
}

int model_epochs(struct db *db, int64_t run, struct epoch_list *out)
{
	struct db_stmt *st;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, &st, "SELECT epoch, split, loss, accuracy, precision, recall, f1,"
				" f1_macro, lr, seconds, samples_per_s FROM epochs WHERE run_id = ?"
				" ORDER BY epoch, CASE split WHEN 'train' THEN 0"
				" WHEN 'validate' THEN 1 ELSE 2 END"))
		return -1;
	db_bind_int(st, 1, run);
	return each_row(st, add_epoch, out);
}

void epoch_list_release(struct epoch_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int epoch_series(const struct epoch_list *l, const char *split, const char *metric,
		 double **x, double **y)
{
	size_t i, n = 0;
	*x = xmalloc(st_mult(l->n + 1, sizeof(double)));
	*y = xmalloc(st_mult(l->n + 1, sizeof(double)));
	for (i = 0; i < l->n; i++) {
		const struct epoch_row *e = &l->v[i];
		if (strcmp(e->split, split))
			continue;
		(*x)[n] = (double)e->epoch;
		(*y)[n] = !strcmp(metric, "loss") ? e->loss : !strcmp(metric, "accuracy") ? e->acc : e->f1;
		n++;
	}
	return (int)n;
}

/* ---- classes, metrics, confusion ---- */

int model_classes(struct db *db, const char *scheme, struct classes *out)
{
	struct db_stmt *st;
	int rc, n;
	memset(out, 0, sizeof(*out));
	n = scheme && !strcmp(scheme, "2way") ? 2 : scheme && !strcmp(scheme, "3way") ? 3 : 6;
	out->n = n;
	for (rc = 0; rc < n; rc++)
		snprintf(out->name[rc], sizeof(out->name[rc]), "class %d", rc);
	if (db_prepare(db, &st, "SELECT label, name FROM label_names WHERE scheme = ?"))
		return -1;
	db_bind_text(st, 1, scheme ? scheme : "6way", -1);
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t l = db_column_int(st, 0);
		if (l >= 0 && l < n)
			snprintf(out->name[l], sizeof(out->name[l]), "%s", db_column_text(st, 1));
	}
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

static int add_point(struct db_stmt *st, void *data)
{
	struct eval_list *l = data;
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n].epoch = db_column_int(st, 0);
	snprintf(l->v[l->n].split, sizeof(l->v[l->n].split), "%s", db_column_text(st, 1));
	l->n++;
	return 0;
}

int model_eval_points(struct db *db, int64_t run, int64_t best_epoch, struct eval_list *out)
{
	struct db_stmt *st;
	size_t i;
	int found = 0;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, &st, "SELECT epoch, split FROM (SELECT epoch, split FROM confusion WHERE run_id = ?"
				" UNION SELECT epoch, split FROM class_metrics WHERE run_id = ?)"
				" ORDER BY split = 'test', epoch, split"))
		return -1;
	db_bind_int(st, 1, run);
	db_bind_int(st, 2, run);
	if (each_row(st, add_point, out))
		return -1;
	/* Preferred: the test point, else the best validation epoch, else the last. */
	out->preferred = out->n ? out->n - 1 : 0;
	for (i = 0; i < out->n && !found; i++)
		if (!strcmp(out->v[i].split, "test")) {
			out->preferred = i;
			found = 1;
		}
	for (i = 0; i < out->n && !found; i++)
		if (!strcmp(out->v[i].split, "validate") && out->v[i].epoch == best_epoch) {
			out->preferred = i;
			found = 1;
		}
	return 0;
}

void eval_list_release(struct eval_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int model_class_metrics(struct db *db, int64_t run, const struct eval_point *p,
			struct class_row out[MODEL_MAX_CLASSES])
{
	struct db_stmt *st;
	int rc, i;
	for (i = 0; i < MODEL_MAX_CLASSES; i++) {
		out[i].label = i;
		out[i].precision = out[i].recall = out[i].f1 = NAN;
		out[i].support = -1;
	}
	if (db_prepare(db, &st, "SELECT label, precision, recall, f1, support FROM class_metrics"
				" WHERE run_id = ? AND epoch = ? AND split = ?"))
		return -1;
	db_bind_int(st, 1, run);
	db_bind_int(st, 2, p->epoch);
	db_bind_text(st, 3, p->split, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t l = db_column_int(st, 0);
		if (l < 0 || l >= MODEL_MAX_CLASSES)
			continue;
		out[l].precision = col_num(st, 1);
		out[l].recall = col_num(st, 2);
		out[l].f1 = col_num(st, 3);
		out[l].support = col_int(st, 4);
	}
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

int model_confusion(struct db *db, int64_t run, const struct eval_point *p,
		    int64_t m[MODEL_MAX_CLASSES][MODEL_MAX_CLASSES])
{
	struct db_stmt *st;
	int rc;
	memset(m, 0, sizeof(int64_t) * MODEL_MAX_CLASSES * MODEL_MAX_CLASSES);
	if (db_prepare(db, &st, "SELECT label, pred, count FROM confusion"
				" WHERE run_id = ? AND epoch = ? AND split = ?"))
		return -1;
	db_bind_int(st, 1, run);
	db_bind_int(st, 2, p->epoch);
	db_bind_text(st, 3, p->split, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t l = db_column_int(st, 0), pr = db_column_int(st, 1);
		if (l >= 0 && l < MODEL_MAX_CLASSES && pr >= 0 && pr < MODEL_MAX_CLASSES)
			m[l][pr] = db_column_int(st, 2);
	}
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

/* ---- one post ---- */

int model_post(struct db *db, int64_t run, const char *post_id, struct post_detail *out)
{
	struct db_stmt *st;
	char scheme[8] = "6way";
	int rc, i;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, &st, "SELECT s.id, s.title, s.subreddit, s.author, s.domain, s.split,"
				" s.label_2way, s.label_3way, s.label_6way, s.score, s.num_comments,"
				" s.created_utc, i.status, i.reason, i.sha256, i.format, i.width, i.height,"
				" i.post_id IS NOT NULL,"
				" (SELECT name FROM label_names WHERE scheme = '2way' AND label = s.label_2way),"
				" (SELECT name FROM label_names WHERE scheme = '3way' AND label = s.label_3way),"
				" (SELECT name FROM label_names WHERE scheme = '6way' AND label = s.label_6way)"
				" FROM posts s LEFT JOIN images i ON i.post_id = s.id WHERE s.id = ?"))
		return -1;
	db_bind_text(st, 1, post_id, -1);
	rc = db_step(st);
	if (rc != DB_ROW) {
		db_finalize(st);
		return rc < 0 ? -1 : MODEL_GONE;
	}
	out->id = col_str(st, 0);
	out->title = col_str(st, 1);
	out->subreddit = col_str(st, 2);
	out->author = col_str(st, 3);
	out->domain = col_str(st, 4);
	out->split = col_str(st, 5);
	for (i = 0; i < 3; i++) {
		out->label[i] = (int)col_int(st, 6 + i);
		snprintf(out->label_name[i], sizeof(out->label_name[i]), "%s",
			 db_column_text(st, 19 + i) ? db_column_text(st, 19 + i) : "");
	}
	out->score = col_int(st, 9);
	out->num_comments = col_int(st, 10);
	out->created_utc = col_int(st, 11);
	out->img_status = col_str(st, 12);
	out->img_reason = col_str(st, 13);
	out->img_sha256 = col_str(st, 14);
	out->img_format = col_str(st, 15);
	out->img_width = col_int(st, 16);
	out->img_height = col_int(st, 17);
	out->has_image_row = (int)db_column_int(st, 18);
	db_finalize(st);
	if (run <= 0)
		return 0;
	if (db_prepare(db, &st, "SELECT p.label, p.pred, j.key, j.value, r.label"
				" FROM predictions p JOIN runs r ON r.id = p.run_id, json_each(p.probs) j"
				" WHERE p.run_id = ? AND p.post_id = ? ORDER BY j.key"))
		return -1;
	db_bind_int(st, 1, run);
	db_bind_text(st, 2, post_id, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t k = db_column_int(st, 2);
		if (!out->has_pred) {
			out->has_pred = 1;
			out->true_label = (int)db_column_int(st, 0);
			out->pred = (int)db_column_int(st, 1);
			if (db_column_text(st, 4))
				snprintf(scheme, sizeof(scheme), "%s", db_column_text(st, 4));
		}
		if (k >= 0 && k < MODEL_MAX_CLASSES) {
			out->probs[k] = col_num(st, 3);
			if (k + 1 > out->nprobs)
				out->nprobs = (int)k + 1;
		}
	}
	db_finalize(st);
	if (rc < 0)
		return -1;
	return model_classes(db, scheme, &out->cls);
}

void post_detail_release(struct post_detail *p)
{
	free(p->id); free(p->title); free(p->subreddit); free(p->author); free(p->domain);
	free(p->split); free(p->img_status); free(p->img_reason); free(p->img_sha256);
	free(p->img_format);
	memset(p, 0, sizeof(*p));
}

/* ---- liveness, deletion ---- */

int model_data_version(struct db *db, int64_t *out)
{
	return db_query_int(db, "PRAGMA data_version", 0, out);
}

int model_run_rows(struct db *db, int64_t run, int64_t *epochs, int64_t *predictions)
{
	struct db_stmt *st;
	int rc;
	if (db_prepare(db, &st, "SELECT (SELECT count(*) FROM epochs WHERE run_id = ?1),"
				" (SELECT count(*) FROM predictions WHERE run_id = ?1)"))
		return -1;
	db_bind_int(st, 1, run);
	rc = db_step(st);
	*epochs = rc == DB_ROW ? db_column_int(st, 0) : 0;
	*predictions = rc == DB_ROW ? db_column_int(st, 1) : 0;
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT)
		return error("cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

int model_delete_run(const char *db_path, const char *cache_dir, int64_t run)
{
	struct db *db = NULL;
	struct db_stmt *st = NULL;
	struct strbuf dir = STRBUF_INIT;
	struct stat sb;
	int ret = -1;

	if (db_open(&db, db_path, DB_NO_CREATE | DB_NO_MIGRATE))
		goto out;
	if (db_begin(db))
		goto out;
	if (db_prepare(db, &st, "DELETE FROM runs WHERE id = ?"))
		goto out_rollback;
	db_bind_int(st, 1, run);
	if (db_step(st) < 0)
		goto out_rollback;
	db_finalize(st);
	st = NULL;
	/* As 'mmdb runs rm' does, whether or not the schema cascades there. */
	if (db_prepare(db, &st, "DELETE FROM predictions WHERE run_id = ?"))
		goto out_rollback;
	db_bind_int(st, 1, run);
	if (db_step(st) < 0)
		goto out_rollback;
	db_finalize(st);
	st = NULL;
	if (db_commit(db))
		goto out_rollback;
	/* The rows are gone; now the checkpoints, never following a link. */
	if (cache_dir) {
		sb_addf(&dir, "%s/runs/%lld", cache_dir, (long long)run);
		if (!lstat(dir.buf, &sb) && S_ISDIR(sb.st_mode) &&
		    nftw(dir.buf, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
			goto out;
	}
	ret = 0;
	goto out;
out_rollback:
	db_rollback(db);
out:
	db_finalize(st);
	sb_release(&dir);
	db_close(db);
	return ret;
}

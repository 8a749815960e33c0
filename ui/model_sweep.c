/*
 * model_sweep: the dashboard's queries of sweeps and their trials (see
 * model.h), and the scatter of a sweep's metric against one parameter.
 */
#include "model.h"
#include "db.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * A trial's metric: the one recorded for it, else its run's value so far
 * of the sweep's metric (a run_summary column; the names are fixed here so
 * the SQL stays static).
 */
#define TRIAL_METRIC(t, s) \
	"coalesce(" t ".metric, (SELECT CASE " s ".metric" \
	" WHEN 'best_val_f1' THEN rs.best_val_f1 WHEN 'best_val_accuracy' THEN rs.best_val_accuracy" \
	" WHEN 'best_val_f1_macro' THEN rs.best_val_f1_macro WHEN 'best_val_loss' THEN rs.best_val_loss" \
	" WHEN 'test_accuracy' THEN rs.test_accuracy WHEN 'test_f1' THEN rs.test_f1" \
	" WHEN 'test_f1_macro' THEN rs.test_f1_macro WHEN 'test_precision' THEN rs.test_precision" \
	" WHEN 'test_recall' THEN rs.test_recall END FROM run_summary rs WHERE rs.id = " t ".run_id))"

/* Each sweep with its trial counts and its best trial (ties: the lower number). */
#define SWEEP_COLUMNS \
	"WITH m AS (SELECT t.sweep_id, t.idx, s.goal, " TRIAL_METRIC("t", "s") " AS m" \
	"  FROM sweep_trials t JOIN sweeps s ON s.id = t.sweep_id)," \
	" b AS (SELECT sweep_id, idx, m, row_number() OVER (PARTITION BY sweep_id" \
	"  ORDER BY CASE goal WHEN 'min' THEN m ELSE -m END, idx) AS rk FROM m WHERE m IS NOT NULL)," \
	" c AS (SELECT sweep_id, count(*) AS n," \
	"  total(status IN ('completed', 'early_stopped', 'pruned', 'failed')) AS done," \
	"  total(status = 'running') AS running, total(status = 'pending') AS pending," \
	"  total(status = 'pruned') AS pruned, total(status = 'failed') AS failed" \
	"  FROM sweep_trials GROUP BY sweep_id)" \
	" SELECT s.id, s.name, s.method, s.metric, s.goal, s.prune, s.created_at," \
	" coalesce(c.n, 0), coalesce(c.done, 0), coalesce(c.running, 0), coalesce(c.pending, 0)," \
	" coalesce(c.pruned, 0), coalesce(c.failed, 0), b.m, b.idx" \
	" FROM sweeps s LEFT JOIN c ON c.sweep_id = s.id" \
	" LEFT JOIN b ON b.sweep_id = s.id AND b.rk = 1"

static void sweep_from_row(struct db_stmt *st, struct sweep_row *r)
{
	r->id = db_column_int(st, 0);
	r->name = col_str(st, 1);
	r->method = col_str(st, 2);
	r->metric = col_str(st, 3);
	r->goal = col_str(st, 4);
	r->prune = col_str(st, 5);
	r->created_at = col_str(st, 6);
	r->total = db_column_int(st, 7);
	r->done = db_column_int(st, 8);
	r->running = db_column_int(st, 9);
	r->pending = db_column_int(st, 10);
	r->pruned = db_column_int(st, 11);
	r->failed = db_column_int(st, 12);
	r->best = col_num(st, 13);
	r->best_idx = col_int(st, 14);
}

int model_sweeps(struct db *db, struct sweep_list *out)
{
	struct db_stmt *st;
	int rc;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, &st, SWEEP_COLUMNS " ORDER BY s.id DESC"))
		return -1;
	while ((rc = db_step(st)) == DB_ROW) {
		ALLOC_GROW(out->v, out->n + 1, out->alloc);
		memset(&out->v[out->n], 0, sizeof(out->v[out->n]));
		sweep_from_row(st, &out->v[out->n++]);
	}
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

int model_sweep(struct db *db, int64_t id, struct sweep_row *out)
{
	struct db_stmt *st;
	int rc;
	memset(out, 0, sizeof(*out));
	if (db_prepare(db, &st, SWEEP_COLUMNS " WHERE s.id = ?"))
		return -1;
	db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == DB_ROW)
		sweep_from_row(st, out);
	db_finalize(st);
	return rc < 0 ? -1 : rc == DB_ROW ? 0 : MODEL_GONE;
}

void sweep_row_release(struct sweep_row *r)
{
	free(r->name); free(r->method); free(r->metric); free(r->goal); free(r->prune);
	free(r->created_at);
	memset(r, 0, sizeof(*r));
}

void sweep_list_release(struct sweep_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		sweep_row_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- trials ---- */

/* Trials by id, for attaching parameters: (id, index into the list), sorted by id. */
struct trial_ix {
	int64_t id;
	size_t i;
};

static int cmp_ix(const void *a, const void *b)
{
	const struct trial_ix *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static struct trial_row *find_trial(struct trial_list *l, const struct trial_ix *ix, int64_t id)
{
	struct trial_ix key = { id, 0 };
	const struct trial_ix *hit = bsearch(&key, ix, l->n, sizeof(*ix), cmp_ix);
	return hit ? &l->v[hit->i] : NULL;
}

static void add_key(struct trial_list *l, const char *k)
{
	int i;
	for (i = 0; i < l->nkeys; i++)
		if (!strcmp(l->keys[i], k))
			return;
	l->keys = xrealloc(l->keys, st_mult((size_t)l->nkeys + 1, sizeof(*l->keys)));
	l->keys[l->nkeys++] = xstrdup(k);
}

int model_sweep_trials(struct db *db, int64_t sweep, const char *goal, struct trial_list *out)
{
	struct db_stmt *st = NULL;
	struct trial_ix *ix;
	int rc, desc = !goal || strcmp(goal, "min");
	struct strbuf sql = STRBUF_INIT;
	size_t i;

	memset(out, 0, sizeof(*out));
	sb_addf(&sql, "SELECT t.id, t.idx, t.run_id, t.status, t.reason, t.worker,"
		      " (SELECT status FROM runs r WHERE r.id = t.run_id), %s AS m"
		      " FROM sweep_trials t JOIN sweeps s ON s.id = t.sweep_id WHERE t.sweep_id = ?"
		      " ORDER BY m IS NULL, m %s, t.idx",
		TRIAL_METRIC("t", "s"), desc ? "DESC" : "ASC");
	rc = db_prepare(db, &st, sql.buf);
	sb_release(&sql);
	if (rc)
		return -1;
	db_bind_int(st, 1, sweep);
	while ((rc = db_step(st)) == DB_ROW) {
		struct trial_row *t;
		ALLOC_GROW(out->v, out->n + 1, out->alloc);
		t = &out->v[out->n++];
		memset(t, 0, sizeof(*t));
		t->id = db_column_int(st, 0);
		t->idx = db_column_int(st, 1);
		t->run_id = col_int(st, 2);
		t->status = col_str(st, 3);
		t->reason = col_str(st, 4);
		t->worker = col_str(st, 5);
		t->run_status = col_str(st, 6);
		t->metric = col_num(st, 7);
	}
	db_finalize(st);
	if (rc < 0)
		return -1;
	/* The parameters, in each trial's own key order. */
	ix = xmalloc(st_mult(out->n + 1, sizeof(*ix)));
	for (i = 0; i < out->n; i++) {
		ix[i].id = out->v[i].id;
		ix[i].i = i;
	}
	qsort(ix, out->n, sizeof(*ix), cmp_ix);
	if (db_prepare(db, &st, "SELECT t.id, j.key, j.value, j.type FROM sweep_trials t,"
				" json_each(t.params) j WHERE t.sweep_id = ? ORDER BY t.idx, j.id")) {
		free(ix);
		return -1;
	}
	db_bind_int(st, 1, sweep);
	while ((rc = db_step(st)) == DB_ROW) {
		struct trial_row *t = find_trial(out, ix, db_column_int(st, 0));
		const char *k = db_column_text(st, 1), *type = db_column_text(st, 3);
		struct trial_param *p;
		if (!t || !k)
			continue;
		add_key(out, k);
		t->p = xrealloc(t->p, st_mult((size_t)t->np + 1, sizeof(*t->p)));
		p = &t->p[t->np++];
		p->key = xstrdup(k);
		p->num = type && (!strcmp(type, "integer") || !strcmp(type, "real")) ?
			 db_column_double(st, 2) : NAN;
		if (!isnan(p->num)) {   /* 1e-05, not SQLite's 1.0e-05 */
			char num[32];
			snprintf(num, sizeof(num), "%.6g", p->num);
			p->val = xstrdup(num);
		} else {
			p->val = xstrdup(db_column_text(st, 2) ? db_column_text(st, 2) : "null");
		}
	}
	db_finalize(st);
	free(ix);
	return rc < 0 ? -1 : 0;
}

void trial_list_release(struct trial_list *l)
{
	size_t i;
	int k;
	for (i = 0; i < l->n; i++) {
		struct trial_row *t = &l->v[i];
		for (k = 0; k < t->np; k++) {
			free(t->p[k].key);
			free(t->p[k].val);
		}
		free(t->p);
		free(t->status); free(t->reason); free(t->worker); free(t->run_status);
	}
	for (k = 0; k < l->nkeys; k++)
		free(l->keys[k]);
	free(l->keys);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const struct trial_param *trial_param_get(const struct trial_row *t, const char *key)
{
	int k;
	for (k = 0; k < t->np; k++)
		if (!strcmp(t->p[k].key, key))
			return &t->p[k];
	return NULL;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int trial_scatter(const struct trial_list *l, const char *key, double **x, double **y,
		  char ***labels, int *nlabels, int *logx)
{
	size_t i;
	int n = 0, k, text = 0;
	double lo = INFINITY, hi = -INFINITY;

	*x = xmalloc(st_mult(l->n + 1, sizeof(double)));
	*y = xmalloc(st_mult(l->n + 1, sizeof(double)));
	*labels = NULL;
	*nlabels = 0;
	*logx = 0;
	/* Text values (a fusion, a model name) become categories in sorted order. */
	for (i = 0; i < l->n; i++) {
		const struct trial_param *p = trial_param_get(&l->v[i], key);
		if (p && isnan(p->num))
			text = 1;
	}
	if (text) {
		for (i = 0; i < l->n; i++) {
			const struct trial_param *p = trial_param_get(&l->v[i], key);
			if (!p)
				continue;
			for (k = 0; k < *nlabels; k++)
				if (!strcmp((*labels)[k], p->val))
					break;
			if (k == *nlabels) {
				*labels = xrealloc(*labels, st_mult((size_t)*nlabels + 1, sizeof(char *)));
				(*labels)[(*nlabels)++] = xstrdup(p->val);
			}
		}
		qsort(*labels, (size_t)*nlabels, sizeof(char *), cmp_str_ptr);
	}
	for (i = 0; i < l->n; i++) {
		const struct trial_param *p = trial_param_get(&l->v[i], key);
		double v;
		if (!p || isnan(l->v[i].metric))
			continue;
		if (text) {
			for (k = 0; k < *nlabels && strcmp((*labels)[k], p->val); k++)
				;
			v = k;
		} else {
			v = p->num;
		}
		(*x)[n] = v;
		(*y)[n] = l->v[i].metric;
		if (v < lo) lo = v;
		if (v > hi) hi = v;
		n++;
	}
	if (!text && n > 1 && lo > 0 && hi / lo >= 100)
		*logx = 1;
	return n;
}

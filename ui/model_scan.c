/*
 * model_scan: the dashboard's bounded scans of predictions (see model.h).
 * Each call looks at no more than a bounded number of rows (and stops at a
 * deadline) in the order of an index
 * (predictions_post, predictions_wrong, predictions_label_prob: post id,
 * probability of the predicted class, probability of the true label; each
 * with the post id after it) starting from a key (keyset paging: no OFFSET),
 * so its cost does not grow with the split. Filters are evaluated per row
 * and never cut the scan short of its bound, so a sparse filter costs what
 * a dense one does per call; the caller continues where the call stopped.
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

static void set_key(struct scan_key *k, double v, const char *post_id)
{
	k->v = v;
	snprintf(k->post_id, sizeof(k->post_id), "%s", post_id ? post_id : "");
}

/* Whether a scan has used up its time (checked every 16 rows). */
static int over(const struct scan_limit *lim, const struct scan_end *end)
{
	return lim->until > 0 && end->scanned && !(end->scanned & 15) && now_seconds() > lim->until;
}

/* The order's value column, or NULL for post order. */
static const char *order_col(enum pred_order o)
{
	return o == ORDER_CONF_WRONG ? "p.prob_pred" : o == ORDER_LOW_TRUE ? "p.prob_label" : NULL;
}

void scan_key_of(struct scan_key *k, const struct pred_query *q, const struct pred_row *r)
{
	set_key(k, q->order == ORDER_CONF_WRONG ? r->prob_pred : q->order == ORDER_LOW_TRUE ? r->prob_label : 0,
		r->post_id);
}

/* The title search as an SQL term on p (LIKE with the search text escaped). */
static void search_term(struct strbuf *sb)
{
	sb_adds(sb, "(SELECT title FROM posts WHERE id = p.post_id) LIKE '%' || :search || '%' ESCAPE '\\'");
}

static void bind_search(struct db_stmt *st, const char *search)
{
	struct strbuf sb = STRBUF_INIT;
	const char *c;
	int i = db_bind_index(st, ":search");
	if (!i)
		return;
	/* LIKE wildcards in the search text match themselves. */
	sb_adds(&sb, "");
	for (c = search; *c; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			sb_addc(&sb, '\\');
		sb_addc(&sb, *c);
	}
	db_bind_text(st, i, sb.buf, -1);
	sb_release(&sb);
}

/* Whether q's filters hold, as one SQL expression on p. */
static void match_expr(const struct pred_query *q, struct strbuf *sb)
{
	sb_adds(sb, "(1");
	if (q->label >= 0)
		sb_adds(sb, " AND p.label = :label");
	if (q->pred >= 0)
		sb_adds(sb, " AND p.pred = :pred");
	if (q->wrong || q->order == ORDER_CONF_WRONG)
		sb_adds(sb, " AND p.pred <> p.label");
	if (q->search[0]) {
		sb_adds(sb, " AND ");
		search_term(sb);
	}
	sb_adds(sb, ")");
}

/*
 * The range and order of a scan: rows of the split after (or at) the key,
 * in the order's direction. Forward orders: post id ascending; prob_pred
 * descending with post id descending (the index read backward); prob_label
 * ascending with post id ascending.
 */
static void scan_range(const struct pred_query *q, int back, int have_from, int inclusive,
		       struct strbuf *sb)
{
	const char *col = order_col(q->order);
	/* Ascending in the index's own direction? */
	int asc = (q->order == ORDER_CONF_WRONG) == !!back;
	const char *cmp = asc ? (inclusive ? ">=" : ">") : (inclusive ? "<=" : "<");
	sb_adds(sb, " WHERE p.run_id = :run AND p.split = :split");
	if (have_from) {
		if (col)
			sb_addf(sb, " AND (%s, p.post_id) %s (:v, :from)", col, cmp);
		else
			sb_addf(sb, " AND p.post_id %s :from", cmp);
	}
	if (col)
		sb_addf(sb, " ORDER BY %s%s, p.post_id%s", col, asc ? "" : " DESC", asc ? "" : " DESC");
	else
		sb_addf(sb, " ORDER BY p.post_id%s", asc ? "" : " DESC");
	sb_adds(sb, " LIMIT :max");
}

static void bind_scan(struct db_stmt *st, const struct pred_query *q, const struct scan_key *from,
		      int max_scan)
{
	int i;
	db_bind_int(st, db_bind_index(st, ":run"), q->run);
	db_bind_text(st, db_bind_index(st, ":split"), q->split, -1);
	if ((i = db_bind_index(st, ":label")))
		db_bind_int(st, i, q->label);
	if ((i = db_bind_index(st, ":pred")))
		db_bind_int(st, i, q->pred);
	if (from && (i = db_bind_index(st, ":from")))
		db_bind_text(st, i, from->post_id, -1);
	if (from && (i = db_bind_index(st, ":v")))
		db_bind_double(st, i, from->v);
	db_bind_int(st, db_bind_index(st, ":max"), max_scan);
	bind_search(st, q->search);
}

int model_pred_scan(struct db *db, const struct pred_query *q, int back, const struct scan_key *from,
		    int inclusive, const struct scan_limit *lim, size_t want, struct pred_list *out,
		    struct scan_end *end)
{
	struct strbuf sql = STRBUF_INIT;
	struct db_stmt *st;
	const char *col = order_col(q->order);
	int rc;

	memset(end, 0, sizeof(*end));
	/* The title is read for the rows that match only. */
	sb_addf(&sql, "SELECT p.post_id, p.label, p.pred, p.prob_pred, p.prob_label, %s, m,"
		      " CASE WHEN m THEN (SELECT title FROM posts WHERE id = p.post_id) END"
		      " FROM (SELECT p.post_id, p.label, p.pred, p.prob_pred, p.prob_label, ", col ? col : "0");
	match_expr(q, &sql);
	sb_adds(&sql, " AS m FROM predictions p");
	scan_range(q, back, from != NULL, inclusive, &sql);
	sb_adds(&sql, ") p");
	rc = db_prepare(db, &st, sql.buf);
	sb_release(&sql);
	if (rc)
		return -1;
	bind_scan(st, q, from, lim->rows);
	rc = DB_ROW;
	while (out->n < want && !over(lim, end) && (rc = db_step(st)) == DB_ROW) {
		end->scanned++;
		set_key(&end->last, db_column_double(st, 5), db_column_text(st, 0));
		if (db_column_int(st, 6)) {
			struct pred_row *r;
			ALLOC_GROW(out->v, out->n + 1, out->alloc);
			r = &out->v[out->n++];
			r->post_id = col_str(st, 0);
			r->label = (int)db_column_int(st, 1);
			r->pred = (int)db_column_int(st, 2);
			r->prob_pred = col_num(st, 3);
			r->prob_label = col_num(st, 4);
			r->title = col_str(st, 7);
		}
	}
	db_finalize(st);
	if (rc < 0)
		return -1;
	end->done = rc == DB_DONE && end->scanned < lim->rows;
	return 0;
}

int model_pred_hist_scan(struct db *db, const struct pred_query *q, const struct scan_key *from,
			 const struct scan_limit *lim,
			 int64_t hist[MODEL_MAX_CLASSES][MODEL_MAX_CLASSES], struct scan_end *end)
{
	struct strbuf sql = STRBUF_INIT;
	struct db_stmt *st;
	struct pred_query all = *q;
	int rc;

	memset(end, 0, sizeof(*end));
	all.order = ORDER_POST;
	sb_adds(&sql, "SELECT p.post_id, p.label, p.pred, ");
	if (q->search[0])
		search_term(&sql);
	else
		sb_adds(&sql, "1");
	sb_adds(&sql, " FROM predictions p");
	scan_range(&all, 0, from != NULL, 0, &sql);
	rc = db_prepare(db, &st, sql.buf);
	sb_release(&sql);
	if (rc)
		return -1;
	bind_scan(st, &all, from, lim->rows);
	rc = DB_ROW;
	while (!over(lim, end) && (rc = db_step(st)) == DB_ROW) {
		int64_t l = db_column_int(st, 1), p = db_column_int(st, 2);
		end->scanned++;
		if (db_column_int(st, 3) && l >= 0 && l < MODEL_MAX_CLASSES && p >= 0 && p < MODEL_MAX_CLASSES)
			hist[l][p]++;
		set_key(&end->last, 0, db_column_text(st, 0));
	}
	db_finalize(st);
	if (rc < 0)
		return -1;
	end->done = rc == DB_DONE && end->scanned < lim->rows;
	return 0;
}

int64_t pred_hist_count(const struct pred_query *q,
			const int64_t hist[MODEL_MAX_CLASSES][MODEL_MAX_CLASSES])
{
	int64_t n = 0;
	int l, p;
	for (l = 0; l < MODEL_MAX_CLASSES; l++)
		for (p = 0; p < MODEL_MAX_CLASSES; p++) {
			if ((q->label >= 0 && l != q->label) || (q->pred >= 0 && p != q->pred) ||
			    ((q->wrong || q->order == ORDER_CONF_WRONG) && l == p))
				continue;
			n += hist[l][p];
		}
	return n;
}

void pred_list_release(struct pred_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].post_id);
		free(l->v[i].title);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- disagreements ---- */

int model_disagree_scan(struct db *db, const int64_t *runs, int n, const char *split, int back,
			const char *from, int inclusive, const struct scan_limit *lim, size_t want,
			struct disagree_list *out, int64_t *matched, struct scan_end *end)
{
	struct strbuf sql = STRBUF_INIT;
	struct db_stmt *st;
	int rc, i;

	memset(end, 0, sizeof(*end));
	if (n > 6)
		n = 6;
	/*
	 * runs[0]'s rows in post order, each joined to the other runs' rows of
	 * the same post by primary key; d: every run has one and not all agree.
	 */
	sb_adds(&sql, "SELECT q.*, CASE WHEN d AND ?4 THEN (SELECT title FROM posts WHERE id = q.post_id) END FROM"
		      " (SELECT p.post_id, p.label, p.pred AS p0");
	for (i = 1; i < n; i++)
		sb_addf(&sql, ", o%d.pred AS p%d", i, i);
	sb_adds(&sql, ", (1");
	for (i = 1; i < n; i++)
		sb_addf(&sql, " AND o%d.pred IS NOT NULL", i);
	sb_adds(&sql, ") AND (0");
	for (i = 1; i < n; i++)
		sb_addf(&sql, " OR o%d.pred <> p.pred", i);
	sb_adds(&sql, ") AS d FROM predictions p");
	for (i = 1; i < n; i++)
		sb_addf(&sql, " LEFT JOIN predictions o%d ON o%d.run_id = %lld AND o%d.post_id = p.post_id",
			i, i, (long long)runs[i], i);
	sb_addf(&sql, " WHERE p.run_id = ?1 AND p.split = ?2%s ORDER BY p.post_id%s LIMIT ?3) q",
		from ? (back ? (inclusive ? " AND p.post_id <= ?5" : " AND p.post_id < ?5")
			     : (inclusive ? " AND p.post_id >= ?5" : " AND p.post_id > ?5")) : "",
		back ? " DESC" : "");
	rc = db_prepare(db, &st, sql.buf);
	sb_release(&sql);
	if (rc)
		return -1;
	db_bind_int(st, 1, runs[0]);
	db_bind_text(st, 2, split, -1);
	db_bind_int(st, 3, lim->rows);
	db_bind_int(st, 4, out != NULL);
	if (from)
		db_bind_text(st, 5, from, -1);
	rc = DB_ROW;
	while ((!out || out->n < want) && !over(lim, end) && (rc = db_step(st)) == DB_ROW) {
		end->scanned++;
		set_key(&end->last, 0, db_column_text(st, 0));
		if (!db_column_int(st, 2 + n))
			continue;
		if (matched)
			(*matched)++;
		if (out) {
			struct disagree_row *r;
			ALLOC_GROW(out->v, out->n + 1, out->alloc);
			r = &out->v[out->n++];
			r->post_id = col_str(st, 0);
			r->label = (int)db_column_int(st, 1);
			for (i = 0; i < 6; i++)
				r->pred[i] = i < n ? (int)db_column_int(st, 2 + i) : -1;
			r->title = col_str(st, 3 + n);
		}
	}
	db_finalize(st);
	if (rc < 0)
		return -1;
	end->done = rc == DB_DONE && end->scanned < lim->rows;
	return 0;
}

void disagree_list_release(struct disagree_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].post_id);
		free(l->v[i].title);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

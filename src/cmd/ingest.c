/*
 * mmdb ingest: Fakeddit TSV files (plain, compressed or in archives) into
 * posts, images (one 'pending' row per post with an image URL) and comments.
 *
 * Each file entry is read on a second thread (decompression, SHA-256,
 * parsing, typed conversion) and handed over in batches to the main thread,
 * which writes them with prepared statements (posts GROUP_ROWS to an INSERT)
 * inside BEGIN IMMEDIATE transactions of COMMIT_EVERY records (--batch), so a
 * killed ingest keeps what it committed and a re-run completes it. Rows
 * whose id is already stored with the same content count as unchanged; with
 * different content they are bad records ("duplicate id with different
 * content"), or, with --update, replace the stored row when it came from an
 * earlier ingest. Bad records
 * go to ingest_errors with file, line, column, reason and detail; --strict
 * runs everything in one transaction and rolls it back at the first one.
 */
#define _POSIX_C_SOURCE 200809L
#include "cmds.h"
#include "../archive.h"
#include "../ckpt.h"
#include "../db.h"
#include "../fakeddit.h"
#include "../progress.h"
#include "../tsv.h"
#include "../util.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BATCH_ITEMS 1024      /* records per hand-over between the threads */
#define QUEUE_DEPTH 4         /* batches in flight: bounds memory */
#define COMMIT_EVERY 50000    /* records per transaction, by default */
#define RAW_MAX 2000          /* bytes of a bad record kept in ingest_errors */
#define GROUP_ROWS 64         /* posts per multi-row INSERT */
#define CKPT_WAIT_EVERY 4     /* commits between waits for a whole checkpoint */

/* ---- batches handed from the reading thread to the writing one ---- */

struct item {
	long line;
	const char *col;          /* bad: column name (static) or NULL */
	const char *reason;       /* bad: static category; NULL for a good record */
	size_t detail, raw, raw_len; /* bad: offsets into the arena */
	struct fd_value v[FD_MAXCOLS]; /* good: text as arena offsets until sealed */
};

struct batch {
	struct item *items;
	size_t n, alloc;
	struct strbuf arena;
	int64_t bytes;            /* of the file read so far */
	int last;                 /* the entry's final batch */
	int failed;               /* reading failed (message printed) */
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t changed;
	struct batch *full[QUEUE_DEPTH];
	size_t head, count;
	struct batch *spare[QUEUE_DEPTH + 2];
	size_t nspare;
	int cancel;
};

static struct batch *batch_get(struct queue *q)
{
	struct batch *b = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->nspare)
		b = q->spare[--q->nspare];
	pthread_mutex_unlock(&q->mu);
	if (!b)
		b = xcalloc(1, sizeof(*b));
	b->n = 0;
	b->last = b->failed = 0;
	sb_reset(&b->arena);
	return b;
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->items);
	sb_release(&b->arena);
	free(b);
}

static void batch_put_spare(struct queue *q, struct batch *b)
{
	pthread_mutex_lock(&q->mu);
	if (q->nspare < ARRAY_SIZE(q->spare)) {
		q->spare[q->nspare++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	batch_free(b);
}

/* Producer side: waits for room; returns -1 when cancelled. */
static int queue_push(struct queue *q, struct batch *b)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == QUEUE_DEPTH && !q->cancel)
		pthread_cond_wait(&q->changed, &q->mu);
	if (q->cancel) {
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	q->full[(q->head + q->count++) % QUEUE_DEPTH] = b;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

static struct batch *queue_pop(struct queue *q)
{
	struct batch *b;
	pthread_mutex_lock(&q->mu);
	while (q->count == 0)
		pthread_cond_wait(&q->changed, &q->mu);
	b = q->full[q->head];
	q->head = (q->head + 1) % QUEUE_DEPTH;
	q->count--;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->mu);
	return b;
}

static void queue_cancel(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->cancel = 1;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->mu);
}

/* ---- the reading thread ---- */

struct reader {
	struct ar_reader *ar;
	struct tsv_reader *tsv;
	struct fd_layout layout;
	struct queue *q;
};

static ssize_t tsv_from_archive(void *data, void *buf, size_t n)
{
	return ar_read(data, buf, n);
}

/* Appends bytes as valid UTF-8 text (other bytes as '?'), at most max. */
static size_t arena_text(struct strbuf *sb, const char *s, size_t len, size_t max)
{
	size_t off = sb->len, i;
	if (len > max)
		len = max;
	if (utf8_valid(s, len) && !memchr(s, '\0', len)) {
		sb_add(sb, s, len);
	} else {
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];
			sb_addc(sb, c && c < 0x80 ? (char)c : '?');
		}
	}
	sb_addc(sb, '\0');
	return off;
}

static void add_item(struct reader *rd, struct batch *b, const struct tsv_record *rec)
{
	struct item *it;
	char detail[160];
	int c;
	ALLOC_GROW(b->items, b->n + 1, b->alloc);
	it = &b->items[b->n++];
	it->line = rec->line;
	it->col = NULL;
	it->reason = NULL;
	if (rec->status != TSV_OK) {
		it->reason = tsv_status_str(rec->status);
		if (rec->status == TSV_FIELD_COUNT)
			snprintf(detail, sizeof(detail), "expected %zu fields, found %zu",
				 rd->layout.nfields, rec->nfields);
		else
			*detail = '\0';
	} else if (fd_convert(&rd->layout, rec, it->v, &it->col, &it->reason, detail, sizeof(detail))) {
		/* it->reason set */
	} else {
		for (c = 0; c < rd->layout.ncols; c++) {
			struct fd_value *v = &it->v[c];
			if (v->type == FD_TEXT) {
				v->i = (int64_t)b->arena.len;
				sb_add(&b->arena, v->s, v->len);
				sb_addc(&b->arena, '\0');
			}
		}
		*detail = '\0';
	}
	/* The raw text too: a good record may still turn out a duplicate. */
	it->detail = b->arena.len;
	sb_add(&b->arena, detail, strlen(detail) + 1);
	it->raw = arena_text(&b->arena, rec->raw, rec->raw_len, RAW_MAX);
	it->raw_len = b->arena.len - it->raw - 1;
}

/* Text values become pointers once the arena stops moving. */
static void batch_seal(struct batch *b, int ncols)
{
	size_t i;
	int c;
	for (i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		if (it->reason)
			continue;
		for (c = 0; c < ncols; c++)
			if (it->v[c].type == FD_TEXT)
				it->v[c].s = b->arena.buf + it->v[c].i;
	}
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct batch *b = batch_get(rd->q);
	struct tsv_record rec;
	int rc;
	while ((rc = tsv_next(rd->tsv, &rec)) == 1) {
		add_item(rd, b, &rec);
		if (b->n == BATCH_ITEMS) {
			b->bytes = ar_bytes_consumed(rd->ar);
			batch_seal(b, rd->layout.ncols);
			if (queue_push(rd->q, b)) {
				batch_free(b);
				return NULL;
			}
			b = batch_get(rd->q);
		}
	}
	b->failed = rc < 0;
	b->last = 1;
	b->bytes = ar_bytes_consumed(rd->ar);
	batch_seal(b, rd->layout.ncols);
	if (queue_push(rd->q, b))
		batch_free(b);
	return NULL;
}

/* ---- writing ---- */

struct ingest {
	struct db *db;
	struct mmdb_ctx *ctx;
	int strict, update;
	const char *split_opt;
	int64_t dataset_id;
	struct db_stmt *ins_post, *sel_post, *upd_post, *ins_img, *upd_img;
	struct db_stmt *ins_com, *sel_com, *upd_com, *ins_err, *ins_ingest, *upd_ingest;
	struct db_stmt *ins_group[2]; /* GROUP_ROWS and GROUP_ROWS / 8 posts at once */
	struct db_stmt *img_group[2]; /* as many images rows at once */
	/* good posts waiting for a multi-row INSERT (pointers into the current batch) */
	const struct item *group[GROUP_ROWS];
	const struct batch *group_batch;
	int ngroup;
	struct ckpt *ckpt;       /* checkpoints on a thread of their own, or NULL */
	int in_txn;
	long since_commit, commit_every, commits;
	/* the current entry */
	int64_t ingest_id;
	const char *file;        /* display name: path, or path:entry */
	const char *split;
	int kind;
	long ok, bad, unchanged, updated;
	/* strict mode: the first bad record */
	int strict_failed;
};

static const char post_cols_sql[] =
	"id, dataset_id, split, author, clean_title, title, created_utc, domain, has_image, "
	"image_url, linked_submission_id, num_comments, score, subreddit, upvote_ratio, "
	"label_2way, label_3way, label_6way, ingest_id, line";
/* Post parameter of FP_ column c (>= 1): ?4.. in the order above. */
#define POST_PARAM(c) ((c) + 3)

static int prepare_all(struct ingest *in)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = 0, i;
	sb_addf(&sb, "INSERT INTO posts(%s) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,"
		"?14,?15,?16,?17,?18,?19,?20) ON CONFLICT(id) DO NOTHING", post_cols_sql);
	ret |= db_prepare(in->db, &in->ins_post, sb.buf);
	for (i = 0; i < 2; i++) {
		int rows = i ? GROUP_ROWS / 8 : GROUP_ROWS, r;
		sb_reset(&sb);
		sb_addf(&sb, "INSERT OR IGNORE INTO posts(%s) VALUES ", post_cols_sql);
		for (r = 0; r < rows; r++)
			sb_adds(&sb, r ? ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
				       : "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
		ret |= db_prepare(in->db, &in->ins_group[i], sb.buf);
	}
	ret |= db_prepare(in->db, &in->ins_img,
			  "INSERT OR IGNORE INTO images(post_id, url) VALUES (?1, ?2)");
	for (i = 0; i < 2; i++) {
		int rows = i ? GROUP_ROWS / 8 : GROUP_ROWS, r;
		sb_reset(&sb);
		sb_adds(&sb, "INSERT OR IGNORE INTO images(post_id, url) VALUES ");
		for (r = 0; r < rows; r++)
			sb_adds(&sb, r ? ",(?,?)" : "(?,?)");
		ret |= db_prepare(in->db, &in->img_group[i], sb.buf);
	}
	ret |= db_prepare(in->db, &in->sel_post,
			  "SELECT dataset_id, split, author, clean_title, title, created_utc, domain, "
			  "has_image, image_url, linked_submission_id, num_comments, score, subreddit, "
			  "upvote_ratio, label_2way, label_3way, label_6way, ingest_id, line "
			  "FROM posts WHERE id = ?1");
	ret |= db_prepare(in->db, &in->upd_post,
			  "UPDATE posts SET dataset_id=?2, split=?3, author=?4, clean_title=?5, title=?6, "
			  "created_utc=?7, domain=?8, has_image=?9, image_url=?10, "
			  "linked_submission_id=?11, num_comments=?12, score=?13, subreddit=?14, "
			  "upvote_ratio=?15, label_2way=?16, label_3way=?17, label_6way=?18, "
			  "ingest_id=?19, line=?20 WHERE id=?1");
	ret |= db_prepare(in->db, &in->upd_img,
			  "UPDATE images SET url=?2, status='pending', reason=NULL, http_status=NULL, "
			  "attempts=0, next_attempt_at=NULL, source=NULL, sha256=NULL, bytes=NULL, "
			  "format=NULL, width=NULL, height=NULL, updated_at=NULL "
			  "WHERE post_id=?1 AND url IS NOT ?2");
	ret |= db_prepare(in->db, &in->ins_com,
			  "INSERT INTO comments(id, submission_id, parent_id, author, body, ups, "
			  "is_top_level, created_utc, ingest_id) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) "
			  "ON CONFLICT(id) DO NOTHING");
	ret |= db_prepare(in->db, &in->sel_com,
			  "SELECT submission_id, parent_id, author, body, ups, is_top_level, "
			  "created_utc, ingest_id FROM comments WHERE id = ?1");
	ret |= db_prepare(in->db, &in->upd_com,
			  "UPDATE comments SET submission_id=?2, parent_id=?3, author=?4, body=?5, "
			  "ups=?6, is_top_level=?7, created_utc=?8, ingest_id=?9 WHERE id=?1");
	ret |= db_prepare(in->db, &in->ins_err,
			  "INSERT INTO ingest_errors(ingest_id, file, line, column, reason, detail, record) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	ret |= db_prepare(in->db, &in->ins_ingest,
			  "INSERT INTO ingests(dataset_id, path, kind, split, size, status, "
			  "mmdb_version, pid) VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7)");
	ret |= db_prepare(in->db, &in->upd_ingest,
			  "UPDATE ingests SET records_ok=?2, records_bad=?3, records_unchanged=?4, "
			  "records_updated=?5 WHERE id=?1");
	sb_release(&sb);
	return ret ? -1 : 0;
}

static void finalize_all(struct ingest *in)
{
	db_finalize(in->ins_post);
	db_finalize(in->sel_post);
	db_finalize(in->upd_post);
	db_finalize(in->ins_img);
	db_finalize(in->upd_img);
	db_finalize(in->ins_com);
	db_finalize(in->sel_com);
	db_finalize(in->upd_com);
	db_finalize(in->ins_err);
	db_finalize(in->ins_ingest);
	db_finalize(in->upd_ingest);
	db_finalize(in->img_group[0]);
	db_finalize(in->img_group[1]);
	db_finalize(in->ins_group[0]);
	db_finalize(in->ins_group[1]);
}

static int bind_value(struct db_stmt *st, int idx, const struct fd_value *v)
{
	switch (v->type) {
	case FD_INT:
		return db_bind_int(st, idx, v->i);
	case FD_REAL:
		return db_bind_double(st, idx, v->d);
	case FD_TEXT: /* the batch outlives the statement's execution */
		return db_bind_text_static(st, idx, v->s, (int)v->len);
	default:
		return db_bind_null(st, idx);
	}
}

/* Binds a post's 20 values to parameters base + 1 .. base + 20 of st. */
static int bind_post_at(struct ingest *in, struct db_stmt *st, int base, const struct item *it)
{
	int c, ret = 0;
	ret |= bind_value(st, base + 1, &it->v[FP_ID]);
	ret |= db_bind_int(st, base + 2, in->dataset_id);
	ret |= db_bind_text_static(st, base + 3, in->split, -1);
	for (c = 1; c < FP_NCOLS; c++)
		ret |= bind_value(st, base + POST_PARAM(c), &it->v[c]);
	ret |= db_bind_int(st, base + 19, in->ingest_id);
	ret |= db_bind_int(st, base + 20, it->line);
	return ret ? -1 : 0;
}

static int bind_post(struct ingest *in, struct db_stmt *st, const struct item *it)
{
	return bind_post_at(in, st, 0, it);
}

static int bind_comment(struct ingest *in, struct db_stmt *st, const struct item *it)
{
	int c, ret = 0;
	for (c = 0; c < FC_NCOLS; c++)
		ret |= bind_value(st, c + 1, &it->v[c]);
	ret |= db_bind_int(st, 9, in->ingest_id);
	return ret ? -1 : 0;
}

/* Does stored column `col` of st hold value v? */
static int same_value(struct db_stmt *st, int col, const struct fd_value *v)
{
	int t = db_column_type(st, col);
	switch (v->type) {
	case FD_NULL:
		return t == DB_NULL;
	case FD_INT:
		return t == DB_INTEGER && db_column_int(st, col) == v->i;
	case FD_REAL:
		return (t == DB_FLOAT || t == DB_INTEGER) && db_column_double(st, col) == v->d;
	case FD_TEXT:
		return t == DB_TEXT && (size_t)db_column_bytes(st, col) == v->len &&
		       !memcmp(db_column_text(st, col), v->s, v->len);
	}
	return 0;
}

static int record_error(struct ingest *in, long line, const char *col, const char *reason,
			const char *detail, const char *raw)
{
	struct db_stmt *st = in->ins_err;
	int rc;
	in->bad++;
	if (in->strict) {
		if (!in->strict_failed)
			error("'%s' line %ld%s%s%s: %s%s%s (--strict: nothing was ingested)", in->file,
			      line, col ? ", column '" : "", col ? col : "", col ? "'" : "", reason,
			      detail && *detail ? ": " : "", detail ? detail : "");
		in->strict_failed = 1;
		return -1;
	}
	db_bind_int(st, 1, in->ingest_id);
	db_bind_text(st, 2, in->file, -1);
	db_bind_int(st, 3, line);
	db_bind_text(st, 4, col, -1);
	db_bind_text(st, 5, reason, -1);
	db_bind_text(st, 6, detail && *detail ? detail : NULL, -1);
	db_bind_text(st, 7, raw, -1);
	rc = db_step(st);
	db_reset(st);
	return rc < 0 ? -1 : 0;
}

/*
 * A record an INSERT did not (or not surely) write: its id stored already,
 * unchanged (same content: a re-ingest, or the same record twice), updated
 * (--update, stored by an earlier ingest) or a bad record naming the first
 * column that differs. raw is the record's text. Returns 1 when the stored
 * row is this very record (a multi-row INSERT wrote it after all: it needs
 * its images row), 0 when counted otherwise, -1 on error.
 */
static int existing_row(struct ingest *in, const struct item *it, const char *raw)
{
	int posts = in->kind == FD_POSTS;
	struct db_stmt *sel = posts ? in->sel_post : in->sel_com;
	int ncols = posts ? FP_NCOLS : FC_NCOLS, c, rc, ingest_col;
	const char *diff = NULL;
	int64_t prev_ingest;
	long prev_line = 0;
	char detail[128];

	bind_value(sel, 1, &it->v[0]);
	rc = db_step(sel);
	if (rc != DB_ROW) {
		db_reset(sel);
		return rc < 0 ? -1 : error("internal: '%s' line %ld: id vanished", in->file, it->line);
	}
	if (posts && db_column_int(sel, 17) == in->ingest_id && db_column_int(sel, 18) == it->line) {
		/* This very record, inserted by a multi-row INSERT beside others that were not. */
		db_reset(sel);
		in->ok++;
		return 1;
	}
	if (posts) {
		if (db_column_int(sel, 0) != in->dataset_id)
			diff = "dataset";
		else if (!same_value(sel, 1, &(struct fd_value){ .type = FD_TEXT, .s = in->split,
								  .len = strlen(in->split) }))
			diff = "split";
		for (c = 1; c < ncols && !diff; c++)
			if (!same_value(sel, c + 1, &it->v[c]))
				diff = fd_column_name(FD_POSTS, c);
		ingest_col = 17;
		prev_line = (long)db_column_int(sel, 18);
	} else {
		for (c = 1; c < ncols && !diff; c++)
			if (!same_value(sel, c - 1, &it->v[c]))
				diff = fd_column_name(FD_COMMENTS, c);
		ingest_col = 7;
	}
	prev_ingest = db_column_int(sel, ingest_col);
	db_reset(sel);
	if (!diff) {
		in->unchanged++;
		return 0;
	}
	if (in->update && prev_ingest != in->ingest_id) {
		struct db_stmt *upd = posts ? in->upd_post : in->upd_com;
		if ((posts ? bind_post(in, upd, it) : bind_comment(in, upd, it)) || db_step(upd) < 0) {
			db_reset(upd);
			return -1;
		}
		db_reset(upd);
		if (posts && it->v[FP_IMAGE_URL].type == FD_TEXT) {
			bind_value(in->upd_img, 1, &it->v[FP_ID]);
			bind_value(in->upd_img, 2, &it->v[FP_IMAGE_URL]);
			rc = db_step(in->upd_img);
			db_reset(in->upd_img);
			bind_value(in->ins_img, 1, &it->v[FP_ID]);
			bind_value(in->ins_img, 2, &it->v[FP_IMAGE_URL]);
			if (rc < 0 || db_step(in->ins_img) < 0) {
				db_reset(in->ins_img);
				return -1;
			}
			db_reset(in->ins_img);
		}
		in->updated++;
		return 0;
	}
	if (prev_line > 0)
		snprintf(detail, sizeof(detail), "id '%.40s' stored by ingest %lld (line %ld) differs in %s",
			 it->v[0].s, (long long)prev_ingest, prev_line, diff);
	else
		snprintf(detail, sizeof(detail), "id '%.40s' stored by ingest %lld differs in %s",
			 it->v[0].s, (long long)prev_ingest, diff);
	return record_error(in, it->line, diff, "duplicate id with different content", detail, raw);
}

/*
 * The images rows ('pending', with the URL) of n posts just inserted, those
 * with an image URL: GROUP_ROWS, GROUP_ROWS / 8 or one to a statement.
 */
/* The statement for the next rows of a group of `left`: *k rows to it. */
static struct db_stmt *group_stmt(struct db_stmt *const group[2], struct db_stmt *one, int left, int *k)
{
	if (left >= GROUP_ROWS) {
		*k = GROUP_ROWS;
		return group[0];
	}
	if (left >= GROUP_ROWS / 8) {
		*k = GROUP_ROWS / 8;
		return group[1];
	}
	*k = 1;
	return one;
}

static int insert_images(struct ingest *in, const struct item *const *items, int n)
{
	const struct item *with[GROUP_ROWS];
	int m = 0, at = 0, i;
	for (i = 0; i < n; i++)
		if (items[i]->v[FP_IMAGE_URL].type == FD_TEXT)
			with[m++] = items[i];
	while (at < m) {
		int k, r, rc, ret = 0;
		struct db_stmt *st = group_stmt(in->img_group, in->ins_img, m - at, &k);
		for (r = 0; r < k; r++) {
			ret |= bind_value(st, 2 * r + 1, &with[at + r]->v[FP_ID]);
			ret |= bind_value(st, 2 * r + 2, &with[at + r]->v[FP_IMAGE_URL]);
		}
		rc = ret ? -1 : db_step(st);
		db_reset(st);
		if (rc < 0)
			return -1;
		at += k;
	}
	return 0;
}

/*
 * Writes the posts waiting in the group, with their images rows: as many multi-row INSERTs of
 * GROUP_ROWS and GROUP_ROWS / 8 rows as fit, the rest one by one. When an
 * INSERT skips some rows (their id is stored already, or came twice), each
 * of its records is looked up: the ones it inserted count as ok, the others
 * go through existing_row() in file order, as if written one at a time.
 */
static int flush_group(struct ingest *in)
{
	const struct batch *b = in->group_batch;
	int at = 0, ret = 0;
	while (at < in->ngroup && !ret) {
		int n, r, rc;
		struct db_stmt *st = group_stmt(in->ins_group, in->ins_post, in->ngroup - at, &n);
		for (r = 0; r < n && !ret; r++)
			ret = bind_post_at(in, st, 20 * r, in->group[at + r]);
		if (ret)
			break;
		rc = db_step(st);
		db_reset(st);
		if (rc < 0) {
			ret = -1;
			break;
		}
		if (db_changes(in->db) == n) {
			in->ok += n;
			ret = insert_images(in, in->group + at, n);
		} else {
			for (r = 0; r < n && !ret; r++) {
				ret = existing_row(in, in->group[at + r], b->arena.buf + in->group[at + r]->raw);
				if (ret == 1)
					ret = insert_images(in, in->group + at + r, 1);
			}
		}
		at += n;
	}
	in->ngroup = 0;
	return ret;
}

static int write_item(struct ingest *in, const struct batch *b, const struct item *it)
{
	struct db_stmt *st;
	int rc;
	if (it->reason) {
		/* Errors in file order: the posts before this one first. */
		if (flush_group(in))
			return -1;
		return record_error(in, it->line, it->col, it->reason, b->arena.buf + it->detail,
				    b->arena.buf + it->raw);
	}
	if (in->kind == FD_POSTS) {
		in->group_batch = b;
		in->group[in->ngroup++] = it;
		return in->ngroup == GROUP_ROWS ? flush_group(in) : 0;
	} else {
		st = in->ins_com;
		if (bind_comment(in, st, it))
			return -1;
	}
	rc = db_step(st);
	db_reset(st);
	if (rc < 0)
		return -1;
	if (db_changes(in->db) == 0)
		return existing_row(in, it, b->arena.buf + it->raw) < 0 ? -1 : 0;
	in->ok++;
	return 0;
}

static int save_counts(struct ingest *in)
{
	struct db_stmt *st = in->upd_ingest;
	int rc;
	db_bind_int(st, 1, in->ingest_id);
	db_bind_int(st, 2, in->ok);
	db_bind_int(st, 3, in->bad);
	db_bind_int(st, 4, in->unchanged);
	db_bind_int(st, 5, in->updated);
	rc = db_step(st);
	db_reset(st);
	return rc < 0 ? -1 : 0;
}

static int txn_begin(struct ingest *in)
{
	if (in->in_txn)
		return 0;
	if (db_begin(in->db))
		return -1;
	in->in_txn = 1;
	in->since_commit = 0;
	return 0;
}

static int txn_commit(struct ingest *in)
{
	if (!in->in_txn)
		return 0;
	in->in_txn = 0;
	if (db_commit(in->db)) {
		db_rollback(in->db);
		return -1;
	}
	return 0;
}

/* Outside --strict, every COMMIT_EVERY records end a transaction. */
static int maybe_commit(struct ingest *in)
{
	if (++in->since_commit < in->commit_every)
		return 0;
	in->since_commit = 0;
	if (flush_group(in))
		return -1;
	if (in->strict)
		return 0;
	if (save_counts(in) || txn_commit(in))
		return -1;
	/* Every CKPT_WAIT_EVERY commits, all of the WAL is copied before going on. */
	ckpt_request(in->ckpt, ++in->commits % CKPT_WAIT_EVERY == 0);
	return txn_begin(in);
}

/* "multimodal_test_public.tsv" -> "test"; NULL if the name says no split or two. */
static const char *split_from_name(const char *path)
{
	const char *base = strrchr(path, '/'), *found = NULL;
	char *copy, *tok, *save = NULL;
	copy = xstrdup(base ? base + 1 : path);
	for (tok = strtok_r(copy, "_.- ", &save); tok; tok = strtok_r(NULL, "_.- ", &save)) {
		const char *s = NULL;
		if (!strcasecmp(tok, "train"))
			s = "train";
		else if (!strcasecmp(tok, "validate") || !strcasecmp(tok, "validation") ||
			 !strcasecmp(tok, "valid") || !strcasecmp(tok, "val") || !strcasecmp(tok, "dev"))
			s = "validate";
		else if (!strcasecmp(tok, "test"))
			s = "test";
		if (s && found && strcmp(s, found)) {
			found = NULL;
			break;
		}
		if (s)
			found = s;
	}
	free(copy);
	return found;
}

static int names_comments(const char *path)
{
	const char *base = strrchr(path, '/');
	return strstr(base ? base + 1 : path, "comment") != NULL;
}

static int is_archive_name(const char *path)
{
	static const char *const ext[] = { ".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2",
					   ".tar.xz", ".tar.zst", ".tbz2", ".txz", ".7z" };
	size_t i, n = strlen(path);
	for (i = 0; i < ARRAY_SIZE(ext); i++) {
		size_t e = strlen(ext[i]);
		if (n > e && !strcasecmp(path + n - e, ext[i]))
			return 1;
	}
	return 0;
}

/* Ingests marked 'running' whose process is gone were killed: mark them failed. */
static int mark_stale_ingests(struct db *db)
{
	struct db_stmt *sel = NULL, *upd = NULL;
	int rc, ret = 0;
	if (db_prepare(db, &sel, "SELECT id, pid FROM ingests WHERE status = 'running'") ||
	    db_prepare(db, &upd, "UPDATE ingests SET status = 'failed', "
				 "reason = 'interrupted: its process ended before it finished', "
				 "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') "
				 "WHERE id = ?1 AND status = 'running'")) {
		ret = -1;
		goto out;
	}
	while ((rc = db_step(sel)) == DB_ROW) {
		int64_t pid = db_column_int(sel, 1);
		if (pid > 0 && pid != getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			continue;
		db_bind_int(upd, 1, db_column_int(sel, 0));
		if (db_step(upd) < 0)
			ret = -1;
		db_reset(upd);
	}
	if (rc < 0)
		ret = -1;
out:
	db_finalize(sel);
	db_finalize(upd);
	return ret;
}

static int create_ingest_row(struct ingest *in, int64_t size)
{
	struct db_stmt *st = in->ins_ingest;
	int rc;
	db_bind_int(st, 1, in->dataset_id);
	db_bind_text(st, 2, in->file, -1);
	db_bind_text(st, 3, in->kind == FD_POSTS ? "posts" : "comments", -1);
	db_bind_text(st, 4, in->kind == FD_POSTS ? in->split : NULL, -1);
	if (size >= 0)
		db_bind_int(st, 5, size);
	else
		db_bind_null(st, 5);
	db_bind_text(st, 6, MMDB_VERSION, -1);
	db_bind_int(st, 7, getpid());
	rc = db_step(st);
	db_reset(st);
	if (rc < 0)
		return -1;
	in->ingest_id = db_last_insert_rowid(in->db);
	return 0;
}

/*
 * An ingest that failed with an error: its uncommitted work is rolled back
 * and its row (if still 'running') says 'failed' and why (the error printed
 * last). Outside --strict only: there, the row itself is rolled back. A
 * database that cannot take even this is left to mark_stale_ingests().
 */
static void mark_failed(struct ingest *in, int64_t id)
{
	struct db_stmt *st = NULL;
	char reason[512];
	if (in->strict || id <= 0)
		return;
	error_last(reason, sizeof(reason));
	if (in->in_txn) {
		db_rollback(in->db);
		in->in_txn = 0;
	}
	if (db_begin(in->db))
		return;
	if (db_prepare(in->db, &st, "UPDATE ingests SET status = 'failed', reason = ?2, "
				    "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') "
				    "WHERE id = ?1 AND status = 'running'") ||
	    db_bind_int(st, 1, id) || db_bind_text(st, 2, *reason ? reason : "failed", -1) ||
	    db_step(st) < 0) {
		db_finalize(st);
		db_rollback(in->db);
		return;
	}
	db_finalize(st);
	if (db_commit(in->db))
		db_rollback(in->db);
}

/* Exit-status-like results of one entry. */
enum { ENTRY_OK = 0, ENTRY_FAILED = 1, ENTRY_USAGE = 2 };

/*
 * Reads one entry's header here, then its records on the reading thread
 * while this one writes them. *ids collects this file's ingest ids.
 */
static int ingest_entry(struct ingest *in, struct ar_reader *ar, const char *display, int64_t size,
			int64_t **ids, size_t *nids, size_t *idalloc)
{
	struct reader rd = { ar, NULL, { 0 }, NULL };
	struct queue q;
	struct tsv_record hdr;
	struct progress *prog = NULL;
	pthread_t th;
	int started = 0, ret = ENTRY_OK, rc, done = 0;
	double t0 = now_seconds();
	char msg[256];
	long records = 0;

	memset(&q, 0, sizeof(q));
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.changed, NULL);
	in->file = display;
	in->ok = in->bad = in->unchanged = in->updated = 0;
	in->ingest_id = 0;
	in->ngroup = 0;

	rd.tsv = tsv_new(tsv_from_archive, ar, 0);
	rc = tsv_next(rd.tsv, &hdr);
	if (rc < 0) {
		ret = ENTRY_FAILED;
		goto out;
	}
	if (rc == 0) {
		error("'%s': empty file, not a TSV", display);
		ret = ENTRY_FAILED;
		goto out;
	}
	if (hdr.status == TSV_NUL || !utf8_valid(hdr.raw, hdr.raw_len)) {
		error("'%s': binary data, not a TSV file", display);
		ret = ENTRY_FAILED;
		goto out;
	}
	if (hdr.status != TSV_OK || hdr.nfields < 2) {
		error("'%s' line 1: not a TSV header (%s)", display,
		      hdr.status != TSV_OK ? tsv_status_str(hdr.status) : "no tab-separated columns");
		ret = ENTRY_FAILED;
		goto out;
	}
	if (fd_layout_from_header(&rd.layout, hdr.fields, hdr.lens, hdr.nfields, msg, sizeof(msg))) {
		error("'%s' line 1: %s", display, msg);
		ret = ENTRY_FAILED;
		goto out;
	}
	in->kind = rd.layout.kind;
	in->split = in->split_opt ? in->split_opt : split_from_name(display);
	if (in->kind == FD_POSTS && !in->split) {
		error("'%s': cannot tell the split from the file name; use --split train|validate|test",
		      display);
		ret = ENTRY_USAGE;
		goto out;
	}
	tsv_expect_fields(rd.tsv, rd.layout.nfields);

	rd.q = &q;
	if (pthread_create(&th, NULL, reader_main, &rd)) {
		error("cannot start a reading thread");
		ret = ENTRY_FAILED;
		goto out;
	}
	started = 1;
	prog = progress_start(display, 0, "records", in->ctx->quiet);
	while (!done) {
		struct batch *b = queue_pop(&q);
		size_t i;
		done = b->last;
		if (b->failed) {
			batch_put_spare(&q, b);
			ret = ENTRY_FAILED;
			break;
		}
		if (b->n && !in->ingest_id) {
			if (txn_begin(in) || create_ingest_row(in, size) ||
			    (!in->strict && (txn_commit(in) || txn_begin(in)))) {
				batch_put_spare(&q, b);
				ret = ENTRY_FAILED;
				break;
			}
			ALLOC_GROW(*ids, *nids + 1, *idalloc);
			(*ids)[(*nids)++] = in->ingest_id;
		}
		for (i = 0; i < b->n; i++) {
			if (write_item(in, b, &b->items[i]) || maybe_commit(in)) {
				ret = ENTRY_FAILED;
				break;
			}
		}
		/* The group points into the batch, which goes back to the reader. */
		if (!ret && flush_group(in))
			ret = ENTRY_FAILED;
		in->ngroup = 0;
		records += (long)b->n;
		batch_put_spare(&q, b);
		if (ret)
			break;
		progress_update(prog, (uint64_t)records);
		if (size > 0) {
			snprintf(msg, sizeof(msg), "%.0f%% of %.1f MB", 100.0 * (double)b->bytes / (double)size,
				 (double)size / 1e6);
			progress_note(prog, msg);
		}
	}
	progress_done(prog);
	prog = NULL;
	if (ret)
		goto out;
	if (records == 0) {
		error("'%s': a header but no records", display);
		ret = ENTRY_FAILED;
		goto out;
	}
	if (save_counts(in))
		ret = ENTRY_FAILED;
	else if (!in->strict && txn_commit(in))
		ret = ENTRY_FAILED;
	if (!ret && !in->ctx->quiet) {
		double secs = now_seconds() - t0;
		printf("%s: %ld ok, %ld bad, %ld unchanged, %ld updated (%s%s, %.1f s, %.0f records/s)\n",
		       display, in->ok, in->bad, in->unchanged, in->updated,
		       in->kind == FD_POSTS ? in->split : "comments", in->kind == FD_POSTS ? " split" : "",
		       secs, secs > 0 ? (double)records / secs : 0.0);
		if (in->bad && !in->strict)
			printf("  %ld bad records: mmdb sql \"SELECT line, column, reason, detail FROM "
			       "ingest_errors WHERE ingest_id = %lld\"\n", in->bad, (long long)in->ingest_id);
	}
	if (!ret) {
		/* Seconds now; size, sha256 and status once the whole file is read. */
		struct db_stmt *st = NULL;
		if (!in->strict && txn_begin(in))
			ret = ENTRY_FAILED;
		else if (db_prepare(in->db, &st, "UPDATE ingests SET seconds = ?2 WHERE id = ?1"))
			ret = ENTRY_FAILED;
		else {
			db_bind_int(st, 1, in->ingest_id);
			db_bind_double(st, 2, now_seconds() - t0);
			if (db_step(st) < 0)
				ret = ENTRY_FAILED;
			db_finalize(st);
		}
		if (!in->strict && txn_commit(in))
			ret = ENTRY_FAILED;
	}
out:
	if (ret == ENTRY_FAILED)
		mark_failed(in, in->ingest_id);
	if (started) {
		/* Stop the reader (it may wait for room), drain, join. */
		queue_cancel(&q);
		pthread_join(th, NULL);
		while (q.count) {
			struct batch *b = q.full[q.head];
			q.head = (q.head + 1) % QUEUE_DEPTH;
			q.count--;
			batch_free(b);
		}
	}
	while (q.nspare)
		batch_free(q.spare[--q.nspare]);
	progress_done(prog);
	tsv_free(rd.tsv);
	pthread_cond_destroy(&q.changed);
	pthread_mutex_destroy(&q.mu);
	return ret;
}

/* Entries of an archive worth reading: regular *.tsv files, no macOS litter. */
static int wanted_entry(const struct ar_entry *e)
{
	const char *base = strrchr(e->name, '/');
	size_t n = strlen(e->name);
	base = base ? base + 1 : e->name;
	if (e->type != AR_FILE || !strncmp(base, "._", 2) || strstr(e->name, "__MACOSX/"))
		return 0;
	return n > 4 && !strcasecmp(e->name + n - 4, ".tsv");
}

static int ingest_file(struct ingest *in, const char *path)
{
	struct ar_reader *ar = NULL;
	struct ar_entry e;
	int64_t *ids = NULL, size = -1;
	size_t nids = 0, idalloc = 0, i;
	int rc, ret = ENTRY_OK, entries = 0;
	char hex[65];

	if (ar_open_flags(&ar, path, AR_HASH))
		return ENTRY_FAILED;
	while ((rc = ar_next(ar, &e)) == 1) {
		struct strbuf display = STRBUF_INIT;
		int r;
		if (ar_is_archive(ar)) {
			if (!wanted_entry(&e)) {
				if (in->ctx->verbose && e.type == AR_FILE)
					fprintf(stderr, "mmdb: '%s': skipping '%s' (not a .tsv file)\n", path, e.name);
				continue;
			}
			sb_addf(&display, "%s:%s", path, e.name);
		} else {
			sb_adds(&display, path);
		}
		entries++;
		r = ingest_entry(in, ar, display.buf, ar_is_archive(ar) ? -1 : ar_file_size(ar),
				 &ids, &nids, &idalloc);
		sb_release(&display);
		if (r) {
			ret = r;
			if (in->strict)
				goto out;
			/* A broken entry may leave the stream unusable: stop at a read error. */
			if (!ar_is_archive(ar))
				goto out;
		}
	}
	if (rc < 0) {
		ret = ENTRY_FAILED;
		goto out;
	}
	if (!entries) {
		error(ar_is_archive(ar) ? "'%s': no .tsv file in the archive" : "'%s': empty file, not a TSV",
		      path);
		ret = ENTRY_FAILED;
		goto out;
	}
	if (!nids)
		goto out;
	if (ar_sha256(ar, hex, &size)) {
		ret = ENTRY_FAILED;
		goto out;
	}
	{
		struct db_stmt *st = NULL;
		if ((!in->strict && txn_begin(in)) ||
		    db_prepare(in->db, &st, "UPDATE ingests SET sha256 = ?2, size = ?3, "
					   "status = CASE WHEN status = 'running' THEN 'completed' ELSE status END, "
					   "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?1")) {
			ret = ENTRY_FAILED;
			goto out;
		}
		for (i = 0; i < nids; i++) {
			db_bind_int(st, 1, ids[i]);
			db_bind_text(st, 2, hex, -1);
			db_bind_int(st, 3, size);
			if (db_step(st) < 0)
				ret = ENTRY_FAILED;
			db_reset(st);
		}
		db_finalize(st);
		if (!in->strict && txn_commit(in))
			ret = ENTRY_FAILED;
	}
out:
	if (ret && !in->strict && in->in_txn) {
		db_rollback(in->db);
		in->in_txn = 0;
	}
	for (i = 0; ret == ENTRY_FAILED && i < nids; i++)
		mark_failed(in, ids[i]);
	free(ids);
	ar_close(ar);
	return ret;
}

static void ingest_usage(FILE *f)
{
	fprintf(f, "usage: mmdb ingest [--split train|validate|test] [--dataset NAME] [--strict]\n"
		   "                   [--update] FILE...\n\n"
		   "Reads Fakeddit TSV files into the database: posts (multimodal_*.tsv, all_*.tsv,\n"
		   "reduced variants; columns found by header name) and comments (all_comments.tsv).\n"
		   "Files may be plain, compressed (.gz .bz2 .xz .zst) or archives (.zip, .tar.*)\n"
		   "holding .tsv files. Each post with an image URL gets a 'pending' images row.\n\n"
		   "  --split S      the split of every file (default: from the file name:\n"
		   "                 multimodal_train, all_validate, *_test_public, ...)\n"
		   "  --dataset NAME dataset the posts belong to (default: fakeddit)\n"
		   "  --strict       any bad record fails the whole ingest; nothing is written\n"
		   "  --update       a stored post whose content changed (same id, from an earlier\n"
		   "                 ingest) is updated; without it, that is a bad record\n"
		   "  --batch N      records per transaction (default %d)\n\n"
		   "Bad records are skipped and kept in ingest_errors (file, line, column, reason,\n"
		   "detail). Running the same ingest again changes nothing; a killed ingest run\n"
		   "again completes. Every ingest is recorded in the ingests table.\n", COMMIT_EVERY);
}

int cmd_ingest(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "split", required_argument, NULL, 's' },
		{ "dataset", required_argument, NULL, 'd' },
		{ "strict", no_argument, NULL, 'S' },
		{ "update", no_argument, NULL, 'u' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ingest in;
	const char *dataset = "fakeddit";
	int c, i, ret = 0;
	struct db_stmt *st = NULL;

	memset(&in, 0, sizeof(in));
	in.ctx = ctx;
	in.db = ctx->db;
	in.commit_every = COMMIT_EVERY;
	while ((c = getopt_long(argc, argv, "s:d:Suh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (strcmp(optarg, "train") && strcmp(optarg, "validate") && strcmp(optarg, "test"))
				return usage_error("ingest: unknown split '%s' (train, validate, test)", optarg);
			in.split_opt = optarg;
			break;
		case 'd':
			if (!*optarg)
				return usage_error("ingest: --dataset needs a name");
			dataset = optarg;
			break;
		case 'S': in.strict = 1; break;
		case 'u': in.update = 1; break;
		case 'b': {
			int n;
			if (parse_int(optarg, 1, 100000000, "--batch", &n))
				return 2;
			in.commit_every = n;
			break;
		}
		case 'h': ingest_usage(stdout); return 0;
		default: ingest_usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		ingest_usage(stderr);
		return 2;
	}
	/* Every file must say its split (or be comments, or an archive) before anything is read. */
	for (i = optind; i < argc && !in.split_opt; i++)
		if (!split_from_name(argv[i]) && !names_comments(argv[i]) && !is_archive_name(argv[i]))
			return usage_error("ingest: cannot tell the split of '%s' from its name; "
					   "use --split train|validate|test", argv[i]);

	/*
	 * Bulk-load settings for this connection only: a bigger page cache, and
	 * statements compiled without CHECK constraints. SQLite evaluates a
	 * CHECK of the form `x IN (3 or more values)` (posts.split,
	 * images.status) by building a temporary index on every execution,
	 * which made each single-row insert cost several times the insert
	 * itself. What those CHECKs guard holds by construction here: split is
	 * one of three constants, labels are range-checked by fd_convert(),
	 * images.status takes its default, ingests' columns get constants.
	 * (Setting the pragma expires prepared statements, so it is set once,
	 * before any is prepared.) Foreign keys are not checked row by row
	 * either: every reference written here is to the dataset and ingests
	 * rows this command made, or to the post it just inserted.
	 */
	if (db_exec(in.db, "PRAGMA cache_size = -24576; PRAGMA ignore_check_constraints = ON; "
			   "PRAGMA foreign_keys = OFF") ||
	    mark_stale_ingests(in.db) ||
	    prepare_all(&in)) {
		ret = 1;
		goto out;
	}
	if (!in.strict)
		in.ckpt = ckpt_start(in.db, ctx->db_path);
	if (db_prepare(in.db, &st, "INSERT INTO datasets(name) VALUES (?1) ON CONFLICT(name) DO NOTHING") ||
	    db_bind_text(st, 1, dataset, -1) || db_step(st) < 0) {
		ret = 1;
		goto out;
	}
	db_finalize(st);
	st = NULL;
	if (db_prepare(in.db, &st, "SELECT id FROM datasets WHERE name = ?1") ||
	    db_bind_text(st, 1, dataset, -1) || db_step(st) != DB_ROW) {
		ret = 1;
		goto out;
	}
	in.dataset_id = db_column_int(st, 0);
	db_finalize(st);
	st = NULL;

	if (in.strict && txn_begin(&in)) {
		ret = 1;
		goto out;
	}
	for (i = optind; i < argc; i++) {
		int r = ingest_file(&in, argv[i]);
		if (r && (ret == 0 || r == ENTRY_USAGE))
			ret = r;
		if (r && in.strict)
			break;
	}
	if (in.strict) {
		if (ret) {
			db_rollback(in.db);
			in.in_txn = 0;
			if (!in.strict_failed)
				error("--strict: nothing was ingested");
		} else if (txn_commit(&in)) {
			ret = 1;
		}
	}
out:
	if (in.in_txn)
		db_rollback(in.db);
	ckpt_stop(in.ckpt);
	db_finalize(st);
	finalize_all(&in);
	return ret;
}

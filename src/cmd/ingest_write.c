/*
 * mmdb ingest, the writing side: records from the reading thread into
 * posts, images and comments through prepared statements (posts
 * GROUP_ROWS to an INSERT), in BEGIN IMMEDIATE transactions of
 * in->commit_every records; stored ids compared (unchanged, updated with
 * --update, or a bad record); bad records into ingest_errors; each
 * entry's row in ingests, marked failed when it fails.
 */
#define _POSIX_C_SOURCE 200809L
#include "cmds.h"
#include "ingest_int.h"
#include "../ckpt.h"
#include "../db.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CKPT_WAIT_EVERY 4     /* commits between waits for a whole checkpoint */

static const char post_cols_sql[] =
	"id, dataset_id, split, author, clean_title, title, created_utc, domain, has_image, "
	"image_url, linked_submission_id, num_comments, score, subreddit, upvote_ratio, "
	"label_2way, label_3way, label_6way, ingest_id, line";
/* Post parameter of FP_ column c (>= 1): ?4.. in the order above. */
#define POST_PARAM(c) ((c) + 3)

int ingest_prepare_all(struct ingest *in)
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

void ingest_finalize_all(struct ingest *in)
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
int ingest_flush_group(struct ingest *in)
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

int ingest_write_item(struct ingest *in, const struct batch *b, const struct item *it)
{
	struct db_stmt *st;
	int rc;
	if (it->reason) {
		/* Errors in file order: the posts before this one first. */
		if (ingest_flush_group(in))
			return -1;
		return record_error(in, it->line, it->col, it->reason, b->arena.buf + it->detail,
				    b->arena.buf + it->raw);
	}
	if (in->kind == FD_POSTS) {
		in->group_batch = b;
		in->group[in->ngroup++] = it;
		return in->ngroup == GROUP_ROWS ? ingest_flush_group(in) : 0;
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

int ingest_save_counts(struct ingest *in)
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

int ingest_txn_begin(struct ingest *in)
{
	if (in->in_txn)
		return 0;
	if (db_begin(in->db))
		return -1;
	in->in_txn = 1;
	in->since_commit = 0;
	return 0;
}

int ingest_txn_commit(struct ingest *in)
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
int ingest_maybe_commit(struct ingest *in)
{
	if (++in->since_commit < in->commit_every)
		return 0;
	in->since_commit = 0;
	if (ingest_flush_group(in))
		return -1;
	if (in->strict)
		return 0;
	if (ingest_save_counts(in) || ingest_txn_commit(in))
		return -1;
	/* Every CKPT_WAIT_EVERY commits, all of the WAL is copied before going on. */
	ckpt_request(in->ckpt, ++in->commits % CKPT_WAIT_EVERY == 0);
	return ingest_txn_begin(in);
}

/* Ingests marked 'running' whose process is gone were killed: mark them failed. */
int ingest_mark_stale(struct db *db)
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

int ingest_create_row(struct ingest *in, int64_t size)
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
 * database that cannot take even this is left to ingest_mark_stale().
 */
void ingest_mark_failed(struct ingest *in, int64_t id)
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

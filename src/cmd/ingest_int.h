/*
 * ingest_int.h: what the parts of `mmdb ingest` share: the command and the
 * file walk in ingest.c, the reading thread and its queue of batches in
 * ingest_read.c, the database side in ingest_write.c.
 */
#ifndef MMDB_INGEST_INT_H
#define MMDB_INGEST_INT_H

#include "../fakeddit.h"
#include "../util.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define QUEUE_DEPTH 4         /* batches in flight: bounds memory */
#define COMMIT_EVERY 50000    /* records per transaction, by default */
#define GROUP_ROWS 64         /* posts per multi-row INSERT */

struct ar_reader;
struct ckpt;
struct db;
struct db_stmt;
struct mmdb_ctx;
struct tsv_reader;

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

/* An empty queue. */
void ingest_queue_init(struct queue *q);
/* Frees the batches still queued and the spares; the reader must be gone. */
void ingest_queue_release(struct queue *q);
/* Consumer side: waits for the next full batch. */
struct batch *ingest_queue_pop(struct queue *q);
/* Makes the reader's waits and pushes give up (it then frees its batch). */
void ingest_queue_cancel(struct queue *q);
/* Gives a consumed batch back for reuse (or frees it). */
void ingest_batch_put_spare(struct queue *q, struct batch *b);

/* ---- the reading thread ---- */

struct reader {
	struct ar_reader *ar;
	struct tsv_reader *tsv;
	struct fd_layout layout;
	struct queue *q;
};

/*
 * The reading thread's body (arg: a struct reader, its header read and
 * layout set): pushes the entry's records in batches of typed values, the
 * last one marked last (and failed when reading failed).
 */
void *ingest_reader_main(void *arg);

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

/* Prepares every statement of in; 0, or -1 with the error printed. */
int ingest_prepare_all(struct ingest *in);
void ingest_finalize_all(struct ingest *in);
/* One record of batch b: a post joins the group, a comment is written, a bad record kept. */
int ingest_write_item(struct ingest *in, const struct batch *b, const struct item *it);
/* Writes the posts waiting in the group (they point into the current batch). */
int ingest_flush_group(struct ingest *in);
/* The current entry's counts into its ingests row. */
int ingest_save_counts(struct ingest *in);
int ingest_txn_begin(struct ingest *in);
int ingest_txn_commit(struct ingest *in);
/* Counts a record; every in->commit_every ends a transaction (outside --strict). */
int ingest_maybe_commit(struct ingest *in);
/* Ingests marked 'running' whose process is gone were killed: mark them failed. */
int ingest_mark_stale(struct db *db);
/* The ingests row of the current entry (size < 0: unknown); sets in->ingest_id. */
int ingest_create_row(struct ingest *in, int64_t size);
/* Marks ingest id failed with the last error printed (outside --strict). */
void ingest_mark_failed(struct ingest *in, int64_t id);

#endif

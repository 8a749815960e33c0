/*
 * images.h: what the parts of `mmdb images` share (fetch in images.c,
 * import and verify in images_import.c): a batch of images-table updates
 * written in transactions, a pool of threads that probe and store objects,
 * and a tally of outcomes for the closing summary.
 */
#ifndef MMDB_CMD_IMAGES_H
#define MMDB_CMD_IMAGES_H

#include "../imgcache.h"

#include <stdint.h>

struct db;
struct mmdb_ctx;

/* One row's new state. Strings are owned by the record. */
struct img_rec {
	char *post_id;
	char *url;             /* NULL: keep the row's */
	const char *status;    /* static: "ok", "removed", ... */
	char *reason;          /* NULL for none */
	long http_status;      /* 0: NULL */
	int attempts;          /* added to the row's count */
	double next_attempt;   /* unix time of the next sensible try; < 0: NULL (final) */
	const char *source;    /* "fetch", "import" or NULL */
	char sha256[65];       /* "" for none */
	int64_t bytes;         /* < 0: NULL */
	int format;            /* enum img_format */
	int width, height;     /* 0: NULL */
};

/* Pending updates, flushed in one transaction (after imgcache_sync). */
struct img_batch {
	struct db *db;
	struct imgcache *cache;
	struct db_stmt *upsert;
	struct img_rec *recs;
	size_t n, alloc;
	double last_flush;
};
int img_batch_init(struct img_batch *b, struct db *db, struct imgcache *cache);
/* Takes ownership of r's strings; flushes when full. 0 or error(). */
int img_batch_add(struct img_batch *b, struct img_rec *r);
/* Writes what is pending when force, or when due (size or age). 0 or error(). */
int img_batch_flush(struct img_batch *b, int force);
void img_batch_release(struct img_batch *b);

/* Outcome counts by (status, reason). */
struct img_tally_row {
	char *status, *reason;
	long count;
};
struct img_tally {
	struct img_tally_row *rows;
	size_t n, alloc;
};
void img_tally_add(struct img_tally *t, const char *status, const char *reason);
/* Prints the tally as a table (status, reason, count), largest first. */
void img_tally_print(struct img_tally *t, int fmt);
void img_tally_release(struct img_tally *t);

/*
 * The store pool: threads that probe a finished writer's bytes, recognise
 * placeholders and commit (fsync, rename) whole images, so fsync latency
 * never stalls the reader. A job is submitted with its writer and comes
 * back through img_pool_reap() with its verdict filled in.
 */
struct img_store {
	struct img_store *next;
	struct imgcache_writer *w;  /* consumed by the pool */
	void *tag;
	/* filled by the pool: */
	const char *status;         /* "ok", "removed", "not_image", "corrupt", "failed" */
	const char *why;            /* static reason, NULL for ok */
	struct imgcache_info info;
	uint64_t bytes;
	char sha256[65];
	int dedup;
};
struct img_pool;
/* wake(arg) is called from a pool thread after each finished job (may be NULL). */
struct img_pool *img_pool_new(int threads, void (*wake)(void *), void *arg);
void img_pool_submit(struct img_pool *p, struct img_store *s);
/* Finished jobs, oldest first (caller owns them), or NULL. */
struct img_store *img_pool_reap(struct img_pool *p);
/* Jobs submitted and not yet reaped. */
int img_pool_pending(struct img_pool *p);
/* Waits for every submitted job to finish (they stay to be reaped). */
void img_pool_drain(struct img_pool *p);
void img_pool_free(struct img_pool *p);

/* Parses "123", "64k", "32M", "1G" (binary multiples). 0 or error(). */
int img_parse_size(const char *s, const char *what, int64_t *out);

int images_import(int argc, char **argv, struct mmdb_ctx *ctx);
int images_verify(int argc, char **argv, struct mmdb_ctx *ctx);

#endif

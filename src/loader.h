/*
 * loader: worker threads that turn posts into model batches (token ids,
 * attention mask, uint8 RGB pixels, labels, post ids) ahead of the trainer.
 *
 * A loader holds a fixed list of items (one per post) and a fixed pool of
 * batch buffers allocated once: nothing is allocated per batch. Each epoch
 * visits the items in an order that is a pure function of (seed, epoch)
 * when shuffling (same seed, same order; deterministic whatever the number
 * of workers), or in list order otherwise. Workers fill batches in parallel
 * (each decodes its posts' images) into the pool; loader_next() hands them
 * out strictly in order, so results do not depend on thread timing.
 *
 * Decoded, resized pixels can be kept in <cache>/prep/<S>-<mode>/ab/<sha256>
 * (raw S*S*3 bytes): the key holds the image hash, size and resize mode, so
 * a change of any of them reads and writes other files.
 *
 * Thread safety: one consumer thread calls loader_* ; workers are internal.
 */
#ifndef MMDB_LOADER_H
#define MMDB_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct tokenizer;

/* One post. Strings are borrowed: they must outlive the loader. */
struct loader_item {
	const char *post_id;
	const char *title;           /* NULL = empty */
	const char *image_sha256;    /* NULL = no usable image (blank pixels) */
	int label;
};

struct loader_opts {
	int batch_size;              /* B */
	int max_len;                 /* L; 0 = no text */
	int image_size;              /* S; 0 = no images */
	int resize_mode;             /* enum resize_mode of train.h */
	int workers;                 /* threads, >= 1 */
	int prefetch;                /* batches ready ahead; 0 = 2 per worker */
	int shuffle;                 /* 1: seeded shuffle each epoch */
	int drop_last;               /* 1: skip a final partial batch */
	uint64_t seed;
	int rank, world;             /* world > 1: visit only this rank's shard (below) */
	const struct tokenizer *tok; /* needed when max_len > 0 */
	const char *objects_dir;     /* <cache>/objects (copied) */
	const char *prep_dir;        /* <cache>/prep, or NULL for no cache (copied) */
};

struct loader_batch {
	int n;                       /* B' <= B posts in this batch */
	int index;                   /* batch number within the epoch */
	int32_t *input_ids;          /* B*L */
	uint8_t *attention_mask;     /* B*L */
	uint8_t *pixels;             /* B*S*S*3, RGB HWC */
	int32_t *labels;             /* B */
	const char **post_ids;       /* B, borrowed from the items */
	size_t *items;               /* B, indices into the item list */
};

struct loader;

/*
 * Creates a loader over n items (copied array; strings borrowed) and starts
 * its workers. Returns 0 and *out, or -1 with error().
 */
int loader_new(struct loader **out, const struct loader_item *items, size_t n,
	       const struct loader_opts *opts);

/* Number of batches an epoch has. */
int loader_batches(const struct loader *l);

/*
 * Starts epoch `epoch` (its order derives from seed and epoch), skipping its
 * first `skip` batches (a resumed run's position). Any batches of an
 * unfinished previous epoch are dropped. Returns 0 or -1.
 */
int loader_start_epoch(struct loader *l, int epoch, int skip);

/*
 * Waits for the next batch of the epoch. Returns 1 and *b (owned by the
 * loader; valid until loader_release(b) or the next loader_start_epoch), 0
 * at the end of the epoch, -1 on error (message printed) or after
 * loader_stop(). Time spent waiting here is added to loader_wait_seconds().
 */
int loader_next(struct loader *l, struct loader_batch **b);
void loader_release(struct loader *l, struct loader_batch *b);

/* Seconds the consumer has spent blocked in loader_next (cumulative). */
double loader_wait_seconds(const struct loader *l);
/* Images that could not be read or decoded and were given blank pixels. */
long loader_image_failures(const struct loader *l);

/* Makes every pending and future loader_next return -1 (safe from a signal
 * handler's flag check, not from the handler itself). */
void loader_stop(struct loader *l);
/* Stops and joins the workers, frees everything (NULL is fine). */
void loader_free(struct loader *l);

/*
 * Sharding, as PyTorch's DistributedSampler: every rank computes the same
 * epoch order (the permutation, or list order), pads it to a multiple of
 * world by repeating it from its start, and takes positions rank, rank +
 * world, rank + 2*world, ...: disjoint shards of equal size. Batch k of
 * every rank together hold positions k*B*world .. (k+1)*B*world - 1, the
 * global batch k of one process with batch B*world.
 * loader_shard_size: posts a rank visits (ceil(n / world)).
 * loader_shard_index: the position in the epoch order of a rank's k-th post.
 */
size_t loader_shard_size(size_t n, int world);
size_t loader_shard_index(size_t k, size_t n, int rank, int world);

/* Deterministic permutation of 0..n-1 for (seed, epoch) into perm. */
void loader_permutation(size_t *perm, size_t n, uint64_t seed, int epoch);

#endif

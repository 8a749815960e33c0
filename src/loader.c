/*
 * loader: a pool of batch buffers filled by worker threads, handed to the
 * trainer in epoch order. See loader.h.
 *
 * Batches are assigned to workers in increasing order and each is filled
 * into a free slot; the consumer takes them strictly by number. Since the
 * lowest undelivered batch is always assigned before any later one, the
 * pool cannot deadlock, and the order (hence training) is independent of
 * which worker finishes first.
 */
#include "loader.h"
#include "image.h"
#include "tokenizer.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_HANDED };

struct slot {
	struct loader_batch b;
	int state;
	unsigned gen;                /* epoch generation it was filled for */
};

struct loader {
	struct loader_item *items;
	size_t n;
	struct loader_opts o;
	int nbatches;
	size_t n_order;              /* posts an epoch visits on this rank */
	size_t *perm;                /* n_order: this epoch's order (this rank's shard) */
	size_t *full;                /* n: the whole permutation, when sharded */

	pthread_mutex_t mu;
	pthread_cond_t cv_work;      /* workers: a slot or a batch became available */
	pthread_cond_t cv_ready;     /* consumer: a batch is ready / a fill ended */
	struct slot *slots;
	int nslots;
	unsigned gen;
	int next_assign, next_deliver, filling;
	int stop, quit;

	double wait;
	long failures;
	int warned;
	pthread_t *threads;
	int nthreads;
};

/* splitmix64: a small, well-mixed generator for the seeded shuffle. */
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

size_t loader_shard_size(size_t n, int world)
{
	if (world <= 1)
		return n;
	return (n + (size_t)world - 1) / (size_t)world;
}

size_t loader_shard_index(size_t k, size_t n, int rank, int world)
{
	if (world <= 1)
		return k;
	return (k * (size_t)world + (size_t)rank) % (n ? n : 1);
}

void loader_permutation(size_t *perm, size_t n, uint64_t seed, int epoch)
{
	uint64_t s = seed * 0x2545f4914f6cdd1dULL + (uint64_t)epoch * 0x9e3779b97f4a7c15ULL + 1;
	size_t i;

	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n; i > 1; i--) { /* Fisher-Yates */
		size_t j = (size_t)(splitmix64(&s) % i), t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
}

/* Whole-file read into *buf (grown as needed). Returns bytes or -1. */
static ssize_t read_file(const char *path, uint8_t **buf, size_t *alloc)
{
	struct stat stt;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &stt) || stt.st_size < 0) {
		close(fd);
		return -1;
	}
	if ((size_t)stt.st_size + 1 > *alloc) {
		*alloc = (size_t)stt.st_size + 1;
		*buf = xrealloc(*buf, *alloc);
	}
	while (got < (size_t)stt.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)stt.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return got == (size_t)stt.st_size ? (ssize_t)got : -1;
}

/* Reads exactly n bytes of a prep-cache file into out; 0 on a hit. */
static int prep_read(const char *path, uint8_t *out, size_t n)
{
	struct stat stt;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &stt) || (size_t)stt.st_size != n) {
		close(fd);
		return -1;
	}
	while (got < n) {
		ssize_t r = read(fd, out + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return got == n ? 0 : -1;
}

/* Writes a prep-cache file through a temporary name; failures are ignored
 * (the cache is an optimisation). */
static void prep_write(const char *path, const uint8_t *data, size_t n)
{
	char tmp[4200], dir[4096];
	char *slash;
	size_t put = 0;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp%ld.%lx", path, (long)getpid(),
		 (unsigned long)pthread_self());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		snprintf(dir, sizeof(dir), "%s", path);
		if ((slash = strrchr(dir, '/'))) {
			*slash = 0;
			if (mkdir_p(dir, 0755))
				return;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		return;
	while (put < n) {
		ssize_t w = write(fd, data + put, n - put);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		put += (size_t)w;
	}
	if (close(fd) || put != n || rename(tmp, path))
		unlink(tmp);
}

struct worker_scratch {
	uint8_t *file;
	size_t file_alloc;
	char path[4096];
};

static void note_failure(struct loader *l, const struct loader_item *it, const char *why)
{
	int warn;
	pthread_mutex_lock(&l->mu);
	l->failures++;
	warn = l->warned++ < 3;
	pthread_mutex_unlock(&l->mu);
	if (warn)
		warning("post %s: image %.12s: %s; using blank pixels", it->post_id,
			it->image_sha256, why);
}

/* Pixels of one item into out (S*S*3): prep cache, else decode (and cache). */
static void load_pixels(struct loader *l, const struct loader_item *it, uint8_t *out,
			struct worker_scratch *ws)
{
	int S = l->o.image_size;
	size_t npix = (size_t)S * S * 3;
	char why[256] = "";
	ssize_t len;
	const char *sha = it->image_sha256;

	if (!sha || strlen(sha) < 3) {
		memset(out, 0, npix);
		return;
	}
	if (l->o.prep_dir) {
		snprintf(ws->path, sizeof(ws->path), "%s/%d-%s/%.2s/%s", l->o.prep_dir, S,
			 l->o.resize_mode ? "crop" : "squash", sha, sha);
		if (!prep_read(ws->path, out, npix))
			return;
	}
	{
		char obj[4096];
		snprintf(obj, sizeof(obj), "%s/%.2s/%s", l->o.objects_dir, sha, sha);
		len = read_file(obj, &ws->file, &ws->file_alloc);
		if (len < 0) {
			snprintf(why, sizeof(why), "cannot read its cache object: %s", strerror(errno));
			goto blank;
		}
	}
	if (img_decode_resize(ws->file, (size_t)len, S, l->o.resize_mode ? IMG_CROP : IMG_SQUASH,
			      out, why, sizeof(why)))
		goto blank;
	if (l->o.prep_dir)
		prep_write(ws->path, out, npix);
	return;
blank:
	memset(out, 0, npix);
	note_failure(l, it, why);
}

static void fill(struct loader *l, struct slot *s, int bi, struct worker_scratch *ws)
{
	struct loader_batch *b = &s->b;
	int B = l->o.batch_size, L = l->o.max_len, S = l->o.image_size, j;
	size_t start = (size_t)bi * B;
	size_t cnt = l->n_order - start < (size_t)B ? l->n_order - start : (size_t)B;

	b->n = (int)cnt;
	b->index = bi;
	for (j = 0; j < (int)cnt; j++) {
		size_t idx = l->perm[start + j];
		const struct loader_item *it = &l->items[idx];
		b->items[j] = idx;
		b->post_ids[j] = it->post_id;
		b->labels[j] = it->label;
		if (L > 0) {
			const char *t = it->title ? it->title : "";
			if (tok_encode(l->o.tok, t, strlen(t), L, b->input_ids + (size_t)j * L,
				       b->attention_mask + (size_t)j * L) < 0) {
				memset(b->input_ids + (size_t)j * L, 0, sizeof(int32_t) * L);
				memset(b->attention_mask + (size_t)j * L, 0, L);
			}
		}
		if (S > 0)
			load_pixels(l, it, b->pixels + (size_t)j * S * S * 3, ws);
	}
}

static void *worker_main(void *arg)
{
	struct loader *l = arg;
	struct worker_scratch ws = { 0 };

	pthread_mutex_lock(&l->mu);
	for (;;) {
		struct slot *s = NULL;
		int i, bi;
		unsigned gen;

		while (!l->quit) {
			if (!l->stop && l->next_assign < l->nbatches) {
				for (i = 0; i < l->nslots && !s; i++)
					if (l->slots[i].state == SLOT_FREE)
						s = &l->slots[i];
				if (s)
					break;
			}
			pthread_cond_wait(&l->cv_work, &l->mu);
		}
		if (l->quit)
			break;
		s->state = SLOT_FILLING;
		bi = l->next_assign++;
		gen = s->gen = l->gen;
		l->filling++;
		pthread_mutex_unlock(&l->mu);

		fill(l, s, bi, &ws);

		pthread_mutex_lock(&l->mu);
		l->filling--;
		s->state = gen == l->gen ? SLOT_READY : SLOT_FREE;
		pthread_cond_broadcast(&l->cv_ready);
		if (s->state == SLOT_FREE)
			pthread_cond_signal(&l->cv_work);
	}
	pthread_mutex_unlock(&l->mu);
	free(ws.file);
	return NULL;
}

int loader_new(struct loader **out, const struct loader_item *items, size_t n,
	       const struct loader_opts *opts)
{
	struct loader *l;
	int i, B = opts->batch_size, L = opts->max_len, S = opts->image_size;

	*out = NULL;
	if (B < 1 || opts->workers < 1 || L < 0 || S < 0)
		return error("loader: bad options (batch %d, workers %d)", B, opts->workers);
	if (L > 0 && !opts->tok)
		return error("loader: text input needs a tokenizer");
	if (S > 0 && !opts->objects_dir)
		return error("loader: images need the objects directory");
	if (opts->world > 1 && (opts->rank < 0 || opts->rank >= opts->world))
		return error("loader: rank %d outside a world of %d", opts->rank, opts->world);
	l = xcalloc(1, sizeof(*l));
	l->o = *opts;
	l->o.objects_dir = opts->objects_dir ? xstrdup(opts->objects_dir) : NULL;
	l->o.prep_dir = opts->prep_dir ? xstrdup(opts->prep_dir) : NULL;
	l->n = n;
	l->items = xmalloc(st_mult(n ? n : 1, sizeof(*items)));
	if (n)
		memcpy(l->items, items, n * sizeof(*items));
	l->n_order = loader_shard_size(n, opts->world);
	l->perm = xmalloc(st_mult(l->n_order ? l->n_order : 1, sizeof(size_t)));
	if (opts->world > 1)
		l->full = xmalloc(st_mult(n ? n : 1, sizeof(size_t)));
	l->nbatches = (int)(opts->drop_last ? l->n_order / (size_t)B :
			    (l->n_order + (size_t)B - 1) / (size_t)B);
	l->nslots = opts->workers + (opts->prefetch > 0 ? opts->prefetch : 2 * opts->workers);
	l->slots = xcalloc((size_t)l->nslots, sizeof(*l->slots));
	for (i = 0; i < l->nslots; i++) {
		struct loader_batch *b = &l->slots[i].b;
		if (L) {
			b->input_ids = xmalloc(st_mult(st_mult(B, L), sizeof(int32_t)));
			b->attention_mask = xmalloc(st_mult(B, L));
		}
		if (S)
			b->pixels = xmalloc(st_mult(st_mult(B, S), st_mult(S, 3)));
		b->labels = xmalloc(st_mult(B, sizeof(int32_t)));
		b->post_ids = xmalloc(st_mult(B, sizeof(char *)));
		b->items = xmalloc(st_mult(B, sizeof(size_t)));
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv_work, NULL);
	pthread_cond_init(&l->cv_ready, NULL);
	l->next_assign = l->next_deliver = l->nbatches; /* idle until an epoch starts */
	l->threads = xcalloc((size_t)opts->workers, sizeof(pthread_t));
	for (i = 0; i < opts->workers; i++) {
		if (pthread_create(&l->threads[i], NULL, worker_main, l)) {
			loader_free(l);
			return error("loader: cannot start worker thread %d", i);
		}
		l->nthreads++;
	}
	*out = l;
	return 0;
}

int loader_batches(const struct loader *l)
{
	return l->nbatches;
}

int loader_start_epoch(struct loader *l, int epoch, int skip)
{
	int i;

	pthread_mutex_lock(&l->mu);
	l->gen++;
	l->next_assign = l->next_deliver = l->nbatches; /* no new work */
	while (l->filling) /* fills read perm: let them end first */
		pthread_cond_wait(&l->cv_ready, &l->mu);
	for (i = 0; i < l->nslots; i++)
		l->slots[i].state = SLOT_FREE;
	if (l->o.world > 1) {
		size_t k;
		if (l->o.shuffle) {
			loader_permutation(l->full, l->n, l->o.seed, epoch);
		} else {
			for (k = 0; k < l->n; k++)
				l->full[k] = k;
		}
		for (k = 0; k < l->n_order; k++)
			l->perm[k] = l->full[loader_shard_index(k, l->n, l->o.rank, l->o.world)];
	} else if (l->o.shuffle) {
		loader_permutation(l->perm, l->n, l->o.seed, epoch);
	} else {
		size_t k;
		for (k = 0; k < l->n; k++)
			l->perm[k] = k;
	}
	if (skip < 0)
		skip = 0;
	if (skip > l->nbatches)
		skip = l->nbatches;
	l->next_assign = l->next_deliver = skip;
	pthread_cond_broadcast(&l->cv_work);
	pthread_mutex_unlock(&l->mu);
	return 0;
}

int loader_next(struct loader *l, struct loader_batch **b)
{
	double t0 = 0;
	int ret = 0, waited = 0;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		struct slot *s = NULL;
		int i;
		if (l->stop) {
			ret = -1;
			break;
		}
		if (l->next_deliver >= l->nbatches) {
			ret = 0;
			break;
		}
		for (i = 0; i < l->nslots; i++)
			if (l->slots[i].state == SLOT_READY && l->slots[i].b.index == l->next_deliver &&
			    l->slots[i].gen == l->gen)
				s = &l->slots[i];
		if (s) {
			s->state = SLOT_HANDED;
			l->next_deliver++;
			*b = &s->b;
			ret = 1;
			break;
		}
		if (!waited) {
			waited = 1;
			t0 = now_seconds();
		}
		pthread_cond_wait(&l->cv_ready, &l->mu);
	}
	if (waited)
		l->wait += now_seconds() - t0;
	pthread_mutex_unlock(&l->mu);
	return ret;
}

void loader_release(struct loader *l, struct loader_batch *b)
{
	struct slot *s = (struct slot *)((char *)b - offsetof(struct slot, b));
	pthread_mutex_lock(&l->mu);
	if (s->state == SLOT_HANDED)
		s->state = SLOT_FREE;
	pthread_cond_signal(&l->cv_work);
	pthread_mutex_unlock(&l->mu);
}

double loader_wait_seconds(const struct loader *l)
{
	return l->wait;
}

long loader_image_failures(const struct loader *l)
{
	return l->failures;
}

void loader_stop(struct loader *l)
{
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_broadcast(&l->cv_ready);
	pthread_cond_broadcast(&l->cv_work);
	pthread_mutex_unlock(&l->mu);
}

void loader_free(struct loader *l)
{
	int i;

	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->quit = l->stop = 1;
	pthread_cond_broadcast(&l->cv_work);
	pthread_cond_broadcast(&l->cv_ready);
	pthread_mutex_unlock(&l->mu);
	for (i = 0; i < l->nthreads; i++)
		pthread_join(l->threads[i], NULL);
	for (i = 0; i < l->nslots; i++) {
		struct loader_batch *b = &l->slots[i].b;
		free(b->input_ids);
		free(b->attention_mask);
		free(b->pixels);
		free(b->labels);
		free(b->post_ids);
		free(b->items);
	}
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv_work);
	pthread_cond_destroy(&l->cv_ready);
	free(l->slots);
	free(l->threads);
	free(l->perm);
	free(l->full);
	free(l->items);
	free((char *)l->o.objects_dir);
	free((char *)l->o.prep_dir);
	free(l);
}

/*
 * mmdb images: image bytes into the content-addressed cache and the fate of
 * every post's image into the images table. This file holds the dispatch,
 * `images fetch` (libcurl multi through fetch.h, one event loop, a pool of
 * store threads) and what import and verify share (batched updates, the
 * store pool, the tally). Import and verify live in images_import.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "cmds.h"
#include "images.h"
#include "../db.h"
#include "../fetch.h"
#include "../imgcache.h"
#include "../output.h"
#include "../progress.h"
#include "../util.h"

#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 512
#define BATCH_AGE 1.0
/* Finished bodies waiting for the store threads, at most. */
#define POOL_BACKLOG 256

/* ---- batched updates -------------------------------------------------- */

static const char upsert_sql[] =
	"INSERT INTO images(post_id, url, status, reason, http_status, attempts, next_attempt_at,"
	" source, sha256, bytes, format, width, height, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	" strftime('%Y-%m-%dT%H:%M:%SZ','now'))"
	" ON CONFLICT(post_id) DO UPDATE SET url = coalesce(excluded.url, url),"
	" status = excluded.status, reason = excluded.reason, http_status = excluded.http_status,"
	" attempts = attempts + excluded.attempts, next_attempt_at = excluded.next_attempt_at,"
	" source = coalesce(excluded.source, source), sha256 = excluded.sha256,"
	" bytes = excluded.bytes, format = excluded.format, width = excluded.width,"
	" height = excluded.height, updated_at = excluded.updated_at";

int img_batch_init(struct img_batch *b, struct db *db, struct imgcache *cache)
{
	memset(b, 0, sizeof(*b));
	b->db = db;
	b->cache = cache;
	b->last_flush = now_seconds();
	return db_prepare(db, &b->upsert, upsert_sql);
}

static void rec_release(struct img_rec *r)
{
	free(r->post_id);
	free(r->url);
	free(r->reason);
}

static int bind_rec(struct db_stmt *st, const struct img_rec *r)
{
	const char *fmt = imgcache_format_name(r->format);
	if (db_bind_text(st, 1, r->post_id, -1) || db_bind_text(st, 2, r->url, -1) ||
	    db_bind_text(st, 3, r->status, -1) || db_bind_text(st, 4, r->reason, -1) ||
	    (r->http_status ? db_bind_int(st, 5, r->http_status) : db_bind_null(st, 5)) ||
	    db_bind_int(st, 6, r->attempts) ||
	    (r->next_attempt >= 0 ? db_bind_double(st, 7, r->next_attempt) : db_bind_null(st, 7)) ||
	    db_bind_text(st, 8, r->source, -1) ||
	    db_bind_text(st, 9, r->sha256[0] ? r->sha256 : NULL, -1) ||
	    (r->bytes >= 0 ? db_bind_int(st, 10, r->bytes) : db_bind_null(st, 10)) ||
	    db_bind_text(st, 11, fmt, -1) ||
	    (r->width ? db_bind_int(st, 12, r->width) : db_bind_null(st, 12)) ||
	    (r->height ? db_bind_int(st, 13, r->height) : db_bind_null(st, 13)))
		return -1;
	return 0;
}

int img_batch_flush(struct img_batch *b, int force)
{
	size_t i;
	int ret = 0;

	if (!b->n || (!force && b->n < BATCH_MAX && now_seconds() - b->last_flush < BATCH_AGE))
		return 0;
	/* Objects first: the rows must never point at renames that are not durable. */
	if (b->cache && imgcache_sync(b->cache))
		return -1;
	if (db_begin(b->db))
		return -1;
	for (i = 0; i < b->n; i++) {
		if (bind_rec(b->upsert, &b->recs[i]) || db_step(b->upsert) < 0) {
			db_reset(b->upsert);
			ret = error("cannot record the image of post '%s'", b->recs[i].post_id);
			break;
		}
		db_reset(b->upsert);
	}
	if (ret)
		db_rollback(b->db);
	else if (db_commit(b->db))
		ret = -1;
	for (i = 0; i < b->n; i++)
		rec_release(&b->recs[i]);
	b->n = 0;
	b->last_flush = now_seconds();
	return ret;
}

int img_batch_add(struct img_batch *b, struct img_rec *r)
{
	ALLOC_GROW(b->recs, b->n + 1, b->alloc);
	b->recs[b->n++] = *r;
	memset(r, 0, sizeof(*r));
	return b->n >= BATCH_MAX ? img_batch_flush(b, 1) : 0;
}

void img_batch_release(struct img_batch *b)
{
	size_t i;
	for (i = 0; i < b->n; i++)
		rec_release(&b->recs[i]);
	free(b->recs);
	db_finalize(b->upsert);
	memset(b, 0, sizeof(*b));
}

/* ---- tally ------------------------------------------------------------ */

void img_tally_add(struct img_tally *t, const char *status, const char *reason)
{
	size_t i;
	reason = reason ? reason : "";
	for (i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].status, status) && !strcmp(t->rows[i].reason, reason)) {
			t->rows[i].count++;
			return;
		}
	ALLOC_GROW(t->rows, t->n + 1, t->alloc);
	t->rows[t->n].status = xstrdup(status);
	t->rows[t->n].reason = xstrdup(reason);
	t->rows[t->n].count = 1;
	t->n++;
}

static int tally_cmp(const void *a, const void *b)
{
	const struct img_tally_row *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->status, y->status);
}

void img_tally_print(struct img_tally *t, int fmt)
{
	struct table *tab = table_new(3);
	size_t i;
	if (t->n)
		qsort(t->rows, t->n, sizeof(*t->rows), tally_cmp);
	table_set_header(tab, 0, "status");
	table_set_header(tab, 1, "reason");
	table_set_header(tab, 2, "count");
	for (i = 0; i < t->n; i++) {
		table_add_row(tab);
		table_cell_text(tab, 0, t->rows[i].status);
		table_cell_text(tab, 1, t->rows[i].reason);
		table_cell_int(tab, 2, t->rows[i].count);
	}
	table_print(tab, stdout, fmt);
	table_free(tab);
}

void img_tally_release(struct img_tally *t)
{
	size_t i;
	for (i = 0; i < t->n; i++) {
		free(t->rows[i].status);
		free(t->rows[i].reason);
	}
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

/* ---- store pool ------------------------------------------------------- */

struct img_pool {
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	struct img_store *in_head, *in_tail, *out_head, *out_tail;
	int pending, busy, stop, nthreads;
	pthread_t *threads;
	void (*wake)(void *);
	void *arg;
};

/* Probes, recognises placeholders, and commits whole images. */
static void store_one(struct img_store *s)
{
	int v = imgcache_writer_probe(s->w, &s->info);
	s->bytes = imgcache_writer_size(s->w);
	if (v != IMGC_OK) {
		imgcache_writer_discard(s->w, s->sha256);
		s->status = v == IMGC_NOT_IMAGE ? "not_image" : "corrupt";
		s->why = s->info.why;
	} else {
		imgcache_writer_sha256(s->w, s->sha256);
		if (imgcache_is_placeholder(s->sha256, s->info.format, s->info.width, s->info.height)) {
			imgcache_writer_abort(s->w);
			s->status = "removed";
			s->why = "placeholder image (removed at the source)";
		} else if (imgcache_writer_commit(s->w, s->sha256, &s->dedup)) {
			s->status = "failed";
			s->why = "could not store the object";
		} else {
			s->status = "ok";
		}
	}
	s->w = NULL;
}

static void *pool_main(void *arg)
{
	struct img_pool *p = arg;
	for (;;) {
		struct img_store *s;
		pthread_mutex_lock(&p->lock);
		while (!p->in_head && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (!p->in_head) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		s = p->in_head;
		p->in_head = s->next;
		if (!p->in_head)
			p->in_tail = NULL;
		p->busy++;
		pthread_mutex_unlock(&p->lock);

		store_one(s);

		pthread_mutex_lock(&p->lock);
		s->next = NULL;
		if (p->out_tail)
			p->out_tail->next = s;
		else
			p->out_head = s;
		p->out_tail = s;
		p->busy--;
		pthread_cond_broadcast(&p->idle);
		pthread_mutex_unlock(&p->lock);
		if (p->wake)
			p->wake(p->arg);
	}
}

struct img_pool *img_pool_new(int threads, void (*wake)(void *), void *arg)
{
	struct img_pool *p = xcalloc(1, sizeof(*p));
	int i;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->wake = wake;
	p->arg = arg;
	p->threads = xcalloc((size_t)threads, sizeof(*p->threads));
	for (i = 0; i < threads; i++)
		if (!pthread_create(&p->threads[p->nthreads], NULL, pool_main, p))
			p->nthreads++;
	if (!p->nthreads)
		die("cannot start store threads");
	return p;
}

void img_pool_submit(struct img_pool *p, struct img_store *s)
{
	s->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->in_tail)
		p->in_tail->next = s;
	else
		p->in_head = s;
	p->in_tail = s;
	p->pending++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

struct img_store *img_pool_reap(struct img_pool *p)
{
	struct img_store *s;
	pthread_mutex_lock(&p->lock);
	s = p->out_head;
	if (s) {
		p->out_head = s->next;
		if (!p->out_head)
			p->out_tail = NULL;
		p->pending--;
		s->next = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return s;
}

int img_pool_pending(struct img_pool *p)
{
	int n;
	pthread_mutex_lock(&p->lock);
	n = p->pending;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void img_pool_drain(struct img_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->in_head || p->busy)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void img_pool_free(struct img_pool *p)
{
	int i;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	while (p->out_head) {
		struct img_store *s = p->out_head;
		p->out_head = s->next;
		free(s);
	}
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}

int img_parse_size(const char *s, const char *what, int64_t *out)
{
	size_t n = strlen(s);
	long v, mult = 1;
	char *num;
	int ret;

	if (n > 1) {
		switch (s[n - 1]) {
		case 'k': case 'K': mult = 1L << 10; break;
		case 'm': case 'M': mult = 1L << 20; break;
		case 'g': case 'G': mult = 1L << 30; break;
		}
	}
	num = xstrndup(s, mult > 1 ? n - 1 : n);
	ret = parse_long(num, 1, (1L << 50) / mult, what, &v);
	free(num);
	if (!ret)
		*out = (int64_t)v * mult;
	return ret;
}

/* ---- fetch ------------------------------------------------------------ */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
	signal(sig, SIG_DFL); /* a second one ends the process at once */
}

struct job {
	struct img_store store;     /* first: the pool hands it back as the job */
	char *post_id, *url;
	int attempts;               /* this run */
	struct imgcache_writer *w;
	int write_failed;
};

struct fetch_run {
	struct fetch_opts fo;
	struct fetcher *f;
	struct imgcache *cache;
	struct img_pool *pool;
	struct img_batch batch;
	struct img_tally tally;
	int retries;
	double backoff, max_backoff, max_retry_after;
	uint64_t rng;
	long done, ok, dedup, failed_store;
	uint64_t bytes;
	int verbose, err;
	int store_err;              /* the cache cannot be written: stop */
};

static double jitter(struct fetch_run *fr)
{
	fr->rng ^= fr->rng << 13;
	fr->rng ^= fr->rng >> 7;
	fr->rng ^= fr->rng << 17;
	return (double)(fr->rng >> 11) / (double)(1ULL << 53);
}

static void job_free(struct job *j)
{
	imgcache_writer_abort(j->w);
	free(j->post_id);
	free(j->url);
	free(j);
}

/* Records a job's final outcome (for this run) and frees it. */
static void job_record(struct fetch_run *fr, struct job *j, struct img_rec *r)
{
	r->post_id = j->post_id;
	r->url = j->url;
	r->attempts = j->attempts;
	r->source = "fetch";
	if (!r->status)
		r->status = "failed";
	img_tally_add(&fr->tally, r->status, r->reason);
	if (fr->verbose && strcmp(r->status, "ok"))
		fprintf(stderr, "mmdb: %s: %s: %s\n", j->post_id, r->status, r->reason ? r->reason : "");
	j->post_id = j->url = NULL;
	if (img_batch_add(&fr->batch, r))
		fr->err = 1;
	fr->done++;
	job_free(j);
}

static int on_data(void *tag, const void *buf, size_t n)
{
	struct job *j = tag;
	struct fetch_run *fr = j->store.tag;
	/* After the first failure (disk full, ...) every transfer stops: one
	 * error line, and the rows keep their state for the next run. */
	if (fr->store_err || (!j->w && imgcache_writer_new(fr->cache, &j->w)) ||
	    imgcache_writer_write(j->w, buf, n)) {
		j->write_failed = 1;
		fr->store_err = 1;
		return -1;
	}
	return 0;
}

static const char *status_of(int outcome)
{
	switch (outcome) {
	case FETCH_HTTP: return "http_error";
	case FETCH_TIMEOUT: return "timeout";
	case FETCH_TOO_LARGE: return "too_large";
	}
	return "failed";
}

static void on_done(void *tag, const struct fetch_result *res)
{
	struct job *j = tag;
	struct fetch_run *fr = j->store.tag;
	struct img_rec r = { .next_attempt = -1, .bytes = -1 };
	double delay;

	j->attempts++;
	if (res->outcome == FETCH_ABORTED || j->write_failed) {
		/* Cancelled (interrupt), or the cache could not take the body
		 * (the fetch stops): the row keeps its state. */
		job_free(j);
		return;
	}
	if (res->outcome == FETCH_OK) {
		if (!j->w) {
			r.status = "not_image";
			r.reason = xstrdup("empty body");
			job_record(fr, j, &r);
			return;
		}
		j->store.w = j->w;
		j->w = NULL;
		img_pool_submit(fr->pool, &j->store);
		return;
	}
	imgcache_writer_abort(j->w);
	j->w = NULL;
	r.http_status = res->http_status;
	r.status = status_of(res->outcome);
	if (res->retryable) {
		if (res->retry_after > fr->max_retry_after) {
			/* The server asks for a longer pause than this run waits: a later run. */
			r.reason = xstrdup(res->reason);
			r.next_attempt = (double)time(NULL) + res->retry_after;
			job_record(fr, j, &r);
			return;
		}
		if (j->attempts <= fr->retries && !interrupted) {
			if (res->retry_after >= 0)
				delay = res->retry_after * (1 + 0.1 * jitter(fr));
			else
				delay = fmin(fr->backoff * pow(2, j->attempts - 1), fr->max_backoff) *
					(0.5 + jitter(fr));
			if (fr->verbose)
				fprintf(stderr, "mmdb: %s: %s, retry %d in %.2fs\n", j->post_id,
					res->reason, j->attempts, delay);
			fetch_add(fr->f, j->url, now_seconds() + delay, j);
			return;
		}
		r.next_attempt = (double)time(NULL); /* worth another run */
	}
	r.reason = xstrdup(res->reason);
	job_record(fr, j, &r);
}

/* A stored (or rejected) body back from the pool. */
static void on_stored(struct fetch_run *fr, struct img_store *s)
{
	struct job *j = (struct job *)s;
	struct img_rec r = { .next_attempt = -1, .bytes = (int64_t)s->bytes };

	r.status = s->status;
	r.reason = s->why ? xstrdup(s->why) : NULL;
	r.http_status = 200;
	r.format = s->info.format;
	r.width = s->info.width;
	r.height = s->info.height;
	if (!strcmp(s->status, "ok")) {
		memcpy(r.sha256, s->sha256, 65);
		fr->ok++;
		fr->bytes += s->bytes;
		if (s->dedup) {
			fr->dedup++;
			img_tally_add(&fr->tally, "ok", "already in the cache (identical bytes)");
			fr->done++;
			r.post_id = j->post_id;
			r.url = j->url;
			r.attempts = j->attempts;
			r.source = "fetch";
			j->post_id = j->url = NULL;
			if (img_batch_add(&fr->batch, &r))
				fr->err = 1;
			job_free(j);
			return;
		}
	} else if (!strcmp(s->status, "failed")) {
		r.next_attempt = (double)time(NULL);
		r.format = r.width = r.height = 0;
		fr->store_err = 1;
	}
	job_record(fr, j, &r);
}

static void wake_fetcher(void *arg)
{
	fetch_wakeup(arg);
}

/* Candidate rows: pending, or failed in a way worth retrying and due. */
static const char candidates_where[] =
	" FROM images i JOIN posts p ON p.id = i.post_id"
	" WHERE (i.status = 'pending' OR (i.next_attempt_at IS NOT NULL AND i.next_attempt_at <= ?1))"
	" AND coalesce(p.image_url, '') <> '' AND (?2 IS NULL OR p.split = ?2)";

static int prepare_rows(struct db *db, int retry_failed)
{
	int ret = db_exec(db, "BEGIN IMMEDIATE;"
		/* Every post with an image URL has a row. */
		"INSERT OR IGNORE INTO images(post_id, url, status, updated_at)"
		" SELECT id, image_url, 'pending', strftime('%Y-%m-%dT%H:%M:%SZ','now') FROM posts"
		" WHERE coalesce(image_url, '') <> '';"
		/* A post whose URL changed starts over (unless its image is already here). */
		"UPDATE images SET url = (SELECT image_url FROM posts WHERE id = post_id),"
		" status = 'pending', reason = NULL, http_status = NULL, next_attempt_at = NULL"
		" WHERE status <> 'ok' AND source IS NOT 'import' AND url IS NOT"
		" (SELECT image_url FROM posts WHERE id = post_id);");
	if (!ret && retry_failed)
		ret = db_exec(db, "UPDATE images SET status = 'pending', next_attempt_at = NULL"
				  " WHERE status NOT IN ('ok', 'pending');");
	if (ret) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db);
}

static void fetch_usage(FILE *f)
{
	fprintf(f,
		"usage: mmdb images fetch [options]\n\n"
		"Downloads the image of every post that has none yet (status pending) or\n"
		"whose last try failed in a retryable way (timeouts, 5xx, 429), into the\n"
		"cache. Every outcome is recorded in the images table.\n\n"
		"  -j, --jobs N            transfers at once (64)\n"
		"      --per-host N        transfers at once per host (16)\n"
		"      --connect-timeout S connect timeout in seconds (10)\n"
		"      --timeout S         whole-transfer timeout in seconds (60)\n"
		"      --stall-timeout S   abort transfers below --min-speed for S seconds (15)\n"
		"      --min-speed BYTES   bytes/s under which a transfer counts as stalled (1024)\n"
		"      --max-bytes N       largest image accepted, e.g. 32M (32M)\n"
		"      --max-redirects N   redirects followed at most (5)\n"
		"      --retries N         retries per image in this run (3)\n"
		"      --backoff S         first retry delay; doubles each time, with jitter (1)\n"
		"      --max-backoff S     longest retry delay (60)\n"
		"      --max-retry-after S longest Retry-After waited for in this run (300)\n"
		"      --limit N           fetch at most N images\n"
		"      --split SPLIT       only posts of train, validate or test\n"
		"      --retry-failed      also retry final failures (4xx, not_image, ...)\n"
		"  -f, --format FMT        summary as table, csv or json\n");
}

static int images_fetch(int argc, char **argv, struct mmdb_ctx *ctx)
{
	enum { O_PER_HOST = 256, O_CONNECT, O_TIMEOUT, O_STALL, O_MIN_SPEED, O_MAX_BYTES,
	       O_REDIRECTS, O_RETRIES, O_BACKOFF, O_MAX_BACKOFF, O_MAX_RA, O_LIMIT, O_SPLIT,
	       O_RETRY_FAILED };
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "per-host", required_argument, NULL, O_PER_HOST },
		{ "connect-timeout", required_argument, NULL, O_CONNECT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "stall-timeout", required_argument, NULL, O_STALL },
		{ "min-speed", required_argument, NULL, O_MIN_SPEED },
		{ "max-bytes", required_argument, NULL, O_MAX_BYTES },
		{ "max-redirects", required_argument, NULL, O_REDIRECTS },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "backoff", required_argument, NULL, O_BACKOFF },
		{ "max-backoff", required_argument, NULL, O_MAX_BACKOFF },
		{ "max-retry-after", required_argument, NULL, O_MAX_RA },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "split", required_argument, NULL, O_SPLIT },
		{ "retry-failed", no_argument, NULL, O_RETRY_FAILED },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct fetch_run fr;
	struct db_stmt *rows = NULL;
	struct progress *prog = NULL;
	struct sigaction sa, old_int, old_term;
	const char *split = NULL;
	long limit = -1, fed = 0;
	int64_t total = 0, last_rowid = 0;
	int c, fmt = FMT_TABLE, retry_failed = 0, more = 1, ret = 0, signals_set = 0;
	double t0, now_unix = (double)time(NULL);
	char note[96];

	memset(&fr, 0, sizeof(fr));
	fetch_opts_init(&fr.fo);
	fr.retries = 3;
	fr.backoff = 1;
	fr.max_backoff = 60;
	fr.max_retry_after = 300;
	fr.verbose = ctx->verbose;
	while ((c = getopt_long(argc, argv, "j:f:h", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'j': bad = parse_int(optarg, 1, 4096, "--jobs", &fr.fo.jobs); break;
		case O_PER_HOST: bad = parse_int(optarg, 1, 4096, "--per-host", &fr.fo.per_host); break;
		case O_CONNECT:
			bad = parse_double(optarg, 0.001, 3600, "--connect-timeout", &fr.fo.connect_timeout);
			break;
		case O_TIMEOUT: bad = parse_double(optarg, 0, 86400, "--timeout", &fr.fo.timeout); break;
		case O_STALL:
			bad = parse_double(optarg, 0, 86400, "--stall-timeout", &fr.fo.low_speed_time);
			break;
		case O_MIN_SPEED:
			bad = parse_long(optarg, 0, 1L << 40, "--min-speed", &fr.fo.low_speed_bytes);
			break;
		case O_MAX_BYTES: bad = img_parse_size(optarg, "--max-bytes", &fr.fo.max_bytes); break;
		case O_REDIRECTS:
			bad = parse_int(optarg, 0, 50, "--max-redirects", &fr.fo.max_redirects);
			break;
		case O_RETRIES: bad = parse_int(optarg, 0, 100, "--retries", &fr.retries); break;
		case O_BACKOFF: bad = parse_double(optarg, 0, 3600, "--backoff", &fr.backoff); break;
		case O_MAX_BACKOFF:
			bad = parse_double(optarg, 0, 86400, "--max-backoff", &fr.max_backoff);
			break;
		case O_MAX_RA:
			bad = parse_double(optarg, 0, 86400, "--max-retry-after", &fr.max_retry_after);
			break;
		case O_LIMIT: bad = parse_long(optarg, 0, 1L << 40, "--limit", &limit); break;
		case O_SPLIT:
			if (strcmp(optarg, "train") && strcmp(optarg, "validate") && strcmp(optarg, "test"))
				return usage_error("images fetch: --split must be train, validate or test, not '%s'", optarg);
			split = optarg;
			break;
		case O_RETRY_FAILED: retry_failed = 1; break;
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0)
				return usage_error("images fetch: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'h': fetch_usage(stdout); return 0;
		default: fetch_usage(stderr); return 2;
		}
		if (bad)
			return 2;
	}
	if (optind < argc)
		return usage_error("images fetch: unexpected argument '%s'", argv[optind]);

	fr.rng = ((uint64_t)time(NULL) * 2654435761u) ^ ((uint64_t)getpid() << 32) ^ 1;
	if (imgcache_open(&fr.cache, ctx->cache_dir) || prepare_rows(ctx->db, retry_failed) ||
	    img_batch_init(&fr.batch, ctx->db, fr.cache)) {
		ret = 1;
		goto out;
	}
	{
		struct db_stmt *cnt = NULL;
		struct strbuf sql = STRBUF_INIT;
		sb_addf(&sql, "SELECT count(*)%s", candidates_where);
		if (db_prepare(ctx->db, &cnt, sql.buf) || db_bind_double(cnt, 1, now_unix) ||
		    db_bind_text(cnt, 2, split, -1) || db_step(cnt) != DB_ROW) {
			db_finalize(cnt);
			sb_release(&sql);
			ret = 1;
			goto out;
		}
		total = db_column_int(cnt, 0);
		db_finalize(cnt);
		sb_reset(&sql);
		sb_addf(&sql, "SELECT i.rowid, i.post_id, p.image_url%s AND i.rowid > ?3"
			" ORDER BY i.rowid LIMIT 256", candidates_where);
		if (db_prepare(ctx->db, &rows, sql.buf)) {
			sb_release(&sql);
			ret = 1;
			goto out;
		}
		sb_release(&sql);
	}
	if (limit >= 0 && total > limit)
		total = limit;
	if (fetch_new(&fr.f, &fr.fo, on_data, on_done)) {
		ret = 1;
		goto out;
	}
	fr.pool = img_pool_new(8, wake_fetcher, fr.f);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	signals_set = 1;
	interrupted = 0;

	prog = progress_start("fetch", (uint64_t)total, "images", ctx->quiet);
	t0 = now_seconds();
	while (!fr.err) {
		struct img_store *s;
		/* Feed the fetcher a page of rows when it has room. */
		while (more && !interrupted && !fr.store_err && fetch_wants_more(fr.f)) {
			int n = 0, r;
			if (fed >= total) {
				more = 0;
				break;
			}
			db_bind_double(rows, 1, now_unix);
			db_bind_text(rows, 2, split, -1);
			db_bind_int(rows, 3, last_rowid);
			while (fed < total && (r = db_step(rows)) == DB_ROW) {
				struct job *j = xcalloc(1, sizeof(*j));
				last_rowid = db_column_int(rows, 0);
				j->post_id = xstrdup(db_column_text(rows, 1));
				j->url = xstrdup(db_column_text(rows, 2));
				j->store.tag = &fr;
				fetch_add(fr.f, j->url, 0, j);
				fed++;
				n++;
			}
			db_reset(rows);
			if (!n)
				more = 0;
		}
		if (interrupted || fr.store_err)
			break;
		if (!more && !fetch_active(fr.f) && !fetch_waiting(fr.f) && !img_pool_pending(fr.pool))
			break;
		if (fetch_poll(fr.f, 0.2)) {
			ret = 1;
			break;
		}
		/* Bounded memory and descriptors: wait when stores fall behind. */
		if (img_pool_pending(fr.pool) > POOL_BACKLOG)
			img_pool_drain(fr.pool);
		while ((s = img_pool_reap(fr.pool)))
			on_stored(&fr, s);
		if (img_batch_flush(&fr.batch, 0))
			fr.err = 1;
		snprintf(note, sizeof(note), "%ld ok, %ld other, %.1f MB", fr.ok, fr.done - fr.ok,
			 (double)fr.bytes / 1e6);
		progress_note(prog, note);
		progress_update(prog, (uint64_t)fr.done);
	}
	if (interrupted || fr.store_err || fr.err)
		fetch_cancel_all(fr.f);
	img_pool_drain(fr.pool);
	{
		struct img_store *s;
		while ((s = img_pool_reap(fr.pool)))
			on_stored(&fr, s);
	}
	/* (after a failed write, say the database locked, one error is enough:
	 * rows not recorded stay pending; their objects are found next time) */
	if (!fr.err && img_batch_flush(&fr.batch, 1))
		fr.err = 1;
	progress_update(prog, (uint64_t)fr.done);
	progress_done(prog);
	prog = NULL;
	if (fr.err || fr.store_err)
		ret = 1;
	if (!ctx->quiet) {
		double el = now_seconds() - t0;
		fprintf(stderr, "mmdb: %ld of %lld images in %.1fs (%.0f/s): %ld ok (%ld already cached), "
			"%.1f MB%s\n", fr.done, (long long)total, el, el > 0 ? fr.done / el : 0.0, fr.ok,
			fr.dedup, (double)fr.bytes / 1e6,
			fr.store_err ? "; stopped: the cache cannot be written" : interrupted ? "; interrupted" : "");
	}
	img_tally_print(&fr.tally, fmt);
	if (interrupted && !ret)
		ret = 130;
out:
	if (signals_set) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	progress_done(prog);
	fetch_free(fr.f);
	img_pool_free(fr.pool);
	db_finalize(rows);
	img_batch_release(&fr.batch);
	img_tally_release(&fr.tally);
	imgcache_close(fr.cache);
	return ret;
}

/* ---- dispatch --------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: mmdb images fetch [options]        download images by URL\n"
		   "       mmdb images import [options] PATH  from an archive or a folder\n"
		   "       mmdb images verify [--rehash]      decode cached images, check hashes\n\n"
		   "Images are stored by content in <cache>/objects/ab/<sha256>; the images\n"
		   "table records each post's status (ok, pending, removed, not_image,\n"
		   "http_error, timeout, too_large, corrupt, failed) and why.\n"
		   "'mmdb images SUBCOMMAND -h' describes each.\n");
}

int cmd_images(int argc, char **argv, struct mmdb_ctx *ctx)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "fetch"))
		return images_fetch(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "import"))
		return images_import(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "verify"))
		return images_verify(argc - 1, argv + 1, ctx);
	return usage_error("images: unknown subcommand '%s' (fetch, import, verify)", argv[1]);
}

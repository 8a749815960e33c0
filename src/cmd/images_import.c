/*
 * mmdb images import / verify.
 *
 * import: image bytes from an archive (tar in any compression, zip; read
 * through archive.h, streamed, never unpacked) or a folder. Entries named
 * <id>.<ext> at any depth are matched to posts; the bytes go into the cache
 * by content, so an entry's name never becomes a path: hostile names
 * (absolute, "..", links, devices) are skipped with a reason all the same,
 * and so are entries over --max-bytes.
 *
 * Importing is a pipeline of three stages, so that decompression (the slow
 * part of a .tar.bz2) never waits for anything else: a reader thread walks
 * the archive or folder and hands whole entries over a bounded queue; the
 * main thread matches them to posts, hashes and writes them to temporary
 * files; the store pool (images.h) probes, fsyncs and renames them. Rows
 * are written in batches once their objects are durable (img_batch_flush).
 *
 * verify: every ok image is read back from the cache and decoded by
 * image.h (and, with --rehash, its hash checked); width and height (as
 * displayed) are recorded; missing objects go back to pending, images that
 * do not decode become corrupt with the decoder's reason.
 */
#define _POSIX_C_SOURCE 200809L
#include "cmds.h"
#include "images.h"
#include "../archive.h"
#include "../db.h"
#include "../entry_name.h"
#include "../image.h"
#include "../imgcache.h"
#include "../output.h"
#include "../progress.h"
#include "../util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 16)
/* Store jobs in flight before the main thread waits for the pool. */
#define POOL_BACKLOG 256
/* Bytes of read entries waiting for the main thread, at most (one entry
 * larger than this still passes, alone). */
#define QUEUE_BYTES (16 << 20)
/* How long the main thread waits for an entry before writing due rows. */
#define IDLE_WAIT 0.5

/* ---- the reader: entries over a bounded queue -------------------------- */

enum ent_kind { ENT_FILE, ENT_SKIP, ENT_END, ENT_ERROR };

struct ent {
	struct ent *next;
	int kind;            /* enum ent_kind */
	char *name;          /* the entry's path (ENT_FILE, ENT_SKIP) */
	char id[128];        /* the post id from the name (ENT_FILE) */
	const char *why;     /* ENT_SKIP: static reason */
	unsigned char *data; /* ENT_FILE: the whole entry */
	size_t len;
	uint64_t progress;   /* bytes of the archive (or files of a folder) read so far */
};

struct ent_queue {
	pthread_mutex_t lock;
	pthread_cond_t can_put, can_get;
	struct ent *head, *tail;
	size_t bytes;
	int stop;            /* the main thread gave up: the reader ends */
};

/* What the reader thread works from. */
struct reader {
	struct ent_queue q;
	const char *path;    /* archive or folder */
	int is_dir;
	int64_t max_bytes;
	pthread_t tid;
	int started;
	uint64_t files;      /* folder: regular files read */
};

static void ent_free(struct ent *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->data);
	free(e);
}

/* Queues e; 0, or -1 when the main thread has stopped (e is freed). */
static int ent_put(struct ent_queue *q, struct ent *e)
{
	pthread_mutex_lock(&q->lock);
	while (!q->stop && q->head && q->bytes + e->len > QUEUE_BYTES)
		pthread_cond_wait(&q->can_put, &q->lock);
	if (q->stop) {
		pthread_mutex_unlock(&q->lock);
		ent_free(e);
		return -1;
	}
	e->next = NULL;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	q->bytes += e->len;
	pthread_cond_signal(&q->can_get);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* The next entry, or NULL after waiting `wait` seconds for one. */
static struct ent *ent_get(struct ent_queue *q, double wait)
{
	struct ent *e;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)wait;
	until.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	while (!q->head)
		if (pthread_cond_timedwait(&q->can_get, &q->lock, &until))
			break;
	e = q->head;
	if (e) {
		q->head = e->next;
		if (!q->head)
			q->tail = NULL;
		q->bytes -= e->len;
		pthread_cond_signal(&q->can_put);
	}
	pthread_mutex_unlock(&q->lock);
	return e;
}

static struct ent *ent_new(int kind, const char *name, uint64_t progress)
{
	struct ent *e = xcalloc(1, sizeof(*e));
	e->kind = kind;
	e->name = name ? xstrdup(name) : NULL;
	e->progress = progress;
	return e;
}

static int put_skip(struct reader *rd, const char *name, const char *why, uint64_t progress)
{
	struct ent *e = ent_new(ENT_SKIP, name, progress);
	e->why = why;
	return ent_put(&rd->q, e);
}

typedef ssize_t (*read_fn)(void *src, void *buf, size_t n);

/*
 * One regular entry: its name checked, its bytes read whole (at most
 * --max-bytes) and queued. 0; 1 when the main thread has stopped; -1 when
 * the source cannot be read.
 */
static int read_entry(struct reader *rd, const char *name, int64_t size, read_fn rf, void *src,
		      uint64_t progress)
{
	struct ent *e;
	char id[128];
	size_t len = 0, alloc, most = (size_t)rd->max_bytes + 1;
	ssize_t n;

	if (entry_name_id(name, id, sizeof(id)))
		return put_skip(rd, name, "not named <id>.<ext>", progress) ? 1 : 0;
	if (size > rd->max_bytes)
		return put_skip(rd, name, "over --max-bytes", progress) ? 1 : 0;
	e = ent_new(ENT_FILE, name, progress);
	memcpy(e->id, id, sizeof(id));
	/* One byte more than declared: the end shows without growing. */
	alloc = size >= 0 ? (size_t)size + 1 : CHUNK;
	e->data = xmalloc(alloc);
	for (;;) {
		if (len == alloc) {
			if (len >= most)
				break;
			alloc = alloc * 2 < most ? alloc * 2 : most;
			e->data = xrealloc(e->data, alloc);
		}
		n = rf(src, e->data + len, alloc - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0) {
		ent_free(e);
		return -1;
	}
	if (len >= most) {
		/* The rest of the entry is skipped by the next ar_next(). */
		ent_free(e);
		return put_skip(rd, name, "over --max-bytes", progress) ? 1 : 0;
	}
	e->len = len;
	return ent_put(&rd->q, e) ? 1 : 0;
}

static ssize_t archive_read_fn(void *src, void *buf, size_t n)
{
	return ar_read(src, buf, n);
}

/* 1 when the name promises an archive (so a plain file behind it is an error). */
static int archive_named(const char *path)
{
	static const char *const suffixes[] = { ".tar", ".tgz", ".tbz", ".tbz2", ".txz", ".tzst",
						".zip", ".7z", ".cpio" };
	const char *base = strrchr(path, '/');
	size_t i;
	base = base ? base + 1 : path;
	for (i = 0; i < ARRAY_SIZE(suffixes); i++) {
		const char *p = strstr(base, suffixes[i]);
		if (p && (p[strlen(suffixes[i])] == 0 || p[strlen(suffixes[i])] == '.'))
			return 1;
	}
	return 0;
}

/* Entries of an archive; a plain (or compressed) file is one entry named after it. */
static int read_archive(struct reader *rd)
{
	struct ar_reader *ar = NULL;
	struct ar_entry e;
	int r = 0, first = 1;

	if (ar_open_flags(&ar, rd->path, AR_SKIP_DAMAGED))
		return -1;
	while ((r = ar_next(ar, &e)) == 1) {
		uint64_t at = (uint64_t)ar_bytes_consumed(ar);
		const char *why = entry_name_unsafe(e.name);
		if (first && !ar_is_archive(ar) && archive_named(rd->path)) {
			r = error("'%s' is not a valid archive", rd->path);
			break;
		}
		first = 0;
		if (e.type == AR_DIR)
			continue;
		if (!why && e.type != AR_FILE)
			why = e.type == AR_SYMLINK ? "symbolic link"
			    : e.type == AR_HARDLINK ? "hard link"
						    : "device or special file";
		if (why)
			r = put_skip(rd, e.name, why, at) ? 1 : 0;
		else
			r = read_entry(rd, e.name, e.size, archive_read_fn, ar, at);
		/* One damaged entry (a bad checksum) is skipped; the rest are read. */
		if (r < 0 && ar_damaged(ar))
			r = put_skip(rd, e.name, "damaged in the archive", at) ? 1 : 0;
		if (r)
			break;
	}
	ar_close(ar);
	return r < 0 ? -1 : 0;
}

static ssize_t fd_read_fn(void *src, void *buf, size_t n)
{
	int fd = *(int *)src;
	ssize_t r;
	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Walks a folder: regular files are entries; links and devices are skipped.
 * 0, 1 when the main thread stopped, -1 on error. */
static int read_dir(struct reader *rd, struct strbuf *path)
{
	DIR *d = opendir(path->buf);
	struct dirent *de;
	size_t len = path->len;
	int ret = 0;

	if (!d)
		return error("cannot open '%s': %s", path->buf, strerror(errno));
	while (!ret && (de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		path->len = len;
		path->buf[len] = 0;
		sb_addf(path, "/%s", de->d_name);
		if (lstat(path->buf, &st)) {
			ret = error("cannot stat '%s': %s", path->buf, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			ret = read_dir(rd, path);
		} else if (S_ISREG(st.st_mode)) {
			int fd = open(path->buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0) {
				ret = error("cannot open '%s': %s", path->buf, strerror(errno));
				break;
			}
			rd->files++;
			ret = read_entry(rd, path->buf, st.st_size, fd_read_fn, &fd, rd->files);
			if (ret < 0)
				error("cannot read '%s': %s", path->buf, strerror(errno));
			close(fd);
		} else {
			ret = put_skip(rd, path->buf,
				       S_ISLNK(st.st_mode) ? "symbolic link" : "device or special file",
				       rd->files) ? 1 : 0;
		}
	}
	path->len = len;
	path->buf[len] = 0;
	closedir(d);
	return ret;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	int r;
	if (rd->is_dir) {
		struct strbuf path = STRBUF_INIT;
		sb_adds(&path, rd->path);
		while (path.len > 1 && path.buf[path.len - 1] == '/')
			path.buf[--path.len] = 0;
		r = read_dir(rd, &path);
		sb_release(&path);
	} else {
		r = read_archive(rd);
	}
	/* (dropped when the main thread has stopped) */
	ent_put(&rd->q, ent_new(r < 0 ? ENT_ERROR : ENT_END, NULL, 0));
	return NULL;
}

static int reader_start(struct reader *rd, const char *path, int is_dir, int64_t max_bytes)
{
	memset(rd, 0, sizeof(*rd));
	pthread_mutex_init(&rd->q.lock, NULL);
	pthread_cond_init(&rd->q.can_put, NULL);
	pthread_cond_init(&rd->q.can_get, NULL);
	rd->path = path;
	rd->is_dir = is_dir;
	rd->max_bytes = max_bytes;
	if (pthread_create(&rd->tid, NULL, reader_main, rd))
		return error("cannot start a reader thread");
	rd->started = 1;
	return 0;
}

/* Stops the reader (if still running), waits for it, frees what is queued. */
static void reader_finish(struct reader *rd)
{
	struct ent *e;
	pthread_mutex_lock(&rd->q.lock);
	rd->q.stop = 1;
	pthread_cond_broadcast(&rd->q.can_put);
	pthread_mutex_unlock(&rd->q.lock);
	if (rd->started)
		pthread_join(rd->tid, NULL);
	while ((e = rd->q.head)) {
		rd->q.head = e->next;
		ent_free(e);
	}
	pthread_cond_destroy(&rd->q.can_put);
	pthread_cond_destroy(&rd->q.can_get);
	pthread_mutex_destroy(&rd->q.lock);
}

/* ---- the main thread: match, hash, write, record ----------------------- */

struct import_job {
	struct img_store store;  /* first: the pool hands it back as the job */
	char *post_id, *url;
};

struct import_run {
	struct db *db;
	struct imgcache *cache;
	struct img_pool *pool;
	struct img_batch batch;
	struct img_tally tally;  /* entries by outcome */
	struct db_stmt *lookup;
	int64_t max_bytes;
	int force, verbose, err;
	long entries, imported, objects_new;
};

static void skip(struct import_run *ir, const char *name, const char *why)
{
	img_tally_add(&ir->tally, "skipped", why);
	if (ir->verbose)
		fprintf(stderr, "mmdb: skipped '%s': %s\n", name, why);
}

static void on_imported(struct import_run *ir, struct img_store *s)
{
	struct import_job *j = (struct import_job *)s;
	struct img_rec r = { .next_attempt = -1, .bytes = (int64_t)s->bytes };

	r.post_id = j->post_id;
	r.url = j->url;
	r.status = s->status;
	r.reason = s->why ? xstrdup(s->why) : NULL;
	r.source = "import";
	r.format = s->info.format;
	r.width = s->info.width;
	r.height = s->info.height;
	if (!strcmp(s->status, "ok")) {
		memcpy(r.sha256, s->sha256, 65);
		ir->imported++;
		if (!s->dedup)
			ir->objects_new++;
	} else if (!strcmp(s->status, "failed")) {
		r.format = r.width = r.height = 0;
	}
	img_tally_add(&ir->tally, s->status, s->why);
	if (ir->verbose && s->why)
		fprintf(stderr, "mmdb: %s: %s: %s\n", j->post_id, s->status, s->why);
	if (img_batch_add(&ir->batch, &r))
		ir->err = 1;
	free(j);
}

/* Records finished store jobs (all of them when wait) and writes due rows. */
static void reap(struct import_run *ir, int wait)
{
	struct img_store *s;
	if (wait)
		img_pool_drain(ir->pool);
	while ((s = img_pool_reap(ir->pool)))
		on_imported(ir, s);
	if (img_batch_flush(&ir->batch, wait))
		ir->err = 1;
}

/* One read entry: matched to a post, written to a cache writer (hashed as
 * it goes), handed to the store pool. 0 or -1 (fatal). */
static int import_entry(struct import_run *ir, struct ent *e)
{
	struct imgcache_writer *w = NULL;
	struct import_job *j;
	const char *status, *url;
	int r;

	db_bind_text(ir->lookup, 1, e->id, -1);
	r = db_step(ir->lookup);
	if (r != DB_ROW) {
		db_reset(ir->lookup);
		if (r < 0)
			return -1;
		skip(ir, e->name, "no post with this id");
		return 0;
	}
	status = db_column_text(ir->lookup, 0);
	if (status && !strcmp(status, "ok") && !ir->force) {
		db_reset(ir->lookup);
		skip(ir, e->name, "already in the cache");
		return 0;
	}
	url = db_column_text(ir->lookup, 1);
	j = xcalloc(1, sizeof(*j));
	j->post_id = xstrdup(e->id);
	j->url = url ? xstrdup(url) : NULL;
	db_reset(ir->lookup);

	if (imgcache_writer_new(ir->cache, &w) || imgcache_writer_write(w, e->data, e->len)) {
		imgcache_writer_abort(w);
		free(j->post_id);
		free(j->url);
		free(j);
		return -1;
	}
	j->store.w = w;
	img_pool_submit(ir->pool, &j->store);
	reap(ir, img_pool_pending(ir->pool) > POOL_BACKLOG);
	return 0;
}

/* Imports one archive or folder. 0 or -1. */
static int import_path(struct import_run *ir, const char *path, int is_dir, int quiet)
{
	struct reader rd;
	struct progress *prog;
	struct stat st;
	int ret = 0;

	if (is_dir)
		prog = progress_start("import", 0, "files", quiet);
	else
		prog = progress_start("import", !stat(path, &st) && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0,
				      "bytes", quiet);
	if (reader_start(&rd, path, is_dir, ir->max_bytes)) {
		reader_finish(&rd);
		progress_done(prog);
		return -1;
	}
	while (!ir->err) {
		struct ent *e = ent_get(&rd.q, IDLE_WAIT);
		if (!e) {
			reap(ir, 0); /* nothing to read for a while: record what is done */
			continue;
		}
		if (e->kind == ENT_END || e->kind == ENT_ERROR) {
			if (e->kind == ENT_ERROR)
				ret = -1;
			ent_free(e);
			break;
		}
		progress_update(prog, e->progress);
		ir->entries++;
		if (e->kind == ENT_SKIP)
			skip(ir, e->name, e->why);
		else if (import_entry(ir, e))
			ret = -1;
		ent_free(e);
		if (ret)
			break;
	}
	reader_finish(&rd);
	progress_done(prog);
	return ret;
}

static void import_usage(FILE *f)
{
	fprintf(f,
		"usage: mmdb images import [options] PATH...\n\n"
		"Stores images from archives (tar, tar.gz/bz2/xz/zst, zip; streamed, never\n"
		"unpacked) or folders in the cache. Entries named <id>.<ext> at any depth\n"
		"are matched to posts; unknown ids are counted and skipped, and so are\n"
		"links, devices, absolute or '..' names and entries over --max-bytes.\n\n"
		"      --max-bytes N  largest image accepted, e.g. 32M (32M)\n"
		"      --force        replace images already ok\n"
		"  -f, --format FMT   summary as table, csv or json\n");
}

int images_import(int argc, char **argv, struct mmdb_ctx *ctx)
{
	enum { O_MAX_BYTES = 256, O_FORCE };
	static const struct option opts[] = {
		{ "max-bytes", required_argument, NULL, O_MAX_BYTES },
		{ "force", no_argument, NULL, O_FORCE },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct import_run ir;
	double t0 = now_seconds();
	int c, i, fmt = FMT_TABLE, ret = 0;

	memset(&ir, 0, sizeof(ir));
	ir.max_bytes = 32 << 20;
	ir.verbose = ctx->verbose;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case O_MAX_BYTES:
			if (img_parse_size(optarg, "--max-bytes", &ir.max_bytes))
				return 2;
			break;
		case O_FORCE: ir.force = 1; break;
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0)
				return usage_error("images import: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'h': import_usage(stdout); return 0;
		default: import_usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		import_usage(stderr);
		return 2;
	}
	ir.db = ctx->db;
	if (imgcache_open(&ir.cache, ctx->cache_dir) || img_batch_init(&ir.batch, ctx->db, ir.cache) ||
	    db_prepare(ctx->db, &ir.lookup,
		       "SELECT i.status, p.image_url FROM posts p LEFT JOIN images i ON i.post_id = p.id"
		       " WHERE p.id = ?1")) {
		ret = 1;
		goto out;
	}
	ir.pool = img_pool_new(8, NULL, NULL);
	for (i = optind; i < argc && !ret && !ir.err; i++) {
		struct stat st;
		if (stat(argv[i], &st)) {
			ret = error("cannot open '%s': %s", argv[i], strerror(errno));
			break;
		}
		ret = import_path(&ir, argv[i], S_ISDIR(st.st_mode), ctx->quiet);
	}
	reap(&ir, 1);
	if (ret || ir.err)
		ret = 1;
	if (!ctx->quiet)
		fprintf(stderr, "mmdb: %ld entries in %.1fs: %ld images imported (%ld new objects)\n",
			ir.entries, now_seconds() - t0, ir.imported, ir.objects_new);
	img_tally_print(&ir.tally, fmt);
out:
	img_pool_free(ir.pool);
	db_finalize(ir.lookup);
	img_batch_release(&ir.batch);
	img_tally_release(&ir.tally);
	imgcache_close(ir.cache);
	return ret;
}

/* ---- verify ----------------------------------------------------------- */

struct verify_item {
	char *post_id;
	char sha256[65];
	long http_status;
	/* results */
	const char *status;     /* "ok", "corrupt", "removed", "pending" */
	const char *why;        /* static, or why_buf */
	char why_buf[96];
	struct imgcache_info info;
	int64_t bytes;
};

struct verify_page {
	struct imgcache *cache;
	struct verify_item *items;
	int n, next, rehash;
	pthread_mutex_t lock;
};

static void verify_one(struct verify_page *pg, struct verify_item *it)
{
	char *path = imgcache_object_path(pg->cache, it->sha256);
	unsigned char *data = NULL;
	char hex[65];
	struct stat st;
	struct img img = IMG_INIT;
	size_t got = 0;
	int fd = -1;

	it->status = "corrupt";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		it->status = "pending";
		it->why = "object missing from the cache";
		goto out;
	}
	it->bytes = st.st_size;
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	if (got != (size_t)st.st_size) {
		it->why = "object unreadable";
		goto out;
	}
	if (pg->rehash) {
		imgcache_hash_buf(data, got, hex);
		if (strcmp(hex, it->sha256)) {
			it->why = "object does not match its sha256";
			goto out;
		}
	}
	/* The full decode (image.h) is the judge; the size is the displayed one. */
	if (img_probe(data, got, &it->info.format, &it->info.width, &it->info.height)) {
		it->why = "unreadable header";
		goto out;
	}
	if (img_decode_scaled(data, got, 1, 1, &img, it->why_buf, sizeof(it->why_buf))) {
		it->why = it->why_buf;
		if (!strncmp(it->why_buf, "too large", 9))
			it->status = "too_large";
		goto out;
	}
	img_release(&img);
	if (imgcache_is_placeholder(it->sha256, it->info.format, it->info.width, it->info.height)) {
		it->status = "removed";
		it->why = "placeholder image (removed at the source)";
		goto out;
	}
	it->status = "ok";
	it->why = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(data);
	free(path);
}

static void *verify_thread(void *arg)
{
	struct verify_page *pg = arg;
	for (;;) {
		int i;
		pthread_mutex_lock(&pg->lock);
		i = pg->next++;
		pthread_mutex_unlock(&pg->lock);
		if (i >= pg->n)
			return NULL;
		verify_one(pg, &pg->items[i]);
	}
}

static void verify_usage(FILE *f)
{
	fprintf(f,
		"usage: mmdb images verify [--rehash] [--split SPLIT] [--limit N]\n\n"
		"Reads every ok image back from the cache and decodes it, records width\n"
		"and height, and marks truncated or corrupt ones; --rehash\n"
		"also checks each object's bytes against its sha256. Missing objects go\n"
		"back to pending, for the next fetch.\n\n"
		"      --rehash        recompute every object's sha256\n"
		"  -j, --jobs N        threads (number of CPUs)\n"
		"      --split SPLIT   only posts of train, validate or test\n"
		"      --limit N       at most N images\n"
		"  -f, --format FMT    summary as table, csv or json\n");
}

int images_verify(int argc, char **argv, struct mmdb_ctx *ctx)
{
	enum { O_REHASH = 256, O_SPLIT, O_LIMIT };
	static const struct option opts[] = {
		{ "rehash", no_argument, NULL, O_REHASH },
		{ "jobs", required_argument, NULL, 'j' },
		{ "split", required_argument, NULL, O_SPLIT },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct verify_page pg;
	struct img_batch batch;
	struct img_tally tally = { 0 };
	struct db_stmt *rows = NULL;
	struct progress *prog = NULL;
	const char *split = NULL;
	long limit = -1, done = 0;
	int64_t total = 0, last_rowid = 0;
	int c, i, fmt = FMT_TABLE, ret = 0, threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t *tids = NULL;

	memset(&pg, 0, sizeof(pg));
	memset(&batch, 0, sizeof(batch));
	while ((c = getopt_long(argc, argv, "j:f:h", opts, NULL)) != -1) {
		switch (c) {
		case O_REHASH: pg.rehash = 1; break;
		case 'j':
			if (parse_int(optarg, 1, 256, "--jobs", &threads))
				return 2;
			break;
		case O_SPLIT:
			if (strcmp(optarg, "train") && strcmp(optarg, "validate") && strcmp(optarg, "test"))
				return usage_error("images verify: --split must be train, validate or test, not '%s'", optarg);
			split = optarg;
			break;
		case O_LIMIT:
			if (parse_long(optarg, 0, 1L << 40, "--limit", &limit))
				return 2;
			break;
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0)
				return usage_error("images verify: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'h': verify_usage(stdout); return 0;
		default: verify_usage(stderr); return 2;
		}
	}
	if (optind < argc)
		return usage_error("images verify: unexpected argument '%s'", argv[optind]);
	if (threads < 1)
		threads = 1;
	pthread_mutex_init(&pg.lock, NULL);
	if (imgcache_open(&pg.cache, ctx->cache_dir) || img_batch_init(&batch, ctx->db, NULL) ||
	    db_prepare(ctx->db, &rows,
		       "SELECT i.rowid, i.post_id, i.sha256, i.http_status FROM images i JOIN posts p ON p.id = i.post_id"
		       " WHERE i.status = 'ok' AND i.sha256 IS NOT NULL AND (?1 IS NULL OR p.split = ?1)"
		       " AND i.rowid > ?2 ORDER BY i.rowid LIMIT 1024")) {
		ret = 1;
		goto out;
	}
	{
		struct db_stmt *cnt = NULL;
		if (db_prepare(ctx->db, &cnt,
			       "SELECT count(*) FROM images i JOIN posts p ON p.id = i.post_id"
			       " WHERE i.status = 'ok' AND i.sha256 IS NOT NULL AND (?1 IS NULL OR p.split = ?1)") ||
		    db_bind_text(cnt, 1, split, -1) || db_step(cnt) != DB_ROW) {
			db_finalize(cnt);
			ret = 1;
			goto out;
		}
		total = db_column_int(cnt, 0);
		db_finalize(cnt);
	}
	if (limit >= 0 && total > limit)
		total = limit;
	tids = xcalloc((size_t)threads, sizeof(*tids));
	pg.items = xcalloc(1024, sizeof(*pg.items));
	prog = progress_start("verify", (uint64_t)total, "images", ctx->quiet);
	while (done < total) {
		int r, started = 0;
		pg.n = pg.next = 0;
		db_bind_text(rows, 1, split, -1);
		db_bind_int(rows, 2, last_rowid);
		while (done + pg.n < total && (r = db_step(rows)) == DB_ROW) {
			struct verify_item *it = &pg.items[pg.n++];
			memset(it, 0, sizeof(*it));
			last_rowid = db_column_int(rows, 0);
			it->post_id = xstrdup(db_column_text(rows, 1));
			snprintf(it->sha256, sizeof(it->sha256), "%s", db_column_text(rows, 2));
			it->http_status = (long)db_column_int(rows, 3);
		}
		db_reset(rows);
		if (!pg.n)
			break;
		for (i = 0; i < threads; i++)
			if (!pthread_create(&tids[i], NULL, verify_thread, &pg))
				started++;
			else
				tids[i] = 0;
		if (!started)
			verify_thread(&pg);
		for (i = 0; i < threads; i++)
			if (tids[i])
				pthread_join(tids[i], NULL);
		for (i = 0; i < pg.n; i++) {
			struct verify_item *it = &pg.items[i];
			struct img_rec rec = { .next_attempt = -1, .bytes = -1 };
			rec.post_id = it->post_id;
			it->post_id = NULL;
			rec.status = it->status;
			rec.http_status = it->http_status;
			rec.reason = it->why ? xstrdup(it->why) : NULL;
			if (!strcmp(it->status, "ok")) {
				memcpy(rec.sha256, it->sha256, 65);
				rec.bytes = it->bytes;
				rec.format = it->info.format;
				rec.width = it->info.width;
				rec.height = it->info.height;
			}
			img_tally_add(&tally, it->status, it->why);
			if (ctx->verbose && it->why)
				fprintf(stderr, "mmdb: %s: %s: %s\n", rec.post_id, it->status, it->why);
			if (img_batch_add(&batch, &rec)) {
				ret = 1;
				break;
			}
		}
		done += pg.n;
		progress_update(prog, (uint64_t)done);
		if (ret || img_batch_flush(&batch, 0)) {
			ret = 1;
			break;
		}
	}
	if (img_batch_flush(&batch, 1))
		ret = 1;
	progress_done(prog);
	if (!ctx->quiet)
		fprintf(stderr, "mmdb: verified %ld images\n", done);
	img_tally_print(&tally, fmt);
out:
	free(tids);
	free(pg.items);
	pthread_mutex_destroy(&pg.lock);
	db_finalize(rows);
	img_batch_release(&batch);
	img_tally_release(&tally);
	imgcache_close(pg.cache);
	return ret;
}

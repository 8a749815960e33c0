/*
 * imgcache: content-addressed image objects, format sniffing, header
 * dimensions and placeholder detection. See imgcache.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "imgcache.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

/* ---- formats ---------------------------------------------------------- */

const char *imgcache_format_name(int fmt)
{
	switch (fmt) {
	case IMG_JPEG: return "jpeg";
	case IMG_PNG: return "png";
	case IMG_GIF: return "gif";
	case IMG_WEBP: return "webp";
	}
	return NULL;
}

int imgcache_sniff(const unsigned char *b, size_t n)
{
	if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return IMG_JPEG;
	if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
		return IMG_PNG;
	if (n >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6)))
		return IMG_GIF;
	if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
		return IMG_WEBP;
	return IMG_UNKNOWN;
}

static unsigned be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static unsigned le16(const unsigned char *p) { return (unsigned)p[1] << 8 | p[0]; }
static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Walks JPEG marker segments up to the first SOFn. */
static int jpeg_dims(const unsigned char *b, size_t n, int *w, int *h)
{
	size_t i = 2;
	for (;;) {
		unsigned m, len;
		if (i + 2 > n)
			return 1;
		if (b[i] != 0xff)
			return -1;
		while (i < n && b[i] == 0xff) /* fill bytes */
			i++;
		if (i >= n)
			return 1;
		m = b[i++];
		if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7))
			continue; /* standalone markers */
		if (m == 0xd9 || m == 0xda)
			return -1; /* end of image or scan before any frame header */
		if (i + 2 > n)
			return 1;
		len = be16(b + i);
		if (len < 2)
			return -1;
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
			if (len < 7)
				return -1;
			if (i + 7 > n)
				return 1;
			*h = (int)be16(b + i + 3);
			*w = (int)be16(b + i + 5);
			return *w > 0 && *h > 0 ? 0 : -1;
		}
		i += len;
	}
}

int imgcache_header_dims(int fmt, const unsigned char *b, size_t n, int *w, int *h)
{
	*w = *h = 0;
	switch (fmt) {
	case IMG_JPEG:
		return jpeg_dims(b, n, w, h);
	case IMG_PNG:
		if (n < 24)
			return 1;
		if (memcmp(b + 12, "IHDR", 4) || be32(b + 8) != 13)
			return -1;
		if (be32(b + 16) == 0 || be32(b + 16) > INT32_MAX || be32(b + 20) == 0 ||
		    be32(b + 20) > INT32_MAX)
			return -1;
		*w = (int)be32(b + 16);
		*h = (int)be32(b + 20);
		return 0;
	case IMG_GIF:
		if (n < 10)
			return 1;
		*w = (int)le16(b + 6);
		*h = (int)le16(b + 8);
		return *w > 0 && *h > 0 ? 0 : -1;
	case IMG_WEBP:
		if (n < 30)
			return 1;
		if (!memcmp(b + 12, "VP8 ", 4)) {
			if (b[23] != 0x9d || b[24] != 0x01 || b[25] != 0x2a)
				return -1;
			*w = (int)(le16(b + 26) & 0x3fff);
			*h = (int)(le16(b + 28) & 0x3fff);
		} else if (!memcmp(b + 12, "VP8L", 4)) {
			uint32_t v = le32(b + 21);
			if (b[20] != 0x2f)
				return -1;
			*w = (int)(v & 0x3fff) + 1;
			*h = (int)((v >> 14) & 0x3fff) + 1;
		} else if (!memcmp(b + 12, "VP8X", 4)) {
			*w = (int)(b[24] | b[25] << 8 | b[26] << 16) + 1;
			*h = (int)(b[27] | b[28] << 8 | b[29] << 16) + 1;
		} else {
			return -1;
		}
		return *w > 0 && *h > 0 ? 0 : -1;
	}
	return -1;
}

static int trailer_ok(int fmt, const unsigned char *head, size_t head_n, const unsigned char *t,
		      size_t n, uint64_t total)
{
	size_t i;
	switch (fmt) {
	case IMG_JPEG:
		/* EOI near the end; some encoders pad or append a few bytes after it. */
		for (i = n; i >= 2; i--)
			if (t[i - 2] == 0xff && t[i - 1] == 0xd9)
				return 1;
		return 0;
	case IMG_PNG:
		for (i = n; i >= 8; i--)
			if (!memcmp(t + i - 8, "IEND\xae\x42\x60\x82", 8))
				return 1;
		return 0;
	case IMG_GIF:
		for (i = n; i >= 1 && n - i < 16; i--)
			if (t[i - 1] == 0x3b)
				return 1;
		return 0;
	case IMG_WEBP:
		return head_n >= 8 && (uint64_t)le32(head + 4) + 8 <= total;
	}
	return 0;
}

int imgcache_probe(const unsigned char *head, size_t head_n, const unsigned char *tail, size_t tail_n,
	      uint64_t total, struct imgcache_info *info)
{
	int r;
	memset(info, 0, sizeof(*info));
	info->format = imgcache_sniff(head, head_n);
	if (info->format == IMG_UNKNOWN) {
		info->why = total ? "not an image (no JPEG, PNG, GIF or WebP signature)" : "empty body";
		return IMGC_NOT_IMAGE;
	}
	r = imgcache_header_dims(info->format, head, head_n, &info->width, &info->height);
	if (r > 0 && head_n < total)
		return IMGC_NEED_MORE;
	if (r) {
		info->why = r > 0 ? "truncated header" : "malformed header";
		return IMGC_CORRUPT;
	}
	if (!trailer_ok(info->format, head, head_n, tail, tail_n, total)) {
		info->why = "truncated (no end-of-image marker)";
		return IMGC_CORRUPT;
	}
	return IMGC_OK;
}

/*
 * Known placeholders: imgur's "the image you are requesting does not exist
 * or is no longer available" PNG (161x81), which imgur serves with status
 * 200 for removed images.
 */
static const char *const placeholder_sha[] = {
	"9b5936f4006146e4e1e9025b474c02863c0b5614132ad40db4b925a10e8bfbb9",
};

int imgcache_is_placeholder(const char *sha, int fmt, int w, int h)
{
	size_t i;
	for (i = 0; sha && i < ARRAY_SIZE(placeholder_sha); i++)
		if (!strcmp(sha, placeholder_sha[i]))
			return 1;
	/* Other encodings of the same placeholder share its format and size. */
	return fmt == IMG_PNG && w == 161 && h == 81;
}

/* ---- hashing ---------------------------------------------------------- */

static void digest_hex(EVP_MD_CTX *md, char hex[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_DigestFinal_ex(md, d, &len);
	sha256_hex(d, hex);
}

static EVP_MD_CTX *digest_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		die("cannot initialise SHA-256");
	return md;
}

void imgcache_hash_buf(const void *data, size_t n, char hex[65])
{
	EVP_MD_CTX *md = digest_new();
	EVP_DigestUpdate(md, data, n);
	digest_hex(md, hex);
	EVP_MD_CTX_free(md);
}

int imgcache_hash_file(const char *path, char hex[65], uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	unsigned char *buf;
	EVP_MD_CTX *md;
	uint64_t total = 0;
	ssize_t r;

	if (fd < 0)
		return error("cannot open '%s': %s", path, strerror(errno));
	buf = xmalloc(1 << 17);
	md = digest_new();
	while ((r = read(fd, buf, 1 << 17)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = error("cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(md, buf, (size_t)r);
		total += (uint64_t)r;
	}
	digest_hex(md, hex);
	if (size)
		*size = total;
out:
	EVP_MD_CTX_free(md);
	free(buf);
	close(fd);
	return ret;
}

/* ---- the cache -------------------------------------------------------- */

/* Threads fsyncing object directories at once (imgcache_sync). */
#define SYNC_THREADS 8

struct imgcache {
	char *dir, *objects, *tmp;
	pthread_mutex_t lock;
	unsigned char dirty[256];
	unsigned long seq;
};

struct imgcache_writer {
	struct imgcache *c;
	char *path;
	int fd;
	EVP_MD_CTX *md;
	uint64_t size;
	unsigned char *head;
	size_t head_n;
	unsigned char tail[IMGCACHE_TAIL];
	size_t tail_n;
	char hex[65];       /* set once the digest is finished */
};

/* tmp/ files are named after their writer's pid. */
static int writer_gone(const char *name, void *arg)
{
	(void)arg;
	return name[0] != '.' && !other_process_alive(strtol(name, NULL, 10));
}

/* Removes tmp/ files whose writer process is gone. */
static int clean_tmp(const char *tmp)
{
	if (remove_matching(tmp, writer_gone, NULL))
		return error("cannot open '%s': %s", tmp, strerror(errno));
	return 0;
}

int imgcache_open(struct imgcache **out, const char *dir)
{
	struct imgcache *c = xcalloc(1, sizeof(*c));
	struct strbuf sb = STRBUF_INIT;
	int i;

	c->dir = xstrdup(dir);
	sb_addf(&sb, "%s/objects", dir);
	c->objects = sb_detach(&sb);
	sb_addf(&sb, "%s/tmp", dir);
	c->tmp = sb_detach(&sb);
	pthread_mutex_init(&c->lock, NULL);
	for (i = 0; i < 256; i++) {
		struct stat st;
		sb_reset(&sb);
		sb_addf(&sb, "%s/%02x", c->objects, i);
		if (!stat(sb.buf, &st) && S_ISDIR(st.st_mode))
			continue;
		if (mkdir_p(sb.buf, 0755))
			goto fail;
	}
	if (mkdir_p(c->tmp, 0755) || clean_tmp(c->tmp))
		goto fail;
	sb_release(&sb);
	*out = c;
	return 0;
fail:
	sb_release(&sb);
	imgcache_close(c);
	return error("cannot open the image cache '%s'", dir);
}

void imgcache_close(struct imgcache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->dir);
	free(c->objects);
	free(c->tmp);
	free(c);
}

char *imgcache_object_path(struct imgcache *c, const char *hex)
{
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "%s/%.2s/%s", c->objects, hex, hex);
	return sb_detach(&sb);
}

int imgcache_has(struct imgcache *c, const char *hex)
{
	char *p = imgcache_object_path(c, hex);
	int r = access(p, F_OK) == 0;
	free(p);
	return r;
}

int imgcache_tmp_count(struct imgcache *c)
{
	DIR *d = opendir(c->tmp);
	struct dirent *e;
	int n = 0;
	if (!d)
		return error("cannot open '%s': %s", c->tmp, strerror(errno));
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int imgcache_writer_new(struct imgcache *c, struct imgcache_writer **out)
{
	struct imgcache_writer *w;
	struct strbuf sb = STRBUF_INIT;
	unsigned long seq;
	int fd;

	pthread_mutex_lock(&c->lock);
	seq = ++c->seq;
	pthread_mutex_unlock(&c->lock);
	sb_addf(&sb, "%s/%ld.%lu.XXXXXX", c->tmp, (long)getpid(), seq);
	fd = mkstemp(sb.buf);
	if (fd < 0) {
		error("cannot create a file in '%s': %s", c->tmp, strerror(errno));
		sb_release(&sb);
		return -1;
	}
	w = xcalloc(1, sizeof(*w));
	w->c = c;
	w->fd = fd;
	w->path = sb_detach(&sb);
	w->md = digest_new();
	w->head = xmalloc(IMGCACHE_HEAD);
	*out = w;
	return 0;
}

int imgcache_writer_write(struct imgcache_writer *w, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	size_t left = n;

	if (w->head_n < IMGCACHE_HEAD) {
		size_t k = IMGCACHE_HEAD - w->head_n < n ? IMGCACHE_HEAD - w->head_n : n;
		memcpy(w->head + w->head_n, p, k);
		w->head_n += k;
	}
	if (n >= IMGCACHE_TAIL) {
		memcpy(w->tail, p + n - IMGCACHE_TAIL, IMGCACHE_TAIL);
		w->tail_n = IMGCACHE_TAIL;
	} else {
		size_t keep = w->tail_n + n > IMGCACHE_TAIL ? IMGCACHE_TAIL - n : w->tail_n;
		memmove(w->tail, w->tail + w->tail_n - keep, keep);
		memcpy(w->tail + keep, p, n);
		w->tail_n = keep + n;
	}
	EVP_DigestUpdate(w->md, p, n);
	w->size += n;
	while (left) {
		ssize_t r = write(w->fd, p, left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* The temporary file is thrown away: name the cache, not it. */
			return error("cannot write to the image cache '%s': %s", w->c->dir,
				     strerror(errno));
		}
		p += r;
		left -= (size_t)r;
	}
	return 0;
}

uint64_t imgcache_writer_size(const struct imgcache_writer *w)
{
	return w->size;
}

int imgcache_writer_probe(struct imgcache_writer *w, struct imgcache_info *info)
{
	int v = imgcache_probe(w->head, w->head_n, w->tail, w->tail_n, w->size, info);
	unsigned char *all;
	size_t got = 0;

	if (v != IMGC_NEED_MORE)
		return v;
	/* The frame header lies beyond the kept head (large EXIF or ICC data). */
	all = xmalloc(w->size);
	while (got < w->size) {
		ssize_t r = pread(w->fd, all + got, w->size - got, (off_t)got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	v = imgcache_probe(all, got, w->tail, w->tail_n, w->size, info);
	free(all);
	if (v == IMGC_NEED_MORE) {
		info->why = "truncated header";
		v = IMGC_CORRUPT;
	}
	return v;
}

void imgcache_writer_sha256(struct imgcache_writer *w, char hex[65])
{
	if (!w->hex[0])
		digest_hex(w->md, w->hex);
	memcpy(hex, w->hex, 65);
}

static void writer_free(struct imgcache_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	EVP_MD_CTX_free(w->md);
	free(w->head);
	free(w->path);
	free(w);
}

int imgcache_writer_commit(struct imgcache_writer *w, char hex[65], int *dedup)
{
	struct imgcache *c = w->c;
	char *obj = NULL;
	int ret = 0;

	*dedup = 0;
	imgcache_writer_sha256(w, hex);
	obj = imgcache_object_path(c, hex);
	if (!access(obj, F_OK)) {
		*dedup = 1;
		unlink(w->path);
		goto out;
	}
	if (fsync(w->fd)) {
		ret = error("cannot write to the image cache '%s': %s", c->dir, strerror(errno));
		unlink(w->path);
		goto out;
	}
	if (rename(w->path, obj)) {
		ret = error("cannot rename '%s' to '%s': %s", w->path, obj, strerror(errno));
		unlink(w->path);
		goto out;
	}
	pthread_mutex_lock(&c->lock);
	c->dirty[strtol((char[3]){ hex[0], hex[1], 0 }, NULL, 16)] = 1;
	pthread_mutex_unlock(&c->lock);
out:
	free(obj);
	writer_free(w);
	return ret;
}

void imgcache_writer_discard(struct imgcache_writer *w, char hex[65])
{
	imgcache_writer_sha256(w, hex);
	imgcache_writer_abort(w);
}

void imgcache_writer_abort(struct imgcache_writer *w)
{
	if (!w)
		return;
	unlink(w->path);
	writer_free(w);
}

/* Directories to fsync, shared by the threads of imgcache_sync(). */
struct dir_sync {
	struct imgcache *c;
	int dirs[256], n, next, err;
	pthread_mutex_t lock;
};

static void *dir_sync_main(void *arg)
{
	struct dir_sync *ds = arg;
	char path[4096];
	for (;;) {
		int i, fd, bad;
		pthread_mutex_lock(&ds->lock);
		i = ds->next < ds->n ? ds->dirs[ds->next++] : -1;
		pthread_mutex_unlock(&ds->lock);
		if (i < 0)
			return NULL;
		snprintf(path, sizeof(path), "%s/%02x", ds->c->objects, i);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		bad = fd < 0 || fsync(fd);
		if (bad) {
			error("cannot fsync '%s': %s", path, strerror(errno));
			pthread_mutex_lock(&ds->lock);
			ds->err = 1;
			pthread_mutex_unlock(&ds->lock);
		}
		if (fd >= 0)
			close(fd);
	}
}

/*
 * The dirty object directories are fsynced by several threads at once:
 * each fsync waits on the device, and concurrent ones share journal
 * commits and cache flushes, so a batch touching a hundred directories
 * costs a few flushes rather than a hundred.
 */
int imgcache_sync(struct imgcache *c)
{
	struct dir_sync ds;
	pthread_t tids[SYNC_THREADS];
	int i, nt = 0;

	memset(&ds, 0, sizeof(ds));
	ds.c = c;
	pthread_mutex_init(&ds.lock, NULL);
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < 256; i++)
		if (c->dirty[i])
			ds.dirs[ds.n++] = i;
	memset(c->dirty, 0, sizeof(c->dirty));
	pthread_mutex_unlock(&c->lock);
	while (nt < SYNC_THREADS && nt < ds.n / 2 &&
	       !pthread_create(&tids[nt], NULL, dir_sync_main, &ds))
		nt++;
	dir_sync_main(&ds);
	for (i = 0; i < nt; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&ds.lock);
	return ds.err ? -1 : 0;
}

/*
 * imgcache: the content-addressed image cache. Original image bytes live in
 * <cache>/objects/ab/<sha256> (ab = the first two hex digits). A writer
 * streams bytes into a temporary file under <cache>/tmp/ while hashing them;
 * committing fsyncs the file and renames it to its object name, or drops it
 * when identical bytes are already stored. A killed process leaves at most
 * temporary files, which imgcache_open() removes.
 *
 * It also knows image formats by their magic bytes (never by file name),
 * reads width and height from the headers, checks that the bytes are
 * structurally whole (trailer present), and recognises imgur's "removed"
 * placeholder. These header checks are cheap and run on every stored image;
 * the full decode is image.h's (mmdb images verify). Hashing uses OpenSSL's SHA-256 (libcrypto is included here
 * only).
 */
#ifndef MMDB_IMGCACHE_H
#define MMDB_IMGCACHE_H

#include "image.h"

#include <stddef.h>
#include <stdint.h>

/* Formats are image.h's enum img_format (IMG_UNKNOWN, IMG_JPEG, ...). */

/* "jpeg", "png", "gif", "webp"; NULL for IMG_UNKNOWN. */
const char *imgcache_format_name(int fmt);

/* The format from the first bytes (at least 12 are needed for WebP); IMG_UNKNOWN if unknown. */
int imgcache_sniff(const unsigned char *buf, size_t n);

/*
 * Width and height from the image header in buf (the start of the file).
 * Returns 0 with *w, *h set; 1 when buf ends before the dimensions (hand it
 * more bytes); -1 when the header is malformed. Prints nothing.
 */
int imgcache_header_dims(int fmt, const unsigned char *buf, size_t n, int *w, int *h);

/* 1 when (sha256, format, width, height) is a known "image removed" placeholder. */
int imgcache_is_placeholder(const char *sha256_hex, int fmt, int w, int h);

/*
 * What a whole file's bytes are, from its head (first bytes), tail (last
 * bytes; may overlap head) and size. Beyond the header, the file must end
 * the way a whole file of its format ends (JPEG's EOI marker near the end,
 * PNG's IEND chunk, GIF's trailer, WebP's RIFF length): a cheap check for
 * truncation, not a decode.
 */
enum imgcache_verdict {
	IMGC_OK = 0,        /* a whole image of a known format */
	IMGC_NOT_IMAGE,     /* no image magic (HTML, text, ...) */
	IMGC_CORRUPT,       /* image magic, but a bad header or a missing trailer */
	IMGC_NEED_MORE,     /* the dimensions lie beyond head: probe again with more */
};
struct imgcache_info {
	int format;        /* enum img_format */
	int width, height; /* 0 when unknown */
	const char *why;   /* for IMGC_CORRUPT/IMGC_NOT_IMAGE: a static reason */
};
int imgcache_probe(const unsigned char *head, size_t head_n, const unsigned char *tail, size_t tail_n,
	      uint64_t total, struct imgcache_info *info);

/* SHA-256 of n bytes in lower-case hex. */
void imgcache_hash_buf(const void *data, size_t n, char hex[65]);
/* SHA-256 of a whole file in lower-case hex; 0 or error(). */
int imgcache_hash_file(const char *path, char hex[65], uint64_t *size);

struct imgcache;
struct imgcache_writer;

/*
 * Opens (creating) the cache at dir: objects/00..ff and tmp/. Temporary
 * files left in tmp/ by a killed process are removed. *out owns the cache;
 * free with imgcache_close(). Thread-safe once open: writers may be
 * committed from several threads.
 */
int imgcache_open(struct imgcache **out, const char *dir);
void imgcache_close(struct imgcache *c);

/* Object path for a hex sha256: a new string owned by the caller. */
char *imgcache_object_path(struct imgcache *c, const char *sha256_hex);
/* 1 if the object exists. */
int imgcache_has(struct imgcache *c, const char *sha256_hex);
/* The number of files in tmp/ (0 after a clean run); -1 on error. */
int imgcache_tmp_count(struct imgcache *c);

/* Head and tail bytes kept by a writer for imgcache_probe(). */
#define IMGCACHE_HEAD 16384
#define IMGCACHE_TAIL 1024

/*
 * A writer: a temporary file being filled. imgcache_writer_new() creates it
 * (0 or error()); write appends (0 or error()); the writer keeps the first
 * IMGCACHE_HEAD and last IMGCACHE_TAIL bytes for probing.
 */
int imgcache_writer_new(struct imgcache *c, struct imgcache_writer **out);
int imgcache_writer_write(struct imgcache_writer *w, const void *buf, size_t n);
uint64_t imgcache_writer_size(const struct imgcache_writer *w);
/*
 * Probes the bytes written so far as a whole file (reading the temporary
 * file back when the dimensions lie beyond the kept head). Fills info;
 * returns the verdict (never IMGC_NEED_MORE).
 */
int imgcache_writer_probe(struct imgcache_writer *w, struct imgcache_info *info);
/* The sha256 of the bytes written (finishes the hash: write no more after). */
void imgcache_writer_sha256(struct imgcache_writer *w, char hex[65]);
/*
 * Finishes the hash, fsyncs and renames the file to its object (or removes
 * it when the object already exists; *dedup is then 1). hex receives the
 * sha256. The writer is freed whatever happens. 0 or error().
 */
int imgcache_writer_commit(struct imgcache_writer *w, char hex[65], int *dedup);
/* Finishes the hash without storing anything (hex set); frees the writer. */
void imgcache_writer_discard(struct imgcache_writer *w, char hex[65]);
/* Removes the temporary file and frees the writer (NULL is fine). */
void imgcache_writer_abort(struct imgcache_writer *w);

/*
 * Makes the renames done since the last call durable (fsyncs the object
 * directories they touched). Call before recording the objects in the
 * database. 0 or error().
 */
int imgcache_sync(struct imgcache *c);

#endif

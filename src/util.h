/*
 * util: error reporting, checked allocation, strict number parsing and a
 * growable string buffer. Every module may use it; it depends on nothing
 * but libc.
 */
#ifndef MMDB_UTIL_H
#define MMDB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MMDB_VERSION "0.1.0"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifdef __GNUC__
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#else
#define PRINTF_LIKE(f, a)
#define NORETURN
#endif

/*
 * error() prints "mmdb: <message>" to stderr and returns -1, so library code
 * can write `return error("cannot open '%s'", path);`. warning() prints
 * "mmdb: warning: <message>". die() prints and exits 1; only main.c and
 * src/cmd/ may call it.
 */
int error(const char *fmt, ...) PRINTF_LIKE(1, 2);
void warning(const char *fmt, ...) PRINTF_LIKE(1, 2);
void die(const char *fmt, ...) PRINTF_LIKE(1, 2) NORETURN;
/*
 * Copies the message of the latest error(), die() or usage_error() (from any
 * thread; without the "mmdb: ") into buf of n bytes, cut to fit; "" if
 * there was none. For recording why something failed.
 */
void error_last(char *buf, size_t n);

/*
 * usage_error() prints "mmdb: <message>" and returns 2 (the usage exit
 * status), for `return usage_error("...")` in src/cmd/.
 */
int usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Allocation that aborts with a message on failure; never returns NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* a * b, aborting on overflow. */
size_t st_mult(size_t a, size_t b);
/* a + b, aborting on overflow. */
size_t st_add(size_t a, size_t b);
/* Grow *p (holding *alloc elements of size elem) to hold at least n. */
void *grow_array(void *p, size_t elem, size_t n, size_t *alloc);
#define ALLOC_GROW(p, n, alloc) ((p) = grow_array((p), sizeof(*(p)), (n), &(alloc)))

/*
 * Strict number parsing for values from users. The whole string must be a
 * number inside [min, max]; otherwise an error naming `what` is printed and
 * -1 returned. `--lr 1e-5x`, `--epochs -3` fail; nothing is silently
 * truncated.
 */
int parse_double(const char *s, double min, double max, const char *what, double *out);
int parse_long(const char *s, long min, long max, const char *what, long *out);
int parse_int(const char *s, int min, int max, const char *what, int *out);

/* strbuf: a growable NUL-terminated buffer. sb_init / sb_release. */
struct strbuf {
	char *buf;  /* always NUL-terminated once anything is added */
	size_t len;
	size_t alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }
void sb_init(struct strbuf *sb);
void sb_release(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_grow(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const void *data, size_t n);
void sb_addc(struct strbuf *sb, char c);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addf(struct strbuf *sb, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Appends s as a JSON string literal (quotes and escapes included). */
void sb_add_json_str(struct strbuf *sb, const char *s);
/* Returns the buffer, owned by the caller (never NULL); sb is reset. */
char *sb_detach(struct strbuf *sb);

/* Seconds since an arbitrary epoch, monotonic. */
double now_seconds(void);
/* UTC wall-clock time as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void iso8601_now(char *buf, size_t n);

/* Lower-case hex SHA-256 (65 bytes incl. NUL). */
struct sha256_ctx {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t fill;
};
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t n);
void sha256_final(struct sha256_ctx *c, unsigned char out[32]);
void sha256_hex(const unsigned char digest[32], char hex[65]);
/* Hashes a whole file; returns 0 or error(). */
int sha256_file(const char *path, char hex[65], uint64_t *size);

/* The git blob id of a file: SHA-1 of "blob SIZE\0" and its bytes, in
 * lower-case hex (41 bytes incl. NUL). 0 or error(). */
int git_blob_sha1_file(const char *path, char hex[41]);

/* mkdir -p; returns 0 or error(). */
int mkdir_p(const char *path, int mode);

/* 1 when pid is another process that is alive (a temporary file named
 * after its writer is still being written). */
int other_process_alive(long pid);

/*
 * Removes the entries of dir whose names match(name, arg) accepts (returns
 * 1), warning about any that cannot be removed. Returns 0, or -1 with
 * errno set (no message) when dir cannot be opened.
 */
int remove_matching(const char *dir, int (*match)(const char *name, void *arg), void *arg);

#endif

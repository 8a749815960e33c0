/*
 * util: error reporting, checked allocation, number parsing, strbuf, time,
 * SHA-256, directories. See util.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The latest error's message, for error_last(); any thread may set it. */
static pthread_mutex_t last_mu = PTHREAD_MUTEX_INITIALIZER;
static char last_msg[512];

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "mmdb: %s%s\n", prefix, msg);
	if (!*prefix) {
		size_t n = strlen(msg);
		if (n >= sizeof(last_msg)) /* cut at a UTF-8 character boundary */
			for (n = sizeof(last_msg) - 1; n && ((unsigned char)msg[n] & 0xC0) == 0x80; n--)
				;
		pthread_mutex_lock(&last_mu);
		memcpy(last_msg, msg, n);
		last_msg[n] = '\0';
		pthread_mutex_unlock(&last_mu);
	}
}

void error_last(char *buf, size_t n)
{
	if (!n)
		return;
	pthread_mutex_lock(&last_mu);
	snprintf(buf, n, "%s", last_msg);
	pthread_mutex_unlock(&last_mu);
}

int error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	exit(1);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return 2;
}

static void NORETURN oom(size_t n)
{
	fprintf(stderr, "mmdb: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(st_mult(nmemb, size));
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(st_add(n, 1));
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

size_t st_mult(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b) {
		fprintf(stderr, "mmdb: size overflow: %zu * %zu\n", a, b);
		abort();
	}
	return a * b;
}

size_t st_add(size_t a, size_t b)
{
	if (a > SIZE_MAX - b) {
		fprintf(stderr, "mmdb: size overflow: %zu + %zu\n", a, b);
		abort();
	}
	return a + b;
}

void *grow_array(void *p, size_t elem, size_t n, size_t *alloc)
{
	size_t na;
	if (n <= *alloc)
		return p;
	na = *alloc < 16 ? 16 : *alloc;
	while (na < n)
		na = st_mult(na, 2);
	p = xrealloc(p, st_mult(na, elem));
	*alloc = na;
	return p;
}

int parse_double(const char *s, double min, double max, const char *what, double *out)
{
	char *end;
	double v;
	if (!s || !*s)
		return error("%s: expected a number, got an empty string", what);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end)
		return error("%s: '%s' is not a number", what, s);
	if (errno == ERANGE || !isfinite(v))
		return error("%s: '%s' is out of range", what, s);
	if (v < min || v > max)
		return error("%s: %s is out of range [%g, %g]", what, s, min, max);
	*out = v;
	return 0;
}

int parse_long(const char *s, long min, long max, const char *what, long *out)
{
	char *end;
	long v;
	if (!s || !*s)
		return error("%s: expected an integer, got an empty string", what);
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end)
		return error("%s: '%s' is not an integer", what, s);
	if (errno == ERANGE || v < min || v > max)
		return error("%s: %s is out of range [%ld, %ld]", what, s, min, max);
	*out = v;
	return 0;
}

int parse_int(const char *s, int min, int max, const char *what, int *out)
{
	long v;
	if (parse_long(s, min, max, what, &v))
		return -1;
	*out = (int)v;
	return 0;
}

void sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

void sb_release(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need = st_add(st_add(sb->len, extra), 1);
	if (need > sb->alloc)
		sb->buf = grow_array(sb->buf, 1, need, &sb->alloc);
}

void sb_add(struct strbuf *sb, const void *data, size_t n)
{
	sb_grow(sb, n);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_addc(struct strbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void sb_adds(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;
	sb_grow(sb, 64);
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sb->alloc - sb->len) {
		sb_grow(sb, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
		va_end(ap);
	}
	sb->len += (size_t)n;
}

void sb_add_json_str(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	sb_addc(sb, '"');
	for (; *p; p++) {
		switch (*p) {
		case '"': sb_adds(sb, "\\\""); break;
		case '\\': sb_adds(sb, "\\\\"); break;
		case '\n': sb_adds(sb, "\\n"); break;
		case '\r': sb_adds(sb, "\\r"); break;
		case '\t': sb_adds(sb, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				sb_addf(sb, "\\u%04x", *p);
			else
				sb_addc(sb, (char)*p);
		}
	}
	sb_addc(sb, '"');
}

char *sb_detach(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");
	sb_init(sb);
	return p;
}

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void iso8601_now(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* SHA-256 (FIPS 180-4). */
static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;
	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
/*
 * The same compression with the x86 SHA extensions (SHA-NI), about ten
 * times faster: every byte of an ingested file and of each image is hashed.
 * The state is kept as ABEF/CDGH vectors; the message schedule runs four
 * words at a time with sha256msg1/msg2.
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void sha256_blocks_ni(uint32_t h[8], const unsigned char *p, size_t nblocks)
{
	const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i s0, s1, tmp, msg, w[4], abef, cdgh;
	int j;

	tmp = _mm_loadu_si128((const __m128i *)&h[0]);
	s1 = _mm_loadu_si128((const __m128i *)&h[4]);
	tmp = _mm_shuffle_epi32(tmp, 0xB1);       /* CDAB */
	s1 = _mm_shuffle_epi32(s1, 0x1B);         /* EFGH */
	s0 = _mm_alignr_epi8(tmp, s1, 8);         /* ABEF */
	s1 = _mm_blend_epi16(s1, tmp, 0xF0);      /* CDGH */
	for (; nblocks; nblocks--, p += 64) {
		abef = s0;
		cdgh = s1;
		for (j = 0; j < 4; j++)
			w[j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * j)), mask);
		for (j = 0; j < 16; j++) {
			if (j >= 4) { /* w[j&3] holds words 4(j-4)..: make it 4j.. */
				tmp = _mm_sha256msg1_epu32(w[j & 3], w[(j - 3) & 3]);
				tmp = _mm_add_epi32(tmp, _mm_alignr_epi8(w[(j - 1) & 3], w[(j - 2) & 3], 4));
				w[j & 3] = _mm_sha256msg2_epu32(tmp, w[(j - 1) & 3]);
			}
			msg = _mm_add_epi32(w[j & 3], _mm_loadu_si128((const __m128i *)&K256[4 * j]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
			msg = _mm_shuffle_epi32(msg, 0x0E);
			s0 = _mm_sha256rnds2_epu32(s0, s1, msg);
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}
	tmp = _mm_shuffle_epi32(s0, 0x1B);        /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xB1);         /* DCHG */
	s0 = _mm_blend_epi16(tmp, s1, 0xF0);      /* DCBA */
	s1 = _mm_alignr_epi8(s1, tmp, 8);         /* HGFE */
	_mm_storeu_si128((__m128i *)&h[0], s0);
	_mm_storeu_si128((__m128i *)&h[4], s1);
}

/* CPUID: SHA (leaf 7, EBX bit 29), SSE4.1 and SSSE3 (leaf 1, ECX bits 19
 * and 9). Asked directly: clang 14's __builtin_cpu_supports knows no "sha". */
static int have_sha_ni(void)
{
	static int have = -1;
	if (have < 0) {
		unsigned a, b, c, d;
		int ok = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19)) && (c & (1u << 9));
		have = ok && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
	}
	return have;
}
#endif

static void sha256_blocks(uint32_t h[8], const unsigned char *p, size_t nblocks)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (have_sha_ni()) {
		sha256_blocks_ni(h, p, nblocks);
		return;
	}
#endif
	for (; nblocks; nblocks--, p += 64)
		sha256_block(h, p);
}

void sha256_init(struct sha256_ctx *c)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->fill = 0;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	c->len += n;
	if (c->fill) {
		size_t take = 64 - c->fill < n ? 64 - c->fill : n;
		memcpy(c->buf + c->fill, p, take);
		c->fill += take;
		p += take;
		n -= take;
		if (c->fill < 64)
			return;
		sha256_blocks(c->h, c->buf, 1);
		c->fill = 0;
	}
	sha256_blocks(c->h, p, n / 64);
	p += n / 64 * 64;
	n %= 64;
	memcpy(c->buf, p, n);
	c->fill = n;
}

void sha256_final(struct sha256_ctx *c, unsigned char out[32])
{
	uint64_t bits = c->len * 8;
	unsigned char pad = 0x80, zero = 0, lenb[8];
	int i;
	sha256_update(c, &pad, 1);
	while (c->fill != 56)
		sha256_update(c, &zero, 1);
	for (i = 0; i < 8; i++)
		lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(c, lenb, 8);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

void sha256_hex(const unsigned char digest[32], char hex[65])
{
	static const char x[] = "0123456789abcdef";
	int i;
	for (i = 0; i < 32; i++) {
		hex[2 * i] = x[digest[i] >> 4];
		hex[2 * i + 1] = x[digest[i] & 15];
	}
	hex[64] = '\0';
}

int sha256_file(const char *path, char hex[65], uint64_t *size)
{
	struct sha256_ctx c;
	unsigned char buf[1 << 16], d[32];
	ssize_t n;
	uint64_t total = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return error("cannot open '%s': %s", path, strerror(errno));
	sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		sha256_update(&c, buf, (size_t)n);
		total += (uint64_t)n;
	}
	if (n < 0) {
		int e = errno;
		close(fd);
		return error("cannot read '%s': %s", path, strerror(e));
	}
	close(fd);
	sha256_final(&c, d);
	sha256_hex(d, hex);
	if (size)
		*size = total;
	return 0;
}

int mkdir_p(const char *path, int mode)
{
	char *p = xstrdup(path), *s;
	int ret = 0;
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) && errno != EEXIST) {
			ret = error("cannot create directory '%s': %s", p, strerror(errno));
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) && errno != EEXIST)
		ret = error("cannot create directory '%s': %s", p, strerror(errno));
out:
	free(p);
	return ret;
}

int other_process_alive(long pid)
{
	return pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int remove_matching(const char *dir, int (*match)(const char *name, void *arg), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct strbuf path = STRBUF_INIT;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !match(e->d_name, arg))
			continue;
		sb_reset(&path);
		sb_addf(&path, "%s/%s", dir, e->d_name);
		if (unlink(path.buf) && errno != ENOENT)
			warning("cannot remove '%s': %s", path.buf, strerror(errno));
	}
	closedir(d);
	sb_release(&path);
	return 0;
}

/* ---- SHA-1, for git blob ids only (what the Hugging Face hub lists for plain files) ---- */

static uint32_t rol32(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	int i;
	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (i = 0; i < 80; i++) {
		uint32_t f, k, t;
		if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
		else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
		else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
		else { f = b ^ c ^ d; k = 0xca62c1d6; }
		t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = t;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

struct sha1_ctx {
	uint32_t h[5];
	uint64_t len;
	unsigned char buf[64];
	size_t fill;
};

static void sha1_update(struct sha1_ctx *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	c->len += n;
	while (n) {
		size_t k = 64 - c->fill < n ? 64 - c->fill : n;
		memcpy(c->buf + c->fill, p, k);
		c->fill += k;
		p += k;
		n -= k;
		if (c->fill == 64) {
			sha1_block(c->h, c->buf);
			c->fill = 0;
		}
	}
}

int git_blob_sha1_file(const char *path, char hex[41])
{
	static const char x[] = "0123456789abcdef";
	struct sha1_ctx c = { { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 }, 0, { 0 }, 0 };
	unsigned char buf[1 << 16], pad[72];
	char head[32];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY), hl;
	if (fd < 0)
		return error("cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		int e = errno;
		close(fd);
		return error("cannot stat '%s': %s", path, strerror(e));
	}
	hl = snprintf(head, sizeof(head), "blob %lld", (long long)st.st_size);
	sha1_update(&c, head, (size_t)hl + 1); /* the NUL too */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sha1_update(&c, buf, (size_t)n);
	close(fd);
	if (n < 0)
		return error("cannot read '%s'", path);
	uint64_t bits = c.len * 8;
	size_t padn = (c.fill < 56 ? 56 : 120) - c.fill;
	memset(pad, 0, sizeof(pad));
	pad[0] = 0x80;
	for (int i = 0; i < 8; i++)
		pad[padn + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(&c, pad, padn + 8);
	for (int i = 0; i < 20; i++) {
		unsigned char b = (unsigned char)(c.h[i / 4] >> (24 - 8 * (i % 4)));
		hex[2 * i] = x[b >> 4];
		hex[2 * i + 1] = x[b & 15];
	}
	hex[40] = '\0';
	return 0;
}

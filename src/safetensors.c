/*
 * safetensors: reading (with every hostile-file check before data is
 * touched) and writing of the safetensors weight format. See safetensors.h.
 */
#include "safetensors.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	size_t size;
} dtypes[ST_NDTYPES] = {
	[ST_F64] = {"F64", 8}, [ST_F32] = {"F32", 4}, [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2},
	[ST_I64] = {"I64", 8}, [ST_I32] = {"I32", 4}, [ST_I16] = {"I16", 2}, [ST_I8] = {"I8", 1},
	[ST_U8] = {"U8", 1}, [ST_BOOL] = {"BOOL", 1},
};

size_t st_dtype_size(int dtype)
{
	return dtype >= 0 && dtype < ST_NDTYPES ? dtypes[dtype].size : 0;
}

const char *st_dtype_name(int dtype)
{
	return dtype >= 0 && dtype < ST_NDTYPES ? dtypes[dtype].name : "?";
}

int st_dtype_from_name(const char *name)
{
	for (int i = 0; i < ST_NDTYPES; i++)
		if (!strcmp(name, dtypes[i].name))
			return i;
	return -1;
}

static int fail(char *err, size_t err_n, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int fail(char *err, size_t err_n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (err && err_n)
		snprintf(err, err_n, "%s", msg);
	else
		error("%s", msg);
	return -1;
}

/* ---- a strict JSON reader for the header ---- */

struct jp {
	const char *s, *end;
	const char *what;     /* for messages: the file name */
	char *err;
	size_t err_n;
};

static void ws(struct jp *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int jfail(struct jp *p, const char *msg)
{
	return fail(p->err, p->err_n, "%s: bad safetensors header: %s", p->what, msg);
}

static int expect(struct jp *p, char c)
{
	ws(p);
	if (p->s >= p->end || *p->s != c) {
		char m[64];
		snprintf(m, sizeof m, "expected '%c'", c);
		return jfail(p, m);
	}
	p->s++;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A JSON string into a malloc'd UTF-8 buffer (NUL characters rejected). */
static int jstring(struct jp *p, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	*out = NULL;
	if (expect(p, '"') < 0)
		return -1;
	for (;;) {
		if (p->s >= p->end)
			goto bad;
		unsigned char c = (unsigned char)*p->s++;
		if (c == '"')
			break;
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			sb_addc(&sb, (char)c);
			continue;
		}
		if (p->s >= p->end)
			goto bad;
		c = (unsigned char)*p->s++;
		switch (c) {
		case '"': case '\\': case '/': sb_addc(&sb, (char)c); break;
		case 'b': sb_addc(&sb, '\b'); break;
		case 'f': sb_addc(&sb, '\f'); break;
		case 'n': sb_addc(&sb, '\n'); break;
		case 'r': sb_addc(&sb, '\r'); break;
		case 't': sb_addc(&sb, '\t'); break;
		case 'u': {
			unsigned cp = 0;
			for (int i = 0; i < 4; i++) {
				int h = p->s < p->end ? hexval(*p->s++) : -1;
				if (h < 0)
					goto bad;
				cp = cp << 4 | (unsigned)h;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo = 0;
				if (p->end - p->s < 6 || p->s[0] != '\\' || p->s[1] != 'u')
					goto bad;
				p->s += 2;
				for (int i = 0; i < 4; i++) {
					int h = hexval(*p->s++);
					if (h < 0)
						goto bad;
					lo = lo << 4 | (unsigned)h;
				}
				if (lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				goto bad;
			}
			if (cp == 0)
				goto bad;
			if (cp < 0x80) {
				sb_addc(&sb, (char)cp);
			} else if (cp < 0x800) {
				sb_addc(&sb, (char)(0xc0 | cp >> 6));
				sb_addc(&sb, (char)(0x80 | (cp & 0x3f)));
			} else if (cp < 0x10000) {
				sb_addc(&sb, (char)(0xe0 | cp >> 12));
				sb_addc(&sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
				sb_addc(&sb, (char)(0x80 | (cp & 0x3f)));
			} else {
				sb_addc(&sb, (char)(0xf0 | cp >> 18));
				sb_addc(&sb, (char)(0x80 | ((cp >> 12) & 0x3f)));
				sb_addc(&sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
				sb_addc(&sb, (char)(0x80 | (cp & 0x3f)));
			}
			break;
		}
		default:
			goto bad;
		}
	}
	if (!sb.buf)
		sb_adds(&sb, "");
	*out = sb_detach(&sb);
	return 0;
bad:
	sb_release(&sb);
	return jfail(p, "bad string");
}

/* A non-negative integer (no sign, fraction or exponent) up to 2^63 - 1. */
static int juint(struct jp *p, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;
	ws(p);
	while (p->s < p->end && *p->s >= '0' && *p->s <= '9') {
		unsigned d = (unsigned)(*p->s++ - '0');
		if (v > (UINT64_C(0x7fffffffffffffff) - d) / 10)
			return jfail(p, "integer too large");
		v = v * 10 + d;
		digits++;
	}
	if (!digits)
		return jfail(p, "expected a non-negative integer");
	if (p->s < p->end && (*p->s == '.' || *p->s == 'e' || *p->s == 'E'))
		return jfail(p, "expected an integer");
	*out = v;
	return 0;
}

/* ',' then more, or the closing bracket: returns 1 to go on, 0 at the end. */
static int jnext(struct jp *p, char close)
{
	ws(p);
	if (p->s < p->end && *p->s == ',') {
		p->s++;
		return 1;
	}
	if (p->s < p->end && *p->s == close) {
		p->s++;
		return 0;
	}
	return jfail(p, "expected ',' or a closing bracket");
}

static int jempty(struct jp *p, char close)
{
	ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		return 1;
	}
	return 0;
}

static int juint_array(struct jp *p, uint64_t *v, int max, int *n)
{
	*n = 0;
	if (expect(p, '[') < 0)
		return -1;
	if (jempty(p, ']'))
		return 0;
	for (;;) {
		if (*n >= max)
			return jfail(p, "too many array elements");
		if (juint(p, &v[(*n)++]) < 0)
			return -1;
		int r = jnext(p, ']');
		if (r <= 0)
			return r;
	}
}

static int parse_metadata(struct jp *p, struct st_file *f)
{
	if (expect(p, '{') < 0)
		return -1;
	if (jempty(p, '}'))
		return 0;
	for (;;) {
		char *k = NULL, *v = NULL;
		if (jstring(p, &k) < 0 || expect(p, ':') < 0 || jstring(p, &v) < 0) {
			free(k);
			free(v);
			return -1;
		}
		f->meta_key = xrealloc(f->meta_key, (f->n_meta + 1) * sizeof(char *));
		f->meta_val = xrealloc(f->meta_val, (f->n_meta + 1) * sizeof(char *));
		f->meta_key[f->n_meta] = k;
		f->meta_val[f->n_meta++] = v;
		int r = jnext(p, '}');
		if (r <= 0)
			return r;
	}
}

static int parse_tensor(struct jp *p, struct st_tensor *t)
{
	int have_dtype = 0, have_shape = 0, have_off = 0;
	if (expect(p, '{') < 0)
		return -1;
	if (!jempty(p, '}'))
		for (;;) {
			char *k = NULL;
			if (jstring(p, &k) < 0)
				return -1;
			if (expect(p, ':') < 0) {
				free(k);
				return -1;
			}
			if (!strcmp(k, "dtype") && !have_dtype) {
				char *d = NULL;
				free(k);
				if (jstring(p, &d) < 0)
					return -1;
				t->dtype = st_dtype_from_name(d);
				if (t->dtype < 0) {
					fail(p->err, p->err_n, "%s: tensor '%s': unknown dtype '%s'", p->what, t->name, d);
					free(d);
					return -1;
				}
				free(d);
				have_dtype = 1;
			} else if (!strcmp(k, "shape") && !have_shape) {
				uint64_t v[ST_MAX_DIMS + 1];
				free(k);
				if (juint_array(p, v, ST_MAX_DIMS, &t->ndim) < 0)
					return -1;
				for (int i = 0; i < t->ndim; i++)
					t->shape[i] = (int64_t)v[i];
				have_shape = 1;
			} else if (!strcmp(k, "data_offsets") && !have_off) {
				uint64_t v[2];
				int n;
				free(k);
				if (juint_array(p, v, 2, &n) < 0)
					return -1;
				if (n != 2)
					return fail(p->err, p->err_n, "%s: tensor '%s': data_offsets needs 2 numbers",
						    p->what, t->name);
				if (v[1] < v[0])
					return fail(p->err, p->err_n, "%s: tensor '%s': data_offsets end before begin",
						    p->what, t->name);
				t->offset = v[0];
				t->nbytes = v[1] - v[0];
				have_off = 1;
			} else {
				fail(p->err, p->err_n, "%s: tensor '%s': unexpected or repeated field '%s'",
				     p->what, t->name, k);
				free(k);
				return -1;
			}
			int r = jnext(p, '}');
			if (r < 0)
				return -1;
			if (!r)
				break;
		}
	if (!have_dtype || !have_shape || !have_off)
		return fail(p->err, p->err_n, "%s: tensor '%s': needs dtype, shape and data_offsets",
			    p->what, t->name);
	return 0;
}

uint64_t st_numel(const struct st_tensor *t)
{
	uint64_t n = 1;
	for (int i = 0; i < t->ndim; i++)
		n *= (uint64_t)t->shape[i];
	return n;
}

static int cmp_offset(const void *a, const void *b)
{
	const struct st_tensor *x = *(const struct st_tensor *const *)a, *y = *(const struct st_tensor *const *)b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_name(const void *a, const void *b)
{
	const struct st_tensor *x = *(const struct st_tensor *const *)a, *y = *(const struct st_tensor *const *)b;
	return strcmp(x->name, y->name);
}

/* Validates what the header claims against the data section. */
static int check_tensors(struct st_file *f, const char *what, char *err, size_t err_n)
{
	int ret = -1;
	const struct st_tensor **byoff = xmalloc((f->n + 1) * sizeof(*byoff));
	for (size_t i = 0; i < f->n; i++) {
		const struct st_tensor *t = &f->t[i];
		uint64_t n = 1, esz = st_dtype_size(t->dtype);
		for (int d = 0; d < t->ndim; d++) {
			uint64_t s = (uint64_t)t->shape[d];
			if (s && n > UINT64_MAX / s / esz) {
				fail(err, err_n, "%s: tensor '%s': shape too large", what, t->name);
				goto out;
			}
			n *= s;
		}
		if (n * esz != t->nbytes) {
			fail(err, err_n, "%s: tensor '%s': shape holds %llu bytes of %s but data_offsets span %llu",
			     what, t->name, (unsigned long long)(n * esz), st_dtype_name(t->dtype),
			     (unsigned long long)t->nbytes);
			goto out;
		}
		if (t->offset > f->data_len || t->nbytes > f->data_len - t->offset) {
			fail(err, err_n, "%s: tensor '%s': data_offsets [%llu, %llu) past the end of the data (%zu bytes)",
			     what, t->name, (unsigned long long)t->offset,
			     (unsigned long long)(t->offset + t->nbytes), f->data_len);
			goto out;
		}
		byoff[i] = t;
	}
	/* Duplicate names by sorting (a pairwise check is quadratic: a 100 MB header holds a million names). */
	qsort(byoff, f->n, sizeof(*byoff), cmp_name);
	for (size_t i = 1; i < f->n; i++)
		if (!strcmp(byoff[i - 1]->name, byoff[i]->name)) {
			fail(err, err_n, "%s: tensor '%s' appears twice", what, byoff[i]->name);
			goto out;
		}
	qsort(byoff, f->n, sizeof(*byoff), cmp_offset);
	for (size_t i = 1; i < f->n; i++) {
		const struct st_tensor *a = byoff[i - 1], *b = byoff[i];
		if (b->offset < a->offset + a->nbytes) {
			fail(err, err_n, "%s: tensors '%s' and '%s' overlap", what, a->name, b->name);
			goto out;
		}
	}
	ret = 0;
out:
	free(byoff);
	return ret;
}

static int parse(struct st_file *f, const char *what, char *err, size_t err_n)
{
	if (f->len < 8)
		return fail(err, err_n, "%s: not a safetensors file (%zu bytes, no header length)", what, f->len);
	uint64_t hl = 0;
	for (int i = 7; i >= 0; i--)
		hl = hl << 8 | f->buf[i];
	if (hl > ST_MAX_HEADER)
		return fail(err, err_n, "%s: header of %llu bytes is larger than the %u allowed", what,
			    (unsigned long long)hl, ST_MAX_HEADER);
	if (hl > f->len - 8)
		return fail(err, err_n, "%s: header length %llu goes past the end of the file (%zu bytes)", what,
			    (unsigned long long)hl, f->len);
	f->header_len = (size_t)hl;
	f->data = f->buf + 8 + hl;
	f->data_len = f->len - 8 - (size_t)hl;
	struct jp p = {(const char *)f->buf + 8, (const char *)f->buf + 8 + hl, what, err, err_n};
	size_t cap = 0;
	int have_meta = 0;
	if (expect(&p, '{') < 0)
		return -1;
	if (!jempty(&p, '}'))
		for (;;) {
			char *name = NULL;
			if (jstring(&p, &name) < 0)
				return -1;
			if (expect(&p, ':') < 0) {
				free(name);
				return -1;
			}
			if (!strcmp(name, "__metadata__")) {
				free(name);
				if (have_meta++)
					return jfail(&p, "two __metadata__ objects");
				if (parse_metadata(&p, f) < 0)
					return -1;
			} else {
				if (!*name) {
					free(name);
					return jfail(&p, "empty tensor name");
				}
				if (f->n == cap) {
					cap = cap ? cap * 2 : 64;
					f->t = xrealloc(f->t, cap * sizeof(*f->t));
				}
				struct st_tensor *t = &f->t[f->n++];
				memset(t, 0, sizeof *t);
				t->name = name;
				if (parse_tensor(&p, t) < 0)
					return -1;
			}
			int r = jnext(&p, '}');
			if (r < 0)
				return -1;
			if (!r)
				break;
		}
	ws(&p);
	if (p.s != p.end)
		return jfail(&p, "trailing bytes after the header object");
	return check_tensors(f, what, err, err_n);
}

void st_close(struct st_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->t[i].name);
	for (size_t i = 0; i < f->n_meta; i++) {
		free(f->meta_key[i]);
		free(f->meta_val[i]);
	}
	free(f->meta_key);
	free(f->meta_val);
	free(f->t);
	if (f->mapped)
		munmap(f->buf, f->len);
	else
		free(f->buf);
	free(f);
}

static int finish(struct st_file *f, const char *what, struct st_file **out, char *err, size_t err_n)
{
	if (parse(f, what, err, err_n) < 0) {
		st_close(f);
		return -1;
	}
	*out = f;
	return 0;
}

int st_parse(const void *buf, size_t len, struct st_file **out, char *err, size_t err_n)
{
	struct st_file *f = xcalloc(1, sizeof *f);
	*out = NULL;
	f->buf = xmalloc(len ? len : 1);
	if (len)
		memcpy(f->buf, buf, len);
	f->len = len;
	return finish(f, "buffer", out, err, err_n);
}

int st_open(const char *path, struct st_file **out, char *err, size_t err_n)
{
	struct st_file *f;
	struct stat st;
	void *map;
	int fd;
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, err_n, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, err_n, "'%s' is not a regular file", path);
	}
	if (st.st_size < 8) {
		close(fd);
		return fail(err, err_n, "%s: not a safetensors file (%lld bytes, no header length)", path,
			    (long long)st.st_size);
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return fail(err, err_n, "'%s' is too large for this machine", path);
	}
	/* Mapped, not read: only the header and the tensors a caller copies
	 * out are ever paged in. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return fail(err, err_n, "cannot map '%s' (%lld bytes): %s", path, (long long)st.st_size,
			    strerror(errno));
	f = xcalloc(1, sizeof *f);
	f->buf = map;
	f->len = (size_t)st.st_size;
	f->mapped = 1;
	return finish(f, path, out, err, err_n);
}

const struct st_tensor *st_find(const struct st_file *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->t[i].name, name))
			return &f->t[i];
	return NULL;
}

const void *st_data(const struct st_file *f, const struct st_tensor *t)
{
	return f->data + t->offset;
}

int st_write(const char *path, const struct st_out *t, size_t n,
	     const char *const *meta_kv, size_t n_meta, char *err, size_t err_n)
{
	struct strbuf h = STRBUF_INIT, tmp = STRBUF_INIT;
	uint64_t off = 0;
	int ret = -1;
	FILE *fp = NULL;

	sb_addc(&h, '{');
	if (n_meta) {
		sb_adds(&h, "\"__metadata__\":{");
		for (size_t i = 0; i < n_meta; i++) {
			if (i)
				sb_addc(&h, ',');
			sb_add_json_str(&h, meta_kv[2 * i]);
			sb_addc(&h, ':');
			sb_add_json_str(&h, meta_kv[2 * i + 1]);
		}
		sb_addc(&h, '}');
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t numel = 1;
		if (t[i].dtype < 0 || t[i].dtype >= ST_NDTYPES || t[i].ndim < 0 || t[i].ndim > ST_MAX_DIMS) {
			fail(err, err_n, "%s: tensor '%s': bad dtype or rank", path, t[i].name);
			goto out;
		}
		if (n_meta || i)
			sb_addc(&h, ',');
		sb_add_json_str(&h, t[i].name);
		sb_addf(&h, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype_name(t[i].dtype));
		for (int d = 0; d < t[i].ndim; d++) {
			sb_addf(&h, "%s%lld", d ? "," : "", (long long)t[i].shape[d]);
			numel *= (uint64_t)t[i].shape[d];
		}
		uint64_t nb = numel * st_dtype_size(t[i].dtype);
		sb_addf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
			(unsigned long long)(off + nb));
		off += nb;
	}
	sb_addc(&h, '}');
	while (h.len % 8)
		sb_addc(&h, ' ');

	sb_addf(&tmp, "%s.tmp%ld", path, (long)getpid());
	fp = fopen(tmp.buf, "wb");
	if (!fp) {
		fail(err, err_n, "cannot create '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	unsigned char len8[8];
	for (int i = 0; i < 8; i++)
		len8[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
	int ok = fwrite(len8, 1, 8, fp) == 8 && fwrite(h.buf, 1, h.len, fp) == h.len;
	for (size_t i = 0; ok && i < n; i++) {
		uint64_t numel = 1;
		for (int d = 0; d < t[i].ndim; d++)
			numel *= (uint64_t)t[i].shape[d];
		size_t nb = (size_t)(numel * st_dtype_size(t[i].dtype));
		ok = !nb || fwrite(t[i].data, 1, nb, fp) == nb;
	}
	if (fclose(fp) != 0)
		ok = 0;
	fp = NULL;
	if (!ok) {
		fail(err, err_n, "cannot write '%s': %s", tmp.buf, strerror(errno));
		unlink(tmp.buf);
		goto out;
	}
	if (rename(tmp.buf, path) < 0) {
		fail(err, err_n, "cannot rename '%s' to '%s': %s", tmp.buf, path, strerror(errno));
		unlink(tmp.buf);
		goto out;
	}
	ret = 0;
out:
	sb_release(&h);
	sb_release(&tmp);
	return ret;
}

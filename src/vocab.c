/*
 * vocab: building a WordPiece vocab from the ingested titles, and the
 * vocabs table (see vocab.h).
 */
#include "vocab.h"
#include "db.h"
#include "tokenizer.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- counting strings ---- */

struct count {
	char *s;
	uint32_t len;
	uint32_t hash;
	long n;          /* occurrences */
	long inside;     /* characters: occurrences inside a longer word */
	size_t nchars;
};

struct counter {
	struct count *slots;
	size_t size, used;
};

static uint32_t str_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	while (n--)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32));
}

static void counter_grow(struct counter *c)
{
	struct count *old = c->slots;
	size_t oldsize = c->size, i;
	c->size = c->size ? c->size * 2 : 1024;
	c->slots = xcalloc(c->size, sizeof(*c->slots));
	for (i = 0; i < oldsize; i++) {
		size_t j;
		if (!old[i].s)
			continue;
		for (j = old[i].hash & (c->size - 1); c->slots[j].s; j = (j + 1) & (c->size - 1))
			;
		c->slots[j] = old[i];
	}
	free(old);
}

static struct count *counter_add(struct counter *c, const char *s, size_t n, size_t nchars)
{
	uint32_t h = str_hash(s, n);
	size_t j;
	if (c->used * 2 >= c->size)
		counter_grow(c);
	for (j = h & (c->size - 1); c->slots[j].s; j = (j + 1) & (c->size - 1)) {
		struct count *e = &c->slots[j];
		if (e->hash == h && e->len == n && !memcmp(e->s, s, n)) {
			e->n++;
			return e;
		}
	}
	c->slots[j].s = xstrndup(s, n);
	c->slots[j].len = (uint32_t)n;
	c->slots[j].hash = h;
	c->slots[j].n = 1;
	c->slots[j].nchars = nchars;
	c->used++;
	return &c->slots[j];
}

static void counter_release(struct counter *c)
{
	size_t i;
	for (i = 0; i < c->size; i++)
		free(c->slots[i].s);
	free(c->slots);
}

/* The entries, most frequent first, ties in byte order; owned by c. */
static int by_count(const void *a, const void *b)
{
	const struct count *x = *(const struct count *const *)a, *y = *(const struct count *const *)b;
	int r;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	r = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
	if (r)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

static struct count **counter_sorted(struct counter *c)
{
	struct count **v = xmalloc(st_mult(c->used + 1, sizeof(*v)));
	size_t i, n = 0;
	for (i = 0; i < c->size; i++)
		if (c->slots[i].s)
			v[n++] = &c->slots[i];
	qsort(v, n, sizeof(*v), by_count);
	return v;
}

struct build {
	struct counter words, chars;
	long titles;
};

static int count_word(void *arg, const char *w, size_t len, size_t nchars, int is_special)
{
	struct build *b = arg;
	size_t i = 0;
	if (nchars > TOK_MAX_WORD_CHARS)
		return 0; /* [UNK] whatever the vocab holds */
	counter_add(&b->words, w, len, nchars);
	while (i < len) {
		size_t k = 1;
		while (i + k < len && ((unsigned char)w[i + k] & 0xc0) == 0x80)
			k++;
		counter_add(&b->chars, w + i, k, 1)->inside += nchars > 1;
		i += k;
	}
	return 0;
}

static int count_titles(struct db *db, struct build *b, const char **which)
{
	struct db_stmt *st = NULL;
	int64_t ntrain;
	int r;
	if (db_query_int(db, "SELECT count(*) FROM posts WHERE split = 'train' AND title IS NOT NULL",
			 0, &ntrain))
		return -1;
	*which = ntrain ? "train" : "all";
	if (db_prepare(db, &st, ntrain ? "SELECT title FROM posts WHERE split = 'train' AND title IS NOT NULL"
				       : "SELECT title FROM posts WHERE title IS NOT NULL"))
		return -1;
	while ((r = db_step(st)) == DB_ROW) {
		const char *s = db_column_text(st, 0);
		tok_words(NULL, s, (size_t)db_column_bytes(st, 0), count_word, b);
		b->titles++;
	}
	db_finalize(st);
	return r < 0 ? -1 : 0;
}

/* Writes data to path through a temporary file, fsync and rename. */
static int write_atomically(const char *path, const char *data, size_t len)
{
	struct strbuf tmp = STRBUF_INIT;
	int fd, ret = -1;
	size_t off = 0;

	sb_addf(&tmp, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		error("cannot create '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error("cannot write '%s': %s", tmp.buf, strerror(errno));
			close(fd);
			goto out_unlink;
		}
		off += (size_t)n;
	}
	if (fsync(fd) || close(fd)) {
		error("cannot write '%s': %s", tmp.buf, strerror(errno));
		goto out_unlink;
	}
	if (rename(tmp.buf, path)) {
		error("cannot rename '%s' to '%s': %s", tmp.buf, path, strerror(errno));
		goto out_unlink;
	}
	ret = 0;
	goto out;
out_unlink:
	unlink(tmp.buf);
out:
	sb_release(&tmp);
	return ret;
}

int vocab_build(struct db *db, const char *cache_dir, const struct vocab_build_opts *o,
		char **path_out, int64_t *id_out)
{
	static const char *const specials[] = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
	struct build b = { { NULL, 0, 0 }, { NULL, 0, 0 }, 0 };
	struct count **chars = NULL, **words = NULL;
	struct strbuf out = STRBUF_INIT, path = STRBUF_INIT;
	const char *which = NULL;
	size_t i, nchars_used = 0, need = 0, ntok, nwords = 0, nchar_tokens = 0;
	unsigned char digest[32];
	char hex[65], *keep = NULL;
	struct sha256_ctx sc;
	int ret = -1;

	*path_out = NULL;
	if (o->size < 7)
		return error("vocab size %d is too small (at least 7: 5 special tokens and a character)",
			     o->size);
	if (count_titles(db, &b, &which))
		goto out;
	if (!b.titles || !b.chars.used) {
		error("no titles to build a vocab from: ingest posts first (mmdb ingest)");
		goto out;
	}
	chars = counter_sorted(&b.chars);
	words = counter_sorted(&b.words);

	for (i = 0; i < ARRAY_SIZE(specials); i++)
		sb_addf(&out, "%s\n", specials[i]);
	ntok = ARRAY_SIZE(specials);
	/*
	 * Characters, most frequent first, each with its ## form when it was
	 * seen inside a longer word; those that do not fit are left out.
	 */
	keep = xcalloc(b.chars.used, 1);
	for (i = 0; i < b.chars.used; i++) {
		size_t cost = chars[i]->inside ? 2 : 1;
		need += cost;
		if (ntok + cost > (size_t)o->size)
			continue;
		keep[i] = 1;
		ntok += cost;
		nchars_used++;
		nchar_tokens += cost;
		sb_add(&out, chars[i]->s, chars[i]->len);
		sb_addc(&out, '\n');
	}
	for (i = 0; i < b.chars.used; i++) {
		if (keep[i] && chars[i]->inside) {
			sb_adds(&out, "##");
			sb_add(&out, chars[i]->s, chars[i]->len);
			sb_addc(&out, '\n');
		}
	}
	if (nchars_used < b.chars.used && !o->quiet)
		warning("vocab: %zu of %zu characters do not fit in %d tokens (need %zu); the rarest "
			"become [UNK]", b.chars.used - nchars_used, b.chars.used, o->size,
			need + ARRAY_SIZE(specials));
	/* whole words, most frequent first */
	for (i = 0; i < b.words.used && ntok < (size_t)o->size; i++) {
		if (words[i]->n < o->min_count)
			break;
		if (words[i]->nchars < 2)
			continue;
		sb_add(&out, words[i]->s, words[i]->len);
		sb_addc(&out, '\n');
		ntok++;
		nwords++;
	}

	sha256_init(&sc);
	sha256_update(&sc, out.buf, out.len);
	sha256_final(&sc, digest);
	sha256_hex(digest, hex);
	if (o->out) {
		sb_adds(&path, o->out);
	} else {
		sb_addf(&path, "%s/vocab", cache_dir);
		if (mkdir_p(path.buf, 0755))
			goto out;
		sb_addf(&path, "/vocab-%.8s.txt", hex);
	}
	if (write_atomically(path.buf, out.buf, out.len))
		goto out;
	if (vocab_register(db, path.buf, "built", id_out))
		goto out;
	if (!o->quiet)
		fprintf(stderr, "mmdb: vocab: %zu tokens (5 special, %zu characters in %zu tokens, %zu "
			"words) from %ld titles (%s splits)\n", ntok, nchars_used, nchar_tokens, nwords,
			b.titles, which);
	*path_out = realpath(path.buf, NULL);
	if (!*path_out)
		*path_out = sb_detach(&path);
	ret = 0;
out:
	free(keep);
	free(chars);
	free(words);
	counter_release(&b.words);
	counter_release(&b.chars);
	sb_release(&out);
	sb_release(&path);
	return ret;
}

int vocab_register(struct db *db, const char *path, const char *source, int64_t *id_out)
{
	struct tokenizer *t = NULL;
	struct db_stmt *st = NULL;
	char hex[65], *abs = NULL;
	int ret = -1, size;

	if (tok_load(&t, path))
		return -1;
	size = tok_vocab_size(t);
	tok_free(t);
	if (sha256_file(path, hex, NULL))
		return -1;
	if (!(abs = realpath(path, NULL)))
		return error("cannot resolve '%s': %s", path, strerror(errno));
	if (db_prepare(db, &st, "INSERT INTO vocabs (path, sha256, size, source) VALUES (?1, ?2, ?3, ?4) "
				"ON CONFLICT (path, sha256) DO NOTHING"))
		goto out;
	db_bind_text(st, 1, abs, -1);
	db_bind_text(st, 2, hex, -1);
	db_bind_int(st, 3, size);
	db_bind_text(st, 4, source, -1);
	if (db_step(st) < 0)
		goto out;
	db_finalize(st);
	if (db_prepare(db, &st, "SELECT id FROM vocabs WHERE path = ?1 AND sha256 = ?2"))
		goto out;
	db_bind_text(st, 1, abs, -1);
	db_bind_text(st, 2, hex, -1);
	if (db_step(st) != DB_ROW) {
		error("vocab '%s' was not recorded", abs);
		goto out;
	}
	*id_out = db_column_int(st, 0);
	ret = 0;
out:
	db_finalize(st);
	free(abs);
	return ret;
}

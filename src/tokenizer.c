/*
 * tokenizer: bert-base-uncased WordPiece tokenization, byte for byte what
 * Hugging Face's tokenizers engine produces (see tokenizer.h).
 *
 * One pass over the text does the whole pipeline, in the engine's order:
 *   special tokens matched on the raw text ([CLS] ... split the text first);
 *   clean_text: drop NUL, U+FFFD and Cc/Cf/Co (but \t \n \r), whitespace -> ' ';
 *   CJK ideographs get a space on each side;
 *   strip accents: canonical decomposition (NFD, with canonical ordering of
 *   the combining marks) and every Mn dropped;
 *   lower-case (per character, so a final sigma becomes σ);
 *   pre-tokenise: split on whitespace, isolate punctuation (ASCII
 *   punctuation and Unicode P*);
 *   WordPiece: greedy longest match, "##" for continuations, a word over
 *   100 characters or with an unmatched part is one [UNK].
 * ASCII takes a table-driven fast path; everything else goes through
 * libutf8proc. Each word lives in a fixed buffer on the stack (a word over
 * 100 characters is [UNK] whatever it holds, so only its length counts
 * beyond that), so encoding allocates nothing and is thread-safe.
 *
 * The engine's character tables are older than libutf8proc's (Unicode 9
 * categories; the normalisation data of its time) while its lower-casing is
 * newer; the few code points where they disagree are listed in
 * tokenizer_tables.h, found by running every code point through both.
 */
#include "tokenizer.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- vocab hash tables ---- */

struct slot {
	uint32_t hash;
	int32_t id; /* -1: empty */
};

/* Open addressing over (bytes -> id); keys point into the tokenizer's arena. */
struct htab {
	struct slot *slots;
	uint32_t mask;
	uint32_t maxlen;  /* longest key, in bytes */
	uint32_t skip;    /* bytes of each token before its key ("##" for cont) */
};

struct tokref {
	uint32_t off, len;
};

struct special {
	const char *s;
	uint32_t len;
	int32_t id;
};

struct tokenizer {
	char *arena;       /* the file's bytes; each token NUL-terminated in place */
	struct tokref *tok; /* id -> its token in arena */
	int n;
	struct htab head;  /* every token, by its full string */
	struct htab cont;  /* tokens starting with "##", by the rest */
	int pad, unk, cls, sep, mask;
	struct special specials[5];
	int nspecials;
	int cased;         /* tok_set_lowercase(t, 0): no lower-casing, no accent stripping */
};

/*
 * FNV-1a over the bytes, then a final mix: computed a byte at a time, so
 * WordPiece gets the hash of every prefix of a word in one pass.
 */
#define HASH_INIT 0xcbf29ce484222325ull
static inline uint64_t hash_step(uint64_t h, unsigned char b)
{
	return (h ^ b) * 0x100000001b3ull;
}

static inline uint32_t hash_fin(uint64_t h)
{
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

static uint32_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = HASH_INIT;
	while (n--)
		h = hash_step(h, (unsigned char)*s++);
	return hash_fin(h);
}

static void htab_init(struct htab *h, size_t nkeys, uint32_t skip)
{
	size_t size = 16;
	while (size < nkeys * 2 + 1)
		size *= 2;
	h->slots = xmalloc(st_mult(size, sizeof(*h->slots)));
	for (size_t i = 0; i < size; i++)
		h->slots[i].id = -1;
	h->mask = (uint32_t)(size - 1);
	h->maxlen = 0;
	h->skip = skip;
}

static inline uint64_t rd64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/*
 * a[0..n) == b[0..n), 8 bytes at a time: both buffers have at least 7
 * readable bytes after the key (the arena is padded, the word buffer too).
 */
static inline int keyeq(const char *a, const char *b, size_t n)
{
	for (; n >= 8; n -= 8, a += 8, b += 8)
		if (rd64(a) != rd64(b))
			return 0;
	return !n || !((rd64(a) ^ rd64(b)) & (~0ull >> (64 - 8 * n)));
}

/* The id of key s[0..n) whose hash_bytes() is hv, or -1. */
static inline int32_t htab_find(const struct tokenizer *t, const struct htab *h,
				const char *s, size_t n, uint32_t hv)
{
	uint32_t i = hv & h->mask;
	for (;;) {
		const struct slot *sl = &h->slots[i];
		if (sl->id < 0)
			return -1;
		if (sl->hash == hv) {
			const struct tokref *r = &t->tok[sl->id];
			if (r->len == n + h->skip && keyeq(t->arena + r->off + h->skip, s, n))
				return sl->id;
		}
		i = (i + 1) & h->mask;
	}
}

static int32_t htab_get(const struct tokenizer *t, const struct htab *h, const char *s, size_t n)
{
	return htab_find(t, h, s, n, hash_bytes(s, n));
}

/* Later lines win over earlier duplicates, as in Hugging Face's vocab reader. */
static void htab_put(const struct tokenizer *t, struct htab *h, int32_t id)
{
	const char *s = t->arena + t->tok[id].off + h->skip;
	size_t n = t->tok[id].len - h->skip;
	uint32_t hv = hash_bytes(s, n), i = hv & h->mask;
	for (;;) {
		struct slot *sl = &h->slots[i];
		if (sl->id < 0 || (sl->hash == hv && t->tok[sl->id].len == t->tok[id].len &&
				   !memcmp(t->arena + t->tok[sl->id].off + h->skip, s, n))) {
			sl->hash = hv;
			sl->id = id;
			break;
		}
		i = (i + 1) & h->mask;
	}
	if (n > h->maxlen)
		h->maxlen = (uint32_t)n;
}

/* ---- loading ---- */

static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char chunk[65536];
	size_t n;

	if (!f)
		return error("cannot open vocab '%s': %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		sb_add(&sb, chunk, n);
		if (sb.len > (size_t)1 << 30) {
			fclose(f);
			sb_release(&sb);
			return error("vocab '%s' is too large (over 1 GiB)", path);
		}
	}
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		sb_release(&sb);
		return error("cannot read vocab '%s': %s", path, strerror(e));
	}
	fclose(f);
	*len = sb.len;
	*buf = sb_detach(&sb);
	return 0;
}

/* Length of s[0..n) without trailing white space (Rust's trim_end). */
static size_t trim_end(const char *s, size_t n)
{
	while (n > 0) {
		size_t i = n - 1;
		utf8proc_int32_t c;
		while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
			i--;
		if (utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c) < 0)
			break;
		if (!(c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
		      (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
		      c == 0x205f || c == 0x3000))
			break;
		n = i;
	}
	return n;
}

int tok_load(struct tokenizer **out, const char *path)
{
	static const char *const names[5] = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
	struct tokenizer *t = xcalloc(1, sizeof(*t));
	size_t len = 0, pos, nlines = 0, alloc = 0, ncont = 0;
	int ret = -1, i;

	*out = NULL;
	if (read_file(path, &t->arena, &len))
		goto out;
	t->arena = xrealloc(t->arena, st_add(len, 8)); /* keyeq() reads 8 bytes at a time */
	memset(t->arena + len, 0, 8);
	if (memchr(t->arena, '\0', len)) {
		size_t at = (size_t)((char *)memchr(t->arena, '\0', len) - t->arena), line = 1;
		for (size_t j = 0; j < at; j++)
			line += t->arena[j] == '\n';
		error("vocab '%s' is not a text file (NUL byte on line %zu)", path, line);
		goto out;
	}
	if (len > UINT32_MAX - 1) {
		error("vocab '%s' is too large", path);
		goto out;
	}
	for (pos = 0; pos < len;) {
		char *nl = memchr(t->arena + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - t->arena) : len, tl;
		if (utf8proc_decompose((const utf8proc_uint8_t *)t->arena + pos,
				       (utf8proc_ssize_t)(end - pos), NULL, 0, 0) < 0) {
			error("vocab '%s': line %zu is not valid UTF-8", path, nlines + 1);
			goto out;
		}
		tl = trim_end(t->arena + pos, end - pos);
		t->arena[pos + tl] = '\0';
		ALLOC_GROW(t->tok, nlines + 1, alloc);
		t->tok[nlines].off = (uint32_t)pos;
		t->tok[nlines].len = (uint32_t)tl;
		if (tl > 2 && t->arena[pos] == '#' && t->arena[pos + 1] == '#')
			ncont++;
		nlines++;
		if (nlines > INT32_MAX / 2) {
			error("vocab '%s' has too many lines", path);
			goto out;
		}
		pos = end + 1;
	}
	if (nlines == 0 || (nlines == 1 && t->tok[0].len == 0)) {
		error("vocab '%s' is empty", path);
		goto out;
	}
	t->n = (int)nlines;
	htab_init(&t->head, nlines, 0);
	htab_init(&t->cont, ncont, 2);
	for (i = 0; i < t->n; i++) {
		const char *s = t->arena + t->tok[i].off;
		htab_put(t, &t->head, i);
		if (t->tok[i].len > 2 && s[0] == '#' && s[1] == '#')
			htab_put(t, &t->cont, i);
	}
	for (i = 0; i < 5; i++) {
		int id = tok_token_id(t, names[i]);
		switch (i) {
		case 0: t->pad = id; break;
		case 1: t->unk = id; break;
		case 2: t->cls = id; break;
		case 3: t->sep = id; break;
		default: t->mask = id; break;
		}
		if (id >= 0) {
			struct special *sp = &t->specials[t->nspecials++];
			sp->s = names[i];
			sp->len = (uint32_t)strlen(names[i]);
			sp->id = id;
		} else if (i < 4) {
			error("vocab '%s' has no %s token (not a WordPiece vocab.txt?)", path, names[i]);
			goto out;
		}
	}
	ret = 0;
	*out = t;
	t = NULL;
out:
	tok_free(t);
	return ret;
}

void tok_free(struct tokenizer *t)
{
	if (!t)
		return;
	free(t->arena);
	free(t->tok);
	free(t->head.slots);
	free(t->cont.slots);
	free(t);
}

void tok_set_lowercase(struct tokenizer *t, int on) { t->cased = !on; }
int tok_lowercase(const struct tokenizer *t) { return !t->cased; }
int tok_vocab_size(const struct tokenizer *t) { return t->n; }
int tok_pad_id(const struct tokenizer *t) { return t->pad; }
int tok_unk_id(const struct tokenizer *t) { return t->unk; }
int tok_cls_id(const struct tokenizer *t) { return t->cls; }
int tok_sep_id(const struct tokenizer *t) { return t->sep; }
int tok_mask_id(const struct tokenizer *t) { return t->mask; }

int tok_token_id(const struct tokenizer *t, const char *s)
{
	/* keyeq() reads up to 7 bytes past the key: look up a padded copy. */
	char local[128], *p;
	size_t n = strlen(s);
	int32_t id;
	p = n + 8 <= sizeof(local) ? local : xmalloc(st_add(n, 8));
	memcpy(p, s, n);
	memset(p + n, 0, 8);
	id = htab_get(t, &t->head, p, n);
	if (p != local)
		free(p);
	return id;
}

const char *tok_id_token(const struct tokenizer *t, int id)
{
	if (id < 0 || id >= t->n)
		return NULL;
	return t->arena + t->tok[id].off;
}

const char *tok_utf8proc_version(void) { return utf8proc_version(); }
const char *tok_unicode_version(void) { return utf8proc_unicode_version(); }

/* ---- character classes, as the engine has them ---- */

#include "tokenizer_tables.h"

enum { AC_DROP, AC_SPACE, AC_PUNCT, AC_WORD, AC_BRACKET };

/* ASCII: what each byte is after clean_text, and its lower case. */
static const uint8_t ascii_class[128] = {
	AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP,
	AC_DROP, AC_SPACE, AC_SPACE, AC_DROP, AC_DROP, AC_SPACE, AC_DROP, AC_DROP,
	AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP,
	AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP, AC_DROP,
	/* ' ' ! " # $ % & ' ( ) * + , - . / */
	AC_SPACE, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT,
	AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT,
	/* 0-9 : ; < = > ? */
	AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD,
	AC_WORD, AC_WORD, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT,
	/* @ A-O */
	AC_PUNCT, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD,
	AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD,
	/* P-Z [ \ ] ^ _ */
	AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD,
	AC_WORD, AC_WORD, AC_WORD, AC_BRACKET, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT,
	/* ` a-o */
	AC_PUNCT, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD,
	AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD,
	/* p-z { | } ~ DEL */
	AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD, AC_WORD,
	AC_WORD, AC_WORD, AC_WORD, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_PUNCT, AC_DROP,
};

/* ASCII letters and digits -> their lower case; 0 for every other byte. */
static const uint8_t word_lower[256] = {
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
	['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
#define L(u, l) [u] = l, [l] = l
	L('A', 'a'), L('B', 'b'), L('C', 'c'), L('D', 'd'), L('E', 'e'), L('F', 'f'),
	L('G', 'g'), L('H', 'h'), L('I', 'i'), L('J', 'j'), L('K', 'k'), L('L', 'l'),
	L('M', 'm'), L('N', 'n'), L('O', 'o'), L('P', 'p'), L('Q', 'q'), L('R', 'r'),
	L('S', 's'), L('T', 't'), L('U', 'u'), L('V', 'v'), L('W', 'w'), L('X', 'x'),
	L('Y', 'y'), L('Z', 'z'),
#undef L
};

static int in_ranges(const struct cp_range *r, size_t n, int32_t c)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c < r[mid].lo)
			hi = mid;
		else if (c > r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

#define IN(table, c) in_ranges(table, ARRAY_SIZE(table), c)

/* clean_text drops these (Cc, Cf, Co in the engine's tables; not \t \n \r). */
static int is_other(int32_t c, const utf8proc_property_t *p)
{
	int cat = p->category;
	if (IN(other_not, c))
		return 0;
	if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CO)
		return 1;
	return IN(other_also, c);
}

/* Rust's char::is_whitespace, beyond ASCII. */
static int is_space(int32_t c)
{
	return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* The engine's CJK ranges (0x2B820..0x2B91F is not among them). */
static int is_cjk(int32_t c)
{
	return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) ||
	       (c >= 0x20000 && c <= 0x2a6df) || (c >= 0x2a700 && c <= 0x2b73f) ||
	       (c >= 0x2b740 && c <= 0x2b81f) || (c >= 0x2b920 && c <= 0x2ceaf) ||
	       (c >= 0xf900 && c <= 0xfaff) || (c >= 0x2f800 && c <= 0x2fa1f);
}

static int is_mn(int32_t c, const utf8proc_property_t *p)
{
	if (p->category == UTF8PROC_CATEGORY_MN)
		return !IN(mn_not, c);
	return IN(mn_also, c);
}

static int is_punct(int32_t c)
{
	int cat = utf8proc_category(c);
	if (cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO)
		return !IN(punct_not, c);
	return IN(punct_also, c);
}

static int32_t to_lower(int32_t c)
{
	size_t lo = 0, hi = ARRAY_SIZE(lower_fix);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c < lower_fix[mid].from)
			hi = mid;
		else if (c > lower_fix[mid].from)
			lo = mid + 1;
		else
			return lower_fix[mid].to;
	}
	return utf8proc_tolower(c);
}

/* ---- the encoder ---- */

#define WORD_BYTES (TOK_MAX_WORD_CHARS * 4)
#define MARKS_MAX 32

struct enc {
	const struct tokenizer *t;
	int cased;               /* keep case and accents (t->cased) */
	size_t wlen, wchars;     /* the word being built (bytes, code points) */
	int nmarks;              /* combining marks awaiting canonical order */
	int stop;                /* enough ids: stop early */
	int32_t *ids;            /* output: ids[0..cap) */
	size_t cap, n;           /* n counts every id, written or not */
	size_t stop_at;          /* stop after the word that reaches this (0: never) */
	tok_word_fn fn;          /* tok_words: called per word instead of WordPiece */
	void *arg;
	int fnret;
	int32_t marks[MARKS_MAX];
	char word[WORD_BYTES + 8];
};

static inline void emit(struct enc *e, int32_t id)
{
	if (e->n < e->cap)
		e->ids[e->n] = id;
	e->n++;
}

/*
 * WordPiece on e->word: greedy longest match from the left. The hashes of
 * all prefixes of the rest of the word are computed in one pass, then the
 * longest that is a token wins.
 */
static void wordpiece(struct enc *e)
{
	const struct tokenizer *t = e->t;
	const char *w = e->word;
	size_t start = 0, wlen = e->wlen, end, k;
	int32_t pieces[TOK_MAX_WORD_CHARS];
	uint64_t hs[WORD_BYTES + 1];
	int np = 0, i;

	if (e->wchars > TOK_MAX_WORD_CHARS) {
		emit(e, t->unk);
		return;
	}
	while (start < wlen) {
		const struct htab *h = start ? &t->cont : &t->head;
		size_t lim = wlen - start > h->maxlen ? start + h->maxlen : wlen;
		uint64_t hv = HASH_INIT;
		int32_t id = -1;
		for (k = start; k < lim; k++)
			hs[k - start] = hv = hash_step(hv, (unsigned char)w[k]);
		for (end = lim; end > start; end--) {
			if (end < wlen && ((unsigned char)w[end] & 0xc0) == 0x80)
				continue; /* not a character boundary */
			id = htab_find(t, h, w + start, end - start, hash_fin(hs[end - start - 1]));
			if (id >= 0)
				break;
		}
		if (id < 0) {
			emit(e, t->unk);
			return;
		}
		pieces[np++] = id;
		start = end;
	}
	for (i = 0; i < np; i++)
		emit(e, pieces[i]);
}

static void end_word(struct enc *e)
{
	if (!e->wchars)
		return;
	if (e->fn) {
		if (!e->fnret && (e->fnret = e->fn(e->arg, e->word, e->wlen, e->wchars, 0)))
			e->stop = 1;
	} else {
		wordpiece(e);
		if (e->stop_at && e->n >= e->stop_at)
			e->stop = 1;
	}
	e->wlen = 0;
	e->wchars = 0;
}

static inline void append(struct enc *e, int32_t c)
{
	if (e->wchars++ < TOK_MAX_WORD_CHARS)
		e->wlen += (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)e->word + e->wlen);
}

/* A normalised character into the pre-tokeniser. */
static void pretok(struct enc *e, int32_t c)
{
	if (c < 0x80) {
		switch (ascii_class[c]) {
		case AC_WORD: append(e, c); return;
		case AC_SPACE: end_word(e); return;
		case AC_DROP: append(e, c); return; /* cannot happen after clean_text */
		default: end_word(e); append(e, c); end_word(e); return;
		}
	}
	if (is_space(c)) {
		end_word(e);
	} else if (is_punct(c)) {
		end_word(e);
		append(e, c);
		end_word(e);
	} else {
		append(e, c);
	}
}

/* Marks with a combining class, not Mn, in canonical (stable, by class) order. */
static void flush_marks(struct enc *e)
{
	int i, j;
	for (i = 1; i < e->nmarks; i++) {
		int32_t m = e->marks[i];
		int cc = utf8proc_get_property(m)->combining_class;
		for (j = i; j > 0 && utf8proc_get_property(e->marks[j - 1])->combining_class > cc; j--)
			e->marks[j] = e->marks[j - 1];
		e->marks[j] = m;
	}
	for (i = 0; i < e->nmarks; i++)
		pretok(e, to_lower(e->marks[i]));
	e->nmarks = 0;
}

/* A cleaned non-ASCII character: decompose, drop Mn, lower-case. */
static void decompose(struct enc *e, int32_t c)
{
	utf8proc_int32_t d[8];
	utf8proc_ssize_t n, i;
	int32_t fixed = nfd_lookup(c, d);

	if (fixed)
		n = fixed;
	else if ((n = utf8proc_decompose_char(c, d, 8, UTF8PROC_DECOMPOSE, NULL)) < 1 || n > 8) {
		d[0] = c;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		const utf8proc_property_t *p = utf8proc_get_property(d[i]);
		if (p->combining_class == 0) {
			if (e->nmarks)
				flush_marks(e);
			if (!is_mn(d[i], p))
				pretok(e, to_lower(d[i]));
		} else if (!is_mn(d[i], p)) {
			if (e->nmarks == MARKS_MAX)
				flush_marks(e);
			e->marks[e->nmarks++] = d[i];
		}
	}
}

static void space(struct enc *e)
{
	if (e->nmarks)
		flush_marks(e);
	end_word(e);
}

static void nonascii(struct enc *e, int32_t c)
{
	const utf8proc_property_t *p = utf8proc_get_property(c);
	if (c == 0xfffd || is_other(c, p))
		return;
	if (e->cased) {
		/* cased BERT: clean_text and CJK spacing only, no NFD, no lower case */
		if (is_cjk(c)) {
			space(e);
			pretok(e, c);
			space(e);
		} else {
			pretok(e, c);
		}
		return;
	}
	if (is_space(c)) {
		space(e);
	} else if (is_cjk(c)) {
		space(e);
		decompose(e, c);
		space(e);
	} else {
		decompose(e, c);
	}
}

/* A literal special token at p? Returns its index or -1. */
static int special_at(const struct tokenizer *t, const unsigned char *p, size_t left)
{
	int i;
	for (i = 0; i < t->nspecials; i++)
		if (left >= t->specials[i].len && !memcmp(p, t->specials[i].s, t->specials[i].len))
			return i;
	return -1;
}

static void run(struct enc *e, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	const struct tokenizer *t = e->t;

	while (p < end && !e->stop) {
		unsigned c = *p;
		if (word_lower[c]) {
			/* the fast path: a run of ASCII letters and digits */
			const unsigned char *q = p + 1;
			size_t n, room;
			if (e->nmarks)
				flush_marks(e);
			while (q < end && word_lower[*q])
				q++;
			n = (size_t)(q - p);
			room = e->wchars < TOK_MAX_WORD_CHARS ? TOK_MAX_WORD_CHARS - e->wchars : 0;
			if (e->cased)
				memcpy(e->word + e->wlen, p, n < room ? n : room);
			else
				for (size_t i = 0; i < n && i < room; i++)
					e->word[e->wlen + i] = (char)word_lower[p[i]];
			e->wlen += n < room ? n : room;
			e->wchars += n;
			p = q;
			continue;
		}
		if (c < 0x80) {
			if (e->nmarks && ascii_class[c] != AC_DROP)
				flush_marks(e);
			switch (ascii_class[c]) {
			case AC_WORD:
				break; /* taken above */
			case AC_SPACE:
				end_word(e);
				break;
			case AC_DROP:
				break;
			case AC_BRACKET: {
				int sp = t ? special_at(t, p, (size_t)(end - p)) : -1;
				end_word(e);
				if (sp >= 0) {
					const struct special *s = &t->specials[sp];
					if (e->fn) {
						if (!e->fnret && (e->fnret = e->fn(e->arg, s->s, s->len, s->len, 1)))
							e->stop = 1;
					} else {
						emit(e, s->id);
						if (e->stop_at && e->n >= e->stop_at)
							e->stop = 1;
					}
					p += s->len;
					continue;
				}
			}
				/* fall through */
			default:
				end_word(e);
				e->word[0] = (char)c;
				e->wlen = 1;
				e->wchars = 1;
				end_word(e);
				break;
			}
			p++;
		} else {
			utf8proc_int32_t cp;
			utf8proc_ssize_t n = utf8proc_iterate(p, end - p, &cp);
			if (n < 1) {
				p++; /* invalid UTF-8: U+FFFD, which clean_text drops */
				continue;
			}
			p += n;
			nonascii(e, cp);
		}
	}
	if (!e->stop) {
		if (e->nmarks)
			flush_marks(e);
		end_word(e);
	}
}

static void enc_init(struct enc *e, const struct tokenizer *t)
{
	e->t = t;
	e->cased = t ? t->cased : 0;
	e->wlen = e->wchars = 0;
	e->nmarks = 0;
	e->stop = 0;
	e->ids = NULL;
	e->cap = e->n = e->stop_at = 0;
	e->fn = NULL;
	e->arg = NULL;
	e->fnret = 0;
}

int tok_encode(const struct tokenizer *t, const char *text, size_t len, int max_len,
	       int32_t *ids, uint8_t *mask)
{
	struct enc e;
	size_t n = 0;
	int i;

	if (max_len < 2)
		return error("sequence length %d is too short for [CLS] and [SEP]", max_len);
	if (max_len > 2) {
		enc_init(&e, t);
		e.ids = ids + 1;
		e.cap = e.stop_at = (size_t)max_len - 2;
		run(&e, text, len);
		n = e.n < e.cap ? e.n : e.cap;
	}
	ids[0] = t->cls;
	ids[n + 1] = t->sep;
	if (t->pad == 0)
		memset(ids + n + 2, 0, ((size_t)max_len - n - 2) * sizeof(*ids));
	else
		for (i = (int)n + 2; i < max_len; i++)
			ids[i] = t->pad;
	if (mask) {
		memset(mask, 1, n + 2);
		memset(mask + n + 2, 0, (size_t)max_len - n - 2);
	}
	return (int)n + 2;
}

size_t tok_encode_full(const struct tokenizer *t, const char *text, size_t len,
		       int32_t *ids, size_t cap)
{
	struct enc e;
	enc_init(&e, t);
	e.ids = ids;
	e.cap = cap;
	run(&e, text, len);
	return e.n;
}

int tok_words(const struct tokenizer *t, const char *text, size_t len, tok_word_fn fn,
	      void *arg)
{
	struct enc e;
	enc_init(&e, t);
	e.fn = fn;
	e.arg = arg;
	run(&e, text, len);
	return e.fnret;
}

/*
 * Unit tests of the WordPiece tokenizer: one case per bert-base-uncased rule
 * on a small vocab written here, vocab loading errors, and concurrent use.
 * The golden files (every rule on real titles) are checked by
 * tests/cli/t0501-tokenize-golden.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenizer.h"
#include "util.h"

/* ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then the tokens below. */
static const char *const vocab_tokens[] = {
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
	"hello", "world", ",", "!", "cafe",          /* 5..9 */
	"naive", "ecole", "un", "##aff", "##able",   /* 10..14 */
	"中", "文", "a", "##a", "σ",                 /* 15..19 */
	"οδοσ", "[", "]", "mask", "…",               /* 20..24 */
	"$", "abc", "helloworld", "x", "##x",        /* 25..29 */
	"¿", "i", "istanbul", "e", "-",              /* 30..34 */
};
#define ID(s) tok_token_id(t, s)

static char vocab_path[256];
static struct tokenizer *t;

static int write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fwrite(data, 1, n, f);
	return fclose(f);
}

static int setup(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	snprintf(vocab_path, sizeof(vocab_path), "%s/mmdb-tok-%d.txt",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	for (i = 0; i < ARRAY_SIZE(vocab_tokens); i++)
		sb_addf(&sb, "%s\n", vocab_tokens[i]);
	if (write_file(vocab_path, sb.buf, sb.len))
		return -1;
	sb_release(&sb);
	return tok_load(&t, vocab_path);
}

static int teardown(void **state)
{
	tok_free(t);
	unlink(vocab_path);
	return 0;
}

/* WordPiece ids of s, no specials, as a space-separated string. */
static const char *full(const char *s)
{
	static char out[4096];
	int32_t ids[512];
	size_t n = tok_encode_full(t, s, strlen(s), ids, 512), i, len = 0;
	out[0] = '\0';
	for (i = 0; i < n && i < 512; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%d", i ? " " : "", ids[i]);
	return out;
}

static const char *want(int n, ...)
{
	static char out[4096];
	va_list ap;
	size_t len = 0;
	int i;
	out[0] = '\0';
	va_start(ap, n);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%d", i ? " " : "",
					va_arg(ap, int));
	va_end(ap);
	return out;
}

static void test_tokenizer__loads_vocab(void **state)
{
	assert_int_equal(tok_vocab_size(t), (int)ARRAY_SIZE(vocab_tokens));
	assert_int_equal(tok_pad_id(t), 0);
	assert_int_equal(tok_unk_id(t), 1);
	assert_int_equal(tok_cls_id(t), 2);
	assert_int_equal(tok_sep_id(t), 3);
	assert_int_equal(tok_mask_id(t), 4);
	assert_int_equal(ID("hello"), 5);
	assert_int_equal(ID("##aff"), 13);
	assert_int_equal(ID("nope"), -1);
	assert_string_equal(tok_id_token(t, 16), "文");
	assert_null(tok_id_token(t, 35));
	assert_null(tok_id_token(t, -1));
}

static void test_tokenizer__lowercases_and_strips_accents(void **state)
{
	assert_string_equal(full("Café NAÏVE École"), want(3, ID("cafe"), ID("naive"), ID("ecole")));
	/* decomposed input: e + COMBINING ACUTE */
	assert_string_equal(full("Cafe\xcc\x81"), want(1, ID("cafe")));
	/* İ decomposes to I + combining dot, which is dropped */
	assert_string_equal(full("İstanbul"), want(1, ID("istanbul")));
	/* final sigma lower-cases to σ, not ς */
	assert_string_equal(full("ΟΔΟΣ"), want(1, ID("οδοσ")));
	assert_string_equal(full("Σ"), want(1, ID("σ")));
}

static void test_tokenizer__splits_cjk(void **state)
{
	assert_string_equal(full("中文abc"), want(3, ID("中"), ID("文"), ID("abc")));
	assert_string_equal(full("abc中"), want(2, ID("abc"), ID("中")));
	/* Extension B ideographs are split one a token too: [UNK] each */
	assert_string_equal(full("\xf0\xa0\x80\x80\xf0\xa0\x80\x81 abc"), want(3, 1, 1, ID("abc")));
	/* Hiragana is not CJK: one word, unknown here */
	assert_string_equal(full("ひらがな"), want(1, 1));
}

static void test_tokenizer__splits_punctuation(void **state)
{
	assert_string_equal(full("hello,world!"), want(4, ID("hello"), ID(","), ID("world"), ID("!")));
	/* ASCII symbols count as punctuation; Unicode P* too */
	assert_string_equal(full("a$abc"), want(3, ID("a"), ID("$"), ID("abc")));
	assert_string_equal(full("hello…world"), want(3, ID("hello"), ID("…"), ID("world")));
	assert_string_equal(full("¿hello"), want(2, ID("¿"), ID("hello")));
	assert_string_equal(full("e-x"), want(3, ID("e"), ID("-"), ID("x")));
	/* ... but not Unicode symbols outside P*: one unknown word */
	assert_string_equal(full("hello€"), want(1, 1));
}

static void test_tokenizer__cleans_control_chars(void **state)
{
	/* NUL, other controls, zero-width space (Cf), BOM and U+FFFD vanish,
	 * joining what surrounds them */
	assert_int_equal(tok_encode_full(t, "hel\0lo", 6, NULL, 0), 1);
	assert_string_equal(full("hel\x01lo"), want(1, ID("hello")));
	assert_string_equal(full("hello\xe2\x80\x8bworld"), want(1, ID("helloworld")));
	assert_string_equal(full("\xef\xbb\xbfhello\xef\xbf\xbd"), want(1, ID("hello")));
	/* vertical tab and form feed are controls, not white space */
	assert_string_equal(full("hello\x0bworld"), want(1, ID("helloworld")));
	/* tab, newline, CR, no-break and ideographic spaces split words */
	assert_string_equal(full("hello\tworld\r\nhello\xc2\xa0world\xe3\x80\x80x"),
			    want(5, ID("hello"), ID("world"), ID("hello"), ID("world"), ID("x")));
	/* invalid UTF-8 bytes are dropped like U+FFFD */
	assert_string_equal(full("hel\xfflo\xc3"), want(1, ID("hello")));
	/* an unassigned code point is kept and makes its word unknown */
	assert_string_equal(full("x\xcd\xb8 x"), want(2, 1, ID("x")));
}

static void test_tokenizer__wordpiece_longest_match(void **state)
{
	assert_string_equal(full("unaffable"), want(3, ID("un"), ID("##aff"), ID("##able")));
	/* one unmatched piece makes the whole word [UNK] */
	assert_string_equal(full("unaffablez hello"), want(2, 1, ID("hello")));
	assert_string_equal(full("xxx"), want(3, ID("x"), ID("##x"), ID("##x")));
}

static void test_tokenizer__long_words_are_unk(void **state)
{
	char w[202];
	memset(w, 'a', 101);
	w[101] = '\0';
	assert_int_equal(tok_encode_full(t, w, 101, NULL, 0), 1);
	assert_string_equal(full(w), want(1, 1));
	w[100] = '\0'; /* exactly 100 characters: a ##a ##a ... */
	assert_int_equal(tok_encode_full(t, w, 100, NULL, 0), 100);
	/* characters, not bytes: 60 two-byte letters are a short word */
	for (int i = 0; i < 60; i++)
		memcpy(w + 2 * i, "\xc3\xa1", 2); /* á -> a */
	assert_int_equal(tok_encode_full(t, w, 120, NULL, 0), 60);
}

static void test_tokenizer__literal_specials(void **state)
{
	assert_string_equal(full("hello [MASK] world"), want(3, ID("hello"), 4, ID("world")));
	assert_string_equal(full("a[SEP]b[CLS][PAD][UNK]"), want(6, ID("a"), 3, 1, 2, 0, 1));
	/* case-sensitive, and only whole: [mask] is punctuation and a word */
	assert_string_equal(full("[mask]"), want(3, ID("["), ID("mask"), ID("]")));
	assert_string_equal(full("[MASK"), want(2, ID("["), ID("mask")));
}

static void test_tokenizer__truncates(void **state)
{
	int32_t ids[6];
	uint8_t mask[6];
	const char *s = "hello world hello world hello world";
	assert_int_equal(tok_encode(t, s, strlen(s), 6, ids, mask), 6);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], ID("hello"));
	assert_int_equal(ids[4], ID("world"));
	assert_int_equal(ids[5], 3);
	for (int i = 0; i < 6; i++)
		assert_int_equal(mask[i], 1);
	/* a word's pieces are cut too: un ##aff | ##able */
	assert_int_equal(tok_encode(t, "unaffable", 9, 4, ids, mask), 4);
	assert_int_equal(ids[1], ID("un"));
	assert_int_equal(ids[2], ID("##aff"));
	assert_int_equal(ids[3], 3);
	/* max_len 2: [CLS] [SEP]; below that an error */
	assert_int_equal(tok_encode(t, s, strlen(s), 2, ids, mask), 2);
	assert_int_equal(ids[1], 3);
	assert_int_equal(tok_encode(t, s, strlen(s), 1, ids, mask), -1);
}

static void test_tokenizer__pads(void **state)
{
	int32_t ids[8];
	uint8_t mask[8];
	int i;
	assert_int_equal(tok_encode(t, "Hello!", 6, 8, ids, mask), 4);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], ID("hello"));
	assert_int_equal(ids[2], ID("!"));
	assert_int_equal(ids[3], 3);
	for (i = 0; i < 8; i++) {
		assert_int_equal(mask[i], i < 4);
		if (i >= 4)
			assert_int_equal(ids[i], 0);
	}
	/* empty and all-space texts: [CLS] [SEP] */
	assert_int_equal(tok_encode(t, " \t\n", 3, 8, ids, NULL), 2);
	assert_int_equal(ids[1], 3);
	assert_int_equal(ids[2], 0);
	assert_int_equal(tok_encode(t, "", 0, 8, ids, mask), 2);
}

static void test_tokenizer__encode_full_reports_needed_size(void **state)
{
	int32_t ids[2] = { -7, -7 };
	assert_int_equal(tok_encode_full(t, "hello world hello", 17, ids, 1), 3);
	assert_int_equal(ids[0], ID("hello"));
	assert_int_equal(ids[1], -7);
}

struct words {
	char buf[512];
	int specials;
};

static int collect(void *arg, const char *w, size_t len, size_t nchars, int is_special)
{
	struct words *o = arg;
	size_t n = strlen(o->buf);
	snprintf(o->buf + n, sizeof(o->buf) - n, "%s%.*s/%zu", n ? " " : "", (int)len, w, nchars);
	o->specials += is_special;
	return 0;
}

static void test_tokenizer__words(void **state)
{
	struct words o = { "", 0 };
	assert_int_equal(tok_words(NULL, "Héllo, 世界 [CLS]", strlen("Héllo, 世界 [CLS]"), collect, &o), 0);
	assert_string_equal(o.buf, "hello/5 ,/1 世/1 界/1 [/1 cls/3 ]/1");
	memset(&o, 0, sizeof(o));
	tok_words(t, "x [CLS]", 7, collect, &o);
	assert_string_equal(o.buf, "x/1 [CLS]/5");
	assert_int_equal(o.specials, 1);
}

static void load_fails(const char *content, size_t n)
{
	char path[300];
	struct tokenizer *bad = (struct tokenizer *)&path;
	snprintf(path, sizeof(path), "%s.bad", vocab_path);
	assert_int_equal(write_file(path, content, n), 0);
	assert_int_equal(tok_load(&bad, path), -1);
	assert_null(bad);
	unlink(path);
}

static void test_tokenizer__rejects_bad_vocabs(void **state)
{
	struct tokenizer *bad = NULL;
	assert_int_equal(tok_load(&bad, "/nonexistent/vocab.txt"), -1);
	assert_null(bad);
	load_fails("", 0);
	load_fails("\n", 1);
	load_fails("[PAD]\n[CLS]\n[SEP]\nhello\n", 24);          /* no [UNK] */
	load_fails("[PAD]\n[UNK]\n[CLS]\n[SEP]\n\0\x01\x02", 27); /* binary */
	load_fails("[PAD]\n[UNK]\n[CLS]\n[SEP]\n\xff\xfe\n", 27); /* not UTF-8 */
	assert_int_equal(tok_load(&bad, "/tmp"), -1);              /* a directory */
	assert_null(bad);
}

static void test_tokenizer__vocab_lines_like_hugging_face(void **state)
{
	char path[300];
	struct tokenizer *v;
	/* CRLF and trailing blanks are not part of a token; a duplicate's later
	 * line wins; no final newline needed */
	const char *s = "[PAD]\r\n[UNK] \n[CLS]\t\n[SEP]\nhello\nhello\nworld";
	snprintf(path, sizeof(path), "%s.crlf", vocab_path);
	assert_int_equal(write_file(path, s, strlen(s)), 0);
	assert_int_equal(tok_load(&v, path), 0);
	unlink(path);
	assert_int_equal(tok_vocab_size(v), 7);
	assert_int_equal(tok_unk_id(v), 1);
	assert_int_equal(tok_cls_id(v), 2);
	assert_int_equal(tok_mask_id(v), -1);
	assert_int_equal(tok_token_id(v, "hello"), 5);
	assert_int_equal(tok_token_id(v, "world"), 6);
	/* [MASK] is not special without a [MASK] token */
	int32_t ids[4];
	assert_int_equal(tok_encode_full(v, "[MASK]", 6, ids, 4), 3);
	tok_free(v);
}

#define NTHREADS 4
#define NTEXTS 6
static const char *const thread_texts[NTEXTS] = {
	"Café NAÏVE École", "中文abc unaffable", "hello [MASK] world!",
	"ΟΔΟΣ hello…world", "x\xcd\xb8 x", "hello world hello world hello world hello",
};
static int32_t serial[NTEXTS][16];

static void *encode_many(void *arg)
{
	long bad = 0;
	int32_t ids[16];
	uint8_t mask[16];
	for (int r = 0; r < 20000; r++) {
		int i = r % NTEXTS;
		tok_encode(t, thread_texts[i], strlen(thread_texts[i]), 16, ids, mask);
		bad += memcmp(ids, serial[i], sizeof(ids)) != 0;
	}
	return (void *)bad;
}

static void test_tokenizer__concurrent_encodes_agree(void **state)
{
	pthread_t th[NTHREADS];
	uint8_t mask[16];
	int i;
	for (i = 0; i < NTEXTS; i++)
		tok_encode(t, thread_texts[i], strlen(thread_texts[i]), 16, serial[i], mask);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, encode_many, NULL), 0);
	for (i = 0; i < NTHREADS; i++) {
		void *bad;
		pthread_join(th[i], &bad);
		assert_int_equal((long)bad, 0);
	}
}

static void test_tokenizer__utf8proc_version(void **state)
{
	assert_non_null(strchr(tok_utf8proc_version(), '.'));
	assert_non_null(strchr(tok_unicode_version(), '.'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokenizer__loads_vocab),
		cmocka_unit_test(test_tokenizer__lowercases_and_strips_accents),
		cmocka_unit_test(test_tokenizer__splits_cjk),
		cmocka_unit_test(test_tokenizer__splits_punctuation),
		cmocka_unit_test(test_tokenizer__cleans_control_chars),
		cmocka_unit_test(test_tokenizer__wordpiece_longest_match),
		cmocka_unit_test(test_tokenizer__long_words_are_unk),
		cmocka_unit_test(test_tokenizer__literal_specials),
		cmocka_unit_test(test_tokenizer__truncates),
		cmocka_unit_test(test_tokenizer__pads),
		cmocka_unit_test(test_tokenizer__encode_full_reports_needed_size),
		cmocka_unit_test(test_tokenizer__words),
		cmocka_unit_test(test_tokenizer__rejects_bad_vocabs),
		cmocka_unit_test(test_tokenizer__vocab_lines_like_hugging_face),
		cmocka_unit_test(test_tokenizer__concurrent_encodes_agree),
		cmocka_unit_test(test_tokenizer__utf8proc_version),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

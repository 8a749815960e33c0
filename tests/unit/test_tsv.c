/*
 * Unit tests of tsv: every quoting quirk of the Fakeddit files, fed in
 * chunks of every size down to one byte (records and quotes split across
 * read-buffer boundaries), bad records with their physical lines, and the
 * real sample files.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsv.h"
#include "util.h"

struct src {
	const char *s;
	size_t len, pos, chunk;
};

static ssize_t src_read(void *data, void *buf, size_t n)
{
	struct src *s = data;
	size_t k = s->len - s->pos;
	if (k > n)
		k = n;
	if (k > s->chunk)
		k = s->chunk;
	memcpy(buf, s->s + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

/*
 * Parses text in chunks of `chunk` bytes and renders every record as
 * "LINE:STATUS:f1|f2|...\n" (fields with '\n' shown as "\\n").
 */
static char *render(const char *text, size_t len, size_t chunk, size_t expect, size_t max)
{
	struct src s = { text, len, 0, chunk };
	struct tsv_reader *r = tsv_new(src_read, &s, max);
	struct strbuf sb = STRBUF_INIT;
	struct tsv_record rec;
	int rc;
	tsv_expect_fields(r, expect);
	while ((rc = tsv_next(r, &rec)) == 1) {
		size_t i, j;
		sb_addf(&sb, "%ld:%d:", rec.line, rec.status);
		for (i = 0; i < rec.nfields; i++) {
			if (i)
				sb_addc(&sb, '|');
			for (j = 0; j < rec.lens[i]; j++) {
				char c = rec.fields[i][j];
				if (c == '\n')
					sb_adds(&sb, "\\n");
				else if (c == '\r')
					sb_adds(&sb, "\\r");
				else if (c == '\0')
					sb_adds(&sb, "\\0");
				else
					sb_addc(&sb, c);
			}
			assert_int_equal(rec.fields[i][rec.lens[i]], '\0');
		}
		sb_addc(&sb, '\n');
	}
	assert_int_equal(rc, 0);
	tsv_free(r);
	if (!sb.buf)
		sb_adds(&sb, "");
	return sb_detach(&sb);
}

/* The same rendering whatever the chunk size. */
static void expect_parse_n(const char *text, size_t len, size_t expect, const char *want)
{
	static const size_t chunks[] = { 1, 2, 3, 5, 7, 64, 1 << 20 };
	size_t i;
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		char *got = render(text, len, chunks[i], expect, 0);
		if (strcmp(got, want))
			fail_msg("chunk %zu:\n got: %s\nwant: %s", chunks[i], got, want);
		free(got);
	}
}

static void expect_parse(const char *text, size_t expect, const char *want)
{
	expect_parse_n(text, strlen(text), expect, want);
}

static void test_tsv__plain_records(void **state)
{
	(void)state;
	expect_parse("a\tb\tc\nd\te\tf\n", 3, "1:0:a|b|c\n2:0:d|e|f\n");
	/* No newline after the last record. */
	expect_parse("a\tb\nc\td", 2, "1:0:a|b\n2:0:c|d\n");
	expect_parse("", 0, "");
}

static void test_tsv__empty_fields(void **state)
{
	(void)state;
	expect_parse("\t\t\n\tx\t\n", 3, "1:0:||\n2:0:|x|\n");
	expect_parse("a\t\"\"\tc\n", 3, "1:0:a||c\n");
}

static void test_tsv__quoted_fields(void **state)
{
	(void)state;
	/* Tabs, doubled quotes and a newline inside quotes; the record spans lines. */
	expect_parse("id\ttitle\n1\t\"a\tb\"\n2\t\"say \"\"hi\"\"\"\n3\t\"two\nlines\"\n4\tx\n", 2,
		     "1:0:id|title\n2:0:1|a\tb\n3:0:2|say \"hi\"\n4:0:3|two\\nlines\n6:0:4|x\n");
	/* A quote inside an unquoted field is a plain character. */
	expect_parse("5\"6\tx\n", 2, "1:0:5\"6|x\n");
	/* A field that is only a quote character. */
	expect_parse("\"\"\"\"\tx\n", 2, "1:0:\"|x\n");
	/* Quoted last field of the last record, at end of input. */
	expect_parse("a\t\"b\"", 2, "1:0:a|b\n");
}

static void test_tsv__crlf_and_bom(void **state)
{
	(void)state;
	expect_parse("a\tb\r\nc\t\"d\"\r\ne\tf", 2, "1:0:a|b\n2:0:c|d\n3:0:e|f\n");
	/* CRLF inside quotes is data. */
	expect_parse("a\t\"x\r\ny\"\r\nb\tc\r\n", 2, "1:0:a|x\\r\\ny\n3:0:b|c\n");
	expect_parse("\xEF\xBB\xBFid\tx\n1\t2\n", 2, "1:0:id|x\n2:0:1|2\n");
	/* A BOM later in the file is data. */
	expect_parse("a\tb\n\xEF\xBB\xBF\tc\n", 2, "1:0:a|b\n2:0:\xEF\xBB\xBF|c\n");
}

static void test_tsv__blank_lines_keep_line_numbers(void **state)
{
	(void)state;
	expect_parse("a\tb\n\n\r\nc\td\n\n", 2, "1:0:a|b\n4:0:c|d\n");
}

static void test_tsv__bad_records(void **state)
{
	(void)state;
	/* Wrong field count: reported with its line, the next record is fine. */
	expect_parse("a\tb\tc\nd\te\nf\tg\th\n", 3, "1:0:a|b|c\n2:1:d|e\n3:0:f|g|h\n");
	/* Unterminated quote at end of input (a file cut mid-quote). */
	expect_parse("a\tb\nc\t\"cut he", 2, "1:0:a|b\n2:2:c|cut he\n");
	/* Text after a closing quote. */
	expect_parse("a\t\"b\"x\nc\td\n", 2, "1:3:a|bx\n2:0:c|d\n");
	/* A NUL byte. */
	expect_parse_n("a\tb\0c\nd\te\n", 10, 2, "1:5:a|b\\0c\n2:0:d|e\n");
}

static void test_tsv__stray_quote_loses_one_line(void **state)
{
	(void)state;
	/* Line 2 opens a quote that closes on line 4 and leaves junk: line 2 is
	 * reported and lines 3.. are read again as records of their own. */
	expect_parse("h1\th2\n\"bad\tx\nc\td\ne\"f\tg\nh\ti\n", 2,
		     "1:0:h1|h2\n2:3:bad\tx\\nc\td\\nef|g\n3:0:c|d\n4:0:e\"f|g\n5:0:h|i\n");
	/* An unterminated quote at EOF that spans lines: only its first line is lost. */
	expect_parse("a\t\"b\nc\td\ne\tf\n", 2, "1:2:a|b\\nc\td\\ne\tf\\n\n2:0:c|d\n3:0:e|f\n");
}

static void test_tsv__too_long_records(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *got;
	size_t i;
	(void)state;
	sb_adds(&sb, "a\tb\n");
	for (i = 0; i < 3000; i++)
		sb_addc(&sb, 'x');
	sb_adds(&sb, "\ty\nc\td\n");
	got = render(sb.buf, sb.len, 100, 2, 1000);
	assert_string_equal(got, "1:0:a|b\n2:4:\n3:0:c|d\n");
	free(got);
	got = render(sb.buf, sb.len, 1, 2, 1000);
	assert_string_equal(got, "1:0:a|b\n2:4:\n3:0:c|d\n");
	free(got);
	sb_release(&sb);
	/* A quote that never closes, over many lines: first line lost only. */
	sb_adds(&sb, "a\t\"b\n");
	for (i = 0; i < 500; i++)
		sb_adds(&sb, "c\td\n");
	got = render(sb.buf, sb.len, 64, 2, 1000);
	assert_true(!strncmp(got, "1:4:\n2:0:c|d\n3:0:c|d\n", 20));
	free(got);
	sb_release(&sb);
}

static void test_tsv__raw_text_and_lines(void **state)
{
	const char *text = "h\tx\r\n1\t\"a\nb\"\r\n2\tz";
	struct src s = { text, strlen(text), 0, 3 };
	struct tsv_reader *r = tsv_new(src_read, &s, 0);
	struct tsv_record rec;
	(void)state;
	assert_int_equal(tsv_next(r, &rec), 1);
	assert_int_equal(rec.raw_len, 3);
	assert_int_equal(tsv_next(r, &rec), 1);
	assert_int_equal(rec.line, 2);
	assert_int_equal(rec.lines, 2);
	assert_int_equal(rec.raw_len, 7);
	assert_memory_equal(rec.raw, "1\t\"a\nb\"", 7);
	assert_int_equal(tsv_next(r, &rec), 1);
	assert_int_equal(rec.line, 4);
	assert_memory_equal(rec.raw, "2\tz", 3);
	assert_int_equal(tsv_next(r, &rec), 0);
	tsv_free(r);
}

static void test_tsv__utf8(void **state)
{
	(void)state;
	assert_true(utf8_valid("plain ascii text, long enough", 29));
	assert_true(utf8_valid("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14));
	assert_false(utf8_valid("caf\xE9", 4));           /* Latin-1 */
	assert_false(utf8_valid("\xC0\xAF", 2));          /* overlong */
	assert_false(utf8_valid("\xED\xA0\x80", 3));      /* surrogate */
	assert_false(utf8_valid("\xF4\x90\x80\x80", 4));  /* > U+10FFFF */
	assert_false(utf8_valid("abcdefgh\xE2\x82", 10)); /* cut sequence */
}

/* The real files: every record has 16 fields, whatever the chunk size. */
static void real_file(const char *name, long want_records)
{
	char path[1024];
	const char *shared = getenv("MMDB_SHARED");
	FILE *f;
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t n;
	char *a, *b;
	long records = 0, bad = 0;
	const char *p;
	snprintf(path, sizeof(path), "%s/fakeddit-sample/%s", shared ? shared : "../shared", name);
	f = fopen(path, "rb");
	if (!f) {
		skip();
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_add(&sb, buf, n);
	fclose(f);
	a = render(sb.buf, sb.len, 7, 16, 0);
	b = render(sb.buf, sb.len, 1 << 20, 16, 0);
	assert_string_equal(a, b);
	for (p = a; *p; p = strchr(p, '\n') + 1) {
		records++;
		if (strncmp(strchr(p, ':'), ":0:", 3))
			bad++;
	}
	assert_int_equal(bad, 0);
	assert_int_equal(records, want_records + 1); /* and the header */
	free(a);
	free(b);
	sb_release(&sb);
}

static void test_tsv__real_sample_files(void **state)
{
	(void)state;
	real_file("multimodal_validate.tsv", 9996);
	real_file("multimodal_test_public.tsv", 9998);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsv__plain_records),
		cmocka_unit_test(test_tsv__empty_fields),
		cmocka_unit_test(test_tsv__quoted_fields),
		cmocka_unit_test(test_tsv__crlf_and_bom),
		cmocka_unit_test(test_tsv__blank_lines_keep_line_numbers),
		cmocka_unit_test(test_tsv__bad_records),
		cmocka_unit_test(test_tsv__stray_quote_loses_one_line),
		cmocka_unit_test(test_tsv__too_long_records),
		cmocka_unit_test(test_tsv__raw_text_and_lines),
		cmocka_unit_test(test_tsv__utf8),
		cmocka_unit_test(test_tsv__real_sample_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests of the safetensors reader and writer, hostile files included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"
#include "util.h"

static char dir[256];

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/mmdb-test-st-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A file image: 8-byte length, header, then data_len bytes of data. */
static size_t make(uint8_t *out, const char *header, size_t data_len)
{
	size_t hl = strlen(header);
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)((uint64_t)hl >> (8 * i));
	memcpy(out + 8, header, hl);
	for (size_t i = 0; i < data_len; i++)
		out[8 + hl + i] = (uint8_t)i;
	return 8 + hl + data_len;
}

/* Parsing fails and the message contains want. */
static void rejects(const char *header, size_t data_len, const char *want)
{
	static uint8_t buf[1 << 16];
	char err[512] = "";
	struct st_file *f = NULL;
	size_t n = make(buf, header, data_len);
	assert_int_equal(st_parse(buf, n, &f, err, sizeof err), -1);
	assert_null(f);
	if (!strstr(err, want))
		fail_msg("header %s: error '%s' lacks '%s'", header, err, want);
}

static void test_safetensors__write_then_read(void **state)
{
	char path[300], err[512];
	float a[6] = {1, 2, 3, 4, 5, 6};
	uint16_t h[3] = {0x3c00, 0x4000, 0xc000};   /* F16 1, 2, -2 */
	uint16_t bf[2] = {0x3f80, 0x4049};          /* BF16 1, 3.140625 */
	int64_t sa[2] = {2, 3}, sh[1] = {3}, sb[2] = {1, 2}, s0[1] = {0};
	struct st_out t[] = {
		{"bert.embeddings.word_embeddings.weight", ST_F32, 2, sa, a},
		{"half \"quoted\" \xc3\xa9", ST_F16, 1, sh, h},
		{"bf", ST_BF16, 2, sb, bf},
		{"empty", ST_F32, 1, s0, NULL},
	};
	const char *meta[] = {"format", "pt"};
	struct st_file *f;

	snprintf(path, sizeof path, "%s/a.safetensors", dir);
	assert_int_equal(st_write(path, t, 4, meta, 1, err, sizeof err), 0);
	assert_int_equal(st_open(path, &f, err, sizeof err), 0);
	assert_int_equal(f->n, 4);
	assert_int_equal(f->header_len % 8, 0);
	assert_int_equal(f->n_meta, 1);
	assert_string_equal(f->meta_key[0], "format");
	assert_string_equal(f->meta_val[0], "pt");
	const struct st_tensor *x = st_find(f, "bert.embeddings.word_embeddings.weight");
	assert_non_null(x);
	assert_int_equal(x->dtype, ST_F32);
	assert_int_equal(x->ndim, 2);
	assert_int_equal(x->shape[0], 2);
	assert_int_equal(x->shape[1], 3);
	assert_int_equal(st_numel(x), 6);
	assert_memory_equal(st_data(f, x), a, sizeof a);
	x = st_find(f, "half \"quoted\" \xc3\xa9");
	assert_non_null(x);
	assert_int_equal(x->dtype, ST_F16);
	assert_memory_equal(st_data(f, x), h, sizeof h);
	x = st_find(f, "bf");
	assert_int_equal(x->dtype, ST_BF16);
	assert_memory_equal(st_data(f, x), bf, sizeof bf);
	assert_int_equal(st_find(f, "empty")->nbytes, 0);
	assert_null(st_find(f, "nope"));
	st_close(f);
	/* no temporary file is left beside it */
	char tmp[320];
	snprintf(tmp, sizeof tmp, "%s/a.safetensors.tmp%ld", dir, (long)getpid());
	assert_int_equal(access(tmp, F_OK), -1);
}

static void test_safetensors__reads_escapes_and_spacing(void **state)
{
	uint8_t buf[512];
	char err[512];
	struct st_file *f;
	size_t n = make(buf, " { \"a\\u00e9\\ud83d\\ude00\" : { \"shape\" : [ ] , \"dtype\" : \"U8\" ,"
		" \"data_offsets\" : [ 0 , 1 ] } , \"__metadata__\" : { } }   ", 1);
	assert_int_equal(st_parse(buf, n, &f, err, sizeof err), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->t[0].name, "a\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(f->t[0].ndim, 0);
	assert_int_equal(st_numel(&f->t[0]), 1);
	st_close(f);
}

static void test_safetensors__hostile_files(void **state)
{
	static uint8_t buf[64];
	char err[512];
	struct st_file *f = NULL;

	/* shorter than the length field */
	assert_int_equal(st_parse("abc", 3, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a safetensors file"));
	/* header length past the end */
	memset(buf, 0, sizeof buf);
	buf[0] = 200;
	memcpy(buf + 8, "{}", 2);
	assert_int_equal(st_parse(buf, 10, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "past the end of the file"));
	/* oversized header: 2^63 */
	memset(buf, 0, sizeof buf);
	buf[7] = 0x80;
	assert_int_equal(st_parse(buf, 16, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "larger than"));
	/* data offsets past the data */
	rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "past the end of the data");
	rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[18446744073709551608,0]}}", 8,
		"integer too large");
	rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[9223372036854775800,9223372036854775807]}}",
		8, "span");
	/* end before begin */
	rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "end before begin");
	/* overlapping tensors */
	rejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
		"\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap");
	/* shape product does not match the bytes */
	rejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "span 8");
	rejects("{\"w\":{\"dtype\":\"F16\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8,
		"too large");
	/* unknown dtype */
	rejects("{\"w\":{\"dtype\":\"F8_X\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "unknown dtype 'F8_X'");
	/* negative or fractional numbers, too many dims */
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1, "non-negative");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1, "integer");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, "too many");
	/* malformed JSON, missing fields, duplicates, trailing bytes */
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}", 1, "expected");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, "needs dtype");
	rejects("{\"w\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "repeated");
	rejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
		"\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, "twice");
	rejects("{} x", 0, "trailing");
	rejects("[]", 0, "expected '{'");
	rejects("{\"a\\u0000b\":{}}", 0, "bad string");
	rejects("{\"\\ud800\":{}}", 0, "bad string");
	rejects("{\"unterminated", 0, "bad string");
	rejects("", 0, "expected '{'");
}

static void test_safetensors__open_errors_name_the_file(void **state)
{
	char path[300], err[512];
	struct st_file *f;
	snprintf(path, sizeof path, "%s/missing.safetensors", dir);
	assert_int_equal(st_open(path, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "missing.safetensors"));
	assert_int_equal(st_open(dir, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a regular file"));
	/* truncated copy of a good file */
	float a[4] = {1, 2, 3, 4};
	int64_t s[1] = {4};
	struct st_out t = {"a", ST_F32, 1, s, a};
	snprintf(path, sizeof path, "%s/t.safetensors", dir);
	assert_int_equal(st_write(path, &t, 1, NULL, 0, err, sizeof err), 0);
	assert_int_equal(st_open(path, &f, err, sizeof err), 0);
	off_t cut = (off_t)(8 + f->header_len + 8);
	st_close(f);
	assert_int_equal(truncate(path, cut), 0);
	assert_int_equal(st_open(path, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "t.safetensors"));
}

/* Many tensors: a duplicate name anywhere is found (by sorting, not pairwise). */
static void test_safetensors__many_tensors_duplicate_found(void **state)
{
	enum { N = 50000 };
	struct strbuf h = STRBUF_INIT;
	struct st_file *f = NULL;
	char err[512];
	uint8_t *buf;
	size_t len;
	int dup;

	for (dup = 0; dup < 2; dup++) {
		sb_reset(&h);
		sb_addc(&h, '{');
		for (int i = 0; i < N; i++)
			sb_addf(&h, "%s\"t%d\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[%d,%d]}",
				i ? "," : "", dup && i == N - 1 ? 17 : i, i, i + 1);
		sb_addc(&h, '}');
		len = 8 + h.len + N;
		buf = xcalloc(1, len);
		for (int i = 0; i < 8; i++)
			buf[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
		memcpy(buf + 8, h.buf, h.len);
		if (!dup) {
			assert_int_equal(st_parse(buf, len, &f, err, sizeof err), 0);
			assert_int_equal((int)f->n, N);
			assert_non_null(st_find(f, "t49999"));
			st_close(f);
		} else {
			assert_int_equal(st_parse(buf, len, &f, err, sizeof err), -1);
			assert_non_null(strstr(err, "tensor 't17' appears twice"));
		}
		free(buf);
	}
	sb_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safetensors__write_then_read),
		cmocka_unit_test(test_safetensors__reads_escapes_and_spacing),
		cmocka_unit_test(test_safetensors__hostile_files),
		cmocka_unit_test(test_safetensors__many_tensors_duplicate_found),
		cmocka_unit_test(test_safetensors__open_errors_name_the_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Unit tests of bz2par: files made by the system's bzip2 (one block and
 * many, levels 1 and 9, several streams one after another, an empty one)
 * come back byte for byte whatever the number of threads; wrong cuts are
 * joined again; truncated, damaged and endless files are errors, never
 * wrong bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bz2par.h"
#include "util.h"

static char tmpdir[256];
static unsigned char *data;
static size_t data_len;

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static char *tpath(const char *name)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static void write_file(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
}

/* About 1.5 MB: text-like runs and noise, so blocks compress unevenly. */
static int setup(void **state)
{
	uint64_t x = 88172645463325252ULL;
	size_t i;
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/mmdb-bz2par-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	data_len = 1500000;
	data = xmalloc(data_len);
	for (i = 0; i < data_len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		data[i] = (i / 4096) % 3 ? (unsigned char)("the quick brown fox "[i % 20]) : (unsigned char)x;
	}
	write_file(tpath("data"), data, data_len);
	sh("bzip2 -1 -k -c %s >%s", tpath("data"), tpath("l1.bz2"));
	sh("bzip2 -9 -k -c %s >%s", tpath("data"), tpath("l9.bz2"));
	sh("head -c 1000 %s | bzip2 -c >%s", tpath("data"), tpath("small.bz2"));
	sh("cat %s %s >%s", tpath("l1.bz2"), tpath("small.bz2"), tpath("two.bz2"));
	sh("bzip2 -c </dev/null >%s", tpath("empty.bz2"));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", tmpdir);
	free(data);
	return 0;
}

/* Decompresses path with threads; returns the bytes (*n) or NULL on error. */
static unsigned char *unbz(const char *path, int threads, size_t *n)
{
	struct bz2par *p = NULL;
	unsigned char head[10], *out = NULL;
	size_t len = 0, alloc = 0;
	const void *buf;
	ssize_t r;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, head, 10), 10);
	assert_int_equal(bz2par_open(&p, fd, head, 10, path, threads), 0);
	while ((r = bz2par_read(p, &buf)) > 0) {
		if (len + (size_t)r > alloc) {
			alloc = (len + (size_t)r) * 2;
			out = xrealloc(out, alloc);
		}
		memcpy(out + len, buf, (size_t)r);
		len += (size_t)r;
	}
	assert_true(bz2par_consumed(p) > 0);
	bz2par_close(p);
	close(fd);
	if (r < 0) {
		free(out);
		return NULL;
	}
	*n = len;
	return out ? out : xmalloc(1);
}

static void check_same(const char *name, int threads, const unsigned char *want, size_t want_n)
{
	size_t n = 0;
	unsigned char *got = unbz(tpath(name), threads, &n);
	assert_non_null(got);
	assert_int_equal(n, want_n);
	assert_memory_equal(got, want, want_n);
	free(got);
}

static void test_bz2par__detects_bzip2_only(void **state)
{
	static const unsigned char good[] = "BZh91AY&SY", eos[] = "BZh9\x17\x72\x45\x38\x50\x90";
	(void)state;
	assert_true(bz2par_detect(good, 10));
	assert_true(bz2par_detect(eos, 10));
	assert_false(bz2par_detect((const unsigned char *)"BZh01AY&SY", 10));
	assert_false(bz2par_detect((const unsigned char *)"\x1f\x8b\x08\0\0\0\0\0\0\0", 10));
	assert_false(bz2par_detect(good, 9));
}

static void test_bz2par__many_blocks_any_threads(void **state)
{
	(void)state;
	/* -1: 100 kB blocks, so about fifteen of them. */
	check_same("l1.bz2", 1, data, data_len);
	check_same("l1.bz2", 2, data, data_len);
	check_same("l1.bz2", 7, data, data_len);
	check_same("l9.bz2", 3, data, data_len);
}

static void test_bz2par__streams_one_after_another(void **state)
{
	unsigned char *want = xmalloc(data_len + 1000);
	(void)state;
	memcpy(want, data, data_len);
	memcpy(want + data_len, data, 1000);
	check_same("two.bz2", 4, want, data_len + 1000);
	check_same("small.bz2", 2, data, 1000);
	check_same("empty.bz2", 2, data, 0);
	free(want);
}

static void test_bz2par__wrong_cuts_are_joined(void **state)
{
	unsigned char *want = xmalloc(data_len + 1000);
	(void)state;
	memcpy(want, data, data_len);
	memcpy(want + data_len, data, 1000);
	/* A false cut every ~20 kB: each block is cut in a few pieces that do
	 * not decode alone and are joined to their neighbours again. */
	bz2par_test_cuts(160000);
	check_same("l1.bz2", 3, data, data_len);
	check_same("two.bz2", 2, want, data_len + 1000);
	bz2par_test_cuts(0);
	free(want);
}

static void test_bz2par__truncated_or_damaged_is_an_error(void **state)
{
	FILE *f;
	long len;
	unsigned char *buf;
	size_t n;
	(void)state;
	f = fopen(tpath("l1.bz2"), "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)len);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);

	write_file(tpath("cut.bz2"), buf, (size_t)len / 2);
	assert_null(unbz(tpath("cut.bz2"), 2, &n));
	buf[len / 3] ^= 0x10;
	write_file(tpath("bad.bz2"), buf, (size_t)len);
	assert_null(unbz(tpath("bad.bz2"), 2, &n));
	free(buf);
	/* A bzip2 header, then 17 MB without a magic: an error, not a 17 MB buffer. */
	sh("{ printf 'BZh91AY&SY'; head -c 17000000 /dev/zero; } >%s", tpath("nomagic.bz2"));
	assert_null(unbz(tpath("nomagic.bz2"), 2, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bz2par__detects_bzip2_only),
		cmocka_unit_test(test_bz2par__many_blocks_any_threads),
		cmocka_unit_test(test_bz2par__streams_one_after_another),
		cmocka_unit_test(test_bz2par__wrong_cuts_are_joined),
		cmocka_unit_test(test_bz2par__truncated_or_damaged_is_an_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

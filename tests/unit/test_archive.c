/*
 * Unit tests of archive: plain, compressed (gz, bz2, xz, zst) and archived
 * (tar, tar.gz, zip) files read as entries; hashing; errors. Fixtures are
 * made in a temporary directory with the system's gzip, bzip2, xz, zstd,
 * tar and zip.
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
#include <unistd.h>

#include "archive.h"
#include "util.h"

static char tmpdir[256];

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

/* A text with a few hundred KB, so that it spans many read buffers. */
static char *content;
static size_t content_len;

static int setup(void **state)
{
	FILE *f;
	size_t i;
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/mmdb-archive.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	sb_adds(&sb, "id\ttitle\t6_way_label\n");
	for (i = 0; i < 20000; i++)
		sb_addf(&sb, "id%zu\t\"a title, with \"\"quotes\"\"\"\t%zu\n", i, i % 6);
	content_len = sb.len;
	content = sb_detach(&sb);
	f = fopen(tpath("multimodal_train.tsv"), "wb");
	if (!f || fwrite(content, 1, content_len, f) != content_len || fclose(f))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	free(content);
	return system(cmd) == 0 ? 0 : -1;
}

/* Reads the current entry whole with reads of `chunk` bytes. */
static char *read_all(struct ar_reader *r, size_t chunk, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char *buf = xmalloc(chunk);
	ssize_t n;
	while ((n = ar_read(r, buf, chunk)) > 0)
		sb_add(&sb, buf, (size_t)n);
	assert_int_equal(n, 0);
	free(buf);
	*len = sb.len;
	return sb_detach(&sb);
}

/* Opens path, expects exactly one entry `name` holding `content`. */
static void expect_single(const char *path, const char *name)
{
	struct ar_reader *r = NULL;
	struct ar_entry e;
	size_t len;
	char *data;
	assert_int_equal(ar_open(&r, path), 0);
	assert_int_equal(ar_next(r, &e), 1);
	assert_string_equal(e.name, name);
	assert_int_equal(e.type, AR_FILE);
	data = read_all(r, 4096, &len);
	assert_int_equal(len, content_len);
	assert_memory_equal(data, content, len);
	free(data);
	assert_int_equal(ar_next(r, &e), 0);
	assert_int_equal(ar_is_archive(r), 0);
	ar_close(r);
}

static void test_archive__plain_file_is_one_entry(void **state)
{
	(void)state;
	expect_single(tpath("multimodal_train.tsv"), "multimodal_train.tsv");
}

static void test_archive__compressed_files_are_one_entry(void **state)
{
	static const char *const tools[][2] = {
		{ "gzip", "gz" }, { "bzip2", "bz2" }, { "xz", "xz" }, { "zstd -q", "zst" },
	};
	size_t i;
	(void)state;
	for (i = 0; i < ARRAY_SIZE(tools); i++) {
		char name[64];
		snprintf(name, sizeof(name), "multimodal_train.tsv.%s", tools[i][1]);
		sh("%s -c '%s' > '%s'", tools[i][0], tpath("multimodal_train.tsv"), tpath(name));
		expect_single(tpath(name), "multimodal_train.tsv");
	}
}

/* A tar (and tar.gz, zip) of a directory with two files. */
static void check_two_entries(const char *path)
{
	struct ar_reader *r = NULL;
	struct ar_entry e;
	int files = 0, dirs = 0, rc;
	assert_int_equal(ar_open(&r, path), 0);
	while ((rc = ar_next(r, &e)) == 1) {
		size_t len;
		char *data;
		assert_int_equal(ar_is_archive(r), 1);
		if (e.type == AR_DIR) {
			dirs++;
			continue;
		}
		assert_int_equal(e.type, AR_FILE);
		data = read_all(r, 777, &len);
		if (strstr(e.name, "multimodal_train.tsv")) {
			assert_int_equal(len, content_len);
			assert_memory_equal(data, content, len);
			assert_int_equal(e.size, (int64_t)content_len);
		} else {
			assert_non_null(strstr(e.name, "notes.txt"));
			assert_int_equal(len, 6);
			assert_memory_equal(data, "hello\n", 6);
		}
		free(data);
		files++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(files, 2);
	assert_true(dirs <= 1);
	ar_close(r);
}

static void test_archive__tar_zip_entries(void **state)
{
	(void)state;
	sh("cd '%s' && mkdir -p d && cp multimodal_train.tsv d/ && printf 'hello\\n' > d/notes.txt", tmpdir);
	sh("cd '%s' && tar cf d.tar d && tar czf d.tar.gz d && tar cJf d.tar.xz d", tmpdir);
	sh("cd '%s' && zip -q -r d.zip d", tmpdir);
	check_two_entries(tpath("d.tar"));
	check_two_entries(tpath("d.tar.gz"));
	check_two_entries(tpath("d.tar.xz"));
	check_two_entries(tpath("d.zip"));
}

static void test_archive__hash_and_bytes_consumed(void **state)
{
	struct ar_reader *r = NULL;
	struct ar_entry e;
	char hex[65], want[65];
	uint64_t want_size;
	int64_t size;
	size_t len;
	char *data;
	(void)state;
	sh("cd '%s' && tar czf h.tar.gz multimodal_train.tsv", tmpdir);
	assert_int_equal(sha256_file(tpath("h.tar.gz"), want, &want_size), 0);
	assert_int_equal(ar_open_flags(&r, tpath("h.tar.gz"), AR_HASH), 0);
	assert_int_equal(ar_file_size(r), (int64_t)want_size);
	assert_int_equal(ar_next(r, &e), 1);
	data = read_all(r, 65536, &len);
	assert_int_equal(len, content_len);
	free(data);
	assert_true(ar_bytes_consumed(r) > 0);
	assert_true(ar_bytes_consumed(r) <= (int64_t)want_size);
	assert_int_equal(ar_next(r, &e), 0);
	assert_int_equal(ar_sha256(r, hex, &size), 0);
	assert_string_equal(hex, want);
	assert_int_equal(size, (int64_t)want_size);
	ar_close(r);
}

static void test_archive__empty_file_reads_nothing(void **state)
{
	struct ar_reader *r = NULL;
	struct ar_entry e;
	char buf[16];
	(void)state;
	sh(": > '%s' && gzip -c '%s' > '%s'", tpath("empty.tsv"), tpath("empty.tsv"), tpath("empty.tsv.gz"));
	assert_int_equal(ar_open(&r, tpath("empty.tsv")), 0);
	assert_int_equal(ar_next(r, &e), 0);
	ar_close(r);
	assert_int_equal(ar_open(&r, tpath("empty.tsv.gz")), 0);
	assert_int_equal(ar_next(r, &e), 0);
	ar_close(r);
	/* One byte is a plain file. */
	sh("printf x > '%s'", tpath("x.tsv"));
	assert_int_equal(ar_open(&r, tpath("x.tsv")), 0);
	assert_int_equal(ar_next(r, &e), 1);
	assert_int_equal(ar_read(r, buf, sizeof(buf)), 1);
	assert_int_equal(ar_read(r, buf, sizeof(buf)), 0);
	ar_close(r);
}

static void test_archive__errors_name_the_file(void **state)
{
	struct ar_reader *r = NULL;
	struct ar_entry e;
	char buf[4096];
	ssize_t n;
	(void)state;
	assert_int_equal(ar_open(&r, tpath("no-such-file.tsv")), -1);
	assert_null(r);
	assert_int_equal(ar_open(&r, tmpdir), -1);
	/* A gzip file cut in half: the read fails instead of ending quietly. */
	sh("gzip -c '%s' | head -c 20000 > '%s'", tpath("multimodal_train.tsv"), tpath("cut.tsv.gz"));
	assert_int_equal(ar_open(&r, tpath("cut.tsv.gz")), 0);
	assert_int_equal(ar_next(r, &e), 1);
	while ((n = ar_read(r, buf, sizeof(buf))) > 0)
		;
	assert_int_equal(n, -1);
	ar_close(r);
	/* A zip entry whose CRC does not match its data: an error, not a short entry. */
	sh("cd '%s' && rm -f crc.zip && zip -q crc.zip multimodal_train.tsv && "
	   "printf '\\336\\255\\276\\357' | dd of=crc.zip bs=1 seek=14 conv=notrunc status=none", tmpdir);
	assert_int_equal(ar_open(&r, tpath("crc.zip")), 0);
	assert_int_equal(ar_next(r, &e), 1);
	while ((n = ar_read(r, buf, sizeof(buf))) > 0)
		;
	assert_int_equal(n, -1);
	ar_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_archive__plain_file_is_one_entry),
		cmocka_unit_test(test_archive__compressed_files_are_one_entry),
		cmocka_unit_test(test_archive__tar_zip_entries),
		cmocka_unit_test(test_archive__hash_and_bytes_consumed),
		cmocka_unit_test(test_archive__empty_file_reads_nothing),
		cmocka_unit_test(test_archive__errors_name_the_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

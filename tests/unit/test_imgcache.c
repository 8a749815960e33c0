/*
 * Unit tests of imgcache: format sniffing, header dimensions, truncation
 * checks and placeholder recognition on the real sample images and small
 * synthetic headers; the writer's hash, commit, dedup and abort; cleaning of
 * temporary files left by dead processes.
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
#include <sys/stat.h>
#include <unistd.h>

#include "imgcache.h"
#include "util.h"

static char tmpdir[256];

static unsigned char *slurp(const char *name, size_t *n)
{
	char path[512];
	const char *shared = getenv("MMDB_SHARED");
	FILE *f;
	unsigned char *buf;
	long len;
	snprintf(path, sizeof(path), "%s/fakeddit-sample/images/%s", shared ? shared : "../shared", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)len);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return buf;
}

static int probe_all(const unsigned char *d, size_t n, struct imgcache_info *info)
{
	size_t t = n > IMGCACHE_TAIL ? IMGCACHE_TAIL : n;
	return imgcache_probe(d, n, d + n - t, t, n, info);
}

static void test_imgcache__sniffs_magic_not_names(void **state)
{
	size_t n;
	unsigned char *jpg = slurp("10wrdh.jpg", &n), *png = slurp("5bn1qa.jpg", &n);
	assert_int_equal(imgcache_sniff(jpg, 16), IMG_JPEG);
	assert_int_equal(imgcache_sniff(png, 16), IMG_PNG);
	assert_int_equal(imgcache_sniff((const unsigned char *)"GIF89a\1\0\1\0", 10), IMG_GIF);
	assert_int_equal(imgcache_sniff((const unsigned char *)"GIF87a\1\0\1\0", 10), IMG_GIF);
	assert_int_equal(imgcache_sniff((const unsigned char *)"RIFF\0\0\0\0WEBPVP8 ", 16), IMG_WEBP);
	assert_int_equal(imgcache_sniff((const unsigned char *)"RIFF\0\0\0\0WAVEfmt ", 16), IMG_UNKNOWN);
	assert_int_equal(imgcache_sniff((const unsigned char *)"<!DOCTYPE html>", 15), IMG_UNKNOWN);
	assert_int_equal(imgcache_sniff(jpg, 2), IMG_UNKNOWN);
	assert_string_equal(imgcache_format_name(IMG_WEBP), "webp");
	assert_null(imgcache_format_name(IMG_UNKNOWN));
	free(jpg);
	free(png);
}

static void test_imgcache__reads_dimensions(void **state)
{
	size_t n;
	int w, h;
	unsigned char *jpg = slurp("10wrdh.jpg", &n);
	unsigned char *ph = slurp("ct8etz1.jpg", &n);
	/* GIF: logical screen 300x7. */
	static const unsigned char gif[] = "GIF89a\x2c\x01\x07\x00";
	/* WebP lossy: frame tag, start code, 14-bit sizes 640x480. */
	unsigned char vp8[30] = "RIFF\0\0\0\0WEBPVP8 ";
	unsigned char vp8l[30] = "RIFF\0\0\0\0WEBPVP8L";
	unsigned char vp8x[30] = "RIFF\0\0\0\0WEBPVP8X";
	uint32_t bits;

	assert_int_equal(imgcache_header_dims(IMG_JPEG, jpg, 4096, &w, &h), 0);
	assert_int_equal(w, 320);
	assert_int_equal(h, 213);
	assert_int_equal(imgcache_header_dims(IMG_JPEG, jpg, 20, &w, &h), 1); /* needs more */
	assert_int_equal(imgcache_header_dims(IMG_PNG, ph, 24, &w, &h), 0);
	assert_int_equal(w, 161);
	assert_int_equal(h, 81);
	assert_int_equal(imgcache_header_dims(IMG_GIF, gif, 10, &w, &h), 0);
	assert_int_equal(w, 300);
	assert_int_equal(h, 7);

	vp8[23] = 0x9d; vp8[24] = 0x01; vp8[25] = 0x2a;
	vp8[26] = 640 & 0xff; vp8[27] = 640 >> 8; vp8[28] = 480 & 0xff; vp8[29] = 480 >> 8;
	assert_int_equal(imgcache_header_dims(IMG_WEBP, vp8, 30, &w, &h), 0);
	assert_int_equal(w, 640);
	assert_int_equal(h, 480);
	vp8l[20] = 0x2f;
	bits = (100 - 1) | (200 - 1) << 14;
	memcpy(vp8l + 21, &bits, 4); /* little-endian host */
	assert_int_equal(imgcache_header_dims(IMG_WEBP, vp8l, 30, &w, &h), 0);
	assert_int_equal(w, 100);
	assert_int_equal(h, 200);
	vp8x[24] = 0xff; vp8x[25] = 0x03; /* 1024 - 1 */
	vp8x[27] = 0x1f; vp8x[28] = 0x01; /* 288 - 1 */
	assert_int_equal(imgcache_header_dims(IMG_WEBP, vp8x, 30, &w, &h), 0);
	assert_int_equal(w, 1024);
	assert_int_equal(h, 288);
	vp8[23] = 0;
	assert_int_equal(imgcache_header_dims(IMG_WEBP, vp8, 30, &w, &h), -1);
	free(jpg);
	free(ph);
}

static void test_imgcache__probe_finds_truncation(void **state)
{
	size_t n, m;
	unsigned char *jpg = slurp("10wrdh.jpg", &n), *png = slurp("98ggbm.jpg", &m);
	struct imgcache_info info;

	assert_int_equal(probe_all(jpg, n, &info), IMGC_OK);
	assert_int_equal(info.format, IMG_JPEG);
	assert_int_equal(probe_all(jpg, n / 2, &info), IMGC_CORRUPT);
	assert_non_null(strstr(info.why, "truncated"));
	assert_int_equal(probe_all(png, m, &info), IMGC_OK);
	assert_int_equal(info.format, IMG_PNG);
	assert_int_equal(probe_all(png, m - 5, &info), IMGC_CORRUPT);
	assert_int_equal(probe_all(jpg, 10, &info), IMGC_CORRUPT); /* header cut */
	assert_int_equal(probe_all((const unsigned char *)"<html></html>", 13, &info), IMGC_NOT_IMAGE);
	assert_int_equal(probe_all((const unsigned char *)"", 0, &info), IMGC_NOT_IMAGE);
	assert_string_equal(info.why, "empty body");
	/* dimensions beyond the head: the caller must hand more bytes */
	assert_int_equal(imgcache_probe(jpg, 20, jpg + n - 64, 64, n, &info), IMGC_NEED_MORE);
	free(jpg);
	free(png);
}

static void test_imgcache__recognises_placeholder(void **state)
{
	size_t n;
	unsigned char *ph = slurp("ct8etz1.jpg", &n);
	char hex[65];
	imgcache_hash_buf(ph, n, hex);
	assert_true(imgcache_is_placeholder(hex, IMG_PNG, 161, 81));
	assert_true(imgcache_is_placeholder(hex, IMG_UNKNOWN, 0, 0)); /* by hash alone */
	assert_true(imgcache_is_placeholder("00", IMG_PNG, 161, 81)); /* by shape alone */
	assert_false(imgcache_is_placeholder("00", IMG_JPEG, 161, 81));
	assert_false(imgcache_is_placeholder("00", IMG_PNG, 160, 81));
	imgcache_hash_buf("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(ph);
}

static int count_files(const char *dir)
{
	char cmd[600];
	FILE *p;
	int n = -1;
	snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void test_imgcache__writer_commits_dedups_and_aborts(void **state)
{
	struct imgcache *c;
	struct imgcache_writer *w;
	struct imgcache_info info;
	char hex[65], hex2[65], want[65], objects[300], *path;
	size_t n;
	unsigned char *jpg = slurp("10wrdh.jpg", &n);
	int dedup = -1;

	snprintf(objects, sizeof(objects), "%s/objects", tmpdir);
	imgcache_hash_buf(jpg, n, want);
	assert_int_equal(imgcache_open(&c, tmpdir), 0);
	assert_int_equal(imgcache_writer_new(c, &w), 0);
	assert_int_equal(imgcache_tmp_count(c), 1);
	/* in uneven pieces, so head and tail bookkeeping is exercised */
	assert_int_equal(imgcache_writer_write(w, jpg, 7), 0);
	assert_int_equal(imgcache_writer_write(w, jpg + 7, 3000), 0);
	assert_int_equal(imgcache_writer_write(w, jpg + 3007, n - 3007 - 100), 0);
	assert_int_equal(imgcache_writer_write(w, jpg + n - 100, 100), 0);
	assert_int_equal(imgcache_writer_size(w), n);
	assert_int_equal(imgcache_writer_probe(w, &info), IMGC_OK);
	assert_int_equal(info.width, 320);
	assert_int_equal(imgcache_writer_commit(w, hex, &dedup), 0);
	assert_string_equal(hex, want);
	assert_int_equal(dedup, 0);
	assert_true(imgcache_has(c, hex));
	path = imgcache_object_path(c, hex);
	assert_non_null(strstr(path, "/objects/"));
	assert_memory_equal(strstr(path, "/objects/") + 9, hex, 2);
	free(path);
	assert_int_equal(imgcache_sync(c), 0);

	/* the same bytes again: stored once */
	assert_int_equal(imgcache_writer_new(c, &w), 0);
	assert_int_equal(imgcache_writer_write(w, jpg, n), 0);
	assert_int_equal(imgcache_writer_commit(w, hex2, &dedup), 0);
	assert_string_equal(hex2, want);
	assert_int_equal(dedup, 1);
	assert_int_equal(count_files(objects), 1);

	/* abort and discard leave nothing */
	assert_int_equal(imgcache_writer_new(c, &w), 0);
	assert_int_equal(imgcache_writer_write(w, jpg, n / 2), 0);
	imgcache_writer_abort(w);
	assert_int_equal(imgcache_writer_new(c, &w), 0);
	assert_int_equal(imgcache_writer_write(w, "abc", 3), 0);
	imgcache_writer_discard(w, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(imgcache_tmp_count(c), 0);
	assert_int_equal(count_files(objects), 1);
	imgcache_close(c);
	free(jpg);
}

static void test_imgcache__open_removes_dead_writers_files(void **state)
{
	struct imgcache *c;
	char p[400];
	FILE *f;

	assert_int_equal(imgcache_open(&c, tmpdir), 0);
	imgcache_close(c);
	/* pid 1 is alive: its file stays; a pid that cannot exist is gone. */
	snprintf(p, sizeof(p), "%s/tmp/1.1.live", tmpdir);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/tmp/2147483646.1.dead", tmpdir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("partial", f);
	fclose(f);
	assert_int_equal(imgcache_open(&c, tmpdir), 0);
	assert_int_equal(imgcache_tmp_count(c), 1);
	assert_int_equal(access(p, F_OK), -1);
	imgcache_close(c);
	snprintf(p, sizeof(p), "%s/tmp/1.1.live", tmpdir);
	unlink(p);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/mmdb-imgcache.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imgcache__sniffs_magic_not_names),
		cmocka_unit_test(test_imgcache__reads_dimensions),
		cmocka_unit_test(test_imgcache__probe_finds_truncation),
		cmocka_unit_test(test_imgcache__recognises_placeholder),
		cmocka_unit_test(test_imgcache__writer_commits_dedups_and_aborts),
		cmocka_unit_test(test_imgcache__open_removes_dead_writers_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

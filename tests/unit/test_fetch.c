/*
 * Unit tests of fetch: fetch_file() against tests/imgserver.py on
 * 127.0.0.1 (a whole download, a resumed one after a truncated transfer,
 * a sha256 mismatch, HTTP errors, refused schemes); the multi fetcher's
 * outcome classification and its per-host limit.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"
#include "imgcache.h"
#include "util.h"

static char tmpdir[256], base[64], images[512];
static pid_t server;

static char *tpath(const char *name)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static void sample_sha(const char *name, char hex[65], uint64_t *size)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", images, name);
	assert_int_equal(imgcache_hash_file(p, hex, size), 0);
}

static void test_fetch__file_whole_and_checked(void **state)
{
	char url[256], hex[65], got[65];
	uint64_t size, gsize;
	struct stat st;

	sample_sha("10wrdh.jpg", hex, &size);
	snprintf(url, sizeof(url), "%s/img/10wrdh.jpg", base);
	assert_int_equal(fetch_file(url, tpath("a.jpg"), hex, NULL, 1), 0);
	assert_int_equal(imgcache_hash_file(tpath("a.jpg"), got, &gsize), 0);
	assert_string_equal(got, hex);
	assert_int_equal(gsize, size);
	assert_int_equal(stat(tpath("a.jpg.part"), &st), -1);
}

static void test_fetch__file_resumes_after_truncation(void **state)
{
	char url[256], hex[65], got[65];
	uint64_t size;
	struct stat st;

	sample_sha("16qxog.jpg", hex, &size);
	snprintf(url, sizeof(url), "%s/truncated/16qxog.jpg", base);
	assert_int_equal(fetch_file(url, tpath("b.jpg"), hex, NULL, 1), -1);
	assert_int_equal(stat(tpath("b.jpg.part"), &st), 0);
	assert_int_equal((uint64_t)st.st_size, size / 2); /* kept for resuming */
	assert_int_equal(stat(tpath("b.jpg"), &st), -1);
	snprintf(url, sizeof(url), "%s/range/16qxog.jpg", base);
	assert_int_equal(fetch_file(url, tpath("b.jpg"), hex, NULL, 1), 0);
	assert_int_equal(imgcache_hash_file(tpath("b.jpg"), got, NULL), 0);
	assert_string_equal(got, hex);
}

static void test_fetch__file_restarts_when_range_ignored(void **state)
{
	char url[256], hex[65];
	uint64_t size;
	FILE *f;

	sample_sha("1mdg9i.jpg", hex, &size);
	f = fopen(tpath("c.jpg.part"), "w");
	assert_non_null(f);
	fputs("stale bytes from another file", f);
	fclose(f);
	snprintf(url, sizeof(url), "%s/img/1mdg9i.jpg", base); /* answers 200 to a Range */
	assert_int_equal(fetch_file(url, tpath("c.jpg"), hex, NULL, 1), 0);
}

static void test_fetch__file_refuses_bad_hash_and_errors(void **state)
{
	char url[256];
	struct stat st;

	snprintf(url, sizeof(url), "%s/img/2373dm.jpg", base);
	assert_int_equal(fetch_file(url, tpath("d.jpg"),
				    "0000000000000000000000000000000000000000000000000000000000000000", NULL, 1), -1);
	assert_int_equal(stat(tpath("d.jpg"), &st), -1);
	assert_int_equal(stat(tpath("d.jpg.part"), &st), -1);
	snprintf(url, sizeof(url), "%s/404/x", base);
	assert_int_equal(fetch_file(url, tpath("e.jpg"), NULL, NULL, 1), -1);
	assert_int_equal(stat(tpath("e.jpg"), &st), -1);
	snprintf(url, sizeof(url), "%s/tofile/x", base);
	assert_int_equal(fetch_file(url, tpath("f.jpg"), NULL, NULL, 1), -1);
	assert_int_equal(fetch_file("file:///etc/passwd", tpath("g"), NULL, NULL, 1), -1);
	assert_int_equal(stat(tpath("g"), &st), -1);
}

/* The multi fetcher: one request per behaviour, outcomes recorded by tag. */
struct outcome {
	int outcome, retryable;
	long status;
	double retry_after;
	uint64_t bytes;
	int done;
};

static int on_data(void *tag, const void *buf, size_t n)
{
	return 0;
}

static void on_done(void *tag, const struct fetch_result *r)
{
	struct outcome *o = tag;
	o->outcome = r->outcome;
	o->retryable = r->retryable;
	o->status = r->http_status;
	o->retry_after = r->retry_after;
	o->bytes = r->bytes;
	o->done++;
}

static void test_fetch__multi_classifies_outcomes(void **state)
{
	static const char *const paths[] = { "/img/10wrdh.jpg", "/404/x", "/always503/m", "/429/m/10wrdh.jpg",
					     "/loop/0", "/tofile/x", "/big/10wrdh.jpg", "/truncated/10wrdh.jpg" };
	struct outcome o[ARRAY_SIZE(paths) + 1];
	struct fetch_opts opts;
	struct fetcher *f;
	char url[256];
	size_t i;
	double t0 = now_seconds();

	memset(o, 0, sizeof(o));
	fetch_opts_init(&opts);
	opts.max_bytes = 1 << 20;
	opts.timeout = 10;
	assert_int_equal(fetch_new(&f, &opts, on_data, on_done), 0);
	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		snprintf(url, sizeof(url), "%s%s", base, paths[i]);
		fetch_add(f, url, 0, &o[i]);
	}
	fetch_add(f, "gopher://127.0.0.1/x", 0, &o[i]);
	while ((fetch_active(f) || fetch_waiting(f)) && now_seconds() - t0 < 20)
		assert_int_equal(fetch_poll(f, 0.1), 0);
	for (i = 0; i < ARRAY_SIZE(o); i++)
		assert_int_equal(o[i].done, 1);
	assert_int_equal(o[0].outcome, FETCH_OK);
	assert_true(o[0].bytes > 1000);
	assert_int_equal(o[1].outcome, FETCH_HTTP);
	assert_int_equal(o[1].status, 404);
	assert_false(o[1].retryable);
	assert_int_equal(o[2].status, 503);
	assert_true(o[2].retryable);
	assert_int_equal(o[3].status, 429);
	assert_true(o[3].retryable);
	assert_true(o[3].retry_after == 1.0);
	assert_int_equal(o[4].outcome, FETCH_REFUSED);
	assert_int_equal(o[5].outcome, FETCH_REFUSED);
	assert_int_equal(o[6].outcome, FETCH_TOO_LARGE);
	assert_int_equal(o[7].outcome, FETCH_NETWORK);
	assert_true(o[7].retryable);
	assert_int_equal(o[8].outcome, FETCH_REFUSED);
	fetch_free(f);
}

static int setup(void **state)
{
	const char *shared = getenv("MMDB_SHARED");
	char portfile[300], port[16] = "";
	int i;

	snprintf(images, sizeof(images), "%s/fakeddit-sample/images", shared ? shared : "../shared");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mmdb-fetch.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(portfile, sizeof(portfile), "%s/port", tmpdir);
	server = fork();
	if (server == 0) {
		freopen("/dev/null", "w", stderr);
		execlp("python3", "python3", "tests/imgserver.py", "--root", images, "--port-file", portfile,
		       (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		FILE *f = fopen(portfile, "r");
		if (f) {
			if (fgets(port, sizeof(port), f)) {
				fclose(f);
				break;
			}
			fclose(f);
		}
		usleep(100000);
	}
	if (!*port)
		return -1;
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", atoi(port));
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch__file_whole_and_checked),
		cmocka_unit_test(test_fetch__file_resumes_after_truncation),
		cmocka_unit_test(test_fetch__file_restarts_when_range_ignored),
		cmocka_unit_test(test_fetch__file_refuses_bad_hash_and_errors),
		cmocka_unit_test(test_fetch__multi_classifies_outcomes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

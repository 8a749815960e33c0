/*
 * bench_image: decode + resize throughput of mmdb's image module on one
 * thread. Loads the files into memory, then decodes and resizes all of them
 * (img_decode_resize) pass after pass for at least SECONDS of this thread's
 * CPU time, and prints "<images per CPU second> <passes>". CPU time, not
 * wall time, so that other work on a shared machine does not count.
 * Built and run by tests/bench/bench_image.sh.
 *
 *   bench_image squash|crop SIZE SECONDS FILE...
 */
#include "image.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	unsigned char **data;
	size_t *len, i, n, done = 0;
	int size, mode, passes = 0;
	double seconds, t0, dt;
	uint8_t *out;
	char why[128];

	if (argc < 5) {
		fprintf(stderr, "usage: bench_image squash|crop SIZE SECONDS FILE...\n");
		return 2;
	}
	mode = !strcmp(argv[1], "crop") ? IMG_CROP : IMG_SQUASH;
	if (parse_int(argv[2], 1, 4096, "size", &size) || parse_double(argv[3], 0, 1e6, "seconds", &seconds))
		return 2;
	n = (size_t)argc - 4;
	data = xcalloc(n, sizeof(*data));
	len = xcalloc(n, sizeof(*len));
	for (i = 0; i < n; i++) {
		FILE *f = fopen(argv[4 + i], "rb");
		long l;

		if (!f || fseek(f, 0, SEEK_END) || (l = ftell(f)) < 0)
			die("cannot read '%s'", argv[4 + i]);
		rewind(f);
		data[i] = xmalloc((size_t)l + 1);
		len[i] = fread(data[i], 1, (size_t)l, f);
		fclose(f);
	}
	out = xmalloc((size_t)size * size * 3);
	for (i = 0; i < n; i++) /* warm-up pass; also proves every file decodes */
		if (img_decode_resize(data[i], len[i], size, mode, out, why, sizeof(why)))
			die("'%s': %s", argv[4 + i], why);
	t0 = cpu_seconds();
	do {
		for (i = 0; i < n; i++)
			img_decode_resize(data[i], len[i], size, mode, out, NULL, 0);
		done += n;
		passes++;
		dt = cpu_seconds() - t0;
	} while (dt < seconds);
	printf("%.1f %d\n", done / dt, passes);
	for (i = 0; i < n; i++)
		free(data[i]);
	free(data);
	free(len);
	free(out);
	return 0;
}

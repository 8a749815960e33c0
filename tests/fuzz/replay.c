/*
 * replay: runs a fuzz target's LLVMFuzzerTestOneInput on files, without
 * libFuzzer, so the regression inputs under tests/fuzz/regress/ (and the
 * seed corpora) are replayed by the normal test suite with gcc. Arguments
 * are files or folders (every regular file in them). Prints one line per
 * input and exits 0 when every input ran; a bug aborts (a broken
 * FUZZ_CHECK, or a sanitizer report in the sanitized build).
 * `replay --selftest` makes a heap overread on purpose: the build is
 * sanitized only if that fails.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Weak: targets without an initializer leave it NULL. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	if (!f) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	/* A private copy of exactly len bytes, so an overread is caught. */
	{
		uint8_t *exact = malloc(len ? len : 1);
		if (!exact)
			abort();
		memcpy(exact, buf, len);
		free(buf);
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, long *count)
{
	struct stat st;
	if (stat(path, &st)) {
		fprintf(stderr, "replay: cannot stat '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		char **names = NULL;
		size_t n = 0, i;
		int ret = 0;
		if (!d) {
			fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
			return -1;
		}
		while ((de = readdir(d))) {
			size_t len;
			if (de->d_name[0] == '.')
				continue;
			len = strlen(path) + strlen(de->d_name) + 2;
			names = realloc(names, (n + 1) * sizeof(*names));
			if (!names || !(names[n] = malloc(len)))
				abort();
			snprintf(names[n++], len, "%s/%s", path, de->d_name);
		}
		closedir(d);
		qsort(names, n, sizeof(*names), cmp_str);
		for (i = 0; i < n; i++) {
			if (!ret && run_path(names[i], count))
				ret = -1;
			free(names[i]);
		}
		free(names);
		return ret;
	}
	if (run_file(path))
		return -1;
	(*count)++;
	return 0;
}

int main(int argc, char **argv)
{
	long count = 0;
	int i;
	if (argc == 2 && !strcmp(argv[1], "--selftest")) {
		/* A heap overread the address sanitizer must stop: proves it is on. */
		volatile size_t at = 4;
		char *p = calloc(1, 4), c;
		if (!p)
			abort();
		memcpy(&c, p + at, 1);
		printf("read %d\n", c);
		free(p);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		if (run_path(argv[i], &count))
			return 1;
	printf("%ld inputs ran\n", count);
	return 0;
}

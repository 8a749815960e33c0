/*
 * fuzz_archive: archive entry names as `mmdb images import` handles them
 * (src/entry_name.c: the safety check and the post id of a name) and the
 * archive reader they come from (src/archive.c over libarchive: plain,
 * compressed, tar, zip, cpio, 7z).
 *
 * The input is checked as a name (up to its first NUL); then, after the
 * first byte (which picks the file name: plain, .gz, .tar, .zip, ...), it is
 * written to a file and read with ar_open as import does, every entry's
 * name going through the same checks and its data read (to a bound).
 * Invariants checked:
 *  - a name judged safe is not empty, not absolute and has no ".."
 *    component; one with such a component is never judged safe;
 *  - a post id is the base name up to its first '.', never empty, never
 *    holding a separator or a dot, and fits the buffer;
 *  - when the reader reaches the end, ar_sha256 is the SHA-256 of the whole
 *    file and its size the file's size, whatever libarchive left unread.
 */
#include "fuzz.h"
#include "archive.h"
#include "entry_name.h"
#include "util.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define MAX_ENTRIES 2000
#define MAX_DATA (16u << 20)

static char dir[256];
static unsigned char *buf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/mmdb-fuzz-ar-%ld", base, (long)getpid());
	FUZZ_CHECK(mkdir_p(dir, 0700) == 0);
	buf = malloc(1 << 16);
	FUZZ_CHECK(buf);
	return 0;
}

/* Has a component exactly ".." (separators '/' and '\\'). */
static int has_dotdot(const char *s)
{
	const char *p = s;
	for (;;) {
		size_t n = strcspn(p, "/\\");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

static void check_name(const char *name)
{
	const char *why = entry_name_unsafe(name);
	char id[16];
	size_t len = strlen(name);

	if (!why) {
		FUZZ_CHECK(len > 0);
		FUZZ_CHECK(name[0] != '/' && name[0] != '\\');
		FUZZ_CHECK(!has_dotdot(name));
	} else {
		FUZZ_CHECK(!strcmp(why, "empty name") || !strcmp(why, "absolute path") ||
			   !strcmp(why, "'..' in the path"));
	}
	if (has_dotdot(name) || !len || name[0] == '/' || name[0] == '\\')
		FUZZ_CHECK(why != NULL);

	memset(id, 'x', sizeof(id));
	if (entry_name_id(name, id, sizeof(id)) == 0) {
		size_t n = strnlen(id, sizeof(id));
		const char *base = name + len;
		FUZZ_CHECK(n > 0 && n < sizeof(id));
		FUZZ_CHECK(!strpbrk(id, "/\\."));
		while (base > name && base[-1] != '/' && base[-1] != '\\')
			base--;
		FUZZ_CHECK(!strncmp(base, id, n) && base[n] == '.' && base[n + 1] != '\0');
	}
}

static void read_archive(const uint8_t *data, size_t size, const char *fname)
{
	char path[512], hex[65], want[65];
	unsigned char digest[32];
	struct sha256_ctx c;
	struct ar_reader *r = NULL;
	struct ar_entry e;
	size_t total = 0;
	int64_t got_size = -1;
	int rc = 0, entries = 0, fd;

	snprintf(path, sizeof(path), "%s/%s", dir, fname);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	FUZZ_CHECK(close(fd) == 0);

	if (ar_open_flags(&r, path, AR_HASH))
		goto out;
	FUZZ_CHECK(ar_file_size(r) == (int64_t)size);
	while (entries < MAX_ENTRIES && total < MAX_DATA && (rc = ar_next(r, &e)) == 1) {
		ssize_t n;
		entries++;
		FUZZ_CHECK(e.name != NULL);
		FUZZ_CHECK(e.type >= AR_FILE && e.type <= AR_OTHER);
		check_name(e.name);
		if (e.type != AR_FILE || entry_name_unsafe(e.name))
			continue;
		while (total < MAX_DATA && (n = ar_read(r, buf, 1 << 16)) > 0)
			total += (size_t)n;
		FUZZ_CHECK(ar_bytes_consumed(r) <= (int64_t)size);
	}
	if (rc == 0 && entries < MAX_ENTRIES && total < MAX_DATA) {
		FUZZ_CHECK(ar_sha256(r, hex, &got_size) == 0);
		sha256_init(&c);
		sha256_update(&c, data, size);
		sha256_final(&c, digest);
		sha256_hex(digest, want);
		FUZZ_CHECK(got_size == (int64_t)size);
		FUZZ_CHECK(!strcmp(hex, want));
	}
out:
	ar_close(r);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "in", "in.gz", "in.tar", "in.zip", "in.tar.xz",
					     "in.cpio", "in.7z", "in.bz2" };
	char *name = malloc(size + 1);
	FUZZ_CHECK(name);
	memcpy(name, data, size);
	name[size] = '\0';
	check_name(name);
	free(name);
	if (size < 1)
		return 0;
	read_archive(data + 1, size - 1, names[data[0] % 8]);
	return 0;
}

/*
 * archive: reading plain, compressed and archived files as a stream of
 * entries through libarchive. See archive.h.
 *
 * The file is read by our own callback (not archive_read_open_filename) so
 * that every byte on disk can be hashed as it goes by and counted for
 * progress, whatever libarchive makes of it. A file that is no known archive
 * format is read by the "raw" format as one entry; its name is the file's
 * own, without a compression suffix.
 */
#define _POSIX_C_SOURCE 200809L
#include "archive.h"
#include "bz2par.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AR_BUF_SIZE (256 * 1024)

struct ar_reader {
	struct archive *a;
	char *path;        /* as given, for messages */
	int fd;
	int own_fd;        /* 0 for stdin */
	int flags;
	unsigned char *buf;
	int64_t consumed;  /* bytes read from the file */
	int64_t file_size; /* -1 if not a regular file */
	int eof;
	int read_error;    /* errno of a failed read(), reported once */
	struct sha256_ctx sha;
	char *raw_name;    /* entry name for a non-archive file */
	struct bz2par *bz; /* a .bz2 file decompressed on several threads, or NULL */
	unsigned char head[16]; /* bytes read ahead to recognise bzip2 ... */
	size_t head_n, head_at; /* ... and handed to libarchive first */
	int entries;       /* entries returned so far */
	int at_end;        /* ar_next returned 0 */
	int damaged;       /* the last ar_read met a damaged entry */
};

const char *ar_lib_version(void)
{
	return archive_version_details();
}

static ssize_t read_cb(struct archive *a, void *data, const void **out)
{
	struct ar_reader *r = data;
	ssize_t n;
	(void)a;
	if (r->bz) {
		n = bz2par_read(r->bz, out);
		if (n < 0) {
			archive_set_error(a, EIO, "bzip2 data error");
			return -1;
		}
		r->consumed = bz2par_consumed(r->bz);
		return n;
	}
	if (r->eof) {
		*out = r->buf;
		return 0;
	}
	if (r->head_at < r->head_n) {
		n = (ssize_t)(r->head_n - r->head_at);
		memcpy(r->buf, r->head + r->head_at, (size_t)n);
		r->head_at = r->head_n;
	} else {
		do
			n = read(r->fd, r->buf, AR_BUF_SIZE);
		while (n < 0 && errno == EINTR);
	}
	if (n < 0) {
		r->read_error = errno;
		archive_set_error(a, errno, "read error");
		return -1;
	}
	if (n == 0)
		r->eof = 1;
	if (n > 0 && (r->flags & AR_HASH))
		sha256_update(&r->sha, r->buf, (size_t)n);
	r->consumed += n;
	*out = r->buf;
	return n;
}

static int close_cb(struct archive *a, void *data)
{
	(void)a;
	(void)data;
	return ARCHIVE_OK;
}

/* "dir/multimodal_train.tsv.gz" -> "multimodal_train.tsv". */
static char *raw_entry_name(const char *path)
{
	static const char *const suffixes[] = { ".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".Z", ".tgz" };
	const char *base = strrchr(path, '/');
	size_t len, i;
	char *name;
	base = base ? base + 1 : path;
	if (!strcmp(path, "-"))
		base = "stdin";
	name = xstrdup(base);
	len = strlen(name);
	for (i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t sl = strlen(suffixes[i]);
		if (len > sl && !strcmp(name + len - sl, suffixes[i])) {
			name[len - sl] = '\0';
			break;
		}
	}
	return name;
}

/*
 * Reads the first bytes; when they start a bzip2 stream and there are
 * several CPUs, the file is decompressed by bz2par's threads and libarchive
 * sees the plain bytes. Otherwise the bytes read go to libarchive first.
 */
static int start_bz2par(struct ar_reader *r)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	while (r->head_n < 10) {
		ssize_t n = read(r->fd, r->head + r->head_n, 10 - r->head_n);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error("cannot read '%s': %s", r->path, strerror(errno));
		if (n == 0)
			break;
		r->head_n += (size_t)n;
	}
	if (cpus < 2 || getenv("MMDB_BZ2_SERIAL") || !bz2par_detect(r->head, r->head_n))
		return 0;
	return bz2par_open(&r->bz, r->fd, r->head, r->head_n, r->path, cpus > 16 ? 16 : (int)cpus);
}

int ar_open(struct ar_reader **out, const char *path)
{
	return ar_open_flags(out, path, 0);
}

int ar_open_flags(struct ar_reader **out, const char *path, int flags)
{
	struct ar_reader *r = xcalloc(1, sizeof(*r));
	struct stat st;
	*out = NULL;
	r->path = xstrdup(path);
	r->flags = flags;
	r->file_size = -1;
	r->fd = -1;
	sha256_init(&r->sha);
	if (!strcmp(path, "-")) {
		r->fd = STDIN_FILENO;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			error("cannot open '%s': %s", path, strerror(errno));
			goto fail;
		}
		r->own_fd = 1;
	}
	if (fstat(r->fd, &st)) {
		error("cannot stat '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		error("'%s' is a directory, not a file", path);
		goto fail;
	}
	if (S_ISREG(st.st_mode))
		r->file_size = st.st_size;
	r->buf = xmalloc(AR_BUF_SIZE);
	r->raw_name = raw_entry_name(path);
	if (!(flags & AR_HASH) && start_bz2par(r))
		goto fail;
	r->a = archive_read_new();
	if (!r->a) {
		error("cannot read '%s': out of memory", path);
		goto fail;
	}
	archive_read_support_filter_all(r->a);
	/* Formats a user hands us; "raw" last so a plain file is one entry. */
	archive_read_support_format_tar(r->a);
	archive_read_support_format_gnutar(r->a);
	archive_read_support_format_zip(r->a);
	archive_read_support_format_7zip(r->a);
	archive_read_support_format_cpio(r->a);
	archive_read_support_format_empty(r->a);
	archive_read_support_format_raw(r->a);
	if (archive_read_open(r->a, r, NULL, read_cb, close_cb) != ARCHIVE_OK) {
		error("cannot read '%s': %s", path, archive_error_string(r->a));
		goto fail;
	}
	*out = r;
	return 0;
fail:
	ar_close(r);
	return -1;
}

void ar_close(struct ar_reader *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	bz2par_close(r->bz);
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	free(r->raw_name);
	free(r->buf);
	free(r->path);
	free(r);
}

static int entry_type(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return AR_HARDLINK;
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		return AR_FILE;
	case AE_IFDIR:
		return AR_DIR;
	case AE_IFLNK:
		return AR_SYMLINK;
	default:
		return AR_OTHER;
	}
}

static int ar_fail(struct ar_reader *r, const char *what)
{
	if (r->read_error)
		return error("cannot read '%s': %s", r->path, strerror(r->read_error));
	return error("cannot read '%s'%s: %s", r->path, what,
		     archive_error_string(r->a) ? archive_error_string(r->a) : "unknown error");
}

int ar_next(struct ar_reader *r, struct ar_entry *e)
{
	struct archive_entry *ae;
	int rc;
	if (r->at_end)
		return 0;
	r->damaged = 0;
	rc = archive_read_next_header(r->a, &ae);
	if (rc == ARCHIVE_EOF) {
		r->at_end = 1;
		return 0;
	}
	if (rc == ARCHIVE_WARN)
		rc = ARCHIVE_OK;
	if (rc != ARCHIVE_OK)
		return ar_fail(r, r->entries ? " (archive entry)" : "");
	r->entries++;
	memset(e, 0, sizeof(*e));
	if (archive_format(r->a) == ARCHIVE_FORMAT_RAW) {
		e->name = r->raw_name;
		e->type = AR_FILE;
		e->size = archive_filter_count(r->a) > 1 || r->bz ? -1 : r->file_size;
		return 1;
	}
	e->name = archive_entry_pathname(ae);
	if (!e->name)
		e->name = "";
	e->type = entry_type(ae);
	e->size = archive_entry_size_is_set(ae) ? (int64_t)archive_entry_size(ae) : -1;
	return 1;
}

ssize_t ar_read(struct ar_reader *r, void *buf, size_t n)
{
	la_ssize_t got = archive_read_data(r->a, buf, n);
	/* A warning while reading data is damage (a zip entry's bad CRC): the
	 * bytes of this call are not counted, so going on would drop them. */
	if (got == ARCHIVE_WARN) {
		r->damaged = 1;
		if (r->flags & AR_SKIP_DAMAGED)
			return -1;
		return ar_fail(r, " (damaged entry)");
	}
	if (got < 0)
		return ar_fail(r, "");
	return (ssize_t)got;
}

const char *ar_damaged(struct ar_reader *r)
{
	if (!r->damaged)
		return NULL;
	return archive_error_string(r->a) ? archive_error_string(r->a) : "damaged entry";
}

int64_t ar_bytes_consumed(struct ar_reader *r)
{
	return r->consumed;
}

int64_t ar_file_size(struct ar_reader *r)
{
	return r->file_size;
}

int ar_is_archive(struct ar_reader *r)
{
	return r->entries > 0 && archive_format(r->a) != ARCHIVE_FORMAT_RAW;
}

int ar_sha256(struct ar_reader *r, char hex[65], int64_t *size)
{
	unsigned char digest[32];
	struct sha256_ctx c;
	if (!(r->flags & AR_HASH))
		return error("internal: '%s' was not opened with AR_HASH", r->path);
	/* Hash what libarchive left unread (padding, trailing data). */
	while (!r->eof) {
		ssize_t n;
		do
			n = read(r->fd, r->buf, AR_BUF_SIZE);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return error("cannot read '%s': %s", r->path, strerror(errno));
		if (n == 0)
			r->eof = 1;
		sha256_update(&r->sha, r->buf, (size_t)n);
		r->consumed += n;
	}
	c = r->sha;
	sha256_final(&c, digest);
	sha256_hex(digest, hex);
	if (size)
		*size = r->consumed;
	return 0;
}

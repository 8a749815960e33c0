/*
 * archive: the one module that uses libarchive. Reads a file that may be
 * plain or compressed (.gz, .bz2, .xz, .zst) or an archive (tar in any of
 * those compressions, zip) as a stream of entries, never unpacking to disk.
 * A plain or merely compressed file is one regular entry named after the
 * file (without the compression suffix). An empty file (or a compressed
 * empty one) has no entries.
 */
#ifndef MMDB_ARCHIVE_H
#define MMDB_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ar_reader;

enum ar_entry_type { AR_FILE, AR_DIR, AR_SYMLINK, AR_HARDLINK, AR_OTHER };

struct ar_entry {
	const char *name;  /* path as stored in the archive (valid until next entry) */
	int type;          /* enum ar_entry_type */
	int64_t size;      /* declared size, -1 if unknown */
};

/* Opens path ("-" reads stdin); *out owns the reader; close with ar_close(). */
int ar_open(struct ar_reader **out, const char *path);

/* Flags for ar_open_flags. */
enum {
	AR_HASH = 1 << 0,         /* hash every byte of the file for ar_sha256() */
	AR_SKIP_DAMAGED = 1 << 1, /* a damaged entry is the caller's to skip: see ar_damaged() */
};
/* Like ar_open, with AR_* flags. */
int ar_open_flags(struct ar_reader **out, const char *path, int flags);
void ar_close(struct ar_reader *r);
/* Advances to the next entry: 1 and *e filled, 0 at the end, -1 on error. */
int ar_next(struct ar_reader *r, struct ar_entry *e);
/*
 * Reads up to n bytes of the current entry's data: bytes read, 0 at its end,
 * -1 on error. An entry whose data is damaged (a zip entry's bad CRC) is an
 * error too, never a short entry; opened with AR_SKIP_DAMAGED, that error is
 * not printed and ar_damaged() says why.
 */
ssize_t ar_read(struct ar_reader *r, void *buf, size_t n);
/*
 * After ar_read returned -1 for a damaged entry of a reader opened with
 * AR_SKIP_DAMAGED: libarchive's reason (valid until the next call on r);
 * ar_next() then goes on with the following entry. NULL otherwise.
 */
const char *ar_damaged(struct ar_reader *r);
/* Bytes of the underlying (compressed) file consumed so far, for progress. */
int64_t ar_bytes_consumed(struct ar_reader *r);
const char *ar_lib_version(void);

/* Size of the file on disk, -1 when not a regular file (a pipe). */
int64_t ar_file_size(struct ar_reader *r);
/* 1 when the file is an archive (tar, zip, ...) rather than one plain or
 * compressed file; meaningful after the first ar_next(). */
int ar_is_archive(struct ar_reader *r);
/*
 * SHA-256 (lower-case hex) and size of the file's bytes on disk, for a reader
 * opened with AR_HASH. Call after ar_next() returned 0: it reads whatever
 * libarchive left unread, so the digest covers the whole file.
 */
int ar_sha256(struct ar_reader *r, char hex[65], int64_t *size);

#endif

/*
 * tsv: a streaming, quote-aware reader of tab-separated records (RFC 4180
 * rules with a tab for the comma). A field that starts with '"' is quoted:
 * it runs to the next lone '"', may hold tabs and newlines, and "" inside
 * it is one '"'. A record ends at a newline outside quotes; "\r\n" ends it
 * too. A UTF-8 byte-order mark at the start is skipped; blank lines are
 * skipped. Memory is bounded: the reader holds one read buffer and the
 * current record, and a record longer than the limit is an error.
 *
 * Bad records are reported, not fatal: the caller gets the record with an
 * error code and its physical line, and reading goes on. A malformed record
 * that spans several physical lines (a stray quote that swallowed the lines
 * after it) is reported as its first line only, and reading resumes on the
 * next physical line, so one stray quote loses one line, not a file.
 */
#ifndef MMDB_TSV_H
#define MMDB_TSV_H

#include <stddef.h>
#include <sys/types.h>

/* Reads up to n bytes into buf: bytes read, 0 at end of input, -1 on error
 * (after printing a message). */
typedef ssize_t (*tsv_read_fn)(void *data, void *buf, size_t n);

struct tsv_reader;

enum tsv_status {
	TSV_OK = 0,
	TSV_FIELD_COUNT,   /* not the number of fields tsv_expect_fields() set */
	TSV_UNTERMINATED,  /* a quoted field still open at the end of input */
	TSV_JUNK_QUOTE,    /* text between a closing quote and the next tab */
	TSV_TOO_LONG,      /* longer than the record limit */
	TSV_NUL,           /* a NUL byte: binary data, not text */
};

struct tsv_record {
	size_t nfields;
	char **fields;         /* NUL-terminated, unquoted; valid until the next call */
	size_t *lens;          /* byte lengths of fields */
	long line;             /* physical line the record starts on (1 = first) */
	long lines;            /* physical lines it spans */
	int status;            /* enum tsv_status */
	const char *raw;       /* the record's bytes as in the input (without the */
	size_t raw_len;        /*  line terminator); valid until the next call */
};

/*
 * New reader pulling input through fn(data, ...). max_record bounds one
 * record's size in bytes (0: 1 MiB). Free with tsv_free().
 */
struct tsv_reader *tsv_new(tsv_read_fn fn, void *data, size_t max_record);
void tsv_free(struct tsv_reader *r);

/* Records with another field count than n are TSV_FIELD_COUNT (0: any). */
void tsv_expect_fields(struct tsv_reader *r, size_t n);

/*
 * Next record into *rec: 1 (check rec->status), 0 at end of input, -1 when
 * the read function failed. A bad record's fields are those parsed so far.
 */
int tsv_next(struct tsv_reader *r, struct tsv_record *rec);

/* A short description of a status ("unterminated quoted field", ...). */
const char *tsv_status_str(int status);

/* 1 if s[0..n) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int utf8_valid(const char *s, size_t n);

#endif

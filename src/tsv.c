/*
 * tsv: streaming quote-aware TSV records. See tsv.h.
 *
 * The input is read into one buffer; a record is parsed from the buffer
 * into a separate field buffer, so the raw bytes stay intact (for error
 * reports and for resuming after a malformed multi-line record). When a
 * record runs past the end of the buffered input, the buffer is refilled
 * and the record parsed again from its start: at most one partial record
 * per refill is parsed twice.
 */
#include "tsv.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TSV_CHUNK (256 * 1024)
#define TSV_DEFAULT_MAX (1024 * 1024)

struct tsv_reader {
	tsv_read_fn fn;
	void *data;
	size_t max_record;
	size_t expect;

	char *buf;              /* input: buf[pos..len) not yet consumed */
	size_t cap, len, pos;
	int eof;
	int started;            /* BOM checked */
	int skip_line;          /* after an over-long line: drop input up to '\n' */
	long line;              /* physical line of buf[pos] */

	char *fbuf;             /* fields of the current record, NUL-separated */
	size_t fcap, flen;
	size_t *foff;           /* field start offsets into fbuf */
	char **fields;
	size_t *lens;
	size_t nalloc;          /* of foff / fields / lens */
};

enum { PARSE_DONE, PARSE_MORE };

/* Byte classes for the scanners. */
enum { C_PLAIN = 0, C_TAB, C_NL, C_NUL, C_QUOTE };
static unsigned char cls_unquoted[256], cls_quoted[256];

static void init_classes(void)
{
	if (cls_unquoted['\t'])
		return;
	cls_quoted['"'] = C_QUOTE;
	cls_quoted['\0'] = C_NUL;
	cls_quoted['\n'] = C_NL;
	cls_unquoted['\0'] = C_NUL;
	cls_unquoted['\n'] = C_NL;
	cls_unquoted['\t'] = C_TAB; /* set last: it marks the tables as built */
}

struct tsv_reader *tsv_new(tsv_read_fn fn, void *data, size_t max_record)
{
	struct tsv_reader *r = xcalloc(1, sizeof(*r));
	init_classes();
	r->fn = fn;
	r->data = data;
	r->max_record = max_record ? max_record : TSV_DEFAULT_MAX;
	r->cap = TSV_CHUNK;
	r->buf = xmalloc(r->cap);
	r->fcap = 4096;
	r->fbuf = xmalloc(r->fcap);
	r->line = 1;
	return r;
}

void tsv_free(struct tsv_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->fbuf);
	free(r->foff);
	free(r->fields);
	free(r->lens);
	free(r);
}

void tsv_expect_fields(struct tsv_reader *r, size_t n)
{
	r->expect = n;
}

const char *tsv_status_str(int status)
{
	switch (status) {
	case TSV_OK:
		return "ok";
	case TSV_FIELD_COUNT:
		return "wrong number of fields";
	case TSV_UNTERMINATED:
		return "unterminated quoted field at end of file";
	case TSV_JUNK_QUOTE:
		return "text after a closing quote";
	case TSV_TOO_LONG:
		return "record too long";
	case TSV_NUL:
		return "NUL byte (binary data)";
	}
	return "?";
}

/* Makes room for n more bytes in the field buffer. */
static void fb_reserve(struct tsv_reader *r, size_t n)
{
	if (r->flen + n + 1 > r->fcap) {
		size_t want = st_add(st_add(r->flen, n), 1);
		while (r->fcap < want)
			r->fcap = st_mult(r->fcap, 2);
		r->fbuf = xrealloc(r->fbuf, r->fcap);
	}
}

static void fb_add(struct tsv_reader *r, const char *p, size_t n)
{
	fb_reserve(r, n);
	memcpy(r->fbuf + r->flen, p, n);
	r->flen += n;
}

static void field_start(struct tsv_reader *r, size_t nf)
{
	if (nf >= r->nalloc) {
		size_t n = r->nalloc ? r->nalloc * 2 : 32;
		r->foff = xrealloc(r->foff, st_mult(n, sizeof(*r->foff)));
		r->fields = xrealloc(r->fields, st_mult(n, sizeof(*r->fields)));
		r->lens = xrealloc(r->lens, st_mult(n, sizeof(*r->lens)));
		r->nalloc = n;
	}
	r->foff[nf] = r->flen;
}

static void field_end(struct tsv_reader *r)
{
	fb_reserve(r, 1);
	r->fbuf[r->flen++] = '\0';
}

/*
 * Parses the record at buf[pos..len). PARSE_MORE: the buffered input ends
 * inside it and more may come. PARSE_DONE: *end is the offset after its
 * terminator, *raw_end the end of its text, *nl the newlines inside it
 * (not counting the one that ends it).
 */
static int parse(struct tsv_reader *r, struct tsv_record *rec, size_t *end, size_t *raw_end, long *nl)
{
	const unsigned char *b = (const unsigned char *)r->buf;
	size_t p = r->pos, len = r->len, nf = 0;
	long inner = 0;
	int status = TSV_OK;

	r->flen = 0;
	for (;;) {
		/* One field starting at p. */
		field_start(r, nf);
		if (p < len && b[p] == '"') {
			p++;
			for (;;) {
				size_t s = p;
				int c = C_PLAIN;
				while (p < len && (c = cls_quoted[b[p]]) == C_PLAIN)
					p++;
				fb_add(r, (const char *)b + s, p - s);
				if (p == len) {
					if (!r->eof)
						return PARSE_MORE;
					status = TSV_UNTERMINATED;
					field_end(r);
					nf++;
					*end = *raw_end = len;
					goto done;
				}
				if (c == C_NL) {
					inner++;
					fb_add(r, "\n", 1);
					p++;
				} else if (c == C_NUL) {
					status = TSV_NUL;
					fb_add(r, "\0", 1);
					p++;
				} else { /* quote */
					if (p + 1 == len && !r->eof)
						return PARSE_MORE;
					if (p + 1 < len && b[p + 1] == '"') {
						fb_add(r, "\"", 1);
						p += 2;
					} else {
						p++;
						break;
					}
				}
			}
			/* After the closing quote: a tab, the end of the record, or junk. */
			if (p < len && b[p] != '\t' && b[p] != '\n' &&
			    !(b[p] == '\r' && (p + 1 == len || b[p + 1] == '\n'))) {
				if (status == TSV_OK)
					status = TSV_JUNK_QUOTE;
				/* Keep the rest as plain text so the record still ends at its newline. */
				goto unquoted;
			}
			if (p + 1 >= len && p < len && b[p] == '\r' && !r->eof)
				return PARSE_MORE;
		} else {
unquoted:;
			size_t s = p;
			int c = C_PLAIN;
			while (p < len && (c = cls_unquoted[b[p]]) == C_PLAIN)
				p++;
			fb_add(r, (const char *)b + s, p - s);
			if (p < len && c == C_NUL) {
				status = TSV_NUL;
				fb_add(r, "\0", 1);
				p++;
				goto unquoted;
			}
			if (p == len && !r->eof)
				return PARSE_MORE;
			/* A CR before the newline (CRLF) belongs to the terminator. */
			if (p < len && c == C_NL && p > s && b[p - 1] == '\r')
				r->flen--;
			else if (p == len && p > s && b[p - 1] == '\r')
				r->flen--;
		}
		field_end(r);
		nf++;
		if (p == len) { /* end of input ends the record */
			*end = *raw_end = len;
			goto done;
		}
		if (b[p] == '\t') {
			p++;
			continue;
		}
		if (b[p] == '\r') { /* quoted field then CRLF, or a CR at the end */
			p++;
			if (p == len) {
				*end = len;
				*raw_end = len - 1;
				goto done;
			}
		}
		/* b[p] == '\n' */
		*raw_end = b[p - 1] == '\r' ? p - 1 : p;
		*end = p + 1;
		goto done;
	}
done:
	{
		size_t i;
		for (i = 0; i < nf; i++) {
			r->fields[i] = r->fbuf + r->foff[i];
			r->lens[i] = (i + 1 < nf ? r->foff[i + 1] : r->flen) - r->foff[i] - 1;
		}
	}
	if (status == TSV_OK && r->expect && nf != r->expect)
		status = TSV_FIELD_COUNT;
	rec->nfields = nf;
	rec->fields = r->fields;
	rec->lens = r->lens;
	rec->status = status;
	*nl = inner;
	return PARSE_DONE;
}

/* Reads more input after compacting; -1 on read error, 0 at EOF, 1 otherwise. */
static int refill(struct tsv_reader *r)
{
	ssize_t n;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len == r->cap) {
		r->cap = st_mult(r->cap, 2);
		r->buf = xrealloc(r->buf, r->cap);
	}
	n = r->fn(r->data, r->buf + r->len, r->cap - r->len);
	if (n < 0)
		return -1;
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	r->len += (size_t)n;
	return 1;
}

/* First physical line of buf[pos..end): its length without "\r\n". */
static size_t first_line(const struct tsv_reader *r, size_t end)
{
	const char *s = r->buf + r->pos, *nl = memchr(s, '\n', end - r->pos);
	size_t n = nl ? (size_t)(nl - s) : end - r->pos;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	return n;
}

int tsv_next(struct tsv_reader *r, struct tsv_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	for (;;) {
		size_t end, raw_end;
		long nl;
		int rc;

		if (!r->started) {
			while (!r->eof && r->len - r->pos < 3)
				if (refill(r) < 0)
					return -1;
			if (r->len - r->pos >= 3 && !memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3))
				r->pos += 3;
			r->started = 1;
		}
		if (r->skip_line) {
			char *nlp = memchr(r->buf + r->pos, '\n', r->len - r->pos);
			if (!nlp) {
				r->pos = r->len;
				if (r->eof)
					return 0;
				if (refill(r) < 0)
					return -1;
				continue;
			}
			r->pos = (size_t)(nlp - r->buf) + 1;
			r->line++;
			r->skip_line = 0;
		}
		if (r->pos == r->len) {
			if (r->eof)
				return 0;
			if (refill(r) < 0)
				return -1;
			continue;
		}
		/* Blank lines are no records. */
		if (r->buf[r->pos] == '\n' || (r->buf[r->pos] == '\r' && r->pos + 1 < r->len &&
					       r->buf[r->pos + 1] == '\n')) {
			r->pos += r->buf[r->pos] == '\r' ? 2 : 1;
			r->line++;
			continue;
		}
		rc = parse(r, rec, &end, &raw_end, &nl);
		if (rc == PARSE_MORE) {
			if (r->len - r->pos > r->max_record) {
				/* Over-long: a stray quote over many lines, or one huge line. */
				size_t n = first_line(r, r->len);
				rec->status = TSV_TOO_LONG;
				rec->line = r->line;
				rec->lines = 1;
				rec->raw = r->buf + r->pos;
				rec->raw_len = n;
				rec->nfields = 0;
				{
					char *nlp = memchr(r->buf + r->pos, '\n', r->len - r->pos);
					if (nlp) {
						r->pos = (size_t)(nlp - r->buf) + 1;
						r->line++;
					} else {
						r->pos = r->len;
						r->skip_line = 1;
					}
				}
				return 1;
			}
			if (refill(r) < 0)
				return -1;
			continue;
		}
		rec->line = r->line;
		rec->raw = r->buf + r->pos;
		if (rec->status != TSV_OK && nl > 0) {
			/* Report the first line alone and read on from the next. */
			char *nlp = memchr(r->buf + r->pos, '\n', end - r->pos);
			rec->raw_len = first_line(r, end);
			rec->lines = 1;
			r->pos = (size_t)(nlp - r->buf) + 1;
			r->line++;
			return 1;
		}
		rec->raw_len = raw_end - r->pos;
		rec->lines = nl + 1;
		r->line += nl + (end > raw_end && r->buf[end - 1] == '\n');
		r->pos = end;
		return 1;
	}
}

int utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str, *e = s + n;
	while (s < e) {
		unsigned c = *s;
		if (c < 0x80) {
			/* Fast path over ASCII, 8 bytes at a time. */
			while (e - s >= 8) {
				uint64_t w;
				memcpy(&w, s, 8);
				if (w & 0x8080808080808080ULL)
					break;
				s += 8;
			}
			if (s < e && *s < 0x80)
				s++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			if (e - s < 2 || (s[1] & 0xC0) != 0x80)
				return 0;
			s += 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			if (e - s < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
				return 0;
			if (c == 0xE0 && s[1] < 0xA0)
				return 0; /* overlong */
			if (c == 0xED && s[1] >= 0xA0)
				return 0; /* surrogate */
			s += 3;
		} else if (c >= 0xF0 && c <= 0xF4) {
			if (e - s < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
			    (s[3] & 0xC0) != 0x80)
				return 0;
			if (c == 0xF0 && s[1] < 0x90)
				return 0;
			if (c == 0xF4 && s[1] >= 0x90)
				return 0;
			s += 4;
		} else {
			return 0;
		}
	}
	return 1;
}

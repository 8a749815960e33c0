/*
 * fuzz_tsv: the TSV record reader (src/tsv.c) and the Fakeddit row handling
 * on top of it (src/fakeddit.c), as mmdb ingest uses them: the first record
 * is the header, later records are converted to typed values.
 *
 * The first input byte picks the read sizes (fixed, 1 byte to 64 KiB, or
 * random) and the record limit of a last pass; the rest is the file. Invariants checked:
 *  - every record is well formed (fields NUL-terminated at their lengths,
 *    raw bytes inside the input, line numbers increasing);
 *  - with a record limit above the input size, the records do not depend on
 *    how the input is split into reads (the whole file at once, or a few
 *    bytes at a time);
 *  - converted values are in range (labels, booleans) and text values point
 *    into the record.
 */
#include "fuzz.h"
#include "fakeddit.h"
#include "tsv.h"

#include <string.h>
#include <sys/types.h>

struct src {
	const uint8_t *p;
	size_t n, pos, chunk;
	uint32_t rng;     /* 0: every read is chunk bytes; else reads of random sizes */
};

static ssize_t src_read(void *data, void *buf, size_t n)
{
	struct src *s = data;
	size_t k = s->n - s->pos, want = s->chunk;
	if (s->rng) {
		/* xorshift32: mostly a few hundred bytes, one read in four 1 to 3 bytes */
		s->rng ^= s->rng << 13;
		s->rng ^= s->rng >> 17;
		s->rng ^= s->rng << 5;
		want = s->rng % 4 ? 1 + s->rng % 512 : 1 + s->rng % 3;
	}
	if (k > n)
		k = n;
	if (k > want)
		k = want;
	memcpy(buf, s->p + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

/* A record flattened for comparison: everything that must not depend on chunking. */
struct flat {
	char *bytes;
	size_t len, cap;
};

static void flat_add(struct flat *f, const void *p, size_t n)
{
	if (f->len + n > f->cap) {
		f->cap = (f->len + n) * 2;
		f->bytes = realloc(f->bytes, f->cap);
		FUZZ_CHECK(f->bytes);
	}
	memcpy(f->bytes + f->len, p, n);
	f->len += n;
}

static void flat_record(struct flat *f, const struct tsv_record *rec)
{
	size_t i;
	long hdr[5] = { (long)rec->nfields, rec->line, rec->lines, rec->status, (long)rec->raw_len };
	flat_add(f, hdr, sizeof(hdr));
	flat_add(f, rec->raw, rec->raw_len);
	for (i = 0; i < rec->nfields; i++) {
		flat_add(f, &rec->lens[i], sizeof(rec->lens[i]));
		flat_add(f, rec->fields[i], rec->lens[i]);
	}
}

static void check_values(const struct fd_layout *l, const struct tsv_record *rec,
			  const struct fd_value *v)
{
	int c;
	for (c = 0; c < l->ncols; c++) {
		const struct fd_value *x = &v[c];
		FUZZ_CHECK(x->type >= FD_NULL && x->type <= FD_TEXT);
		if (x->type == FD_TEXT) {
			int f = l->col[c];
			FUZZ_CHECK(f >= 0 && (size_t)f < rec->nfields);
			FUZZ_CHECK(x->s == rec->fields[f] && x->len == rec->lens[f]);
			FUZZ_CHECK(utf8_valid(x->s, x->len));
			FUZZ_CHECK(!memchr(x->s, '\0', x->len));
		}
		if (l->kind == FD_POSTS && x->type == FD_INT) {
			if (c == FP_LABEL2)
				FUZZ_CHECK(x->i >= 0 && x->i <= 1);
			if (c == FP_LABEL3)
				FUZZ_CHECK(x->i >= 0 && x->i <= 2);
			if (c == FP_LABEL6)
				FUZZ_CHECK(x->i >= 0 && x->i <= 5);
			if (c == FP_HAS_IMAGE)
				FUZZ_CHECK(x->i == 0 || x->i == 1);
		}
		if (l->kind == FD_POSTS && c == FP_ID)
			FUZZ_CHECK(x->type == FD_TEXT || l->col[c] < 0 ||
				   (size_t)l->col[c] >= rec->nfields);
	}
}

/* Reads the whole input; returns the flattened records (caller frees). */
static struct flat read_all(const uint8_t *data, size_t size, size_t chunk, uint32_t rng,
			    size_t max_record, int fakeddit)
{
	struct src s = { data, size, 0, chunk, rng };
	struct tsv_reader *r = tsv_new(src_read, &s, max_record);
	struct tsv_record rec;
	struct flat f = { NULL, 0, 0 };
	struct fd_layout layout;
	int have_layout = 0, first = 1, rc;
	long last_line = 0;

	while ((rc = tsv_next(r, &rec)) == 1) {
		size_t i;
		FUZZ_CHECK(rec.status >= TSV_OK && rec.status <= TSV_NUL);
		FUZZ_CHECK(rec.line > last_line && rec.lines >= 1);
		last_line = rec.line + rec.lines - 1;
		FUZZ_CHECK(rec.raw_len <= size);
		if (rec.raw_len)
			FUZZ_CHECK(rec.raw != NULL);
		for (i = 0; i < rec.nfields; i++) {
			FUZZ_CHECK(rec.fields[i][rec.lens[i]] == '\0');
			FUZZ_CHECK(rec.lens[i] <= size);
		}
		FUZZ_CHECK(tsv_status_str(rec.status)[0] != '?');
		flat_record(&f, &rec);
		if (!fakeddit)
			continue;
		if (first) {
			char msg[256];
			first = 0;
			if (rec.status == TSV_OK &&
			    !fd_layout_from_header(&layout, rec.fields, rec.lens, rec.nfields, msg,
						   sizeof(msg))) {
				have_layout = 1;
				FUZZ_CHECK(layout.ncols == FP_NCOLS || layout.ncols == FC_NCOLS);
				FUZZ_CHECK(layout.col[0] >= 0);
				tsv_expect_fields(r, layout.nfields);
			} else {
				FUZZ_CHECK(rec.status != TSV_OK || msg[0]);
			}
		} else if (have_layout && rec.status == TSV_OK) {
			struct fd_value v[FD_MAXCOLS];
			const char *bad = NULL, *reason = NULL;
			char detail[128];
			FUZZ_CHECK(rec.nfields == layout.nfields);
			if (fd_convert(&layout, &rec, v, &bad, &reason, detail, sizeof(detail)))
				FUZZ_CHECK(bad && reason && memchr(detail, '\0', sizeof(detail)));
			else
				check_values(&layout, &rec, v);
		}
	}
	FUZZ_CHECK(rc == 0);
	tsv_free(r);
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[16] = { 1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64, 127, 256, 1000, 4096, 65536 };
	struct flat whole, pieces, fd, small;
	size_t chunk, max_small;
	uint32_t rng;
	if (size < 1)
		return 0;
	chunk = chunks[data[0] & 15];
	max_small = 1 + (data[0] >> 4) * 8;
	rng = 0x9e3779b9u ^ data[0];
	data++;
	size--;
	/* Fixed tiny reads cost a parse of the record per read: only for short inputs. */
	if (chunk < 64 && size > 512)
		chunk = 0;

	whole = read_all(data, size, size + 1, 0, 0, 0);
	pieces = read_all(data, size, chunk, chunk ? 0 : rng, 0, 0);
	/* The same records whatever the read sizes (the 1 MiB limit is not reached). */
	if (size < 1024 * 1024) {
		FUZZ_CHECK(whole.len == pieces.len);
		FUZZ_CHECK(!whole.len || !memcmp(whole.bytes, pieces.bytes, whole.len));
	}
	free(whole.bytes);
	free(pieces.bytes);
	/* As ingest reads it: a header, then rows converted to typed values. */
	fd = read_all(data, size, size + 1, 0, 0, 1);
	free(fd.bytes);
	/* A tiny record limit: over-long records are reported, reading goes on. */
	small = read_all(data, size, 0, rng, max_small, 1);
	free(small.bytes);
	return 0;
}

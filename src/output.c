/*
 * output: aligned tables, CSV and JSON from one typed table. See output.h.
 */
#include "output.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum cell_kind { CELL_NULL, CELL_TEXT, CELL_INT, CELL_DOUBLE };

struct cell {
	int kind;
	char *text;   /* CELL_TEXT */
	int64_t i;
	double d;
};

struct table {
	int ncols;
	char **headers;
	int *precision;
	struct cell *cells; /* rows * ncols */
	size_t rows, alloc;
};

int output_format_parse(const char *s)
{
	if (!strcmp(s, "table"))
		return FMT_TABLE;
	if (!strcmp(s, "csv"))
		return FMT_CSV;
	if (!strcmp(s, "json"))
		return FMT_JSON;
	return -1;
}

struct table *table_new(int ncols)
{
	struct table *t = xcalloc(1, sizeof(*t));
	int i;
	t->ncols = ncols;
	t->headers = xcalloc((size_t)ncols + 1, sizeof(char *));
	t->precision = xcalloc((size_t)ncols + 1, sizeof(int));
	for (i = 0; i < ncols; i++)
		t->precision[i] = -1;
	return t;
}

void table_free(struct table *t)
{
	size_t i;
	int c;
	if (!t)
		return;
	for (i = 0; i < t->rows * (size_t)t->ncols; i++)
		free(t->cells[i].text);
	for (c = 0; c < t->ncols; c++)
		free(t->headers[c]);
	free(t->headers);
	free(t->precision);
	free(t->cells);
	free(t);
}

void table_set_header(struct table *t, int col, const char *name)
{
	free(t->headers[col]);
	t->headers[col] = xstrdup(name ? name : "");
}

void table_set_precision(struct table *t, int col, int digits)
{
	t->precision[col] = digits;
}

int table_rows(const struct table *t)
{
	return (int)t->rows;
}

void table_add_row(struct table *t)
{
	size_t need = st_mult(t->rows + 1, (size_t)t->ncols);
	size_t old = t->alloc;
	ALLOC_GROW(t->cells, need, t->alloc);
	if (t->alloc > old)
		memset(t->cells + old, 0, (t->alloc - old) * sizeof(*t->cells));
	t->rows++;
}

static struct cell *last(struct table *t, int col)
{
	struct cell *c = &t->cells[(t->rows - 1) * (size_t)t->ncols + (size_t)col];
	free(c->text);
	c->text = NULL;
	return c;
}

void table_cell_text(struct table *t, int col, const char *s)
{
	struct cell *c = last(t, col);
	if (!s) {
		c->kind = CELL_NULL;
		return;
	}
	c->kind = CELL_TEXT;
	c->text = xstrdup(s);
}

void table_cell_int(struct table *t, int col, int64_t v)
{
	struct cell *c = last(t, col);
	c->kind = CELL_INT;
	c->i = v;
}

void table_cell_double(struct table *t, int col, double v)
{
	struct cell *c = last(t, col);
	c->kind = CELL_DOUBLE;
	c->d = v;
}

void table_cell_null(struct table *t, int col)
{
	last(t, col)->kind = CELL_NULL;
}

/* Formats a cell for table/CSV output into sb (reset first). */
static void cell_format(const struct table *t, int col, const struct cell *c, struct strbuf *sb)
{
	sb_reset(sb);
	switch (c->kind) {
	case CELL_TEXT: sb_adds(sb, c->text); break;
	case CELL_INT: sb_addf(sb, "%lld", (long long)c->i); break;
	case CELL_DOUBLE:
		if (t->precision[col] >= 0)
			sb_addf(sb, "%.*f", t->precision[col], c->d);
		else
			sb_addf(sb, "%.10g", c->d);
		break;
	default: break;
	}
	if (!sb->buf)
		sb_adds(sb, "");
}

/* Display width of UTF-8 text with control characters shown as \xNN (approximate: one column a code point). */
static size_t visible_width(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			w += 4;
		else if ((*p & 0xc0) != 0x80)
			w++;
	}
	return w;
}

void fput_visible(const char *s, FILE *f)
{
	const unsigned char *p = (const unsigned char *)s;
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static void print_json_cell(const struct cell *c, FILE *f)
{
	struct strbuf sb = STRBUF_INIT;
	switch (c->kind) {
	case CELL_TEXT:
		sb_add_json_str(&sb, c->text);
		fputs(sb.buf, f);
		break;
	case CELL_INT: fprintf(f, "%lld", (long long)c->i); break;
	case CELL_DOUBLE:
		if (isfinite(c->d))
			fprintf(f, "%.17g", c->d);
		else
			fputs("null", f);
		break;
	default: fputs("null", f); break;
	}
	sb_release(&sb);
}

static void print_csv_field(const char *s, FILE *f)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
}

void table_print(const struct table *t, FILE *f, int fmt)
{
	struct strbuf sb = STRBUF_INIT, key = STRBUF_INIT;
	size_t r;
	int c;

	if (fmt == FMT_JSON) {
		fputc('[', f);
		for (r = 0; r < t->rows; r++) {
			fputs(r ? ",\n {" : "{", f);
			for (c = 0; c < t->ncols; c++) {
				sb_reset(&key);
				sb_add_json_str(&key, t->headers[c] ? t->headers[c] : "");
				fprintf(f, "%s%s: ", c ? ", " : "", key.buf);
				print_json_cell(&t->cells[r * (size_t)t->ncols + (size_t)c], f);
			}
			fputc('}', f);
		}
		fputs("]\n", f);
	} else if (fmt == FMT_CSV) {
		for (c = 0; c < t->ncols; c++) {
			if (c)
				fputc(',', f);
			print_csv_field(t->headers[c] ? t->headers[c] : "", f);
		}
		fputs("\r\n", f);
		for (r = 0; r < t->rows; r++) {
			for (c = 0; c < t->ncols; c++) {
				if (c)
					fputc(',', f);
				cell_format(t, c, &t->cells[r * (size_t)t->ncols + (size_t)c], &sb);
				print_csv_field(sb.buf, f);
			}
			fputs("\r\n", f);
		}
	} else {
		size_t *w = xcalloc((size_t)t->ncols + 1, sizeof(size_t));
		for (c = 0; c < t->ncols; c++)
			w[c] = visible_width(t->headers[c] ? t->headers[c] : "");
		for (r = 0; r < t->rows; r++)
			for (c = 0; c < t->ncols; c++) {
				size_t cw;
				cell_format(t, c, &t->cells[r * (size_t)t->ncols + (size_t)c], &sb);
				cw = visible_width(sb.buf);
				if (cw > 60)
					cw = 60;
				if (cw > w[c])
					w[c] = cw;
			}
		for (c = 0; c < t->ncols; c++) {
			const char *h = t->headers[c] ? t->headers[c] : "";
			fput_visible(h, f);
			if (c + 1 < t->ncols)
				fprintf(f, "%*s", (int)(w[c] - visible_width(h) + 2), "");
		}
		fputc('\n', f);
		for (r = 0; r < t->rows; r++) {
			for (c = 0; c < t->ncols; c++) {
				const struct cell *cell = &t->cells[r * (size_t)t->ncols + (size_t)c];
				size_t cw;
				cell_format(t, c, cell, &sb);
				cw = visible_width(sb.buf);
				if (cw > 60) {
					/* clip long text at a character boundary */
					size_t cut = 0, seen = 0;
					while (sb.buf[cut] && seen < 57) {
						unsigned char ch = (unsigned char)sb.buf[cut];
						cut++;
						if ((ch & 0xc0) != 0x80)
							seen += (ch < 0x20 || ch == 0x7f) ? 4 : 1;
						while ((sb.buf[cut] & 0xc0) == 0x80)
							cut++;
					}
					sb.buf[cut] = '\0';
					sb.len = cut;
					sb_adds(&sb, "...");
					cw = visible_width(sb.buf);
				}
				if (cell->kind == CELL_INT || cell->kind == CELL_DOUBLE)
					fprintf(f, "%*s", (int)(w[c] - cw), "");
				fput_visible(sb.buf, f);
				if (c + 1 < t->ncols) {
					if (cell->kind == CELL_INT || cell->kind == CELL_DOUBLE)
						fputs("  ", f);
					else
						fprintf(f, "%*s", (int)(w[c] - cw + 2), "");
				}
			}
			fputc('\n', f);
		}
		free(w);
	}
	sb_release(&sb);
	sb_release(&key);
}

void table_print_object(const struct table *t, FILE *f)
{
	struct strbuf key = STRBUF_INIT;
	size_t r;
	fputc('{', f);
	for (r = 0; r < t->rows; r++) {
		const struct cell *k = &t->cells[r * (size_t)t->ncols];
		sb_reset(&key);
		sb_add_json_str(&key, k->kind == CELL_TEXT ? k->text : "");
		fprintf(f, "%s%s: ", r ? ", " : "", key.buf);
		print_json_cell(&t->cells[r * (size_t)t->ncols + 1], f);
	}
	fputs("}\n", f);
	sb_release(&key);
}

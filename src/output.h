/*
 * output: tables printed as aligned text, CSV or JSON. Commands build a
 * table of typed cells and print it in the format the user asked for, so
 * every command's --format behaves the same.
 */
#ifndef MMDB_OUTPUT_H
#define MMDB_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

enum output_format { FMT_TABLE = 0, FMT_CSV = 1, FMT_JSON = 2 };

/* "table", "csv", "json" -> FMT_*; -1 if unknown. */
int output_format_parse(const char *s);

struct table;
/* A table of ncols columns; free with table_free(). */
struct table *table_new(int ncols);
void table_free(struct table *t);
void table_set_header(struct table *t, int col, const char *name);
/* Starts a new row; cells default to NULL. */
void table_add_row(struct table *t);
/* Cell setters for the last row. Text is copied. */
void table_cell_text(struct table *t, int col, const char *s);
void table_cell_int(struct table *t, int col, int64_t v);
void table_cell_double(struct table *t, int col, double v);
void table_cell_null(struct table *t, int col);
/* Digits after the point for doubles in FMT_TABLE (default: %g). */
void table_set_precision(struct table *t, int col, int digits);
int table_rows(const struct table *t);
/*
 * Prints: FMT_TABLE aligned columns with a header (NULL shown empty; control
 * characters made visible), FMT_CSV RFC 4180 with a header line, FMT_JSON an
 * array of objects keyed by header (numbers as numbers, NULL as null).
 */
void table_print(const struct table *t, FILE *f, int fmt);

/* Prints a two-column (key, value) table as one JSON object. */
void table_print_object(const struct table *t, FILE *f);

/* Writes s to f with control and escape characters made visible. */
void fput_visible(const char *s, FILE *f);

#endif

/*
 * fakeddit: what the columns of a Fakeddit TSV mean. Maps a header line to
 * the columns mmdb stores (by name, so the multimodal_*.tsv files, the
 * all_*.tsv files with their extra index columns, reduced variants without
 * some columns and all_comments.tsv all work), and converts a record's
 * fields to typed values: "2.0" integers, "1551641244.0" timestamps,
 * True/False, labels checked against their range, text checked as UTF-8.
 */
#ifndef MMDB_FAKEDDIT_H
#define MMDB_FAKEDDIT_H

#include <stddef.h>
#include <stdint.h>

struct tsv_record;

enum fd_kind { FD_POSTS = 1, FD_COMMENTS = 2 };

/* Post columns, in the posts table's order. */
enum fd_post_col {
	FP_ID, FP_AUTHOR, FP_CLEAN_TITLE, FP_TITLE, FP_CREATED_UTC, FP_DOMAIN, FP_HAS_IMAGE,
	FP_IMAGE_URL, FP_LINKED, FP_NUM_COMMENTS, FP_SCORE, FP_SUBREDDIT, FP_UPVOTE_RATIO,
	FP_LABEL2, FP_LABEL3, FP_LABEL6, FP_NCOLS
};
/* Comment columns, in the comments table's order. */
enum fd_comment_col {
	FC_ID, FC_SUBMISSION, FC_PARENT, FC_AUTHOR, FC_BODY, FC_UPS, FC_TOP_LEVEL, FC_CREATED_UTC,
	FC_NCOLS
};
#define FD_MAXCOLS 16

enum fd_type { FD_NULL = 0, FD_INT, FD_REAL, FD_TEXT };

struct fd_value {
	int type;        /* enum fd_type */
	int64_t i;
	double d;
	const char *s;   /* FD_TEXT: points into the record (NUL-terminated) */
	size_t len;
};

struct fd_layout {
	int kind;              /* enum fd_kind */
	int ncols;             /* FP_NCOLS or FC_NCOLS */
	size_t nfields;        /* fields in the header (every record must have as many) */
	int col[FD_MAXCOLS];   /* field index of each column, -1 when the file lacks it */
};

/*
 * Reads a header line into *l. Posts are recognised by an id and at least
 * one label column, comments by an id and a body. Column names match
 * ignoring case and '_' (hasImage = has_image). Unknown columns (the
 * all_*.tsv index columns "" and "Unnamed: 0") are ignored. Returns 0, or
 * -1 with a one-line reason in msg ("no 'id' column", ...); prints nothing.
 */
int fd_layout_from_header(struct fd_layout *l, char *const *fields, const size_t *lens, size_t n,
			  char *msg, size_t msglen);

/* The canonical header name of column `col` of a kind ("6_way_label"). */
const char *fd_column_name(int kind, int col);

/*
 * Converts a record's fields to l->ncols typed values in v (text values
 * point into rec). Empty fields (and "nan") are NULL. Returns 0, or -1 with
 * *bad_col set to the offending column's name, *reason to a fixed category
 * ("label out of range", "invalid UTF-8", ...: static, good for grouping)
 * and the specifics in detail ("9 not in 0..5").
 */
int fd_convert(const struct fd_layout *l, const struct tsv_record *rec, struct fd_value *v,
	       const char **bad_col, const char **reason, char *detail, size_t detlen);

/*
 * Typed parsing of one field, exposed for tests. Each returns 0 with *out
 * set, 1 for an empty (NULL) value, -1 when s is not such a value.
 * fd_parse_int accepts "2", "-3", "2.0", "1551641244.0" and integral
 * exponents; fd_parse_bool True/False/true/false/1/0.
 */
int fd_parse_int(const char *s, size_t len, int64_t *out);
int fd_parse_real(const char *s, size_t len, double *out);
int fd_parse_bool(const char *s, size_t len, int64_t *out);

/* Label ranges: scheme 2, 3 or 6 -> highest label (1, 2, 5). */
int fd_label_max(int scheme);

#endif

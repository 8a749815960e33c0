/*
 * fakeddit: Fakeddit header names and typed field conversion. See fakeddit.h.
 */
#include "fakeddit.h"
#include "tsv.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum fd_vtype { V_TEXT, V_INT, V_REAL, V_BOOL, V_LABEL2, V_LABEL3, V_LABEL6, V_ID };

struct fd_coldef {
	const char *name;      /* canonical header name */
	const char *aliases;   /* other accepted names, normalised, space separated */
	int vtype;
};

static const struct fd_coldef post_cols[FP_NCOLS] = {
	[FP_ID] = { "id", "", V_ID },
	[FP_AUTHOR] = { "author", "", V_TEXT },
	[FP_CLEAN_TITLE] = { "clean_title", "", V_TEXT },
	[FP_TITLE] = { "title", "", V_TEXT },
	[FP_CREATED_UTC] = { "created_utc", "created", V_INT },
	[FP_DOMAIN] = { "domain", "", V_TEXT },
	[FP_HAS_IMAGE] = { "hasImage", "", V_BOOL },
	[FP_IMAGE_URL] = { "image_url", "", V_TEXT },
	[FP_LINKED] = { "linked_submission_id", "", V_TEXT },
	[FP_NUM_COMMENTS] = { "num_comments", "", V_INT },
	[FP_SCORE] = { "score", "", V_INT },
	[FP_SUBREDDIT] = { "subreddit", "", V_TEXT },
	[FP_UPVOTE_RATIO] = { "upvote_ratio", "", V_REAL },
	[FP_LABEL2] = { "2_way_label", "2waylabels label2way", V_LABEL2 },
	[FP_LABEL3] = { "3_way_label", "3waylabels label3way", V_LABEL3 },
	[FP_LABEL6] = { "6_way_label", "6waylabels label6way", V_LABEL6 },
};

static const struct fd_coldef comment_cols[FC_NCOLS] = {
	[FC_ID] = { "id", "", V_ID },
	[FC_SUBMISSION] = { "submission_id", "linkid", V_TEXT },
	[FC_PARENT] = { "parent_id", "", V_TEXT },
	[FC_AUTHOR] = { "author", "", V_TEXT },
	[FC_BODY] = { "body", "", V_TEXT },
	[FC_UPS] = { "ups", "score", V_INT },
	[FC_TOP_LEVEL] = { "isTopLevel", "", V_BOOL },
	[FC_CREATED_UTC] = { "created_utc", "created", V_INT },
};

const char *fd_column_name(int kind, int col)
{
	if (kind == FD_POSTS && col >= 0 && col < FP_NCOLS)
		return post_cols[col].name;
	if (kind == FD_COMMENTS && col >= 0 && col < FC_NCOLS)
		return comment_cols[col].name;
	return "?";
}

int fd_label_max(int scheme)
{
	return scheme == 2 ? 1 : scheme == 3 ? 2 : 5;
}

/* Lower case, letters and digits only: "hasImage" -> "hasimage". */
static void normalise(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;
	for (i = 0; i < len && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c))
			out[o++] = (char)tolower(c);
	}
	out[o] = '\0';
}

static int name_matches(const struct fd_coldef *d, const char *norm)
{
	char want[64];
	const char *a = d->aliases;
	normalise(d->name, strlen(d->name), want, sizeof(want));
	if (!strcmp(want, norm))
		return 1;
	while (*a) {
		size_t n = strcspn(a, " ");
		if (n == strlen(norm) && !strncmp(a, norm, n))
			return 1;
		a += n;
		while (*a == ' ')
			a++;
	}
	return 0;
}

/* Finds each column of defs in the header; returns the number found. */
static int map_columns(const struct fd_coldef *defs, int ncols, char *const *fields,
		       const size_t *lens, size_t n, int *col, char *dup, size_t duplen)
{
	int found = 0, c;
	size_t i;
	for (c = 0; c < ncols; c++)
		col[c] = -1;
	for (i = 0; i < n; i++) {
		char norm[64];
		normalise(fields[i], lens[i], norm, sizeof(norm));
		if (!*norm)
			continue;
		for (c = 0; c < ncols; c++) {
			if (!name_matches(&defs[c], norm))
				continue;
			if (col[c] >= 0) {
				snprintf(dup, duplen, "%s", defs[c].name);
				return -1;
			}
			col[c] = (int)i;
			found++;
		}
	}
	return found;
}

int fd_layout_from_header(struct fd_layout *l, char *const *fields, const size_t *lens, size_t n,
			  char *msg, size_t msglen)
{
	int pcol[FP_NCOLS], ccol[FC_NCOLS];
	char dup[64];
	int c;
	memset(l, 0, sizeof(*l));
	if (map_columns(post_cols, FP_NCOLS, fields, lens, n, pcol, dup, sizeof(dup)) < 0 ||
	    map_columns(comment_cols, FC_NCOLS, fields, lens, n, ccol, dup, sizeof(dup)) < 0) {
		snprintf(msg, msglen, "column '%s' appears twice in the header", dup);
		return -1;
	}
	if (pcol[FP_ID] < 0) {
		snprintf(msg, msglen, "no 'id' column in the header: not a Fakeddit TSV");
		return -1;
	}
	l->nfields = n;
	if (pcol[FP_LABEL2] >= 0 || pcol[FP_LABEL3] >= 0 || pcol[FP_LABEL6] >= 0) {
		l->kind = FD_POSTS;
		l->ncols = FP_NCOLS;
		for (c = 0; c < FP_NCOLS; c++)
			l->col[c] = pcol[c];
		return 0;
	}
	if (ccol[FC_BODY] >= 0) {
		l->kind = FD_COMMENTS;
		l->ncols = FC_NCOLS;
		for (c = 0; c < FC_NCOLS; c++)
			l->col[c] = ccol[c];
		return 0;
	}
	snprintf(msg, msglen, "no label column (2_way_label, 3_way_label, 6_way_label) "
		 "and no comment 'body' column in the header");
	return -1;
}

static int is_null(const char *s, size_t len)
{
	return len == 0 || (len == 3 && (s[0] == 'n' || s[0] == 'N') &&
			    (s[1] == 'a' || s[1] == 'A') && (s[2] == 'n' || s[2] == 'N'));
}

int fd_parse_int(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	uint64_t v = 0;
	if (is_null(s, len))
		return 1;
	if (isspace((unsigned char)s[0]))
		return -1;
	/* Fast path: [-]digits[.0*] */
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i++;
	}
	if (i < len && s[i] >= '0' && s[i] <= '9') {
		size_t d = i;
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - d < 18)
			v = v * 10 + (uint64_t)(s[i++] - '0');
		if (i < len && s[i] == '.') {
			i++;
			while (i < len && s[i] == '0')
				i++;
		}
		if (i == len) {
			*out = neg ? -(int64_t)v : (int64_t)v;
			return 0;
		}
	}
	/* Slow path: "1.5e9", 19-digit values; must be integral. */
	{
		char buf[64], *end;
		double d;
		long long ll;
		if (len >= sizeof(buf))
			return -1;
		memcpy(buf, s, len);
		buf[len] = '\0';
		errno = 0;
		ll = strtoll(buf, &end, 10);
		if (!errno && *end == '\0' && end != buf) {
			*out = ll;
			return 0;
		}
		errno = 0;
		d = strtod(buf, &end);
		if (errno || *end || end == buf || !isfinite(d) || d != floor(d) ||
		    d < -9.2e18 || d > 9.2e18)
			return -1;
		*out = (int64_t)d;
		return 0;
	}
}

int fd_parse_real(const char *s, size_t len, double *out)
{
	char buf[64], *end;
	double d;
	if (is_null(s, len))
		return 1;
	if (len >= sizeof(buf) || isspace((unsigned char)s[0]))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	d = strtod(buf, &end);
	if (errno || *end || end == buf || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

int fd_parse_bool(const char *s, size_t len, int64_t *out)
{
	if (is_null(s, len))
		return 1;
	if ((len == 4 && !strncmp(s, "True", 4)) || (len == 4 && !strncmp(s, "true", 4)) ||
	    (len == 1 && s[0] == '1') || (len == 3 && !strncmp(s, "1.0", 3))) {
		*out = 1;
		return 0;
	}
	if ((len == 5 && !strncmp(s, "False", 5)) || (len == 5 && !strncmp(s, "false", 5)) ||
	    (len == 1 && s[0] == '0') || (len == 3 && !strncmp(s, "0.0", 3))) {
		*out = 0;
		return 0;
	}
	return -1;
}

/* Shows a field in a message: at most 40 bytes, quoted. */
static void show(char *buf, size_t n, const char *s, size_t len)
{
	size_t i, o = 0;
	for (i = 0; i < len && i < 40 && o + 2 < n; i++)
		buf[o++] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	if (i < len && o + 4 < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

static int convert_one(const struct fd_coldef *d, const char *s, size_t len, struct fd_value *v,
		       const char **reason, char *msg, size_t msglen)
{
	char shown[64];
	int rc;
	v->type = FD_NULL;
	*msg = '\0';
	switch (d->vtype) {
	case V_ID:
		if (len == 0) {
			*reason = "empty id";
			return -1;
		}
		/* fall through */
	case V_TEXT:
		if (len == 0)
			return 0;
		if (!utf8_valid(s, len)) {
			*reason = "invalid UTF-8";
			return -1;
		}
		if (memchr(s, '\0', len)) {
			*reason = "NUL byte in text";
			return -1;
		}
		v->type = FD_TEXT;
		v->s = s;
		v->len = len;
		return 0;
	case V_INT:
		rc = fd_parse_int(s, len, &v->i);
		if (rc < 0) {
			show(shown, sizeof(shown), s, len);
			*reason = "not an integer";
			snprintf(msg, msglen, "'%s'", shown);
			return -1;
		}
		v->type = rc ? FD_NULL : FD_INT;
		return 0;
	case V_REAL:
		rc = fd_parse_real(s, len, &v->d);
		if (rc < 0) {
			show(shown, sizeof(shown), s, len);
			*reason = "not a number";
			snprintf(msg, msglen, "'%s'", shown);
			return -1;
		}
		v->type = rc ? FD_NULL : FD_REAL;
		return 0;
	case V_BOOL:
		rc = fd_parse_bool(s, len, &v->i);
		if (rc < 0) {
			show(shown, sizeof(shown), s, len);
			*reason = "not True or False";
			snprintf(msg, msglen, "'%s'", shown);
			return -1;
		}
		v->type = rc ? FD_NULL : FD_INT;
		return 0;
	default: { /* labels */
		int max = fd_label_max(d->vtype == V_LABEL2 ? 2 : d->vtype == V_LABEL3 ? 3 : 6);
		rc = fd_parse_int(s, len, &v->i);
		if (rc < 0) {
			show(shown, sizeof(shown), s, len);
			*reason = "label is not a number";
			snprintf(msg, msglen, "'%s'", shown);
			return -1;
		}
		if (rc == 0 && (v->i < 0 || v->i > max)) {
			*reason = "label out of range";
			snprintf(msg, msglen, "%lld not in 0..%d", (long long)v->i, max);
			return -1;
		}
		v->type = rc ? FD_NULL : FD_INT;
		return 0;
	}
	}
}

int fd_convert(const struct fd_layout *l, const struct tsv_record *rec, struct fd_value *v,
	       const char **bad_col, const char **reason, char *msg, size_t msglen)
{
	const struct fd_coldef *defs = l->kind == FD_POSTS ? post_cols : comment_cols;
	int c;
	for (c = 0; c < l->ncols; c++) {
		int f = l->col[c];
		if (f < 0 || (size_t)f >= rec->nfields) {
			memset(&v[c], 0, sizeof(v[c]));
			continue;
		}
		if (convert_one(&defs[c], rec->fields[f], rec->lens[f], &v[c], reason, msg, msglen)) {
			*bad_col = defs[c].name;
			return -1;
		}
	}
	return 0;
}

/*
 * Unit tests of fakeddit: header layouts (multimodal, all_*, 13-column,
 * comments, broken headers) and typed conversion of fields.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakeddit.h"
#include "tsv.h"
#include "util.h"

#define MAXF 32

/* A record from tab-separated text (no quoting), for these tests. */
struct rec {
	char buf[2048];
	char *fields[MAXF];
	size_t lens[MAXF];
	struct tsv_record r;
};

static void make(struct rec *x, const char *line)
{
	char *p;
	size_t n = 0;
	snprintf(x->buf, sizeof(x->buf), "%s", line);
	p = x->buf;
	for (;;) {
		char *t = strchr(p, '\t');
		x->fields[n] = p;
		x->lens[n] = t ? (size_t)(t - p) : strlen(p);
		n++;
		if (!t)
			break;
		*t = '\0';
		p = t + 1;
	}
	memset(&x->r, 0, sizeof(x->r));
	x->r.nfields = n;
	x->r.fields = x->fields;
	x->r.lens = x->lens;
}

static const char multimodal_header[] =
	"author\tclean_title\tcreated_utc\tdomain\thasImage\tid\timage_url\tlinked_submission_id\t"
	"num_comments\tscore\tsubreddit\ttitle\tupvote_ratio\t2_way_label\t3_way_label\t6_way_label";

static int layout(struct fd_layout *l, const char *header, char *msg)
{
	struct rec h;
	make(&h, header);
	return fd_layout_from_header(l, h.fields, h.lens, h.r.nfields, msg, 256);
}

static void test_fakeddit__multimodal_layout(void **state)
{
	struct fd_layout l;
	char msg[256];
	(void)state;
	assert_int_equal(layout(&l, multimodal_header, msg), 0);
	assert_int_equal(l.kind, FD_POSTS);
	assert_int_equal(l.nfields, 16);
	assert_int_equal(l.col[FP_AUTHOR], 0);
	assert_int_equal(l.col[FP_ID], 5);
	assert_int_equal(l.col[FP_HAS_IMAGE], 4);
	assert_int_equal(l.col[FP_LABEL6], 15);
	assert_string_equal(fd_column_name(FD_POSTS, FP_LABEL6), "6_way_label");
}

static void test_fakeddit__all_layout_with_index_columns(void **state)
{
	struct fd_layout l;
	char msg[256], hdr[1024];
	(void)state;
	snprintf(hdr, sizeof(hdr), "\tUnnamed: 0\t%s", multimodal_header);
	assert_int_equal(layout(&l, hdr, msg), 0);
	assert_int_equal(l.nfields, 18);
	assert_int_equal(l.col[FP_AUTHOR], 2);
	assert_int_equal(l.col[FP_ID], 7);
	assert_int_equal(l.col[FP_LABEL6], 17);
}

static void test_fakeddit__reduced_layout_lacks_columns(void **state)
{
	struct fd_layout l;
	struct rec r;
	struct fd_value v[FD_MAXCOLS];
	const char *col = NULL, *reason = NULL;
	char msg[256];
	(void)state;
	assert_int_equal(layout(&l, "author\tclean_title\tcreated_utc\tdomain\thasImage\tid\timage_url\t"
				   "linked_submission_id\tnum_comments\tscore\tsubreddit\tupvote_ratio\t6_way_label",
				msg), 0);
	assert_int_equal(l.nfields, 13);
	assert_int_equal(l.col[FP_TITLE], -1);
	assert_int_equal(l.col[FP_LABEL2], -1);
	assert_int_equal(l.col[FP_LABEL3], -1);
	make(&r, "a\tb\t1551641244.0\td\tTrue\tid1\thttp://x\t\t2.0\t5\tsub\t0.5\t4");
	assert_int_equal(fd_convert(&l, &r.r, v, &col, &reason, msg, sizeof(msg)), 0);
	assert_int_equal(v[FP_TITLE].type, FD_NULL);
	assert_int_equal(v[FP_LABEL2].type, FD_NULL);
	assert_int_equal(v[FP_LABEL6].type, FD_INT);
	assert_int_equal(v[FP_LABEL6].i, 4);
	assert_int_equal(v[FP_CREATED_UTC].i, 1551641244);
	assert_int_equal(v[FP_HAS_IMAGE].i, 1);
	assert_int_equal(v[FP_NUM_COMMENTS].i, 2);
	assert_int_equal(v[FP_LINKED].type, FD_NULL);
	assert_true(v[FP_UPVOTE_RATIO].type == FD_REAL && v[FP_UPVOTE_RATIO].d == 0.5);
}

static void test_fakeddit__comments_layout(void **state)
{
	struct fd_layout l;
	char msg[256];
	(void)state;
	assert_int_equal(layout(&l, "\tid\tauthor\tbody\tisTopLevel\tparent_id\tsubmission_id\tups", msg), 0);
	assert_int_equal(l.kind, FD_COMMENTS);
	assert_int_equal(l.col[FC_BODY], 3);
	assert_int_equal(l.col[FC_TOP_LEVEL], 4);
	assert_int_equal(l.col[FC_UPS], 7);
	assert_int_equal(l.col[FC_CREATED_UTC], -1);
}

static void test_fakeddit__bad_headers(void **state)
{
	struct fd_layout l;
	char msg[256];
	(void)state;
	assert_int_equal(layout(&l, "author\ttitle\t6_way_label", msg), -1);
	assert_non_null(strstr(msg, "no 'id' column"));
	assert_int_equal(layout(&l, "id\ttitle\tscore", msg), -1);
	assert_non_null(strstr(msg, "no label column"));
	assert_int_equal(layout(&l, "id\t6_way_label\t6_way_label", msg), -1);
	assert_non_null(strstr(msg, "twice"));
}

static void test_fakeddit__typed_parsing(void **state)
{
	int64_t i;
	double d;
	(void)state;
	assert_int_equal(fd_parse_int("2.0", 3, &i), 0);
	assert_int_equal(i, 2);
	assert_int_equal(fd_parse_int("1551641244.0", 12, &i), 0);
	assert_int_equal(i, 1551641244);
	assert_int_equal(fd_parse_int("-3", 2, &i), 0);
	assert_int_equal(i, -3);
	assert_int_equal(fd_parse_int("1e3", 3, &i), 0);
	assert_int_equal(i, 1000);
	assert_int_equal(fd_parse_int("", 0, &i), 1);
	assert_int_equal(fd_parse_int("nan", 3, &i), 1);
	assert_int_equal(fd_parse_int("2.5", 3, &i), -1);
	assert_int_equal(fd_parse_int("x", 1, &i), -1);
	assert_int_equal(fd_parse_int(" 2", 2, &i), -1);
	assert_int_equal(fd_parse_int("2x", 2, &i), -1);
	assert_int_equal(fd_parse_real("0.72", 4, &d), 0);
	assert_true(d == 0.72);
	assert_int_equal(fd_parse_real("0.7x", 4, &d), -1);
	assert_int_equal(fd_parse_bool("True", 4, &i), 0);
	assert_int_equal(i, 1);
	assert_int_equal(fd_parse_bool("False", 5, &i), 0);
	assert_int_equal(i, 0);
	assert_int_equal(fd_parse_bool("yes", 3, &i), -1);
}

static void expect_bad(const char *line, const char *col, const char *reason, const char *detail)
{
	struct fd_layout l;
	struct rec r;
	struct fd_value v[FD_MAXCOLS];
	const char *got_col = NULL, *got_reason = NULL;
	char msg[256];
	assert_int_equal(layout(&l, multimodal_header, msg), 0);
	make(&r, line);
	assert_int_equal(fd_convert(&l, &r.r, v, &got_col, &got_reason, msg, sizeof(msg)), -1);
	assert_string_equal(got_col, col);
	assert_string_equal(got_reason, reason);
	assert_string_equal(msg, detail);
}

static void test_fakeddit__bad_values(void **state)
{
	(void)state;
	expect_bad("a\tb\t1.0\td\tTrue\tid1\tu\t\t1.0\t5\ts\tt\t0.5\t1\t0\t9", "6_way_label",
		   "label out of range", "9 not in 0..5");
	expect_bad("a\tb\t1.0\td\tTrue\tid1\tu\t\t1.0\t5\ts\tt\t0.5\t2\t0\t0", "2_way_label",
		   "label out of range", "2 not in 0..1");
	expect_bad("a\tb\t1.0\td\tTrue\tid1\tu\t\t1.0\t5\ts\tt\t0.5\t1\tx\t0", "3_way_label",
		   "label is not a number", "'x'");
	expect_bad("a\tb\t1.0\td\tTrue\t\tu\t\t1.0\t5\ts\tt\t0.5\t1\t0\t0", "id", "empty id", "");
	expect_bad("a\tb\t1.0\td\tMaybe\tid1\tu\t\t1.0\t5\ts\tt\t0.5\t1\t0\t0", "hasImage",
		   "not True or False", "'Maybe'");
	expect_bad("a\tb\tyesterday\td\tTrue\tid1\tu\t\t1.0\t5\ts\tt\t0.5\t1\t0\t0", "created_utc",
		   "not an integer", "'yesterday'");
	expect_bad("a\tb\t1.0\td\tTrue\tid1\tu\t\t1.0\t5\ts\tcaf\xe9\t0.5\t1\t0\t0", "title",
		   "invalid UTF-8", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fakeddit__multimodal_layout),
		cmocka_unit_test(test_fakeddit__all_layout_with_index_columns),
		cmocka_unit_test(test_fakeddit__reduced_layout_lacks_columns),
		cmocka_unit_test(test_fakeddit__comments_layout),
		cmocka_unit_test(test_fakeddit__bad_headers),
		cmocka_unit_test(test_fakeddit__typed_parsing),
		cmocka_unit_test(test_fakeddit__bad_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

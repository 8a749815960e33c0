/*
 * Unit tests of the dashboard's text cleaning (ui/text.c) and braille
 * charts (ui/chart.c): what reaches the terminal never holds a control
 * character, widths follow wcwidth, cuts never split a character; a
 * sweep's scatter (ui/model_sweep.c) puts each trial where it belongs.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../../ui/chart.h"
#include "../../ui/model.h"
#include "../../ui/text.h"

static int setup(void **state)
{
	(void)state;
	return setlocale(LC_ALL, "C.UTF-8") ? 0 : -1;
}

static void test_text__escape_sequences_made_visible(void **state)
{
	char *s = text_clean("a\033[2J\033]2;X\007b\x7f" "c\xc2\x9b" "d");
	(void)state;
	assert_string_equal(s, "a^[[2J^[]2;X^Gb^?c?d");
	assert_null(strchr(s, '\033'));
	free(s);
}

static void test_text__tabs_and_newlines_become_spaces(void **state)
{
	char *s = text_clean("a\tb\nc\rd");
	(void)state;
	assert_string_equal(s, "a b c d");
	free(s);
}

static void test_text__wide_and_combining_widths(void **state)
{
	(void)state;
	assert_int_equal(text_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);          /* 日本 */
	assert_int_equal(text_width("cafe\xcc\x81"), 4);                     /* e + U+0301 */
	assert_int_equal(text_width("\033x"), 3);                            /* ^[x */
}

static void test_text__cut_keeps_whole_characters(void **state)
{
	wchar_t out[16];
	size_t used;
	int w;
	(void)state;
	/* Three wide characters in 5 columns: two fit (4 columns). */
	w = text_fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", out, 16, 5, &used);
	assert_int_equal(w, 4);
	assert_int_equal(wcslen(out), 2);
	assert_int_equal(used, 6);
	/* "^[" is never cut in half. */
	w = text_fit("ab\033", out, 16, 3, &used);
	assert_int_equal(w, 2);
	assert_int_equal(used, 2);
	/* A combining mark stays with its base. */
	w = text_fit("e\xcc\x81x", out, 16, 1, &used);
	assert_int_equal(w, 1);
	assert_int_equal(wcslen(out), 2);
}

static void test_text__invalid_utf8_replaced(void **state)
{
	char *s = text_clean("a\xff" "b\xe6\x97" "c\xed\xa0\x80");
	(void)state;
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd"); /* a surrogate is one U+FFFD */
	free(s);
}

static void test_text__leading_combining_mark_dropped(void **state)
{
	wchar_t out[8];
	(void)state;
	assert_int_equal(text_fit("\xcc\x81" "a", out, 8, 10, NULL), 1);
	assert_int_equal(out[0], L'a');
}

static void test_chart__range_and_line(void **state)
{
	double x[3] = { 1, 2, 3 }, y[3] = { 0.5, NAN, 1.5 };
	struct chart_series s = { x, y, 3, 2 };
	struct chart c;
	int r, col, dots = 0;
	(void)state;
	chart_plot(&c, 10, 4, &s, 1);
	assert_false(c.empty);
	assert_true(c.ymin == 0.5 && c.ymax == 1.5 && c.xmin == 1 && c.xmax == 3);
	/* The first point is bottom-left, the last top-right; the colour is kept. */
	assert_int_not_equal(chart_cell(&c, 3, 0), L' ');
	assert_int_not_equal(chart_cell(&c, 0, 9), L' ');
	assert_int_equal(c.colour[0 * 10 + 9], 2);
	for (r = 0; r < 4; r++)
		for (col = 0; col < 10; col++) {
			wchar_t ch = chart_cell(&c, r, col);
			assert_true(ch == L' ' || (ch >= 0x2800 && ch <= 0x28ff));
			dots += ch != L' ';
		}
	assert_true(dots >= 10); /* a connected line crosses every column */
	chart_release(&c);
}

static void test_chart__no_data_is_empty(void **state)
{
	double x[1] = { 1 }, y[1] = { NAN };
	struct chart_series s = { x, y, 1, 0 };
	struct chart c;
	(void)state;
	chart_plot(&c, 5, 2, &s, 1);
	assert_true(c.empty);
	assert_int_equal(chart_cell(&c, 0, 0), L' ');
	chart_release(&c);
}

/* Scatter on a log axis: decades equally spaced, points without lines, x <= 0 left out. */
static void test_chart__scatter_log_axis(void **state)
{
	double x[4] = { 1e-5, 1e-4, 1e-3, 0 }, y[4] = { 0.5, 0.7, 0.6, 0.9 };
	struct chart_series s = { x, y, 4, 0 };
	struct chart c;
	int r, col, used = 0;
	(void)state;
	chart_plot_ex(&c, 21, 4, &s, 1, CHART_POINTS | CHART_LOGX, NULL);
	assert_true(c.logx);
	assert_true(c.xmin == 1e-5 && c.xmax == 1e-3);
	assert_true(c.ymax == 0.7);   /* the x = 0 point is not on a log axis */
	assert_int_equal(chart_col_of(&c, 1e-5), 0);
	assert_int_equal(chart_col_of(&c, 1e-4), 10);
	assert_int_equal(chart_col_of(&c, 1e-3), 20);
	assert_int_not_equal(chart_cell(&c, 0, 10), L' ');   /* the best point, top middle */
	for (col = 0; col < 21; col++) {
		int any = 0;
		for (r = 0; r < 4; r++)
			any |= chart_cell(&c, r, col) != L' ';
		used += any;
	}
	assert_true(used <= 3 * 2);   /* marks only: no line joins them */
	chart_release(&c);
	/* Linear, the same values crowd at the left. */
	chart_plot_ex(&c, 21, 4, &s, 1, CHART_POINTS, NULL);
	assert_true(chart_col_of(&c, 1e-4) <= 2);
	chart_release(&c);
	/* A padded range keeps the ends off the axes; the points' own range is kept. */
	chart_plot_ex(&c, 21, 4, &s, 1, CHART_POINTS | CHART_LOGX | CHART_PAD, NULL);
	assert_true(c.xmin < 1e-5 && c.xmax > 1e-3 && c.dxmin == 1e-5 && c.dxmax == 1e-3);
	chart_release(&c);
}

static struct trial_param tp(const char *k, const char *v, double num)
{
	struct trial_param p = { (char *)k, (char *)v, num };
	return p;
}

/* The points of a sweep's scatter: numbers as they are, text as categories. */
static void test_chart__trial_scatter(void **state)
{
	struct trial_param p[4][2] = {
		{ tp("lr", "1e-05", 1e-5), tp("fusion", "max", NAN) },
		{ tp("lr", "0.001", 1e-3), tp("fusion", "concat", NAN) },
		{ tp("lr", "0.1", 0.1), tp("fusion", "max", NAN) },
		{ tp("lr", "0.01", 0.01), tp("fusion", "sum", NAN) },
	};
	struct trial_row t[4];
	struct trial_list l;
	double *x, *y;
	char **lab;
	int n, nl, logx, i;
	(void)state;
	memset(t, 0, sizeof(t));
	for (i = 0; i < 4; i++) {
		t[i].idx = i + 1;
		t[i].p = p[i];
		t[i].np = 2;
		t[i].metric = 0.5 + i / 10.0;
	}
	t[3].metric = NAN;   /* no metric yet: not plotted */
	memset(&l, 0, sizeof(l));
	l.v = t;
	l.n = 4;
	n = trial_scatter(&l, "lr", &x, &y, &lab, &nl, &logx);
	assert_int_equal(n, 3);
	assert_int_equal(nl, 0);
	assert_int_equal(logx, 1);   /* 1e-5 .. 0.1: four decades */
	assert_true(x[0] == 1e-5 && x[2] == 0.1 && y[1] == 0.6);
	free(x);
	free(y);
	n = trial_scatter(&l, "fusion", &x, &y, &lab, &nl, &logx);
	assert_int_equal(n, 3);
	assert_int_equal(logx, 0);
	assert_int_equal(nl, 3);   /* sorted: concat, max, sum (sum's trial has no metric) */
	assert_string_equal(lab[0], "concat");
	assert_string_equal(lab[1], "max");
	assert_string_equal(lab[2], "sum");
	assert_true(x[0] == 1 && x[1] == 0 && x[2] == 1);
	for (i = 0; i < nl; i++)
		free(lab[i]);
	free(lab);
	free(x);
	free(y);
	/* Close values: a linear axis. */
	p[0][0].num = 0.1;
	p[1][0].num = 0.3;
	p[2][0].num = 0.5;
	n = trial_scatter(&l, "lr", &x, &y, &lab, &nl, &logx);
	assert_int_equal(logx, 0);
	free(x);
	free(y);
	n = trial_scatter(&l, "nosuch", &x, &y, &lab, &nl, &logx);
	assert_int_equal(n, 0);
	free(x);
	free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text__escape_sequences_made_visible),
		cmocka_unit_test(test_text__tabs_and_newlines_become_spaces),
		cmocka_unit_test(test_text__wide_and_combining_widths),
		cmocka_unit_test(test_text__cut_keeps_whole_characters),
		cmocka_unit_test(test_text__invalid_utf8_replaced),
		cmocka_unit_test(test_text__leading_combining_mark_dropped),
		cmocka_unit_test(test_chart__range_and_line),
		cmocka_unit_test(test_chart__no_data_is_empty),
		cmocka_unit_test(test_chart__scatter_log_axis),
		cmocka_unit_test(test_chart__trial_scatter),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

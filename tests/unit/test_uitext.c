/*
 * Unit tests of the dashboard's text cleaning (ui/text.c) and braille
 * charts (ui/chart.c): what reaches the terminal never holds a control
 * character, widths follow wcwidth, cuts never split a character.
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
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

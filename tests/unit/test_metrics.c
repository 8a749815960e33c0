/*
 * Unit tests of metrics: hand-computed cases and scikit-learn's
 * precision_recall_fscore_support on random label vectors
 * (tests/metrics_ref.py).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static void add_all(struct metrics *m, const int *t, const int *p, int n)
{
	int i;
	for (i = 0; i < n; i++)
		assert_int_equal(metrics_add(m, t[i], p[i]), 0);
	metrics_compute(m);
}

/* 3 classes, hand-computed: confusion rows (true) x cols (pred)
 *   [2 1 0]
 *   [0 1 1]
 *   [1 0 0]   class 2 never predicted right. */
static void test_metrics__hand_computed(void **state)
{
	static const int t[] = { 0, 0, 0, 1, 1, 2 }, p[] = { 0, 0, 1, 1, 2, 0 };
	struct metrics m;
	(void)state;
	assert_int_equal(metrics_init(&m, 3), 0);
	add_all(&m, t, p, 6);
	assert_int_equal(m.n, 6);
	assert_int_equal(m.confusion[0 * 3 + 0], 2);
	assert_int_equal(m.confusion[0 * 3 + 1], 1);
	assert_int_equal(m.confusion[2 * 3 + 0], 1);
	NEAR(m.accuracy, 3.0 / 6);
	/* class 0: tp 2 fp 1 fn 1; class 1: tp 1 fp 1 fn 1; class 2: tp 0 fp 1 fn 1 */
	NEAR(m.precision[0], 2.0 / 3);
	NEAR(m.recall[0], 2.0 / 3);
	NEAR(m.f1[0], 2.0 / 3);
	NEAR(m.precision[1], 0.5);
	NEAR(m.recall[1], 0.5);
	NEAR(m.precision[2], 0.0);
	NEAR(m.f1[2], 0.0);
	assert_int_equal(m.support[0], 3);
	assert_int_equal(m.support[2], 1);
	NEAR(m.precision_macro, (2.0 / 3 + 0.5 + 0) / 3);
	NEAR(m.recall_weighted, (2.0 / 3 * 3 + 0.5 * 2 + 0) / 6);
	NEAR(m.f1_weighted, (2.0 / 3 * 3 + 0.5 * 2) / 6);
}

/* A class never predicted: precision 0 (not NaN); recall of a class never
 * true: 0; a class absent from both does not enter the macro average. */
static void test_metrics__zero_division(void **state)
{
	static const int t[] = { 0, 0, 1, 1 }, p[] = { 0, 0, 0, 2 };
	struct metrics m;
	(void)state;
	assert_int_equal(metrics_init(&m, 6), 0);
	add_all(&m, t, p, 4);
	NEAR(m.precision[1], 0.0);   /* never predicted */
	NEAR(m.recall[2], 0.0);      /* never true */
	NEAR(m.f1[3], 0.0);          /* absent */
	NEAR(m.precision[0], 2.0 / 3);
	NEAR(m.recall_macro, (1.0 + 0 + 0) / 3);   /* classes 0, 1, 2 */
	NEAR(m.precision_weighted, (2.0 / 3 * 2) / 4);
	assert_false(isnan(m.f1_macro));
}

static void test_metrics__empty_and_bad_input(void **state)
{
	struct metrics m;
	(void)state;
	assert_int_equal(metrics_init(&m, 2), 0);
	metrics_compute(&m);
	NEAR(m.accuracy, 0.0);
	NEAR(m.f1_weighted, 0.0);
	assert_int_equal(metrics_add(&m, 2, 0), -1);
	assert_int_equal(metrics_add(&m, 0, -1), -1);
	assert_int_equal(m.n, 0);
	assert_int_equal(metrics_init(&m, 0), -1);
	assert_int_equal(metrics_init(&m, METRICS_MAX_CLASSES + 1), -1);
}

static void test_metrics__argmax_first_on_ties(void **state)
{
	static const float p[] = { 0.1f, 0.4f, 0.4f, 0.1f };
	(void)state;
	assert_int_equal(metrics_argmax(p, 4), 1);
	assert_int_equal(metrics_argmax(p, 1), 0);
}

static double next_d(char **s)
{
	return strtod(*s, s);
}

static void test_metrics__matches_scikit_learn(void **state)
{
	const char *top = getenv("MMDB_TOP");
	char cmd[4096], *line = NULL;
	size_t cap = 0;
	int cases = 0;
	FILE *f;
	(void)state;
	snprintf(cmd, sizeof(cmd), "python3 %s/tests/metrics_ref.py 11", top ? top : ".");
	f = popen(cmd, "r");
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		char *s = line;
		int C = (int)next_d(&s), n = (int)next_d(&s), i, k;
		int *t = malloc(sizeof(int) * n), *p = malloc(sizeof(int) * n);
		struct metrics m;
		for (i = 0; i < n; i++)
			t[i] = (int)next_d(&s);
		for (i = 0; i < n; i++)
			p[i] = (int)next_d(&s);
		assert_int_equal(metrics_init(&m, C), 0);
		add_all(&m, t, p, n);
		NEAR(m.accuracy, next_d(&s));
		NEAR(m.precision_weighted, next_d(&s));
		NEAR(m.recall_weighted, next_d(&s));
		NEAR(m.f1_weighted, next_d(&s));
		NEAR(m.precision_macro, next_d(&s));
		NEAR(m.recall_macro, next_d(&s));
		NEAR(m.f1_macro, next_d(&s));
		for (k = 0; k < C; k++)
			NEAR(m.precision[k], next_d(&s));
		for (k = 0; k < C; k++)
			NEAR(m.recall[k], next_d(&s));
		for (k = 0; k < C; k++)
			NEAR(m.f1[k], next_d(&s));
		for (k = 0; k < C; k++)
			assert_int_equal(m.support[k], (int64_t)next_d(&s));
		free(t);
		free(p);
		cases++;
	}
	free(line);
	assert_int_equal(pclose(f), 0);
	assert_int_equal(cases, 60); /* the script ran and printed every case */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics__hand_computed),
		cmocka_unit_test(test_metrics__zero_division),
		cmocka_unit_test(test_metrics__empty_and_bad_input),
		cmocka_unit_test(test_metrics__argmax_first_on_ties),
		cmocka_unit_test(test_metrics__matches_scikit_learn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

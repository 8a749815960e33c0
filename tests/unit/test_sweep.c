/*
 * Unit tests of sweep: the pruning rules (ASHA rungs and the top third,
 * the median rule, a loss minimised, ties, other sweeps ignored) on a real
 * database with hand-made epochs rows, and the queue's claims.
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
#include <unistd.h>

#include "db.h"
#include "sweep.h"
#include "train.h"
#include "util.h"

static char dir[256], path[300];

static int setup(void **state)
{
	struct db *db;
	snprintf(dir, sizeof(dir), "%s/mmdb-test-sweep.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	if (db_open(&db, path, 0))
		return -1;
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];
	db_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void exec(struct db *db, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	assert_int_equal(db_exec(db, sql), 0);
}

/* A sweep (id sid) with metric and rule, and runs in it whose validate
 * column col has the given values at epoch; returns nothing, ids from rid. */
static void add_runs(struct db *db, int sid, int rid, int epoch, const char *col, const double *v,
		     int n)
{
	int i;
	for (i = 0; i < n; i++) {
		exec(db, "INSERT OR IGNORE INTO runs (id, name, sweep_id) VALUES (%d, 'r%d', %d)", rid + i,
		     rid + i, sid);
		exec(db, "INSERT INTO epochs (run_id, epoch, split, %s) VALUES (%d, %d, 'validate', %.17g)",
		     col, rid + i, epoch, v[i]);
	}
}

static void get(struct db *db, const char *name, struct sweep *s)
{
	assert_int_equal(sweep_get(db, name, s), 0);
}

static int judge(struct db *db, struct sweep *s, int64_t run, int epoch, double f1, double loss,
		 char *reason)
{
	struct epoch_result r = { epoch, loss, 0.5, f1, 0.5 };
	reason[0] = 0;
	return sweep_prune_check(db, s, run, &r, reason, 256);
}

static void test_sweep__asha_keeps_the_top_third_at_a_rung(void **state)
{
	struct db *db = *state;
	struct sweep s;
	char reason[256];
	const double others[] = { 0.9, 0.8, 0.7, 0.6, 0.5 };
	const double e3[] = { 0.9, 0.1 };
	const double elsewhere[] = { 0.99, 0.98, 0.97, 0.96, 0.95, 0.94 };

	exec(db, "INSERT INTO sweeps (id, name, method, metric, prune) VALUES (1, 'a', 'grid', "
		 "'best_val_f1', 'asha'), (2, 'b', 'grid', 'best_val_f1', 'asha')");
	add_runs(db, 1, 10, 1, "f1", others, 5);
	add_runs(db, 2, 20, 1, "f1", elsewhere, 6); /* another sweep: not counted */
	get(db, "a", &s);
	/* 6 trials at the rung (this one too): the best 2 go on. */
	assert_int_equal(judge(db, &s, 99, 1, 0.85, 1, reason), 0);
	assert_int_equal(judge(db, &s, 99, 1, 0.75, 1, reason), 1);
	assert_non_null(strstr(reason, "asha: rung at epoch 1"));
	assert_non_null(strstr(reason, "of the 6 trials"));
	/* Ties go on: 0.8 has one better (0.9). */
	assert_int_equal(judge(db, &s, 99, 1, 0.8, 1, reason), 0);
	/* Its own row is not another trial: run 11 (its row 0.8) is one of 5. */
	assert_int_equal(judge(db, &s, 11, 1, 0.75, 1, reason), 1);
	assert_non_null(strstr(reason, "of the 5 trials"));
	/* Epoch 2 is no rung; epoch 3 is (1, 3, 9, ...). */
	assert_int_equal(judge(db, &s, 99, 2, 0.0, 1, reason), 0);
	add_runs(db, 1, 10, 3, "f1", e3, 2);
	assert_int_equal(judge(db, &s, 99, 3, 0.05, 1, reason), 1);
	assert_non_null(strstr(reason, "rung at epoch 3"));
	assert_int_equal(judge(db, &s, 99, 9, 0.0, 1, reason), 0); /* alone at rung 9 */
	sweep_release(&s);
}

static void test_sweep__asha_on_a_loss_keeps_the_lowest(void **state)
{
	struct db *db = *state;
	struct sweep s;
	char reason[256];
	const double losses[] = { 0.5, 0.6 };

	exec(db, "INSERT INTO sweeps (id, name, method, metric, goal, prune) VALUES (3, 'l', 'grid', "
		 "'best_val_loss', 'min', 'asha')");
	add_runs(db, 3, 30, 1, "loss", losses, 2);
	get(db, "l", &s);
	assert_int_equal(judge(db, &s, 99, 1, 0.9, 0.4, reason), 0);
	assert_int_equal(judge(db, &s, 99, 1, 0.9, 0.7, reason), 1);
	assert_non_null(strstr(reason, "validate loss 0.7"));
	sweep_release(&s);
}

static void test_sweep__median_rule(void **state)
{
	struct db *db = *state;
	struct sweep s;
	char reason[256];
	const double two[] = { 0.2, 0.6, 0.4 };

	exec(db, "INSERT INTO sweeps (id, name, method, metric, prune) VALUES (4, 'm', 'random', "
		 "'test_f1', 'median')");
	add_runs(db, 4, 40, 1, "f1", two, 1);
	get(db, "m", &s);
	/* One other trial at epoch 1: too few to judge. */
	assert_int_equal(judge(db, &s, 99, 1, 0.0, 1, reason), 0);
	add_runs(db, 4, 40, 2, "f1", two, 3);
	/* Median of 0.2, 0.4, 0.6 is 0.4. */
	assert_int_equal(judge(db, &s, 99, 2, 0.3, 1, reason), 1);
	assert_non_null(strstr(reason, "median: epoch 2"));
	assert_non_null(strstr(reason, "median 0.4 of 3 other trials"));
	assert_int_equal(judge(db, &s, 99, 2, 0.4, 1, reason), 0);
	assert_int_equal(judge(db, &s, 99, 2, 0.5, 1, reason), 0);
	sweep_release(&s);
}

static void test_sweep__no_rule_never_prunes(void **state)
{
	struct db *db = *state;
	struct sweep s;
	char reason[256];
	const double v[] = { 0.9, 0.9, 0.9 };

	exec(db, "INSERT INTO sweeps (id, name, method, metric, prune) VALUES (5, 'n', 'grid', "
		 "'best_val_f1', 'none')");
	add_runs(db, 5, 50, 1, "f1", v, 3);
	get(db, "n", &s);
	assert_int_equal(judge(db, &s, 99, 1, 0.0, 1, reason), 0);
	sweep_release(&s);
}

static void test_sweep__claims_each_trial_once_crashed_first(void **state)
{
	struct db *db = *state;
	struct sweep_trial t;
	char me[300], dead[300];
	int i, seen[5] = { 0 };

	exec(db, "INSERT INTO sweeps (id, name, method, metric) VALUES (6, 'q', 'grid', 'best_val_f1')");
	for (i = 1; i <= 4; i++)
		exec(db, "INSERT INTO sweep_trials (sweep_id, idx, params) VALUES (6, %d, '{\"lr\": %d}')",
		     i, i);
	sweep_worker_id(me, sizeof(me));
	/* Trial 3's worker is a pid that cannot exist on this host. */
	snprintf(dead, sizeof(dead), "%.*s:999999999", (int)(strrchr(me, ':') - me), me);
	exec(db, "UPDATE sweep_trials SET status = 'running', worker = '%s' WHERE sweep_id = 6 AND "
		 "idx = 3", dead);
	assert_int_equal(sweep_claim(db, 6, me, 600, &t), 1);
	assert_int_equal(t.idx, 3);
	assert_int_equal(t.resume, 0); /* no run yet: started afresh */
	seen[t.idx]++;
	sweep_trial_release(&t);
	for (i = 0; i < 3; i++) {
		assert_int_equal(sweep_claim(db, 6, me, 600, &t), 1);
		seen[t.idx]++;
		sweep_trial_release(&t);
	}
	assert_int_equal(sweep_claim(db, 6, me, 600, &t), 0);
	for (i = 1; i <= 4; i++)
		assert_int_equal(seen[i], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep__asha_keeps_the_top_third_at_a_rung),
		cmocka_unit_test(test_sweep__asha_on_a_loss_keeps_the_lowest),
		cmocka_unit_test(test_sweep__median_rule),
		cmocka_unit_test(test_sweep__no_rule_never_prunes),
		cmocka_unit_test(test_sweep__claims_each_trial_once_crashed_first),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

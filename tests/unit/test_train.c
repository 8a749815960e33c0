/* Tests of the training state a checkpoint carries (src/train_int.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "train_int.h"

static struct train_state sample(void)
{
	struct train_state s;
	memset(&s, 0, sizeof(s));
	s.magic = TRAIN_STATE_MAGIC;
	s.version = TRAIN_STATE_VERSION;
	s.epoch = 2;
	s.step = 3;
	s.global_step = 9;
	s.lr = 1e-3;
	s.loss_sum = 12.5;
	s.samples = 48;
	s.last_lr = 5e-4;
	s.correct = 31;
	return s;
}

static void test_train__state_round_trip(void **state)
{
	struct train_state s = sample(), out;
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(train_state_decode(&s, sizeof(s), &out), 0);
	assert_memory_equal(&out, &s, sizeof(s));
}

/* Checkpoints written before train accuracy was counted (version 1: the
 * same fields without `correct`) still resume. */
static void test_train__state_version1_resumes(void **state)
{
	struct train_state s = sample(), out;
	unsigned char v1[TRAIN_STATE_V1_SIZE];

	assert_int_equal(TRAIN_STATE_V1_SIZE, 128);
	s.version = 1;
	memcpy(v1, &s, sizeof(v1));
	assert_int_equal(train_state_decode(v1, sizeof(v1), &out), 0);
	assert_int_equal(out.version, TRAIN_STATE_VERSION);
	assert_int_equal(out.epoch, 2);
	assert_int_equal(out.step, 3);
	assert_int_equal(out.global_step, 9);
	assert_int_equal(out.samples, 48);
	assert_true(out.loss_sum == 12.5 && out.last_lr == 5e-4);
	/* Mid-epoch: the steps already taken were not counted. */
	assert_int_equal(out.correct, -1);
	/* At an epoch's start there is nothing to miss. */
	s.step = 0;
	s.samples = 0;
	memcpy(v1, &s, sizeof(v1));
	assert_int_equal(train_state_decode(v1, sizeof(v1), &out), 0);
	assert_int_equal(out.correct, 0);
}

static void test_train__state_foreign_blob_is_refused(void **state)
{
	struct train_state s = sample(), out;
	unsigned char big[sizeof(s) + 8];

	assert_int_equal(train_state_decode(NULL, 0, &out), -1);
	assert_int_equal(train_state_decode("x", 1, &out), -1);
	assert_int_equal(train_state_decode(&s, sizeof(s) - 8, &out), -1);   /* v2 cut short */
	memset(big, 0, sizeof(big));
	memcpy(big, &s, sizeof(s));
	assert_int_equal(train_state_decode(big, sizeof(big), &out), -1);
	s.magic ^= 1;
	assert_int_equal(train_state_decode(&s, sizeof(s), &out), -1);
	s = sample();
	s.version = 3;
	assert_int_equal(train_state_decode(&s, sizeof(s), &out), -1);
	s.version = 1;   /* version 1 with version 2's size */
	assert_int_equal(train_state_decode(&s, sizeof(s), &out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_train__state_round_trip),
		cmocka_unit_test(test_train__state_version1_resumes),
		cmocka_unit_test(test_train__state_foreign_blob_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

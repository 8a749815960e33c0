/* Tests of the libtorch wrapper through its C interface (src/torch/mt.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "torch/mt.h"

#define B 8
#define L 12
#define S 32
#define C 3
#define V 50

static int32_t ids[B * L];
static uint8_t mask[B * L];
static uint8_t pixels[B * S * S * 3];
static int32_t labels[B];
static char tmpdir[256];

static struct mt_batch batch(void)
{
	struct mt_batch b = {B, L, ids, mask, S, pixels, labels};
	return b;
}

static struct mt_config config(void)
{
	struct mt_config c;
	memset(&c, 0, sizeof c);
	c.num_classes = C;
	c.modalities = MT_TEXT | MT_IMAGE;
	c.fusion = MT_FUSION_MAX;
	c.text_model = "bert-tiny";
	c.vocab_size = V;
	c.max_len = L;
	c.image_model = "resnet-small";
	c.image_size = S;
	c.dropout = 0.1f;
	c.optimizer = MT_ADAM;
	c.lr = 1e-3;
	c.device = getenv("MMDB_TEST_DEVICE") ? getenv("MMDB_TEST_DEVICE") : "cpu";
	c.seed = 7;
	return c;
}

static int setup(void **state)
{
	/* A fixed batch whose label is visible in both the tokens and the pixels. */
	unsigned r = 12345;
	for (int i = 0; i < B; i++) {
		labels[i] = i % C;
		int len = 4 + i % (L - 4);
		for (int j = 0; j < L; j++) {
			r = r * 1103515245u + 12345u;
			ids[i * L + j] = j == 0 ? 1 : j < len ? (int32_t)(5 + labels[i] * 10 + (r >> 16) % 10) : 0;
			mask[i * L + j] = j < len;
		}
		for (int k = 0; k < S * S * 3; k++) {
			r = r * 1103515245u + 12345u;
			pixels[(size_t)i * S * S * 3 + k] = (uint8_t)((r >> 16) % 64 + (k % 3 == labels[i]) * 150);
		}
	}
	snprintf(tmpdir, sizeof tmpdir, "/tmp/mmdb-test-mt-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	mt_set_num_threads(1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_mt__version_and_devices(void **state)
{
	assert_int_equal(strncmp(mt_torch_version(), "2.", 2), 0);
	int n = mt_cuda_device_count();
	assert_true(n >= 0);
	assert_int_equal(mt_cuda_available(), n > 0);
	char name[128];
	assert_int_equal(mt_cuda_device_name(n, name, sizeof name), -1);
	assert_non_null(strstr(mt_last_error(), "no CUDA device"));
}

static void test_mt__bad_config_is_an_error(void **state)
{
	struct mt_config c = config();
	mt_model *m = NULL;
	c.text_model = "bert-huge";
	assert_int_equal(mt_model_new(&c, &m), -1);
	assert_null(m);
	assert_non_null(strstr(mt_last_error(), "bert-huge"));
	c = config();
	c.device = "cuda:7";
	if (mt_cuda_device_count() < 8) {
		assert_int_equal(mt_model_new(&c, &m), -1);
		assert_non_null(strstr(mt_last_error(), "cuda:7"));
	}
	c = config();
	c.device = "tpu";
	assert_int_equal(mt_model_new(&c, &m), -1);
	c = config();
	c.num_classes = 1;
	assert_int_equal(mt_model_new(&c, &m), -1);
}

static void test_mt__loss_falls_on_a_fixed_batch(void **state)
{
	int fusions[] = {MT_FUSION_MAX, MT_FUSION_SUM, MT_FUSION_MEAN, MT_FUSION_CONCAT, MT_FUSION_GATED};
	for (size_t f = 0; f < sizeof fusions / sizeof fusions[0]; f++) {
		struct mt_config c = config();
		c.fusion = fusions[f];
		mt_model *m;
		assert_int_equal(mt_model_new(&c, &m), 0);
		struct mt_batch b = batch();
		float first = 0, loss = 0;
		for (int step = 0; step < 10; step++) {
			assert_int_equal(mt_train_step(m, &b, &loss), 0);
			assert_true(isfinite(loss));
			if (step == 0)
				first = loss;
		}
		if (!(loss < first * 0.7f))
			fail_msg("fusion %d: loss %g -> %g did not fall", fusions[f], first, loss);
		mt_model_free(m);
	}
}

/*
 * The correct count of a training step: within 0..B; all B once the model
 * has fitted the batch (as evaluation agrees); none when the labels are
 * then shifted to wrong classes (counted before the step's update).
 */
static void test_mt__train_step_counts_correct(void **state)
{
	struct mt_config c = config();
	mt_model *m;
	struct mt_batch b = batch();
	float loss, probs[B * C];
	int32_t wrong[B];
	int correct = -1, step, i, agree = 0;

	assert_int_equal(mt_model_new(&c, &m), 0);
	for (step = 0; step < 40; step++) {
		assert_int_equal(mt_train_step_acc(m, &b, &loss, &correct), 0);
		assert_in_range(correct, 0, B);
	}
	assert_int_equal(correct, B);
	assert_int_equal(mt_eval_batch(m, &b, probs, NULL), 0);
	for (i = 0; i < B; i++) {
		int k, arg = 0;
		for (k = 1; k < C; k++)
			if (probs[i * C + k] > probs[i * C + arg])
				arg = k;
		agree += arg == labels[i];
	}
	assert_int_equal(agree, B);
	for (i = 0; i < B; i++)
		wrong[i] = (labels[i] + 1) % C;
	b.labels = wrong;
	assert_int_equal(mt_train_step_acc(m, &b, &loss, &correct), 0);
	assert_int_equal(correct, 0);
	/* NULL count: the plain step. */
	assert_int_equal(mt_train_step_acc(m, &b, &loss, NULL), 0);
	assert_true(isfinite(loss));
	mt_model_free(m);
}

static void test_mt__one_modality_and_seed_recipe(void **state)
{
	struct mt_config c = config();
	mt_model *m;
	float probs[B * C], loss;
	struct mt_batch b = batch();
	int64_t total, trainable;

	c.modalities = MT_TEXT;
	assert_int_equal(mt_model_new(&c, &m), 0);
	b.pixels = NULL;
	assert_int_equal(mt_train_step(m, &b, &loss), 0);
	mt_model_free(m);

	c = config();
	c.modalities = MT_IMAGE;
	c.optimizer = MT_SGD;
	c.momentum = 0.9;
	c.lr = 0.01;
	assert_int_equal(mt_model_new(&c, &m), 0);
	b = batch();
	b.input_ids = NULL;
	b.attention_mask = NULL;
	assert_int_equal(mt_train_step(m, &b, &loss), 0);
	mt_model_free(m);

	c = config();
	c.seed_recipe = 1;
	c.optimizer = MT_ADAMW;
	c.weight_decay = 0.01;
	c.grad_clip = 1.0;
	assert_int_equal(mt_model_new(&c, &m), 0);
	b = batch();
	assert_int_equal(mt_train_step(m, &b, &loss), 0);
	/* image head reads 1000 ImageNet logits: features are (B, 1000) */
	static float feat[B * 1000];
	int dim = 0;
	assert_int_equal(mt_forward_features(m, &b, MT_PART_IMAGE, feat, B * 1000, &dim), 0);
	assert_int_equal(dim, 1000);
	assert_int_equal(mt_forward_features(m, &b, MT_PART_TEXT, feat, B * 1000, &dim), 0);
	assert_int_equal(dim, 128);
	assert_int_equal(mt_forward_features(m, &b, MT_PART_TEXT, feat, 10, &dim), -1);
	assert_int_equal(mt_model_params(m, &total, &trainable), 0);
	assert_true(total == trainable && total > 0);
	mt_model_free(m);

	/* freezing the text part leaves only the rest trainable */
	c = config();
	c.freeze = MT_FREEZE_TEXT;
	assert_int_equal(mt_model_new(&c, &m), 0);
	assert_int_equal(mt_model_params(m, &total, &trainable), 0);
	int64_t bert_tiny;
	assert_int_equal(mt_preset_params("bert-tiny", V, &bert_tiny), 0);
	assert_true(trainable == total - bert_tiny);
	assert_int_equal(mt_eval_batch(m, &b, probs, &loss), 0);
	mt_model_free(m);
}

static void test_mt__eval_gives_probabilities(void **state)
{
	struct mt_config c = config();
	float w[C] = {1.0f, 2.0f, 0.5f};
	c.class_weights = w;
	mt_model *m;
	float probs[B * C], l1, l2;
	assert_int_equal(mt_model_new(&c, &m), 0);
	struct mt_batch b = batch();
	assert_int_equal(mt_eval_batch(m, &b, probs, &l1), 0);
	for (int i = 0; i < B; i++) {
		float s = 0;
		for (int k = 0; k < C; k++) {
			assert_true(probs[i * C + k] >= 0 && probs[i * C + k] <= 1);
			s += probs[i * C + k];
		}
		assert_true(fabsf(s - 1) < 1e-5);
	}
	/* eval is deterministic (no dropout) and the loss is the weighted CE of probs */
	assert_int_equal(mt_eval_batch(m, &b, NULL, &l2), 0);
	assert_true(l1 == l2);
	double num = 0, den = 0;
	for (int i = 0; i < B; i++) {
		num += -w[labels[i]] * log(probs[i * C + labels[i]]);
		den += w[labels[i]];
	}
	assert_true(fabs(num / den - l1) < 1e-4);
	/* bad labels and token ids are errors, not crashes */
	int32_t bad[B];
	memcpy(bad, labels, sizeof bad);
	bad[3] = C;
	b.labels = bad;
	assert_int_equal(mt_train_step(m, &b, &l1), -1);
	assert_non_null(strstr(mt_last_error(), "label"));
	b = batch();
	ids[5] = V + 3;
	assert_int_equal(mt_eval_batch(m, &b, probs, NULL), -1);
	assert_non_null(strstr(mt_last_error(), "vocabulary"));
	ids[5] = 0;
	mt_model_free(m);
}

static void test_mt__lr_set_and_get(void **state)
{
	struct mt_config c = config();
	mt_model *m;
	assert_int_equal(mt_model_new(&c, &m), 0);
	assert_true(fabs(mt_get_lr(m) - 1e-3) < 1e-12);
	assert_int_equal(mt_set_lr(m, 2.5e-4), 0);
	assert_true(fabs(mt_get_lr(m) - 2.5e-4) < 1e-12);
	assert_int_equal(mt_set_lr(m, -1), -1);
	mt_model_free(m);
}

static void test_mt__checkpoint_gives_identical_next_step(void **state)
{
	struct mt_config c = config();
	mt_model *m, *m2;
	struct mt_batch b = batch();
	float loss, next_a, next_b, next_c;
	char path[300];
	const char blob[] = "epoch=3;pos=17";
	void *extra = NULL;
	size_t extra_len = 0;

	snprintf(path, sizeof path, "%s/ck.pt", tmpdir);
	assert_int_equal(mt_model_new(&c, &m), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mt_train_step(m, &b, &loss), 0);
	assert_int_equal(mt_set_lr(m, 5e-4), 0);
	assert_int_equal(mt_checkpoint_save(m, path, blob, sizeof blob), 0);
	assert_int_equal(mt_train_step(m, &b, &next_a), 0);
	assert_int_equal(mt_train_step(m, &b, &next_c), 0);

	/* the same model rewound */
	assert_int_equal(mt_checkpoint_load(m, path, &extra, &extra_len), 0);
	assert_int_equal(extra_len, sizeof blob);
	assert_memory_equal(extra, blob, sizeof blob);
	free(extra);
	assert_true(fabs(mt_get_lr(m) - 5e-4) < 1e-12);
	assert_int_equal(mt_train_step(m, &b, &next_b), 0);
	assert_true(next_a == next_b);

	/* a fresh model with another seed, loaded: same next two steps (optimizer state too) */
	c.seed = 99;
	assert_int_equal(mt_model_new(&c, &m2), 0);
	assert_int_equal(mt_checkpoint_load(m2, path, NULL, NULL), 0);
	assert_int_equal(mt_train_step(m2, &b, &next_b), 0);
	assert_true(next_a == next_b);
	assert_int_equal(mt_train_step(m2, &b, &next_b), 0);
	assert_true(next_c == next_b);
	mt_model_free(m2);

	/* another architecture refuses it */
	c = config();
	c.text_model = "bert-mini";
	assert_int_equal(mt_model_new(&c, &m2), 0);
	assert_int_equal(mt_checkpoint_load(m2, path, NULL, NULL), -1);
	assert_non_null(strstr(mt_last_error(), "different model"));
	mt_model_free(m2);
	char missing[320];
	snprintf(missing, sizeof missing, "%s/none.pt", tmpdir);
	assert_int_equal(mt_checkpoint_load(m, missing, NULL, NULL), -1);
	assert_non_null(strstr(mt_last_error(), "none.pt"));
	mt_model_free(m);
}

static void test_mt__weights_round_trip(void **state)
{
	struct mt_config c = config();
	mt_model *m, *m2;
	struct mt_batch b = batch();
	float p1[B * C], p2[B * C], loss;
	char path[300], report[4096];

	snprintf(path, sizeof path, "%s/w.safetensors", tmpdir);
	assert_int_equal(mt_model_new(&c, &m), 0);
	assert_int_equal(mt_train_step(m, &b, &loss), 0);
	assert_int_equal(mt_model_save_weights(m, path), 0);
	assert_int_equal(mt_eval_batch(m, &b, p1, NULL), 0);
	c.seed = 1234;
	assert_int_equal(mt_model_new(&c, &m2), 0);
	assert_int_equal(mt_eval_batch(m2, &b, p2, NULL), 0);
	assert_memory_not_equal(p1, p2, sizeof p1);
	assert_int_equal(mt_model_load_weights(m2, path, MT_PART_ALL, report, sizeof report), 0);
	assert_non_null(strstr(report, "missing (0)"));
	assert_non_null(strstr(report, "unexpected (0)"));
	assert_int_equal(mt_eval_batch(m2, &b, p2, NULL), 0);
	assert_memory_equal(p1, p2, sizeof p1);
	mt_model_free(m2);

	/* a model of another size: a shape mismatch names the tensor */
	c = config();
	c.text_model = "bert-mini";
	assert_int_equal(mt_model_new(&c, &m2), 0);
	assert_int_equal(mt_model_load_weights(m2, path, MT_PART_ALL, report, sizeof report), -1);
	assert_non_null(strstr(mt_last_error(), "bert.embeddings"));
	assert_non_null(strstr(mt_last_error(), "shape"));
	mt_model_free(m2);
	mt_model_free(m);
}

static void test_mt__fused_adam_matches_adam(void **state)
{
	int opts[] = {MT_ADAM, MT_ADAMW};
	for (int o = 0; o < 2; o++) {
		float a[6], f[6];
		for (int fused = 0; fused < 2; fused++) {
			struct mt_config c = config();
			c.optimizer = opts[o];
			c.weight_decay = 0.01;
			c.dropout = 0;
			c.fused_optimizer = fused ? 1 : -1;
			mt_model *m;
			struct mt_batch b = batch();
			assert_int_equal(mt_model_new(&c, &m), 0);
			mt_manual_seed(3);
			for (int i = 0; i < 6; i++)
				assert_int_equal(mt_train_step(m, &b, fused ? &f[i] : &a[i]), 0);
			mt_model_free(m);
		}
		for (int i = 0; i < 6; i++)
			if (fabsf(a[i] - f[i]) > 1e-4f * fabsf(a[i]) + 1e-5f)
				fail_msg("optimizer %d step %d: fused loss %g, unfused %g", opts[o], i, f[i], a[i]);
		assert_true(f[5] < f[0]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mt__version_and_devices),
		cmocka_unit_test(test_mt__bad_config_is_an_error),
		cmocka_unit_test(test_mt__loss_falls_on_a_fixed_batch),
		cmocka_unit_test(test_mt__train_step_counts_correct),
		cmocka_unit_test(test_mt__one_modality_and_seed_recipe),
		cmocka_unit_test(test_mt__eval_gives_probabilities),
		cmocka_unit_test(test_mt__lr_set_and_get),
		cmocka_unit_test(test_mt__fused_adam_matches_adam),
		cmocka_unit_test(test_mt__checkpoint_gives_identical_next_step),
		cmocka_unit_test(test_mt__weights_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

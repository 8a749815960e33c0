/*
 * parity: the same few fp32 training steps on two devices through mt.h,
 * from the same initial weights and the same batch; prints each step's loss
 * on both and the largest differences of losses and final probabilities.
 * Exit 0 when they agree within --tol (relative on losses, absolute on
 * probabilities), 1 otherwise.
 *
 *   parity [--a cpu] [--b cuda] [--text bert-mini] [--image resnet18]
 *          [--size 64] [--batch 8] [--steps 5] [--tol 1e-3]
 */
#define _POSIX_C_SOURCE 200809L
#include "torch/mt.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C 6

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static int steps_on(const char *device, struct mt_config cfg, const struct mt_batch *b,
		    int steps, const char *init, float *losses, float *probs)
{
	mt_model *m = NULL;
	int i;
	cfg.device = device;
	if (mt_manual_seed(cfg.seed) || mt_model_new(&cfg, &m)) {
		fprintf(stderr, "parity: %s: %s\n", device, mt_last_error());
		return -1;
	}
	/* Both devices start from the same weights file. */
	if (mt_model_load_weights(m, init, MT_PART_ALL, NULL, 0)) {
		fprintf(stderr, "parity: %s: load: %s\n", device, mt_last_error());
		mt_model_free(m);
		return -1;
	}
	for (i = 0; i < steps; i++)
		if (mt_train_step(m, b, &losses[i])) {
			fprintf(stderr, "parity: %s: step: %s\n", device, mt_last_error());
			mt_model_free(m);
			return -1;
		}
	if (mt_eval_batch(m, b, probs, NULL)) {
		fprintf(stderr, "parity: %s: eval: %s\n", device, mt_last_error());
		mt_model_free(m);
		return -1;
	}
	mt_model_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	const char *da = "cpu", *db = "cuda", *text = "bert-mini", *image = "resnet18";
	int size = 64, B = 8, L = 32, steps = 5, i;
	double tol = 1e-3, dl = 0, dp = 0;
	struct mt_config cfg;
	struct mt_batch b;
	int32_t *ids, *labels;
	uint8_t *mask, *pix;
	float *la, *lb, *pa, *pb;
	const char *init = "parity-init.safetensors";
	mt_model *m0 = NULL;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--a")) da = argv[i + 1];
		else if (!strcmp(argv[i], "--b")) db = argv[i + 1];
		else if (!strcmp(argv[i], "--text")) text = argv[i + 1];
		else if (!strcmp(argv[i], "--image")) image = argv[i + 1];
		else if (!strcmp(argv[i], "--size")) size = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--batch")) B = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--tol")) tol = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--init")) init = argv[i + 1];
		else { fprintf(stderr, "parity: unknown option %s\n", argv[i]); return 2; }
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.num_classes = C;
	cfg.modalities = MT_TEXT | MT_IMAGE;
	cfg.fusion = MT_FUSION_MAX;
	cfg.text_model = text;
	cfg.vocab_size = 1000;
	cfg.max_len = L;
	cfg.image_model = image;
	cfg.image_size = size;
	cfg.dropout = 0.0f;
	/* SGD: Adam turns noise-level gradient differences into full-size
	 * steps of +-lr, so two devices part ways after a step or two even
	 * when each computes correctly. */
	cfg.optimizer = MT_SGD;
	cfg.momentum = 0.9;
	cfg.lr = 1e-2;
	cfg.amp = 0;
	cfg.seed = 7;
	cfg.device = "cpu";

	ids = calloc((size_t)B * L, sizeof(*ids));
	mask = calloc((size_t)B * L, 1);
	pix = malloc((size_t)B * size * size * 3);
	labels = calloc((size_t)B, sizeof(*labels));
	la = calloc((size_t)steps, sizeof(float));
	lb = calloc((size_t)steps, sizeof(float));
	pa = calloc((size_t)B * C, sizeof(float));
	pb = calloc((size_t)B * C, sizeof(float));
	for (i = 0; i < B * L; i++) {
		int pos = i % L, len = 8 + (i / L) * 3 % (L - 8);
		ids[i] = pos == 0 ? 101 : pos < len ? 200 + (int)(next() % 700) : 0;
		mask[i] = pos < len;
	}
	for (i = 0; i < B * size * size * 3; i++)
		pix[i] = (uint8_t)next();
	for (i = 0; i < B; i++)
		labels[i] = i % C;
	b.n = B;
	b.max_len = L;
	b.input_ids = ids;
	b.attention_mask = mask;
	b.image_size = size;
	b.pixels = pix;
	b.labels = labels;

	/* Exact fp32 on CUDA: no TF32 matmuls or convolutions. */
	setenv("MMDB_TF32", "0", 1);
	/* One set of initial weights for both sides. */
	if (mt_manual_seed(cfg.seed) || mt_model_new(&cfg, &m0) || mt_model_save_weights(m0, init)) {
		fprintf(stderr, "parity: init: %s\n", mt_last_error());
		return 1;
	}
	mt_model_free(m0);
	if (steps_on(da, cfg, &b, steps, init, la, pa) || steps_on(db, cfg, &b, steps, init, lb, pb))
		return 1;
	for (i = 0; i < steps; i++) {
		double d = fabs(la[i] - lb[i]) / fmax(1e-6, fabs(la[i]));
		printf("step %d loss %s %.6f %s %.6f rel_diff %.2e\n", i + 1, da, la[i], db, lb[i], d);
		if (d > dl)
			dl = d;
	}
	for (i = 0; i < B * C; i++)
		if (fabs(pa[i] - pb[i]) > dp)
			dp = fabs(pa[i] - pb[i]);
	printf("max_loss_rel_diff: %.3e\nmax_prob_abs_diff: %.3e\ntolerance: %.1e\n", dl, dp, tol);
	printf("parity: %s\n", dl <= tol && dp <= tol ? "ok" : "MISMATCH");
	remove(init);
	return dl <= tol && dp <= tol ? 0 : 1;
}

/*
 * step_bench: training steps per second of an mmdb model through mt.h on
 * random inputs held in host memory (copied to the device every step, as
 * the loader's batches are): the model step alone, the same measurement as
 * tests/gpu/ref_bench.py makes for PyTorch from Python.
 *
 *   step_bench [--device cuda] [--text bert-base] [--image resnet50]
 *              [--size 224] [--batch 32] [--steps 30] [--warmup 5]
 *              [--amp 1] [--seed-recipe 1]
 * Prints "samples_per_s: X".
 */
#include "torch/mt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *device = "cuda", *text = "bert-base", *image = "resnet50";
	int size = 224, B = 32, L = 80, steps = 30, warmup = 5, amp = 1, seed_recipe = 1, i;
	struct mt_config cfg;
	struct mt_batch b;
	mt_model *m = NULL;
	int32_t *ids, *labels;
	uint8_t *mask, *pix;
	float loss = 0;
	double t0 = 0, dt;
	unsigned r = 12345;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--device")) device = argv[i + 1];
		else if (!strcmp(argv[i], "--text")) text = argv[i + 1];
		else if (!strcmp(argv[i], "--image")) image = argv[i + 1];
		else if (!strcmp(argv[i], "--size")) size = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--batch")) B = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--amp")) amp = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed-recipe")) seed_recipe = atoi(argv[i + 1]);
		else { fprintf(stderr, "step_bench: unknown option %s\n", argv[i]); return 2; }
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.num_classes = 6;
	cfg.modalities = MT_TEXT | MT_IMAGE;
	cfg.fusion = MT_FUSION_MAX;
	cfg.text_model = text;
	cfg.vocab_size = 30522;
	cfg.max_len = L;
	cfg.image_model = image;
	cfg.image_size = size;
	cfg.seed_recipe = seed_recipe;
	cfg.dropout = 0.3f;
	cfg.optimizer = MT_ADAM;
	cfg.lr = 1e-5;
	cfg.amp = amp;
	cfg.device = device;
	cfg.seed = 1;
	if (mt_model_new(&cfg, &m)) {
		fprintf(stderr, "step_bench: %s\n", mt_last_error());
		return 1;
	}
	ids = malloc(sizeof(*ids) * B * L);
	mask = malloc((size_t)B * L);
	pix = malloc((size_t)B * size * size * 3);
	labels = malloc(sizeof(*labels) * B);
	for (i = 0; i < B * L; i++) {
		r = r * 1103515245u + 12345u;
		ids[i] = i % L == 0 ? 101 : 1000 + (int)(r >> 16) % 29000;
		mask[i] = (i % L) < L / 2 || (r >> 8) % 2;
	}
	for (i = 0; i < B * size * size * 3; i++) {
		r = r * 1103515245u + 12345u;
		pix[i] = (uint8_t)(r >> 16);
	}
	for (i = 0; i < B; i++)
		labels[i] = i % 6;
	b.n = B;
	b.max_len = L;
	b.input_ids = ids;
	b.attention_mask = mask;
	b.image_size = size;
	b.pixels = pix;
	b.labels = labels;
	for (i = 0; i < warmup + steps; i++) {
		if (i == warmup)
			t0 = now();
		if (mt_train_step(m, &b, &loss)) {
			fprintf(stderr, "step_bench: %s\n", mt_last_error());
			return 1;
		}
	}
	dt = now() - t0;
	printf("device: %s text: %s image: %s size: %d batch: %d amp: %d steps: %d seconds: %.3f loss: %.4f\n",
	       device, text, image, size, B, amp, steps, dt, loss);
	printf("samples_per_s: %.2f\n", B * steps / dt);
	mt_model_free(m);
	free(ids);
	free(mask);
	free(pix);
	free(labels);
	return 0;
}

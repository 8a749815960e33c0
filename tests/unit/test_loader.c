/*
 * Unit tests of loader: batch contents (tokens, pixels of the real sample
 * images, labels), seeded deterministic order independent of the number of
 * workers, resuming at a batch, the prep cache, blank pixels for unreadable
 * images, a fixed buffer pool, clean shutdown mid-epoch, and the shards of
 * data-parallel ranks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "image.h"
#include "loader.h"
#include "tokenizer.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NITEMS 37
#define S 32
#define L 12

struct fixture {
	char dir[256], objects[300], prep[300];
	struct tokenizer *tok;
	struct loader_item items[NITEMS];
	char ids[NITEMS][16], titles[NITEMS][64];
	char shas[NITEMS][65];
	int nimages;
};

static const char *words[] = { "cat", "dog", "moon", "fake", "news", "photo" };

static int copy_to_objects(struct fixture *f, const char *src, char hex[65])
{
	char dst[512], cmd[2048];
	uint64_t size;
	if (sha256_file(src, hex, &size))
		return -1;
	snprintf(dst, sizeof(dst), "%s/%.2s", f->objects, hex);
	if (mkdir_p(dst, 0755))
		return -1;
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/%s'", src, dst, hex);
	return system(cmd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *shared = getenv("MMDB_SHARED");
	char vocab[300], imgdir[512];
	FILE *v;
	DIR *d;
	struct dirent *e;
	int i;

	snprintf(f->dir, sizeof(f->dir), "/tmp/mmdb-test-loader.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->objects, sizeof(f->objects), "%s/objects", f->dir);
	snprintf(f->prep, sizeof(f->prep), "%s/prep", f->dir);
	snprintf(vocab, sizeof(vocab), "%s/vocab.txt", f->dir);
	v = fopen(vocab, "w");
	fprintf(v, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
	for (i = 0; i < (int)(sizeof(words) / sizeof(words[0])); i++)
		fprintf(v, "%s\n", words[i]);
	fclose(v);
	assert_int_equal(tok_load(&f->tok, vocab), 0);

	/* The real sample images, under their hashes as mmdb's cache keeps them. */
	snprintf(imgdir, sizeof(imgdir), "%s/fakeddit-sample/images", shared ? shared : "../shared");
	d = opendir(imgdir);
	assert_non_null(d);
	while ((e = readdir(d)) && f->nimages < 8) {
		char p[1024];
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", imgdir, e->d_name);
		assert_int_equal(copy_to_objects(f, p, f->shas[f->nimages]), 0);
		f->nimages++;
	}
	closedir(d);
	assert_true(f->nimages >= 4);
	for (i = 0; i < NITEMS; i++) {
		snprintf(f->ids[i], sizeof(f->ids[i]), "p%02d", i);
		snprintf(f->titles[i], sizeof(f->titles[i]), "%s %s", words[i % 6], words[(i / 6) % 6]);
		f->items[i].post_id = f->ids[i];
		f->items[i].title = f->titles[i];
		f->items[i].label = i % 6;
		f->items[i].image_sha256 = i % 5 == 4 ? NULL : f->shas[i % f->nimages];
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];
	if (!f)
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	tok_free(f->tok);
	free(f);
	return 0;
}

static struct loader_opts opts_for(struct fixture *f, int workers, int shuffle, int prep)
{
	struct loader_opts o = { 0 };
	o.batch_size = 5;
	o.max_len = L;
	o.image_size = S;
	o.resize_mode = 0;
	o.workers = workers;
	o.shuffle = shuffle;
	o.seed = 42;
	o.tok = f->tok;
	o.objects_dir = f->objects;
	o.prep_dir = prep ? f->prep : NULL;
	return o;
}

/* Post ids of a whole epoch, in delivery order, into out (NITEMS). */
static int epoch_order(struct loader *l, int epoch, int skip, const char **out)
{
	struct loader_batch *b;
	int n = 0, j;
	assert_int_equal(loader_start_epoch(l, epoch, skip), 0);
	while (loader_next(l, &b) == 1) {
		for (j = 0; j < b->n; j++)
			out[n++] = b->post_ids[j];
		loader_release(l, b);
	}
	return n;
}

static void test_loader__batch_contents(void **state)
{
	struct fixture *f = *state;
	struct loader_opts o = opts_for(f, 3, 0, 0);
	struct loader *l;
	struct loader_batch *b;
	int32_t ids[L];
	uint8_t mask[L], *want = malloc(S * S * 3);
	int j, batches = 0, seen = 0;

	assert_int_equal(loader_new(&l, f->items, NITEMS, &o), 0);
	assert_int_equal(loader_batches(l), (NITEMS + 4) / 5);
	loader_start_epoch(l, 0, 0);
	while (loader_next(l, &b) == 1) {
		assert_int_equal(b->index, batches);
		for (j = 0; j < b->n; j++) {
			size_t i = b->items[j];
			const struct loader_item *it = &f->items[i];
			assert_int_equal(i, (size_t)seen); /* list order without shuffle */
			assert_string_equal(b->post_ids[j], it->post_id);
			assert_int_equal(b->labels[j], it->label);
			tok_encode(f->tok, it->title, strlen(it->title), L, ids, mask);
			assert_memory_equal(b->input_ids + j * L, ids, sizeof(ids));
			assert_memory_equal(b->attention_mask + j * L, mask, sizeof(mask));
			if (it->image_sha256) {
				char p[600], why[128];
				FILE *fp;
				static unsigned char data[1 << 22];
				size_t n;
				snprintf(p, sizeof(p), "%s/%.2s/%s", f->objects, it->image_sha256,
					 it->image_sha256);
				fp = fopen(p, "rb");
				n = fread(data, 1, sizeof(data), fp);
				fclose(fp);
				assert_int_equal(img_decode_resize(data, n, S, IMG_SQUASH, want, why,
								   sizeof(why)), 0);
				assert_memory_equal(b->pixels + (size_t)j * S * S * 3, want, S * S * 3);
			} else {
				int k;
				for (k = 0; k < S * S * 3; k++)
					assert_int_equal(b->pixels[(size_t)j * S * S * 3 + k], 0);
			}
			seen++;
		}
		loader_release(l, b);
		batches++;
	}
	assert_int_equal(seen, NITEMS);
	assert_int_equal(loader_image_failures(l), 0);
	loader_free(l);
	free(want);
}

static void test_loader__seeded_order_independent_of_workers(void **state)
{
	struct fixture *f = *state;
	struct loader_opts o1 = opts_for(f, 1, 1, 0), o4 = opts_for(f, 4, 1, 0);
	struct loader *a, *b;
	const char *x[NITEMS], *y[NITEMS], *z[NITEMS];
	int i, differ = 0, sorted = 1;

	assert_int_equal(loader_new(&a, f->items, NITEMS, &o1), 0);
	assert_int_equal(loader_new(&b, f->items, NITEMS, &o4), 0);
	assert_int_equal(epoch_order(a, 3, 0, x), NITEMS);
	assert_int_equal(epoch_order(b, 3, 0, y), NITEMS);
	for (i = 0; i < NITEMS; i++)
		assert_string_equal(x[i], y[i]);
	assert_int_equal(epoch_order(b, 4, 0, z), NITEMS);
	for (i = 0; i < NITEMS; i++) {
		differ |= strcmp(x[i], z[i]) != 0;
		sorted &= strcmp(x[i], f->ids[i]) == 0;
	}
	assert_true(differ);   /* another epoch, another order */
	assert_false(sorted);  /* and it is shuffled */
	/* The same epoch again: the same order. */
	assert_int_equal(epoch_order(a, 4, 0, x), NITEMS);
	for (i = 0; i < NITEMS; i++)
		assert_string_equal(x[i], z[i]);
	loader_free(a);
	loader_free(b);
}

static void test_loader__permutation_is_a_permutation(void **state)
{
	size_t perm[1000], i;
	char seen[1000] = { 0 };
	(void)state;
	loader_permutation(perm, 1000, 7, 2);
	for (i = 0; i < 1000; i++) {
		assert_true(perm[i] < 1000);
		assert_false(seen[perm[i]]);
		seen[perm[i]] = 1;
	}
}

/* DistributedSampler's shards: every rank's order is positions rank, rank +
 * W, ... of the one-process order (padded by wrapping round), the shards
 * are of equal size, and together they hold every post, the padding once. */
static void test_loader__shards(void **state)
{
	struct fixture *f = *state;
	struct loader_opts o = opts_for(f, 2, 1, 0);
	struct loader *one, *rank[3];
	const char *x[NITEMS], *y[3][NITEMS];
	int seen[NITEMS] = { 0 };
	int r, k, i, n[3], W = 3, shuffled;

	assert_int_equal(loader_new(&one, f->items, NITEMS, &o), 0);
	assert_int_equal(epoch_order(one, 5, 0, x), NITEMS);
	assert_int_equal(loader_shard_size(NITEMS, W), 13);  /* 37 -> 39: 2 repeats */
	for (shuffled = 1; shuffled >= 0; shuffled--) {
		o.shuffle = shuffled;
		if (!shuffled)
			for (i = 0; i < NITEMS; i++)
				x[i] = f->ids[i];
		memset(seen, 0, sizeof(seen));
		for (r = 0; r < W; r++) {
			o.rank = r;
			o.world = W;
			assert_int_equal(loader_new(&rank[r], f->items, NITEMS, &o), 0);
			assert_int_equal(loader_batches(rank[r]), 3);  /* 13 posts in batches of 5 */
			n[r] = epoch_order(rank[r], 5, 0, y[r]);
			assert_int_equal(n[r], 13);
			for (k = 0; k < n[r]; k++) {
				assert_string_equal(y[r][k], x[(k * W + r) % NITEMS]);
				for (i = 0; i < NITEMS; i++)
					if (!strcmp(y[r][k], f->ids[i]))
						seen[i]++;
			}
			loader_free(rank[r]);
		}
		for (i = 0, k = 0; i < NITEMS; i++) {
			assert_true(seen[i] >= 1 && seen[i] <= 2);
			k += seen[i];
		}
		assert_int_equal(k, 39);
	}
	o.rank = 3;
	assert_int_equal(loader_new(&rank[0], f->items, NITEMS, &o), -1);  /* rank outside the world */
	loader_free(one);
}

static void test_loader__resume_at_batch(void **state)
{
	struct fixture *f = *state;
	struct loader_opts o = opts_for(f, 2, 1, 0);
	struct loader *l;
	const char *full[NITEMS], *tail[NITEMS];
	int i, n;

	assert_int_equal(loader_new(&l, f->items, NITEMS, &o), 0);
	assert_int_equal(epoch_order(l, 2, 0, full), NITEMS);
	n = epoch_order(l, 2, 3, tail);
	assert_int_equal(n, NITEMS - 15);
	for (i = 0; i < n; i++)
		assert_string_equal(tail[i], full[15 + i]);
	loader_free(l);
}

static void test_loader__prep_cache(void **state)
{
	struct fixture *f = *state;
	struct loader_opts o = opts_for(f, 2, 0, 1);
	struct loader *l;
	struct loader_batch *b;
	uint8_t *first = malloc((size_t)NITEMS * S * S * 3);
	char p[700];
	struct stat st;
	int j;

	assert_int_equal(loader_new(&l, f->items, NITEMS, &o), 0);
	loader_start_epoch(l, 0, 0);
	while (loader_next(l, &b) == 1) {
		for (j = 0; j < b->n; j++)
			memcpy(first + b->items[j] * S * S * 3, b->pixels + (size_t)j * S * S * 3, S * S * 3);
		loader_release(l, b);
	}
	snprintf(p, sizeof(p), "%s/%d-squash/%.2s/%s", f->prep, S, f->shas[0], f->shas[0]);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, S * S * 3);
	/* Remove the originals: the second epoch must come from the prep cache. */
	{
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "mv '%s' '%s.away'", f->objects, f->objects);
		assert_int_equal(system(cmd), 0);
	}
	loader_start_epoch(l, 1, 0);
	while (loader_next(l, &b) == 1) {
		for (j = 0; j < b->n; j++)
			assert_memory_equal(first + b->items[j] * S * S * 3,
					    b->pixels + (size_t)j * S * S * 3, S * S * 3);
		loader_release(l, b);
	}
	assert_int_equal(loader_image_failures(l), 0);
	loader_free(l);
	/* Another resize mode is another key: not served from the squash files. */
	o.resize_mode = 1;
	assert_int_equal(loader_new(&l, f->items, NITEMS, &o), 0);
	loader_start_epoch(l, 0, 0);
	while (loader_next(l, &b) == 1)
		loader_release(l, b);
	assert_true(loader_image_failures(l) > 0); /* originals are away */
	loader_free(l);
	{
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "mv '%s.away' '%s'", f->objects, f->objects);
		assert_int_equal(system(cmd), 0);
	}
	free(first);
}

static void test_loader__unreadable_image_is_blank(void **state)
{
	struct fixture *f = *state;
	struct loader_item items[2] = { { "a", "cat", "00deadbeef", 1 }, { "b", "dog", f->shas[0], 2 } };
	struct loader_opts o = opts_for(f, 1, 0, 0);
	struct loader *l;
	struct loader_batch *b;
	int k, nonzero = 0;

	assert_int_equal(loader_new(&l, items, 2, &o), 0);
	loader_start_epoch(l, 0, 0);
	assert_int_equal(loader_next(l, &b), 1);
	assert_int_equal(b->n, 2);
	for (k = 0; k < S * S * 3; k++) {
		assert_int_equal(b->pixels[k], 0);
		nonzero |= b->pixels[S * S * 3 + k];
	}
	assert_true(nonzero);
	loader_release(l, b);
	assert_int_equal(loader_next(l, &b), 0);
	assert_int_equal(loader_image_failures(l), 1);
	loader_free(l);
}

static void test_loader__fixed_buffer_pool(void **state)
{
	struct fixture *f = *state;
	struct loader_opts o = opts_for(f, 2, 1, 0);
	struct loader *l;
	struct loader_batch *b;
	void *seen[64];
	int nseen = 0, e, i, found;

	o.prefetch = 1;
	o.image_size = 0; /* text only: fast */
	assert_int_equal(loader_new(&l, f->items, NITEMS, &o), 0);
	for (e = 0; e < 5; e++) {
		loader_start_epoch(l, e, 0);
		while (loader_next(l, &b) == 1) {
			for (i = found = 0; i < nseen; i++)
				found |= seen[i] == (void *)b->input_ids;
			if (!found)
				seen[nseen++] = b->input_ids;
			assert_null(b->pixels);
			loader_release(l, b);
		}
	}
	assert_true(nseen <= 3); /* workers + prefetch buffers, reused over 40 batches */
	loader_free(l);
}

static void test_loader__stop_and_free_mid_epoch(void **state)
{
	struct fixture *f = *state;
	struct loader_opts o = opts_for(f, 4, 1, 0);
	struct loader *l;
	struct loader_batch *b;

	assert_int_equal(loader_new(&l, f->items, NITEMS, &o), 0);
	loader_start_epoch(l, 0, 0);
	assert_int_equal(loader_next(l, &b), 1);
	loader_release(l, b);
	loader_stop(l);
	assert_int_equal(loader_next(l, &b), -1);
	loader_free(l); /* joins workers that may be mid-batch; must not hang */

	/* Abandoning an epoch half-way and starting another works too. */
	assert_int_equal(loader_new(&l, f->items, NITEMS, &o), 0);
	loader_start_epoch(l, 0, 0);
	assert_int_equal(loader_next(l, &b), 1);
	loader_release(l, b);
	{
		const char *x[NITEMS];
		assert_int_equal(epoch_order(l, 1, 0, x), NITEMS);
	}
	loader_free(l);
	loader_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loader__batch_contents),
		cmocka_unit_test(test_loader__seeded_order_independent_of_workers),
		cmocka_unit_test(test_loader__permutation_is_a_permutation),
		cmocka_unit_test(test_loader__shards),
		cmocka_unit_test(test_loader__resume_at_batch),
		cmocka_unit_test(test_loader__prep_cache),
		cmocka_unit_test(test_loader__unreadable_image_is_blank),
		cmocka_unit_test(test_loader__fixed_buffer_pool),
		cmocka_unit_test(test_loader__stop_and_free_mid_epoch),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

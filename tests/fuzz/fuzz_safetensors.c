/*
 * fuzz_safetensors: the safetensors reader (src/safetensors.c) on arbitrary
 * bytes: the 8-byte header length, the JSON header (strings, escapes,
 * numbers, nesting), the tensor table checks. A file it accepts must keep
 * its promises: every tensor's bytes lie inside the data section, no two
 * overlap, nbytes is the shape product times the dtype size, and st_find
 * finds each name. An accepted file is also written back with st_write and
 * read again: the same tensors, shapes, data and metadata must come back.
 */
#include "fuzz.h"
#include "safetensors.h"

#include <string.h>
#include <unistd.h>

static char tmp_path[256];
static volatile unsigned sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(tmp_path, sizeof(tmp_path), "%s/mmdb-fuzz-st-%ld.safetensors", dir, (long)getpid());
	return 0;
}

static void check_file(const struct st_file *f)
{
	size_t i, j;
	FUZZ_CHECK(f->data >= f->buf && f->data + f->data_len == f->buf + f->len);
	FUZZ_CHECK(8 + f->header_len + f->data_len == f->len);
	for (i = 0; i < f->n; i++) {
		const struct st_tensor *t = &f->t[i];
		uint64_t numel = st_numel(t), sum = 0;
		const uint8_t *p;
		FUZZ_CHECK(t->name && t->name[0]);
		FUZZ_CHECK(t->dtype >= 0 && t->dtype < ST_NDTYPES);
		FUZZ_CHECK(t->ndim >= 0 && t->ndim <= ST_MAX_DIMS);
		FUZZ_CHECK(numel * st_dtype_size(t->dtype) == t->nbytes);
		FUZZ_CHECK(t->offset <= f->data_len && t->nbytes <= f->data_len - t->offset);
		FUZZ_CHECK(st_find(f, t->name) == t);
		p = st_data(f, t);
		for (j = 0; j < t->nbytes; j++)
			sum += p[j];
		sink += (unsigned)sum;
		for (j = 0; j < f->n; j++) {
			const struct st_tensor *u = &f->t[j];
			if (j == i || !t->nbytes || !u->nbytes)
				continue;
			FUZZ_CHECK(t->offset + t->nbytes <= u->offset || u->offset + u->nbytes <= t->offset);
		}
	}
	for (i = 0; i < f->n_meta; i++)
		FUZZ_CHECK(f->meta_key[i] && f->meta_val[i]);
}

/* st_write then st_open: the same file comes back. */
static void round_trip(const struct st_file *f)
{
	struct st_out *o = calloc(f->n + 1, sizeof(*o));
	const char **kv = calloc(2 * f->n_meta + 1, sizeof(*kv));
	struct st_file *g = NULL;
	char err[512];
	size_t i;
	FUZZ_CHECK(o && kv);
	for (i = 0; i < f->n; i++) {
		o[i].name = f->t[i].name;
		o[i].dtype = f->t[i].dtype;
		o[i].ndim = f->t[i].ndim;
		o[i].shape = f->t[i].shape;
		o[i].data = st_data(f, &f->t[i]);
	}
	for (i = 0; i < f->n_meta; i++) {
		kv[2 * i] = f->meta_key[i];
		kv[2 * i + 1] = f->meta_val[i];
	}
	if (st_write(tmp_path, o, f->n, kv, f->n_meta, err, sizeof(err)) == 0) {
		if (st_open(tmp_path, &g, err, sizeof(err))) {
			fprintf(stderr, "round trip: %s\n", err);
			FUZZ_CHECK(!"a written file reads back");
		}
		FUZZ_CHECK(g->n == f->n && g->n_meta == f->n_meta);
		for (i = 0; i < f->n; i++) {
			const struct st_tensor *a = &f->t[i], *b = &g->t[i];
			FUZZ_CHECK(!strcmp(a->name, b->name));
			FUZZ_CHECK(a->dtype == b->dtype && a->ndim == b->ndim && a->nbytes == b->nbytes);
			FUZZ_CHECK(!memcmp(a->shape, b->shape, sizeof(a->shape[0]) * (size_t)a->ndim));
			FUZZ_CHECK(!a->nbytes || !memcmp(st_data(f, a), st_data(g, b), a->nbytes));
		}
		for (i = 0; i < f->n_meta; i++)
			FUZZ_CHECK(!strcmp(f->meta_key[i], g->meta_key[i]) &&
				   !strcmp(f->meta_val[i], g->meta_val[i]));
		st_close(g);
	}
	unlink(tmp_path);
	free(o);
	free(kv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st_file *f = NULL;
	char err[512];
	err[0] = '\0';
	if (st_parse(data, size, &f, err, sizeof(err))) {
		FUZZ_CHECK(f == NULL && err[0]);
		return 0;
	}
	FUZZ_CHECK(f != NULL);
	check_file(f);
	round_trip(f);
	st_close(f);
	return 0;
}

/*
 * mtload: mmdb's side of the libtorch wrapper. mmdb links no libtorch (its
 * 100+ MB and second of start-up would fall on every command); the wrapper
 * (src/torch/ built as libmmdb-torch.so, linked against libtorch) is opened
 * with dlopen on the first mt_* call, and each mt.h function here forwards
 * to the one found by dlsym. Where the library comes from and what a failed
 * load does: mt_load() in mt.h.
 */
#include "torch/mt.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MT_LIB_NAME "libmmdb-torch.so"

/*
 * Every mt.h function but mt_load, mt_last_error, mt_model_free and
 * mt_dist_free (kept
 * apart below): X(return type, name, (parameters), (arguments), value
 * returned when the wrapper cannot be loaded).
 */
#define MT_FUNCS(X) \
	X(const char *, mt_torch_version, (void), (), NULL) \
	X(int, mt_cuda_available, (void), (), 0) \
	X(int, mt_cuda_device_count, (void), (), 0) \
	X(int, mt_cuda_device_name, (int index, char *buf, size_t n), (index, buf, n), -1) \
	X(int, mt_get_num_threads, (void), (), -1) \
	X(int, mt_set_num_threads, (int n), (n), -1) \
	X(int, mt_manual_seed, (uint64_t seed), (seed), -1) \
	X(int, mt_model_new, (const struct mt_config *cfg, mt_model **out), (cfg, out), -1) \
	X(int, mt_model_params, (mt_model *m, int64_t *total, int64_t *trainable), \
	  (m, total, trainable), -1) \
	X(int, mt_model_load_weights, (mt_model *m, const char *path, int part, char *report, \
	  size_t report_n), (m, path, part, report, report_n), -1) \
	X(int, mt_model_save_weights, (mt_model *m, const char *path), (m, path), -1) \
	X(int, mt_train_step, (mt_model *m, const struct mt_batch *b, float *loss), (m, b, loss), -1) \
	X(int, mt_train_step_acc, (mt_model *m, const struct mt_batch *b, float *loss, int *correct), \
	  (m, b, loss, correct), -1) \
	X(int, mt_eval_batch, (mt_model *m, const struct mt_batch *b, float *probs, float *loss), \
	  (m, b, probs, loss), -1) \
	X(int, mt_set_lr, (mt_model *m, double lr), (m, lr), -1) \
	X(double, mt_get_lr, (mt_model *m), (m), 0.0) \
	X(int, mt_checkpoint_save, (mt_model *m, const char *path, const void *extra, \
	  size_t extra_len), (m, path, extra, extra_len), -1) \
	X(int, mt_checkpoint_load, (mt_model *m, const char *path, void **extra, \
	  size_t *extra_len), (m, path, extra, extra_len), -1) \
	X(int, mt_forward_features, (mt_model *m, const struct mt_batch *b, int part, float *out, \
	  size_t n, int *dim), (m, b, part, out, n, dim), -1) \
	X(const char *, mt_preset_name, (int i, int *kind), (i, kind), NULL) \
	X(int, mt_preset_params, (const char *name, int vocab_size, int64_t *count), \
	  (name, vocab_size, count), -1) \
	X(int, mt_preset_get, (const char *name, struct mt_preset_info *out), (name, out), -1) \
	X(int, mt_dist_new, (const struct mt_dist_opts *o, mt_dist **out), (o, out), -1) \
	X(const char *, mt_dist_backend, (mt_dist *d), (d), NULL) \
	X(int, mt_dist_attach, (mt_dist *d, mt_model *m, int sync_bn), (d, m, sync_bn), -1) \
	X(int, mt_dist_allreduce, (mt_dist *d, double *v, size_t n, int op), (d, v, n, op), -1) \
	X(int, mt_dist_allgather, (mt_dist *d, const void *in, size_t n, void *out), \
	  (d, in, n, out), -1) \
	X(int, mt_dist_broadcast, (mt_dist *d, void *buf, size_t n, int root), (d, buf, n, root), -1) \
	X(int, mt_dist_barrier, (mt_dist *d), (d), -1) \
	X(int, mt_dist_rollcall, (mt_dist *d, double wait_s, char *here), (d, wait_s, here), -1)

#define MT_FIELD(ret, name, params, args, fail) ret (*name) params;

/* The process's one copy of the wrapper: loaded at most once (pthread_once). */
static struct {
	pthread_once_t once;
	int ok;
	char err[2 * PATH_MAX + 1024];
	void *handle;
	const char *(*mt_last_error)(void);
	void (*mt_model_free)(mt_model *m);
	void (*mt_dist_free)(mt_dist *d);
	MT_FUNCS(MT_FIELD)
} lib = { .once = PTHREAD_ONCE_INIT };

/*
 * The path to open: $MMDB_TORCH_LIB, else ../lib/mmdb/ from the binary
 * (make install's layout), else beside it (the build tree). When neither
 * file is there, buf is the one beside the binary and alt the installed
 * one (else alt is "").
 */
static void lib_path(char *buf, size_t n, char *alt, size_t alt_n)
{
	const char *env = getenv("MMDB_TORCH_LIB");
	char exe[PATH_MAX], *slash;
	ssize_t len;

	alt[0] = '\0';
	if (env && *env) {
		snprintf(buf, n, "%s", env);
		return;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0) {
		snprintf(buf, n, "%s", MT_LIB_NAME);  /* dlopen's own search */
		return;
	}
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(buf, n, "%s/../lib/mmdb/" MT_LIB_NAME, exe);
	if (access(buf, F_OK) == 0)
		return;
	snprintf(alt, alt_n, "%s", buf);
	snprintf(buf, n, "%s/" MT_LIB_NAME, exe);
	if (access(buf, F_OK) == 0)
		alt[0] = '\0';
}

static void *lib_sym(const char *name)
{
	void *p = dlsym(lib.handle, name);
	if (!p && !lib.err[0]) {
		const char *why = dlerror();
		snprintf(lib.err, sizeof(lib.err), "the libtorch wrapper lacks %s: %s", name,
			 why ? why : "no such symbol");
	}
	return p;
}

static void lib_open(void)
{
	char path[PATH_MAX + 64], alt[PATH_MAX + 64];  /* the binary's directory and a suffix */
	const char *why;

	lib_path(path, sizeof(path), alt, sizeof(alt));
	if (alt[0]) {
		snprintf(lib.err, sizeof(lib.err), "cannot find the libtorch wrapper: neither '%s' nor "
			 "'%s' exists (make builds the first, make install the second; "
			 "MMDB_TORCH_LIB names another)", path, alt);
		return;
	}
	/* GLOBAL, as when linked: libtorch's CUDA libraries see each other's symbols */
	lib.handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
	if (!lib.handle) {
		why = dlerror();
		snprintf(lib.err, sizeof(lib.err), "cannot load the libtorch wrapper '%s' "
			 "(MMDB_TORCH_LIB names another): %s", path, why ? why : "unknown error");
		return;
	}
	*(void **)&lib.mt_last_error = lib_sym("mt_last_error");
	*(void **)&lib.mt_model_free = lib_sym("mt_model_free");
	*(void **)&lib.mt_dist_free = lib_sym("mt_dist_free");
#define MT_RESOLVE(ret, name, params, args, fail) *(void **)&lib.name = lib_sym(#name);
	MT_FUNCS(MT_RESOLVE)
#undef MT_RESOLVE
	lib.ok = !lib.err[0];
}

int mt_load(void)
{
	pthread_once(&lib.once, lib_open);
	return lib.ok ? 0 : -1;
}

const char *mt_last_error(void)
{
	if (lib.ok)
		return lib.mt_last_error();
	return lib.err;
}

void mt_model_free(mt_model *m)
{
	if (m && mt_load() == 0)
		lib.mt_model_free(m);
}

void mt_dist_free(mt_dist *d)
{
	if (d && mt_load() == 0)
		lib.mt_dist_free(d);
}

#define MT_STUB(ret, name, params, args, fail) \
	ret name params \
	{ \
		if (mt_load()) \
			return fail; \
		return lib.name args; \
	}
MT_FUNCS(MT_STUB)

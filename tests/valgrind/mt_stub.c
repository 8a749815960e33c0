/*
 * mt_stub.c: mt.h without libtorch, for the valgrind build only
 * (make valgrind links it instead of src/torch/). Under valgrind, libtorch's
 * start-up alone costs tens of seconds of CPU per process, so the C parts
 * are checked in a build where every model call fails with a message and
 * the tests that train or load models are left out (tests/valgrind/run.sh).
 */
#include "torch/mt.h"

static const char no_torch[] = "mmdb was built without libtorch (valgrind build)";

const char *mt_last_error(void) { return no_torch; }
int mt_load(void) { return 0; }
const char *mt_torch_version(void) { return "none"; }
int mt_cuda_available(void) { return 0; }
int mt_cuda_device_count(void) { return 0; }
int mt_cuda_device_name(int index, char *buf, size_t n) { return -1; }
int mt_get_num_threads(void) { return 1; }
int mt_set_num_threads(int n) { return 0; }
int mt_manual_seed(uint64_t seed) { return 0; }

int mt_model_new(const struct mt_config *cfg, mt_model **out)
{
	*out = NULL;
	return -1;
}
void mt_model_free(mt_model *m) { }
int mt_model_params(mt_model *m, int64_t *total, int64_t *trainable) { return -1; }
int mt_model_load_weights(mt_model *m, const char *path, int part, char *report, size_t report_n) { return -1; }
int mt_model_save_weights(mt_model *m, const char *path) { return -1; }
int mt_train_step(mt_model *m, const struct mt_batch *b, float *loss) { return -1; }
int mt_train_step_acc(mt_model *m, const struct mt_batch *b, float *loss, int *correct) { return -1; }
int mt_eval_batch(mt_model *m, const struct mt_batch *b, float *probs, float *loss) { return -1; }
int mt_set_lr(mt_model *m, double lr) { return -1; }
double mt_get_lr(mt_model *m) { return 0; }
int mt_checkpoint_save(mt_model *m, const char *path, const void *extra, size_t extra_len) { return -1; }
int mt_checkpoint_load(mt_model *m, const char *path, void **extra, size_t *extra_len) { return -1; }
int mt_forward_features(mt_model *m, const struct mt_batch *b, int part, float *out, size_t n, int *dim) { return -1; }
const char *mt_preset_name(int i, int *kind) { return NULL; }
int mt_preset_params(const char *name, int vocab_size, int64_t *count) { return -1; }
int mt_preset_get(const char *name, struct mt_preset_info *out) { return -1; }
int mt_dist_new(const struct mt_dist_opts *o, mt_dist **out)
{
	*out = NULL;
	return -1;
}
void mt_dist_free(mt_dist *d) { }
const char *mt_dist_backend(mt_dist *d) { return "none"; }
int mt_dist_attach(mt_dist *d, mt_model *m, int sync_bn) { return -1; }
int mt_dist_allreduce(mt_dist *d, double *v, size_t n, int op) { return -1; }
int mt_dist_allgather(mt_dist *d, const void *in, size_t n, void *out) { return -1; }
int mt_dist_broadcast(mt_dist *d, void *buf, size_t n, int root) { return -1; }
int mt_dist_barrier(mt_dist *d) { return -1; }
int mt_dist_rollcall(mt_dist *d, double wait_s, char *here) { return -1; }

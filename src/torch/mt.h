/*
 * mt.h: the libtorch wrapper's plain C interface. The only C++ in mmdb sits
 * behind it (the .cpp files of src/torch); no tensor and no exception crosses it.
 *
 * Every call returns 0 on success or -1 on failure; mt_last_error() then
 * holds the message (thread-local, valid until the next failing call).
 */
#ifndef MMDB_MT_H
#define MMDB_MT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

const char *mt_last_error(void);

/*
 * Makes sure the wrapper is there. mmdb links no libtorch: src/mtload.c
 * opens libmmdb-torch.so (the .cpp files of src/torch, linked against
 * libtorch) on the first mt_* call, from $MMDB_TORCH_LIB when set, else
 * beside the running binary, else in ../lib/mmdb/ from it. Returns 0, or -1
 * when it cannot be loaded: mt_last_error() then names the path and why, and
 * every other call fails the same way (int calls return -1, pointers NULL,
 * mt_cuda_available 0). Commands call it before their first mt_* call to
 * fail early with that message. Programs linking the wrapper directly (the
 * unit tests, tests/gpu/) get the wrapper's own mt_load, which returns 0.
 */
int mt_load(void);

/* Devices and threads. */
const char *mt_torch_version(void);       /* e.g. "2.13.0" */
int mt_cuda_available(void);              /* 1 or 0 */
int mt_cuda_device_count(void);
int mt_cuda_device_name(int index, char *buf, size_t n);
int mt_get_num_threads(void);
int mt_set_num_threads(int n);
/* Seeds torch's CPU and CUDA generators. */
int mt_manual_seed(uint64_t seed);

enum mt_modality { MT_TEXT = 1, MT_IMAGE = 2 };
enum mt_fusion { MT_FUSION_MAX, MT_FUSION_SUM, MT_FUSION_MEAN, MT_FUSION_CONCAT, MT_FUSION_GATED };
enum mt_optimizer { MT_ADAM, MT_ADAMW, MT_SGD };
enum mt_freeze { MT_FREEZE_TEXT = 1, MT_FREEZE_IMAGE = 2 };
enum mt_part { MT_PART_ALL, MT_PART_TEXT, MT_PART_IMAGE };

/* The feed-forward activation of a BERT (config.json's hidden_act). */
enum mt_act {
	MT_ACT_GELU,      /* "gelu": erf GELU */
	MT_ACT_GELU_TANH, /* "gelu_new", "gelu_pytorch_tanh", "gelu_fast": tanh approximation */
	MT_ACT_RELU,      /* "relu" */
	MT_ACT_SILU,      /* "silu", "swish" */
};

/* A BERT of any shape, as a Hugging Face config.json gives it. */
struct mt_bert_shape {
	int layers, hidden, heads, ff;  /* hidden divisible by heads */
	int max_positions;        /* rows of the position embeddings (512 in the presets) */
	int type_vocab;           /* rows of the token type embeddings (2) */
	double layer_norm_eps;    /* 1e-12 in the presets */
	int act;                  /* enum mt_act */
};

struct mt_config {
	int num_classes;          /* C */
	int modalities;           /* MT_TEXT | MT_IMAGE */
	int fusion;               /* enum mt_fusion (ignored for one modality) */
	const char *text_model;   /* bert-base, bert-medium, bert-small, bert-mini, bert-tiny */
	int vocab_size;
	int max_len;              /* L, at most 512 */
	const char *image_model;  /* resnet18, resnet34, resnet50, resnet-small */
	int image_size;           /* S: pixels are S x S */
	int seed_recipe;          /* 1: the original recipe's heads (see DESIGN.md) */
	float dropout;
	int optimizer;            /* enum mt_optimizer */
	double lr, weight_decay, momentum;
	double grad_clip;         /* max global grad norm; 0 = none */
	int freeze;               /* MT_FREEZE_* bits */
	const float *class_weights; /* C weights for cross-entropy, or NULL */
	const char *device;       /* "cpu", "cuda", "cuda:N" */
	int amp;                  /* bf16 autocast (CUDA only) */
	uint64_t seed;            /* initialisation seed */
	int fused_optimizer;      /* Adam/AdamW as one fused kernel (at::_fused_adam[w]_),
	                           * same results up to rounding: 0 or 1 on CUDA and
	                           * CPU, -1 never */
	struct mt_bert_shape text_shape; /* layers > 0: the text model has this shape
	                           * (text_model then only names it); 0: the preset */
	int text_dropout_set;     /* 1: text_dropout replaces BERT's own dropout (0.1) */
	float text_dropout;       /* BERT's attention and hidden dropout when set */
};

/*
 * A batch of B posts as the C side holds it. Pixels are uint8 RGB, HWC,
 * S x S, as decoded; the wrapper converts and normalises them (ImageNet
 * mean/std) on the device. NULL pointers for an absent modality.
 */
struct mt_batch {
	int n;                        /* B */
	int max_len;                  /* L */
	const int32_t *input_ids;     /* B*L */
	const uint8_t *attention_mask;/* B*L, 1 = token */
	int image_size;               /* S */
	const uint8_t *pixels;        /* B*S*S*3 */
	const int32_t *labels;        /* B; may be NULL for eval without loss */
};

typedef struct mt_model mt_model;

/* Builds model and optimizer from cfg (copied). */
int mt_model_new(const struct mt_config *cfg, mt_model **out);
void mt_model_free(mt_model *m);
int mt_model_params(mt_model *m, int64_t *total, int64_t *trainable);
/*
 * Loads safetensors weights into the whole model or one part. report (may
 * be NULL) receives a human-readable list of missing and unexpected keys.
 * A shape mismatch is an error naming the tensor.
 */
int mt_model_load_weights(mt_model *m, const char *path, int part, char *report, size_t report_n);
int mt_model_save_weights(mt_model *m, const char *path);

/* One optimizer step on a batch; *loss = mean cross-entropy of the batch. */
int mt_train_step(mt_model *m, const struct mt_batch *b, float *loss);
/*
 * As mt_train_step; *correct (may be NULL) receives how many of the B posts
 * the step's forward pass (before the update) classified right: argmax of
 * the logits equal to the label. The epoch's train accuracy sums these.
 */
int mt_train_step_acc(mt_model *m, const struct mt_batch *b, float *loss, int *correct);
/* Eval mode, no grad: probs (B*C) receive softmax probabilities; *loss (may
 * be NULL) the mean loss when labels are given. */
int mt_eval_batch(mt_model *m, const struct mt_batch *b, float *probs, float *loss);

int mt_set_lr(mt_model *m, double lr);
double mt_get_lr(mt_model *m);

/*
 * Checkpoints: weights, optimizer state, torch RNG state, plus an opaque
 * blob from the C side (scheduler, epoch, loader position). Written to a
 * temporary name and renamed. *extra from load is malloc'd; the caller frees.
 */
int mt_checkpoint_save(mt_model *m, const char *path, const void *extra, size_t extra_len);
int mt_checkpoint_load(mt_model *m, const char *path, void **extra, size_t *extra_len);

/*
 * Eval-mode forward of one backbone, without the heads: part MT_PART_TEXT
 * gives the [CLS] hidden state (B x H), MT_PART_IMAGE the image features
 * (B x F: pooled features, or the 1000 ImageNet logits under seed_recipe).
 * out receives B * *dim floats and must hold n; *dim receives the width.
 */
int mt_forward_features(mt_model *m, const struct mt_batch *b, int part, float *out, size_t n, int *dim);

/*
 * Presets: name of preset i (NULL past the last) and its kind (MT_TEXT or
 * MT_IMAGE). mt_preset_params counts the backbone's parameters (a BERT
 * preset with vocab_size tokens; heads excluded; a ResNet with its
 * 1000-class fc).
 */
const char *mt_preset_name(int i, int *kind);
int mt_preset_params(const char *name, int vocab_size, int64_t *count);

/* The shape of a preset: BERT fields for MT_TEXT, ResNet fields for MT_IMAGE. */
struct mt_preset_info {
	int kind;                 /* MT_TEXT or MT_IMAGE */
	int layers, hidden, heads, ff;
	int bottleneck;           /* 1: Bottleneck blocks (resnet50) */
	int blocks[4];            /* blocks in layer1..layer4 */
	int width;                /* stem channels (64 for torchvision's) */
};
/* Fills *out for the preset of that name; -1 when there is none. */
int mt_preset_get(const char *name, struct mt_preset_info *out);

/*
 * Data-parallel training through c10d, PyTorch's own distributed engine
 * (TCPStore rendezvous, ProcessGroupGloo on CPU, ProcessGroupNCCL on CUDA,
 * the DDP Reducer). One process per replica; every rank calls the same
 * functions in the same order (they are collectives unless said otherwise).
 */
typedef struct mt_dist mt_dist;

struct mt_dist_opts {
	int rank, world_size;
	const char *master_addr;  /* rank 0's host: its TCPStore listens there */
	int master_port;
	int listen_fd;            /* >= 0: rank 0's store takes over this bound, listening
	                           * socket (mmdb run --nproc); -1 otherwise */
	int agent_store;          /* 1: the store is torchrun's (its agent hosts it at
	                           * master_addr:master_port): every rank is a client */
	const char *backend;      /* for gradients: "gloo" (CPU) or "nccl" (CUDA) */
	const char *device;       /* the replica's device: "cpu" or "cuda:N" */
	double timeout;           /* seconds the store and a collective wait for the others */
};

/*
 * Joins the process group: rendezvous through the store at master_addr:
 * master_port (rank 0 hosts it), a gloo group for the small collectives
 * below, and one of o->backend for gradients. Blocks until every rank has
 * joined or the timeout passes. *out is freed with mt_dist_free.
 */
int mt_dist_new(const struct mt_dist_opts *o, mt_dist **out);
void mt_dist_free(mt_dist *d);
/* The gradient backend's name ("gloo", "nccl"); not a collective. */
const char *mt_dist_backend(mt_dist *d);

/*
 * Makes m this rank's replica: rank 0's parameters and buffers are
 * broadcast to all; from then on mt_train_step averages the gradients of
 * m's trainable parameters over the ranks by bucketed all-reduce
 * overlapped with backward (the DDP Reducer), and broadcasts rank 0's
 * buffers (BatchNorm running statistics) before each training forward, as
 * DistributedDataParallel does. sync_bn: BatchNorm normalises training
 * batches with the statistics of the global batch (mean and variance
 * all-reduced, gradients through them too) instead of each replica's own.
 * Call again after loading a checkpoint into m.
 */
int mt_dist_attach(mt_dist *d, mt_model *m, int sync_bn);

enum mt_reduce { MT_SUM, MT_MIN, MT_MAX };
/* v[0..n-1] reduced over the ranks, in place (doubles, on the CPU). */
int mt_dist_allreduce(mt_dist *d, double *v, size_t n, int op);
/* out (world_size * n bytes) receives every rank's n bytes, in rank order. */
int mt_dist_allgather(mt_dist *d, const void *in, size_t n, void *out);
/* buf (n bytes) from rank root to every rank. */
int mt_dist_broadcast(mt_dist *d, void *buf, size_t n, int root);
int mt_dist_barrier(mt_dist *d);

/*
 * Not a collective: after a collective timed out, this rank tells the
 * others through the store that it is alive, and waits up to wait_s
 * seconds in all to hear the same from each of them. here[r] (world_size
 * bytes) becomes 1 for every rank heard from, this one included. Returns
 * 0, or -1 when the store itself does not answer (here[] then holds this
 * rank alone).
 */
int mt_dist_rollcall(mt_dist *d, double wait_s, char *here);

#ifdef __cplusplus
}
#endif

#endif

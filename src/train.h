/*
 * train: one training run, recorded in the database as it happens.
 *
 * train_run() creates (or, for --resume, reopens) a runs row, selects the
 * posts of each split, builds the model through src/torch/mt.h, and runs the
 * epoch loop: train on 'train', evaluate on 'validate' (which drives the
 * learning-rate scheduler, early stopping and the best checkpoint), and at
 * the end evaluate 'test' once with the best checkpoint. Each epoch's rows
 * (epochs, class_metrics, confusion) are written in one BEGIN IMMEDIATE
 * transaction; the final test rows and a prediction for every validate and
 * test post in another. Checkpoints live under <cache>/runs/<run id>/.
 *
 * Status: running -> completed | early_stopped | pruned (a sweep's
 * after_epoch hook said so; reason) | failed (reason) |
 * interrupted (SIGINT/SIGTERM: the position is saved so --resume continues
 * exactly). heartbeat_at and pid let train_mark_crashed() find runs whose
 * process died.
 */
#ifndef MMDB_TRAIN_H
#define MMDB_TRAIN_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct strbuf;

enum sched_kind { SCHED_PLATEAU, SCHED_COSINE, SCHED_NONE };
enum resize_mode { RESIZE_SQUASH, RESIZE_CROP };
enum missing_image { MISSING_SKIP, MISSING_BLANK };

/* One epoch's validation figures, for a run_config's after_epoch hook. */
struct epoch_result {
	int epoch;
	double loss, accuracy, f1, f1_macro;  /* f1: weighted */
};

/* Every setting of a run. Strings are owned by whoever filled the struct
 * (src/cmd/run.c keeps them in argv or static tables). */
struct run_config {
	const char *name, *notes, *preset;
	const char **tags;
	int ntags;
	const char *label;            /* "2way" | "3way" | "6way" */
	int num_classes;              /* C: 2, 3 or 6 */
	int modalities;               /* MT_TEXT | MT_IMAGE */
	int fusion;                   /* enum mt_fusion */
	const char *text_model, *image_model;
	const char *text_model_dir;   /* a Hugging Face BERT folder (--text-model DIR), else NULL */
	const char *vocab;            /* vocab.txt path; NULL: latest built (or build one) */
	const char *text_weights, *image_weights;
	int freeze;                   /* MT_FREEZE_* bits */
	int seed_recipe;              /* the original recipe's heads */
	double lr;
	int epochs, batch_size;
	int optimizer;                /* enum mt_optimizer */
	double weight_decay, momentum;
	int scheduler;                /* enum sched_kind */
	double plateau_factor;
	int plateau_patience;
	double min_lr;
	int warmup;                   /* optimizer steps of linear warm-up */
	int early_stop;               /* patience in epochs; 0 = off */
	double early_stop_delta;
	double dropout;
	int max_len, image_size;
	int resize;                   /* enum resize_mode */
	int class_weights_balanced;
	double grad_clip;
	uint64_t seed;
	const char *device;           /* "auto", "cpu", "cuda", "cuda:N" */
	int amp;
	int threads;                  /* libtorch threads; 0 = its default */
	int workers;                  /* loader threads */
	int missing_image;            /* enum missing_image */
	int limit;                    /* posts per split; 0 = all */
	int prep_cache;               /* keep decoded pixels under <cache>/prep/ (--prep-cache) */
	int quiet;
	int loader_only;              /* time the data loader over the train split; no model */
	/* Filled by train_run for a model folder, for the runs row (hex, static). */
	const char *text_config_sha256, *text_weights_sha256;
	/* Test hook: raise the interrupt flag after this many train steps (0 = off). */
	long stop_after_steps;
	int sync_bn;                  /* --sync-bn: BatchNorm over the global batch */
	int nproc;                    /* --nproc: local ranks mmdb run starts (not a setting) */
	int text_dropout_set;         /* --text-dropout given */
	double text_dropout;          /* BERT's own dropout (0.1 unless set) */
	/* Data-parallel runs (not settings: where this process stands). With
	 * dist NULL the run is one process (rank 0 of 1). --batch-size is per
	 * rank: a step sees batch_size * world_size posts. */
	struct mt_dist *dist;
	int rank, world_size, local_rank;
	struct dist_peer *peers;      /* world_size: every rank's process */
	double dist_timeout;          /* seconds a collective waits for the others */
	int dist_agent_store;         /* the store is the launcher's, not rank 0's */
	char *lost;                   /* world_size: ranks found gone or silent (td_blame) */
	/* A sweep's trial (mmdb sweep run): the runs row links to both; 0 = none. */
	int64_t sweep_id, trial_id;
	/*
	 * Called after each epoch's rows are committed (not after the last
	 * epoch, nor after one that stops early), with its validation figures.
	 * Returns 1 to prune the run (reason filled: the rule and rung), 0 to go
	 * on. NULL: never pruned.
	 */
	int (*after_epoch)(void *arg, int64_t run_id, const struct epoch_result *r, char *reason,
			   size_t reason_len);
	void *after_epoch_arg;
};

/* Fills cfg with mmdb's defaults (the issue's: lr 1e-5, 20 epochs, ...). */
void run_config_defaults(struct run_config *cfg);
/* Applies a named preset ("seed": the original recipe); -1 if unknown. */
int run_config_preset(struct run_config *cfg, const char *name);
/* Appends the resolved configuration as one JSON object. */
void run_config_json(const struct run_config *cfg, struct strbuf *out);

/* Names of enum values, for the runs row and messages. */
const char *fusion_name(int fusion);
const char *optimizer_name(int opt);
const char *scheduler_name(int s);

/*
 * Runs a training run. resume_id > 0 continues that run from its last
 * checkpoint (cfg must be its configuration, re-read by the caller);
 * argv_json is the JSON array of the command line, kept in the config so a
 * resume can parse it again. On return *run_id holds the run's id (when one
 * was created) and *status its final status ("completed", ...; static).
 * Returns 0 when the run finished (completed or early_stopped), 1 when it
 * was interrupted, 2 when cfg->after_epoch pruned it (status 'pruned'), -1
 * when it failed (message printed, reason recorded; a NaN or infinite loss
 * fails the run at that step).
 */
int train_run(struct db *db, const char *cache_dir, struct run_config *cfg,
	      const char *argv_json, int64_t resume_id, int64_t *run_id);

/*
 * Marks as 'crashed' every 'running' run whose process is gone: on this
 * host, its pid no longer exists; on another host, its heartbeat is older
 * than stale_seconds. Returns the number marked, or -1.
 */
int train_mark_crashed(struct db *db, double stale_seconds);

/* Resolves RUN (an id, or a unique name) to an id; -1 (message) if none. */
int run_lookup(struct db *db, const char *spec, int64_t *id);

#endif

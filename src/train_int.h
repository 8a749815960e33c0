/*
 * train_int.h: what train.c, train_loop.c, train_db.c and train_dist.c
 * share (not a public interface).
 */
#ifndef MMDB_TRAIN_INT_H
#define MMDB_TRAIN_INT_H

#include "metrics.h"
#include "torch/mt.h"
#include "train.h"

#include <stddef.h>
#include <stdint.h>

/* The C side of a checkpoint (mt_checkpoint_save's extra blob): where the
 * run stands, so --resume continues exactly. Fixed layout, versioned. */
#define TRAIN_STATE_MAGIC 0x6d6d6462u /* "mmdb" */
#define TRAIN_STATE_VERSION 2
struct train_state {
	uint32_t magic, version;
	int32_t epoch;           /* epoch in progress (1-based) */
	int32_t step;            /* train batches done in it */
	int32_t training_done;   /* 1: every epoch trained (or early stop): test is next */
	int32_t early_stopped;
	int64_t global_step;     /* optimizer steps so far */
	double lr;               /* the scheduler's current base lr */
	double plateau_best;     /* ReduceLROnPlateau */
	int32_t plateau_bad;
	int32_t es_bad;          /* early stopping */
	double es_best;
	double best_val_loss;    /* best checkpoint */
	int32_t best_epoch;
	int32_t world_size;      /* ranks that trained it (0 in older checkpoints: 1) */
	/* The epoch in progress, for an exact resume mid-epoch. */
	double loss_sum;         /* sum of batch loss x batch size */
	int64_t samples;
	double seconds, wait;    /* train-loop wall time and loader wait so far */
	double run_seconds;      /* whole run, across resumes */
	double last_lr;          /* the lr of the latest step (the epoch row's) */
	/* Version 2 appends: */
	int64_t correct;         /* train posts classified right so far in the epoch;
	                          * -1: unknown (resumed mid-epoch from version 1) */
};
/* Version 1 ended before `correct`. */
#define TRAIN_STATE_V1_SIZE offsetof(struct train_state, correct)

/*
 * Reads a checkpoint's state blob (len bytes) into *out: this version's, or
 * version 1's (written before train accuracy was counted: `correct` becomes
 * -1 mid-epoch, 0 at an epoch's start). Returns 0, or -1 when the blob is
 * not a train_state (no message printed).
 */
int train_state_decode(const void *blob, size_t len, struct train_state *out);

/* One evaluated split: probabilities of every post and the metrics. */
struct eval_result {
	int n, num_classes;      /* N posts, C */
	float *probs;            /* N*C */
	int *labels;             /* N */
	const char **post_ids;   /* N, borrowed */
	double loss;             /* mean */
	double seconds;
	struct metrics m;
};

/* One epoch's train figures. */
struct train_figures {
	double loss, accuracy, seconds, samples_per_s, wait_share, lr;   /* accuracy NaN: unknown */
	int64_t samples;
};

struct db;
struct hf_model;
struct loader;
struct loader_item;
struct tokenizer;

/* The posts of one split, as loader items with the strings they borrow. */
struct split_data {
	const char *name;
	struct loader_item *items;
	size_t n, alloc;
	char **strings;
	size_t nstrings, strings_alloc;
};

/* A run being trained: what train.c sets up and train_loop.c runs. */
struct trainer {
	struct db *db;
	char eval_failure[1024];      /* why a collective of an evaluation failed, or "" */
	struct run_config *cfg;
	int64_t run_id;
	int C;
	struct split_data split[3];   /* train, validate, test */
	struct tokenizer *tok;
	struct hf_model *hf;          /* --text-model DIR: the folder, read and checked */
	char hf_dir[4096];            /* its absolute path */
	char hf_weights_sha256[65];
	const char *given_dir, *given_model; /* cfg's own, restored at the end */
	struct loader *ld[3];
	mt_model *model;
	struct train_state st;
	char dir[4096], best_path[4200], last_path[4200];
	double t_session;             /* when this process started the run */
	double last_heartbeat;
	double progress;              /* share of the run done, for the heartbeat */
	int64_t nan_at_step;          /* test hook */
	long step_sleep_ms;           /* test hook: a slower run, to be killed mid-epoch */
	float *class_weights;
	int writer;                   /* records the run: rank 0 (of 1 or more) */
	float *shard_probs;           /* a rank's share of an evaluation */
	char device[32];              /* cuda:LOCAL_RANK for a rank on CUDA */
};

/* train_loop.c: the epochs and the test of a run set up in T, with SIGINT
 * and SIGTERM caught (the position is saved). Returns as train_run. */
int train_loop(struct trainer *T);
/* The run's status 'failed' with reason: rank 0 records it; another rank
 * only when rank 0's process is gone or silent. The first failure
 * recorded is kept (a rank 0 that hung and comes back must not replace
 * rank 1's account), and a peer's account left while the database was
 * locked (td_account_leave) goes before reason. */
void train_record_failure(struct trainer *T, const char *reason);

/* train_dist.c: collectives of a data-parallel run; with cfg->dist NULL
 * each is what one process would do (no communication). They return 0, or
 * -1 with mt_last_error() saying why (a peer gone, a timeout). */
int td_sum(const struct run_config *cfg, double *v, size_t n);
int td_broadcast(const struct run_config *cfg, void *buf, size_t n);
/* 1 when ok is nonzero on every rank, else 0 (also when the collective fails). */
int td_agree(const struct run_config *cfg, int ok);
/* Every rank's shard of an evaluation (n_local*C floats each, in shard
 * order, see loader_shard_index) into probs (n*C floats, list order). */
int td_gather_probs(const struct run_config *cfg, const float *local, size_t n_local, size_t n,
		    int C, float *probs);
/*
 * After a collective failed (it started at since, now_seconds()): names
 * into buf the ranks whose processes are gone (same host) and, when the
 * collective waited its whole timeout, those that do not answer a roll
 * call (a rank that hangs); buf is empty when no peer is to blame (the
 * failure was this rank's own). Marks them in cfg->lost. Returns 1 when
 * rank 0 is among them.
 */
int td_blame(const struct run_config *cfg, double since, char *buf, size_t n);
/* 1 when this rank records the run: rank 0, or the lowest rank left when
 * the ranks below it are gone or silent. */
int td_reporter(const struct run_config *cfg);
/*
 * A checkpoint resumed by another number of ranks: the epoch in progress
 * goes on from the first global batch that the posts done so far do not
 * cover (a few posts may be seen twice in that epoch; the order stays the
 * seed's). st->world_size becomes cfg's.
 */
void td_resize_world(const struct run_config *cfg, struct train_state *st, int64_t run_id,
		     int verbose);

/*
 * A failure's account in the run's folder (dir), for when the database is
 * locked: by a rank stopped inside a transaction, which can go on only
 * after the reporting rank has exited. td_account_leave writes rank's
 * reason there; td_account_take returns another rank's (malloc'd) or NULL,
 * which the next rank to record the failure records instead of its own;
 * td_account_forget removes them (once recorded, and when a run resumes).
 */
void td_account_leave(const char *dir, int rank, const char *reason);
char *td_account_take(const char *dir, int rank);
void td_account_forget(const char *dir);

/* train_db.c */
int tdb_set_dist(struct db *db, int64_t id, int world_size, const char *backend);
/* Marks the run failed only while it is 'running' (a rank other than 0
 * recording that rank 0 is gone never overwrites what rank 0 recorded). */
int tdb_fail_running(struct db *db, int64_t id, const char *reason, double run_seconds);
int tdb_create_run(struct db *db, const struct run_config *cfg, const char *config_json,
		   int64_t vocab_id, const int counts[3], const char *torch_version, int64_t *id);
int tdb_resume_run(struct db *db, int64_t id);
int tdb_set_checkpoints(struct db *db, int64_t id, const char *best, const char *last);
int tdb_heartbeat(struct db *db, int64_t id, double progress);
/* One epoch in one transaction: train and validate rows, validate's
 * class_metrics and confusion, and the runs row's progress. */
int tdb_write_epoch(struct db *db, int64_t id, int epoch, const struct train_figures *tf,
		    const struct eval_result *val, int best_epoch, double progress,
		    double run_seconds);
/* The end in one transaction: test rows (epoch = best epoch), predictions
 * of validate and test, and the final status. test may be NULL. */
int tdb_write_final(struct db *db, int64_t id, int best_epoch, const struct eval_result *val,
		    const struct eval_result *test, const char *status, double run_seconds);
/* Sets status (and reason, may be NULL) and finished_at. */
int tdb_set_status(struct db *db, int64_t id, const char *status, const char *reason,
		   double run_seconds);

#endif

/*
 * sweep: the queue of a hyperparameter sweep in the database (tables
 * sweeps and sweep_trials, migration 0008) and its pruning rules. Workers
 * (mmdb sweep run) claim trials here; src/cmd/sweep*.c parse the command
 * lines and train.
 *
 * A trial's status: pending -> running (claimed by worker "host:pid") ->
 * completed | early_stopped | pruned | failed | interrupted; a running
 * trial whose worker died is crashed. Crashed and interrupted trials are
 * claimed again, before pending ones, and their run is resumed.
 */
#ifndef MMDB_SWEEP_H
#define MMDB_SWEEP_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct epoch_result;

/* A sweep's row. Strings are owned; release with sweep_release(). */
struct sweep {
	int64_t id;
	char *name, *method, *metric, *goal, *prune;
	char *spec;       /* JSON: {"grid": [...], "random": [...]} */
	char *run_args;   /* JSON array of the fixed `mmdb run` flags */
	int64_t seed;
	int has_seed;
	int trials;
};

/* Reads sweep NAME into *s. Returns 0, or -1 (message: no such sweep). */
int sweep_get(struct db *db, const char *name, struct sweep *s);
void sweep_release(struct sweep *s);

/*
 * The sweep metrics: run_summary columns that a trial's metric is read
 * from. *epoch_col gets the epochs column the same quantity has per epoch
 * (for pruning) and *minimize 1 for a loss. Returns 0, or -1 if unknown
 * (no message). sweep_metric_names() lists them for messages.
 */
int sweep_metric(const char *metric, const char **epoch_col, int *minimize);
const char *sweep_metric_names(void);

/* This process as a worker: "host:pid" into buf. */
void sweep_worker_id(char *buf, size_t n);

/* A claimed trial. params is owned (JSON object); release with
 * sweep_trial_release(). */
struct sweep_trial {
	int64_t id, run_id;     /* run_id 0: no run yet */
	int idx;
	char *params;
	int resume;             /* it was crashed or interrupted: resume run_id */
};
void sweep_trial_release(struct sweep_trial *t);

/*
 * In one BEGIN IMMEDIATE transaction: marks crashed the sweep's running
 * trials whose worker is gone (on this host: its pid is dead; elsewhere:
 * its run's heartbeat, or the claim, older than stale_seconds), then
 * claims a crashed or interrupted trial (lowest index) or else the lowest
 * pending one, setting it running under worker. Returns 1 with *t filled,
 * 0 when nothing is left to claim, -1 on error (message).
 */
int sweep_claim(struct db *db, int64_t sweep_id, const char *worker, double stale_seconds,
		struct sweep_trial *t);

/* mark_crashed of sweep_claim on its own: for show, ls and rm, so that
 * they report a dead worker's trial as crashed. Returns 0 or -1. */
int sweep_mark_crashed(struct db *db, int64_t sweep_id, double stale_seconds);

/*
 * Records a trial's end: status (a runs status), run, reason (may be NULL)
 * and the sweep's metric read from the run's run_summary row. Returns 0 or
 * -1.
 */
int sweep_finish(struct db *db, const struct sweep *s, int64_t trial_id, int64_t run_id,
		 const char *status, const char *reason);

/* Puts a claimed trial back to pending (the worker could not start it). */
int sweep_unclaim(struct db *db, int64_t trial_id);

/*
 * The pruning rule of sweep s for run run_id after epoch r->epoch, judged
 * against the other runs of the sweep at the same epoch (their epochs rows):
 * ASHA: at rungs (epochs 1, 3, 9, ...: reduction factor 3) a trial goes on
 * only if its metric is in the top third of the trials that reached the
 * rung (at least the best one goes on); median: from epoch 1 on, a trial
 * whose metric is worse than the median of at least two other trials at
 * that epoch stops. Returns 1 (prune; reason filled, naming the rule and
 * rung), 0 (go on), -1 on a database error (the run goes on).
 */
int sweep_prune_check(struct db *db, const struct sweep *s, int64_t run_id,
		      const struct epoch_result *r, char *reason, size_t reason_len);

#endif

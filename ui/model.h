/*
 * model: the dashboard's queries. Everything mmdb tui shows comes from here,
 * through db.h; no curses. Each function runs its statements to the end and
 * finalizes them, so no read transaction outlives a call and a training run
 * writing in another process is never blocked.
 *
 * Numbers that are NULL in the database come back as NaN (doubles) or -1
 * (integers). Strings are owned by the structure that holds them and freed
 * by its *_release() function. Functions return 0, MODEL_GONE when the run
 * asked for no longer exists, or -1 after printing a message via error().
 */
#ifndef MMDB_UI_MODEL_H
#define MMDB_UI_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define MODEL_GONE 1
#define MODEL_MAX_CLASSES 6

/* One row of the runs screen. */
struct run_row {
	int64_t id;
	char *name, *status, *label, *modalities, *fusion, *text_model, *image_model;
	char *optimizer, *preset, *notes, *tags, *created_at;
	double lr, dropout, progress, seconds;
	int64_t batch_size, epochs, epochs_done, best_epoch, last_epoch;
	int64_t started, finished;   /* Unix seconds, -1 if unknown */
	double val_f1, val_acc, test_acc, test_f1;
	double heartbeat;            /* Unix seconds of the trainer's last sign of life; NaN */
	int64_t sweep_id, trial_idx; /* the sweep and trial it ran for; -1 for none */
	char *sweep;                 /* the sweep's name, NULL for none */
};

/* A running run whose trainer has been silent this long is shown as stale. */
#define RUN_STALE_SECONDS 600
/* 1 when r is 'running' but its heartbeat is older than RUN_STALE_SECONDS. */
int run_is_stale(const struct run_row *r, double now_unix);

struct run_list {
	struct run_row *v;
	size_t n, alloc;
};

/* The runs with status 'running' only (for live updates between full loads). */
int model_runs_running(struct db *db, struct run_list *out);
/*
 * A cheap fingerprint of the set of runs: how many, the sum of their ids,
 * how many are running, how many tags. A change means a full reload.
 */
struct runs_sig {
	int64_t count, id_sum, running, tags;
};
int model_runs_sig(struct db *db, struct runs_sig *out);
/*
 * Appends to *out (which the caller initialised) at most `limit` runs with
 * ids above `after`, in id order: a bounded part of a full load.
 */
int model_runs_after(struct db *db, int64_t after, int limit, struct run_list *out);
/* The newest `limit` runs only (for a fast first screen), newest first. */
int model_runs_newest(struct db *db, int limit, struct run_list *out);
void run_list_release(struct run_list *l);
/* Seconds the run has taken (its recorded seconds, or start to finish/now). */
double run_duration(const struct run_row *r, double now);
/* One run's row; MODEL_GONE if it does not exist. */
int model_run(struct db *db, int64_t id, struct run_row *out);
void run_row_release(struct run_row *r);

/*
 * Settings, each once: every non-NULL setting column of runs (fusion "none"
 * for a one-modality run; sweep and trial by name and number), then the
 * config keys no column holds, under their own names.
 */
struct kv {
	char *key, *val;
};
struct kv_list {
	struct kv *v;
	size_t n, alloc;
};
int model_settings(struct db *db, int64_t run, struct kv_list *out);
void kv_list_release(struct kv_list *l);
/* The value of key in l, or NULL. */
const char *kv_get(const struct kv_list *l, const char *key);

/* Epoch rows, ordered by epoch then split (train, validate, test). */
struct epoch_row {
	int64_t epoch;
	char split[10];
	double loss, acc, precision, recall, f1, f1_macro, lr, seconds, samples_per_s;
};
struct epoch_list {
	struct epoch_row *v;
	size_t n, alloc;
};
int model_epochs(struct db *db, int64_t run, struct epoch_list *out);
void epoch_list_release(struct epoch_list *l);
/*
 * Per epoch arrays for charts: x (epochs) and y (metric of `split`; NaN
 * where absent). metric: "loss", "accuracy", "f1". Caller frees *x and *y.
 */
int epoch_series(const struct epoch_list *l, const char *split, const char *metric,
		 double **x, double **y);

/* Class names of a label scheme ("2way", "3way", "6way"). */
struct classes {
	int n;
	char name[MODEL_MAX_CLASSES][48];
};
int model_classes(struct db *db, const char *scheme, struct classes *out);

/* The (epoch, split) points that have class metrics or confusion rows. */
struct eval_point {
	int64_t epoch;
	char split[10];
};
struct eval_list {
	struct eval_point *v;
	size_t n, alloc;
	size_t preferred;  /* the test row if any, else the best validation epoch */
};
int model_eval_points(struct db *db, int64_t run, int64_t best_epoch, struct eval_list *out);
void eval_list_release(struct eval_list *l);

struct class_row {
	int label;
	double precision, recall, f1;
	int64_t support;
};
/* class_metrics of one point, indexed by label (absent labels: NaN). */
int model_class_metrics(struct db *db, int64_t run, const struct eval_point *p,
			struct class_row out[MODEL_MAX_CLASSES]);
/* Confusion counts of one point: m[true][pred]. */
int model_confusion(struct db *db, int64_t run, const struct eval_point *p,
		    int64_t m[MODEL_MAX_CLASSES][MODEL_MAX_CLASSES]);

/*
 * Predictions: one split of one run, filtered and ordered. Nothing here
 * reads a whole split at once: the screens call the *_scan functions
 * below, each of which looks at no more than max_scan rows, in an index's
 * order, and tells where it stopped; a screen continues from there in the
 * next pass of its loop, so a key never waits for more than one bounded
 * step, however large the split.
 */
enum pred_order {
	ORDER_POST,        /* post id */
	ORDER_CONF_WRONG,  /* misclassified only, highest prob_pred first (ties: post id descending) */
	ORDER_LOW_TRUE,    /* lowest probability of the true label first (ties: post id) */
};
struct pred_query {
	int64_t run;
	char split[10];    /* "validate" or "test" */
	int label;         /* true class, -1 any */
	int pred;          /* predicted class, -1 any */
	int wrong;         /* misclassified only */
	enum pred_order order;
	char search[128];  /* title substring (case-insensitive ASCII), "" none */
};
struct pred_row {
	char *post_id, *title;
	int label, pred;
	double prob_pred, prob_label;
};
struct pred_list {
	struct pred_row *v;
	size_t n, alloc;
};

/* A place in a scan order: the order's value (unused by ORDER_POST) and the post. */
struct scan_key {
	double v;
	char post_id[64];
};
void scan_key_of(struct scan_key *k, const struct pred_query *q, const struct pred_row *r);

/*
 * How far one scan may go: at most `rows` rows, and it stops early once
 * now_seconds() passes `until` (0: no time limit), checked every few rows.
 */
struct scan_limit {
	int rows;
	double until;
};

/* Where a bounded scan stopped. */
struct scan_end {
	struct scan_key last;  /* the last row looked at (valid when scanned > 0) */
	int64_t scanned;       /* rows looked at */
	int done;              /* no row left in that direction */
};

/*
 * Looks at no more than lim's rows of q's split in q's order (backward
 * when `back`), starting after *from (at it when `inclusive`; from NULL:
 * at the first row, or the last when back), and appends the rows that
 * match all of q's filters to *out (initialised by the caller) until it
 * holds `want` rows. Returns 0 or -1.
 */
int model_pred_scan(struct db *db, const struct pred_query *q, int back, const struct scan_key *from,
		    int inclusive, const struct scan_limit *lim, size_t want, struct pred_list *out,
		    struct scan_end *end);
/*
 * Counts of (true, predicted) class among the split's rows whose title
 * matches q->search (all rows when it is ""), added to hist; looks at no
 * more than lim's rows in post order after *from (NULL: from the start).
 * The count of any label / predicted / misclassified filter is a sum of
 * these cells (pred_hist_count). Returns 0 or -1.
 */
int model_pred_hist_scan(struct db *db, const struct pred_query *q, const struct scan_key *from,
			 const struct scan_limit *lim,
			 int64_t hist[MODEL_MAX_CLASSES][MODEL_MAX_CLASSES], struct scan_end *end);
/* The number of rows matching q's label, pred and wrong filters, from hist. */
int64_t pred_hist_count(const struct pred_query *q,
			const int64_t hist[MODEL_MAX_CLASSES][MODEL_MAX_CLASSES]);
void pred_list_release(struct pred_list *l);

/* One post with its labels, image and (when run > 0) prediction. */
struct post_detail {
	char *id, *title, *subreddit, *author, *domain, *split;
	int label[3];          /* 2-, 3-, 6-way; -1 if NULL */
	char label_name[3][48];
	int64_t score, num_comments, created_utc;
	char *img_status, *img_reason, *img_sha256, *img_format;
	int64_t img_width, img_height;
	int has_image_row;
	int has_pred, pred, true_label;
	int nprobs;
	double probs[MODEL_MAX_CLASSES];
	struct classes cls;    /* the run's label scheme */
};
int model_post(struct db *db, int64_t run, const char *post_id, struct post_detail *out);
void post_detail_release(struct post_detail *p);

/* Posts where runs[0..n) disagree on one split: each row's preds in run order. */
struct disagree_row {
	char *post_id, *title;
	int label;
	int pred[6];
};
struct disagree_list {
	struct disagree_row *v;
	size_t n, alloc;
};
/*
 * Looks at no more than lim's rows of runs[0]'s predictions on `split` in
 * post order (backward when `back`) after the post `from` (at it when
 * `inclusive`; NULL: from the first, or the last when back). A post counts
 * when every run predicted it and not all alike: *matched is increased by
 * their number, and they are appended to *out (NULL: only counted) until
 * it holds `want` rows. Returns 0 or -1.
 */
int model_disagree_scan(struct db *db, const int64_t *runs, int n, const char *split, int back,
			const char *from, int inclusive, const struct scan_limit *lim, size_t want,
			struct disagree_list *out, int64_t *matched, struct scan_end *end);
void disagree_list_release(struct disagree_list *l);

/* ---- sweeps (model_sweep.c) ---- */

/* One row of the sweeps screen. */
struct sweep_row {
	int64_t id;
	char *name, *method, *metric, *goal, *prune, *created_at;
	int64_t total;               /* trials */
	int64_t done;                /* finished: completed, early_stopped, pruned, failed */
	int64_t running, pending, pruned, failed;
	double best;                 /* best metric by goal over the trials; NaN */
	int64_t best_idx;            /* that trial's number; -1 */
};
struct sweep_list {
	struct sweep_row *v;
	size_t n, alloc;
};
/* Every sweep, newest first. */
int model_sweeps(struct db *db, struct sweep_list *out);
/* One sweep; MODEL_GONE if it does not exist. */
int model_sweep(struct db *db, int64_t id, struct sweep_row *out);
void sweep_row_release(struct sweep_row *r);
void sweep_list_release(struct sweep_list *l);

/* One swept parameter's value in a trial. */
struct trial_param {
	char *key, *val;             /* val as text ("1e-05", "max") */
	double num;                  /* the value as a number; NaN for text */
};
/*
 * A trial with its parameters and metric: the trial's recorded metric, else
 * (while its run trains) the run's value so far of the sweep's metric.
 */
struct trial_row {
	int64_t id, idx, run_id;     /* run_id -1 before a worker claims it */
	char *status, *reason, *worker, *run_status;
	double metric;               /* NaN when unknown */
	struct trial_param *p;
	int np;
};
struct trial_list {
	struct trial_row *v;
	size_t n, alloc;
	char **keys;                 /* the swept parameters, in first-seen order */
	int nkeys;
};
/*
 * The trials of a sweep, best first by its goal ("max" or "min"); trials
 * without a metric after, by number.
 */
int model_sweep_trials(struct db *db, int64_t sweep, const char *goal, struct trial_list *out);
void trial_list_release(struct trial_list *l);
/* The value of parameter key in t, or NULL. */
const struct trial_param *trial_param_get(const struct trial_row *t, const char *key);

/*
 * Scatter points of the metric against parameter `key`: x (the value;
 * for text values, the index of the value among `labels`), y (metric).
 * Trials without the parameter or a metric are left out. *labels (caller
 * frees each and the array) receives the distinct text values, *nlabels
 * their count (0 when every value is a number). *logx is 1 when the values
 * are positive numbers spread over at least two decades (an lr), so the
 * axis should be logarithmic. Returns the number of points; the caller
 * frees *x and *y.
 */
int trial_scatter(const struct trial_list *l, const char *key, double **x, double **y,
		  char ***labels, int *nlabels, int *logx);

/* PRAGMA data_version: changes when another connection commits. */
int model_data_version(struct db *db, int64_t *out);

/* How many rows deleting a run removes (epochs, predictions). */
int model_run_rows(struct db *db, int64_t run, int64_t *epochs, int64_t *predictions);
/*
 * Deletes a run and its rows (ON DELETE CASCADE, and its predictions, as
 * 'mmdb runs rm' does) through a separate
 * read-write connection to db_path, then its checkpoint folder
 * <cache_dir>/runs/<id>/ if present. Returns 0 or -1 (message printed).
 */
int model_delete_run(const char *db_path, const char *cache_dir, int64_t run);

#endif

/*
 * train_loop: a run's epochs once it is set up (train.c). Per epoch train
 * -> validate -> scheduler / early stopping / best checkpoint -> one
 * transaction of rows -> checkpoints; at the end test with the best
 * checkpoint and write predictions. B = batch, L = tokens, S = image side,
 * C = classes.
 */
#include "train_int.h"
#include "db.h"
#include "loader.h"
#include "progress.h"
#include "torch/mt.h"
#include "util.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_SECONDS 5.0

/* Set by SIGINT/SIGTERM; checked between steps. */
static volatile sig_atomic_t interrupt_flag;

static void on_signal(int sig)
{
	interrupt_flag = 1;
	signal(sig, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

static double run_seconds(const struct trainer *T)
{
	return T->st.run_seconds + (now_seconds() - T->t_session);
}

static void heartbeat(struct trainer *T)
{
	double t = now_seconds();
	if (!T->writer || t - T->last_heartbeat < HEARTBEAT_SECONDS)
		return;
	T->last_heartbeat = t;
	tdb_heartbeat(T->db, T->run_id, T->progress); /* a failure here is not fatal */
}

static void to_mt_batch(const struct trainer *T, const struct loader_batch *b, struct mt_batch *mb)
{
	memset(mb, 0, sizeof(*mb));
	mb->n = b->n;
	if (T->cfg->modalities & MT_TEXT) {
		mb->max_len = T->cfg->max_len;
		mb->input_ids = b->input_ids;
		mb->attention_mask = b->attention_mask;
	}
	if (T->cfg->modalities & MT_IMAGE) {
		mb->image_size = T->cfg->image_size;
		mb->pixels = b->pixels;
	}
	mb->labels = b->labels;
}

/*
 * Fills rows n..B-1 of a partial batch with copies of row 0, so every batch
 * the model sees has the same shape (no new kernels to pick or compile for
 * a last, smaller batch on CUDA). The copies' outputs are ignored.
 */
static void pad_batch(const struct trainer *T, struct loader_batch *b, int B)
{
	int L = T->cfg->max_len, S = T->cfg->image_size, j;
	for (j = b->n; j < B; j++) {
		b->labels[j] = b->labels[0];
		if (T->cfg->modalities & MT_TEXT) {
			memcpy(b->input_ids + (size_t)j * L, b->input_ids, sizeof(int32_t) * L);
			memcpy(b->attention_mask + (size_t)j * L, b->attention_mask, (size_t)L);
		}
		if (T->cfg->modalities & MT_IMAGE)
			memcpy(b->pixels + (size_t)j * S * S * 3, b->pixels, (size_t)S * S * 3);
	}
}

/*
 * Evaluates a split (list order): probabilities of every post, the loss
 * (cross-entropy weighted as in training, over the whole split) and
 * metrics into r (buffers allocated on first use). Returns 0, 1 when
 * interrupted, -1 on error.
 */
static int evaluate(struct trainer *T, int which, struct eval_result *r, const char *what)
{
	struct split_data *sd = &T->split[which];
	struct loader *ld = T->ld[which];
	struct loader_batch *b;
	struct progress *pg;
	double loss_sum = 0, weight_sum = 0, t0 = now_seconds(), t_gather;
	int C = T->C, B = T->cfg->batch_size, rc, ret = -1;
	float *pad_probs = NULL, *dst;
	size_t i, n_local = loader_shard_size(sd->n, T->cfg->world_size);

	if (!r->probs) {
		r->probs = xmalloc(st_mult(st_mult(sd->n ? sd->n : 1, C), sizeof(float)));
		r->labels = xmalloc(st_mult(sd->n ? sd->n : 1, sizeof(int)));
		r->post_ids = xmalloc(st_mult(sd->n ? sd->n : 1, sizeof(char *)));
	}
	r->n = (int)sd->n;
	r->num_classes = C;
	for (i = 0; i < sd->n; i++) {
		r->labels[i] = sd->items[i].label;
		r->post_ids[i] = sd->items[i].post_id;
	}
	/* A rank evaluates its shard (list order, strided: loader.h) into
	 * shard_probs; the shards are gathered into list order below. */
	dst = r->probs;
	if (T->cfg->dist) {
		free(T->shard_probs);
		T->shard_probs = xmalloc(st_mult(st_mult(n_local ? n_local : 1, C), sizeof(float)));
		dst = T->shard_probs;
	}
	pg = progress_start(what, (uint64_t)loader_batches(ld), "batches", T->cfg->quiet);
	loader_start_epoch(ld, 0, 0);
	while ((rc = loader_next(ld, &b)) == 1) {
		struct mt_batch mb;
		/* Order of the (shard's) list: batch b holds its posts b->index * B ... */
		float *out = dst + (size_t)b->index * B * (size_t)C;
		int n = b->n;

		if (n < B) {
			pad_batch(T, b, B);
			if (!pad_probs)
				pad_probs = xmalloc(st_mult(st_mult(B, C), sizeof(float)));
		}
		to_mt_batch(T, b, &mb);
		mb.n = B;
		mb.labels = NULL; /* the loss is computed below, over real posts only */
		if (mt_eval_batch(T->model, &mb, n < B ? pad_probs : out, NULL)) {
			error("evaluating %s: %s", sd->name, mt_last_error());
			loader_release(ld, b);
			goto out;
		}
		if (n < B)
			memcpy(out, pad_probs, sizeof(float) * (size_t)n * C);
		progress_update(pg, (uint64_t)b->index + 1);
		loader_release(ld, b);
		heartbeat(T);
		/* ranks stop together, at a train step (train_epoch) */
		if (interrupt_flag && !T->cfg->dist) {
			ret = 1;
			goto out;
		}
	}
	if (rc < 0)
		goto out;
	t_gather = now_seconds();
	if (T->cfg->dist && td_gather_probs(T->cfg, dst, n_local, sd->n, C, r->probs)) {
		char who[512];
		td_blame(T->cfg, t_gather, who, sizeof(who));
		snprintf(T->eval_failure, sizeof(T->eval_failure), "evaluating %s: %s%s%s", sd->name,
			 who, *who ? ": " : "", mt_last_error());
		error("%s", T->eval_failure);
		goto out;
	}
	for (i = 0; i < sd->n; i++) {
		int y = r->labels[i];
		double w = T->class_weights ? T->class_weights[y] : 1.0, p = r->probs[i * C + y];
		loss_sum += w * -log(p > 1e-12 ? p : 1e-12);
		weight_sum += w;
	}
	r->loss = weight_sum > 0 ? loss_sum / weight_sum : NAN;
	r->seconds = now_seconds() - t0;
	metrics_init(&r->m, C);
	for (i = 0; i < sd->n; i++)
		metrics_add(&r->m, r->labels[i], metrics_argmax(r->probs + i * C, C));
	metrics_compute(&r->m);
	ret = 0;
out:
	free(pad_probs);
	progress_done(pg);
	return ret;
}

static void eval_release(struct eval_result *r)
{
	free(r->probs);
	free(r->labels);
	free(r->post_ids);
	memset(r, 0, sizeof(*r));
}

/* The learning rate of the next step: warm-up, then the scheduler's. */
static double step_lr(const struct trainer *T, int64_t steps_per_epoch)
{
	const struct run_config *cfg = T->cfg;
	double lr = T->st.lr;
	int64_t g = T->st.global_step;

	if (cfg->scheduler == SCHED_COSINE) {
		int64_t total = steps_per_epoch * cfg->epochs - cfg->warmup;
		double t = total > 0 ? (double)(g - cfg->warmup) / (double)total : 1;
		if (t < 0)
			t = 0;
		if (t > 1)
			t = 1;
		lr = cfg->min_lr + (cfg->lr - cfg->min_lr) * 0.5 * (1 + cos(M_PI * t));
	}
	if (cfg->warmup > 0 && g < cfg->warmup)
		lr = lr * (double)(g + 1) / cfg->warmup;
	return lr;
}

/* Rank 0 alone writes checkpoints (every rank holds the same state). */
static int save_checkpoint(struct trainer *T, const char *path)
{
	if (!T->writer)
		return 0;
	if (mt_checkpoint_save(T->model, path, &T->st, sizeof(T->st)))
		return error("cannot save checkpoint %s", mt_last_error());
	return 0;
}

void train_record_failure(struct trainer *T, const char *reason)
{
	char *peer;

	if (!T->run_id)
		return;
	if (T->writer && !T->cfg->dist) {
		tdb_set_status(T->db, T->run_id, "failed", reason, run_seconds(T));
		return;
	}
	if (!T->writer && !td_reporter(T->cfg))
		return;
	/* a peer that failed first and found the database locked */
	if ((peer = td_account_take(T->dir, T->cfg->rank)))
		reason = peer;
	if (tdb_fail_running(T->db, T->run_id, reason, run_seconds(T)) == 0)
		td_account_forget(T->dir);
	else if (!peer)
		td_account_leave(T->dir, T->cfg->rank, reason);
	free(peer);
}

/*
 * Trains the rest of epoch st.epoch. Returns 0 at its end, 1 when
 * interrupted (position saved), -1 on failure (status set).
 */
static int train_epoch(struct trainer *T)
{
	struct run_config *cfg = T->cfg;
	struct loader *ld = T->ld[0];
	struct loader_batch *b;
	struct progress *pg;
	char label[64], note[128], reason[1024], who[512] = "";
	double sums[4], step_t0 = 0;
	int64_t per_epoch = loader_batches(ld);
	double t0 = now_seconds(), w0 = loader_wait_seconds(ld), last_note = 0, lr_set = -1;
	int rc, stop = 0;

	snprintf(label, sizeof(label), "epoch %d/%d", T->st.epoch, cfg->epochs);
	pg = progress_start(label, (uint64_t)per_epoch, "batches", cfg->quiet);
	loader_start_epoch(ld, T->st.epoch, T->st.step);
	while ((rc = loader_next(ld, &b)) == 1) {
		struct mt_batch mb;
		float loss = 0;
		int correct = 0;
		double lr = step_lr(T, per_epoch), t;

		step_t0 = now_seconds();
		if (lr != lr_set && mt_set_lr(T->model, lr) == 0)
			lr_set = lr;
		T->st.last_lr = lr;
		to_mt_batch(T, b, &mb);
		if (mt_train_step_acc(T->model, &mb, &loss, &correct))
			goto step_failed;
		if (T->nan_at_step && T->st.global_step + 1 == T->nan_at_step)
			loss = NAN;
		/* Over the ranks: the global batch's loss and posts, and whether any
		 * rank was asked to stop (so that all stop at the same step). */
		sums[0] = (double)loss * b->n;
		sums[1] = b->n;
		sums[2] = interrupt_flag;
		sums[3] = correct;
		if (td_sum(cfg, sums, 4))
			goto step_failed;
		/* The ranks stop together, at the step whose sum carried a rank's
		 * signal: one that comes after this rank's sum goes into the next. */
		if (sums[2] > 0)
			stop = 1;
		if (isnan(sums[0]) || isinf(sums[0])) {
			snprintf(reason, sizeof(reason), "loss is %s at epoch %d step %d",
				 isnan(sums[0]) ? "NaN" : "infinite", T->st.epoch, T->st.step + 1);
			loader_release(ld, b);
			goto failed;
		}
		T->st.loss_sum += sums[0];
		if (T->st.correct >= 0)
			T->st.correct += (int64_t)sums[3];
		T->st.samples += (int64_t)sums[1];
		T->st.step++;
		T->st.global_step++;
		loader_release(ld, b);

		t = now_seconds();
		progress_update(pg, (uint64_t)T->st.step);
		if (t - last_note > 0.25) {
			double secs = T->st.seconds + (t - t0);
			last_note = t;
			snprintf(note, sizeof(note), "loss %.4f  %.0f samples/s",
				 T->st.loss_sum / (double)T->st.samples,
				 secs > 0 ? (double)T->st.samples / secs : 0.0);
			progress_note(pg, note);
		}
		if (T->step_sleep_ms > 0) {
			struct timespec ts = { T->step_sleep_ms / 1000, (T->step_sleep_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		T->progress = ((T->st.epoch - 1) + (double)T->st.step / (double)per_epoch) / cfg->epochs;
		heartbeat(T);
		if (cfg->stop_after_steps && T->st.global_step >= cfg->stop_after_steps)
			stop = 1;
		if (!cfg->dist && interrupt_flag)
			stop = 1;
		if (stop) {
			interrupt_flag = 1;
			break;
		}
	}
	T->st.seconds += now_seconds() - t0;
	T->st.wait += loader_wait_seconds(ld) - w0;
	progress_done(pg);
	if (rc < 0 && !interrupt_flag) {
		snprintf(reason, sizeof(reason), "the data loader failed at epoch %d", T->st.epoch);
		goto failed_quiet;
	}
	return stop;
step_failed:
	if (cfg->dist && interrupt_flag) {
		/* SIGTERM mid-collective: the launcher ending the ranks left after
		 * one failed (that one's reason is recorded); the peers' absence is
		 * the consequence, not the cause. */
		snprintf(reason, sizeof(reason), "rank %d was told to stop (SIGINT or SIGTERM) "
			 "during a collective at epoch %d step %d", cfg->rank, T->st.epoch, T->st.step + 1);
	} else {
		if (cfg->dist)
			td_blame(cfg, step_t0, who, sizeof(who));
		snprintf(reason, sizeof(reason), "training step failed at epoch %d step %d: %s%s%s",
			 T->st.epoch, T->st.step + 1, who, *who ? ": " : "", mt_last_error());
	}
	loader_release(ld, b);
failed:
	T->st.seconds += now_seconds() - t0;
	progress_done(pg);
	error("run %lld: %s", (long long)T->run_id, reason);
failed_quiet:
	train_record_failure(T, reason);
	return -1;
}

/* ReduceLROnPlateau (mode min, relative threshold 1e-4, as PyTorch) and
 * early stopping on the validation loss. Returns 1 to stop early. */
static int after_validation(struct trainer *T, double val_loss)
{
	struct run_config *cfg = T->cfg;
	struct train_state *s = &T->st;

	if (cfg->scheduler == SCHED_PLATEAU) {
		if (val_loss < s->plateau_best * (1 - 1e-4)) {
			s->plateau_best = val_loss;
			s->plateau_bad = 0;
		} else if (++s->plateau_bad > cfg->plateau_patience) {
			double lr = s->lr * cfg->plateau_factor;
			if (lr < cfg->min_lr)
				lr = cfg->min_lr;
			if (s->lr - lr > 1e-8 * s->lr)
				s->lr = lr;
			s->plateau_bad = 0;
		}
	}
	if (val_loss < s->es_best - cfg->early_stop_delta) {
		s->es_best = val_loss;
		s->es_bad = 0;
	} else {
		s->es_bad++;
	}
	return cfg->early_stop > 0 && s->es_bad >= cfg->early_stop;
}

static void print_epoch(const struct trainer *T, const struct train_figures *tf,
			const struct eval_result *v)
{
	if (T->cfg->quiet || !T->writer)
		return;
	fprintf(stderr, "epoch %d/%d: train loss %.4f accuracy %.4f (%.0f samples/s, loader wait %.1f%%), "
			"validate loss %.4f accuracy %.4f f1 %.4f, lr %.3g%s\n",
		T->st.epoch, T->cfg->epochs, tf->loss, tf->accuracy, tf->samples_per_s, 100 * tf->wait_share,
		v->loss, v->m.accuracy, v->m.f1_weighted, tf->lr,
		T->st.best_epoch == T->st.epoch ? "  *best" : "");
}

/* Everything after setup: epochs, then test. Returns as train_run. */
static int run_loop(struct trainer *T)
{
	struct run_config *cfg = T->cfg;
	struct eval_result val = { 0 }, best_val = { 0 }, test = { 0 };
	struct train_figures tf;
	int rc, ret = -1, have_best_val = 0;
	const char *status, *why = "evaluation failed";

	while (!T->st.training_done) {
		if ((rc = train_epoch(T)) < 0)
			goto out;
		if (rc == 1)
			goto interrupted;
		tf.loss = T->st.samples ? T->st.loss_sum / (double)T->st.samples : NAN;
		tf.accuracy = T->st.samples && T->st.correct >= 0 ?
			      (double)T->st.correct / (double)T->st.samples : NAN;
		tf.seconds = T->st.seconds;
		tf.samples = T->st.samples;
		tf.samples_per_s = T->st.seconds > 0 ? (double)T->st.samples / T->st.seconds : NAN;
		tf.wait_share = T->st.seconds > 0 ? T->st.wait / T->st.seconds : NAN;
		tf.lr = T->st.last_lr > 0 ? T->st.last_lr : T->st.lr;
		if ((rc = evaluate(T, 1, &val, "validate")) < 0)
			goto fail_status;
		if (rc == 1)
			goto interrupted;
		if (val.loss < T->st.best_val_loss) {
			T->st.best_val_loss = val.loss;
			T->st.best_epoch = T->st.epoch;
			why = "cannot save the best checkpoint";
			if (save_checkpoint(T, T->best_path))
				goto fail_status;
			why = "evaluation failed";
			if (!best_val.probs) {
				best_val.probs = xmalloc(st_mult(st_mult(val.n ? val.n : 1, T->C), sizeof(float)));
				best_val.labels = val.labels;
				best_val.post_ids = val.post_ids;
			}
			memcpy(best_val.probs, val.probs, sizeof(float) * (size_t)val.n * T->C);
			best_val.n = val.n;
			best_val.num_classes = T->C;
			have_best_val = 1;
		}
		if (after_validation(T, val.loss))
			T->st.early_stopped = 1;
		why = "cannot write the epoch's rows to the database";
		if (T->writer && tdb_write_epoch(T->db, T->run_id, T->st.epoch, &tf, &val, T->st.best_epoch,
				    (double)T->st.epoch / cfg->epochs, run_seconds(T)))
			goto fail_status;
		print_epoch(T, &tf, &val);
		/* The next epoch starts clean; the last checkpoint says so. */
		if (T->st.early_stopped || T->st.epoch >= cfg->epochs) {
			T->st.training_done = 1;
		} else if (cfg->after_epoch) {
			struct epoch_result er = { T->st.epoch, val.loss, val.m.accuracy,
						   val.m.f1_weighted, val.m.f1_macro };
			char reason[512] = "";
			if (cfg->after_epoch(cfg->after_epoch_arg, T->run_id, &er, reason,
					     sizeof(reason)) == 1) {
				tdb_set_status(T->db, T->run_id, "pruned", reason, run_seconds(T));
				if (!cfg->quiet)
					fprintf(stderr, "run %lld pruned after epoch %d: %s\n",
						(long long)T->run_id, T->st.epoch, reason);
				ret = 2;
				goto out;
			}
		}
		if (!T->st.training_done)
			T->st.epoch++;
		T->st.step = 0;
		T->st.loss_sum = T->st.seconds = T->st.wait = 0;
		T->st.samples = T->st.correct = 0;
		T->st.run_seconds = run_seconds(T);
		T->t_session = now_seconds();
		why = "cannot save the last checkpoint";
		if (save_checkpoint(T, T->last_path))
			goto fail_status;
		why = "evaluation failed";
	}

	/* Test, once, with the best checkpoint; validate predictions from it too. */
	if (T->st.best_epoch <= 0) {
		error("run %lld: no best epoch to test", (long long)T->run_id);
		goto fail_status;
	}
	{
		void *extra = NULL;
		size_t len = 0;
		why = "cannot load the best checkpoint";
		/* every rank reads the file rank 0 wrote (a shared cache) */
		if (!td_agree(cfg, 1)) {
			error("run %lld: the ranks did not reach the test together: %s",
			      (long long)T->run_id, mt_last_error());
			goto fail_status;
		}
		if (mt_checkpoint_load(T->model, T->best_path, &extra, &len)) {
			error("cannot load checkpoint '%s': %s", T->best_path, mt_last_error());
			goto fail_status;
		}
		free(extra);
		why = "evaluation failed";
	}
	if (!have_best_val) {
		if ((rc = evaluate(T, 1, &val, "validate (best)")) < 0)
			goto fail_status;
		if (rc == 1)
			goto interrupted;
	}
	if (T->split[2].n) {
		if ((rc = evaluate(T, 2, &test, "test")) < 0)
			goto fail_status;
		if (rc == 1)
			goto interrupted;
	}
	status = T->st.early_stopped ? "early_stopped" : "completed";
	why = "cannot write test rows and predictions to the database";
	if (T->writer && tdb_write_final(T->db, T->run_id, T->st.best_epoch, have_best_val ? &best_val : &val,
			    T->split[2].n ? &test : NULL, status, run_seconds(T)))
		goto fail_status;
	if (!T->writer)
		;
	else if (T->split[2].n)
		printf("run %lld %s: best epoch %d, test accuracy %.4f, f1 %.4f (weighted), "
		       "%.4f (macro)\n", (long long)T->run_id, status, T->st.best_epoch,
		       test.m.accuracy, test.m.f1_weighted, test.m.f1_macro);
	else
		printf("run %lld %s: best epoch %d (no test posts)\n", (long long)T->run_id, status,
		       T->st.best_epoch);
	ret = 0;
	goto out;

interrupted:
	T->st.run_seconds = run_seconds(T);
	T->t_session = now_seconds();
	if (!T->writer) {
		ret = 1;
		goto out;
	}
	if (save_checkpoint(T, T->last_path) == 0)
		tdb_set_status(T->db, T->run_id, "interrupted", "interrupted by a signal; resume with "
			       "'mmdb run --resume'", T->st.run_seconds);
	else
		tdb_set_status(T->db, T->run_id, "interrupted", "interrupted; its last checkpoint "
			       "could not be saved", T->st.run_seconds);
	fprintf(stderr, "mmdb: run %lld interrupted at epoch %d step %d; continue with "
			"'mmdb run --resume %lld'\n", (long long)T->run_id, T->st.epoch, T->st.step,
		(long long)T->run_id);
	ret = 1;
	goto out;
fail_status:
	train_record_failure(T, T->eval_failure[0] ? T->eval_failure : why);
out:
	best_val.labels = NULL;
	best_val.post_ids = NULL;
	eval_release(&best_val);
	eval_release(&val);
	eval_release(&test);
	return ret;
}

int train_loop(struct trainer *T)
{
	struct sigaction sa, old_int, old_term;
	int ret;

	interrupt_flag = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	ret = run_loop(T);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return ret;
}

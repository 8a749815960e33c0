/*
 * train: a run's setup (see train.h). Reads top to bottom: select posts,
 * pick the vocab, build loaders and model, create the runs row or load the
 * checkpoint to resume; train_loop.c then runs the epochs and the test.
 */
#include "train_int.h"
#include "db.h"
#include "loader.h"
#include "progress.h"
#include "tokenizer.h"
#include "torch/mt.h"
#include "util.h"
#include "vocab.h"
#include "hfmodel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *keep(struct split_data *sd, const char *s)
{
	char *c;
	if (!s)
		return NULL;
	c = xstrdup(s);
	ALLOC_GROW(sd->strings, sd->nstrings + 1, sd->strings_alloc);
	sd->strings[sd->nstrings++] = c;
	return c;
}

static void split_release(struct split_data *sd)
{
	size_t i;
	for (i = 0; i < sd->nstrings; i++)
		free(sd->strings[i]);
	free(sd->strings);
	free(sd->items);
	memset(sd, 0, sizeof(*sd));
}

/* Posts of a split with a label of the run's scheme (never from subreddit or
 * domain); with images, only those whose image is 'ok' unless --missing-image
 * blank. Ordered by id, at most --limit. */
static int load_split(struct trainer *T, struct split_data *sd, const char *split)
{
	struct run_config *cfg = T->cfg;
	struct db_stmt *st = NULL;
	struct strbuf sql = STRBUF_INIT;
	int rc, ret = -1;
	int need_image = (cfg->modalities & MT_IMAGE) && cfg->missing_image == MISSING_SKIP;

	sd->name = split;
	sb_addf(&sql, "SELECT p.id, coalesce(p.clean_title, p.title, ''), p.label_%c%s, i.status, "
		      "i.sha256 FROM posts p LEFT JOIN images i ON i.post_id = p.id "
		      "WHERE p.split = ?1 AND p.label_%c%s IS NOT NULL%s ORDER BY p.id",
		cfg->label[0], "way", cfg->label[0], "way",
		need_image ? " AND i.status = 'ok' AND i.sha256 IS NOT NULL" : "");
	if (cfg->limit > 0)
		sb_addf(&sql, " LIMIT %d", cfg->limit);
	if (db_prepare(T->db, &st, sql.buf))
		goto out;
	db_bind_text(st, 1, split, -1);
	while ((rc = db_step(st)) == DB_ROW) {
		struct loader_item *it;
		const char *status = db_column_text(st, 3);
		ALLOC_GROW(sd->items, sd->n + 1, sd->alloc);
		it = &sd->items[sd->n++];
		it->post_id = keep(sd, db_column_text(st, 0));
		it->title = keep(sd, db_column_text(st, 1));
		it->label = (int)db_column_int(st, 2);
		it->image_sha256 = status && !strcmp(status, "ok") ? keep(sd, db_column_text(st, 4)) : NULL;
		if (it->label < 0 || it->label >= T->C) {
			error("post %s: %s label %d outside 0..%d", it->post_id, cfg->label, it->label,
			      T->C - 1);
			goto out;
		}
	}
	if (rc < 0)
		goto out;
	ret = 0;
out:
	db_finalize(st);
	sb_release(&sql);
	return ret;
}

/* The vocab: the resumed run's, --vocab FILE (registered in vocabs), the
 * latest one in vocabs, or one built now from the titles. *path is malloc'd. */
static int resolve_vocab(struct trainer *T, const char *cache_dir, int64_t resume_id, char **path,
			 int64_t *vocab_id)
{
	struct db_stmt *st = NULL;
	int rc;

	*path = NULL;
	*vocab_id = 0;
	if (!resume_id && T->cfg->vocab) {
		if (vocab_register(T->db, T->cfg->vocab, "file", vocab_id))
			return -1;
		*path = xstrdup(T->cfg->vocab);
		return 0;
	}
	if (resume_id) {
		if (db_prepare(T->db, &st, "SELECT v.id, v.path FROM runs r JOIN vocabs v ON v.id = "
					   "r.vocab_id WHERE r.id = ?1"))
			return -1;
		db_bind_int(st, 1, resume_id);
	} else if (db_prepare(T->db, &st, "SELECT id, path FROM vocabs ORDER BY id DESC LIMIT 1")) {
		return -1;
	}
	rc = db_step(st);
	if (rc == DB_ROW) {
		*vocab_id = db_column_int(st, 0);
		*path = xstrdup(db_column_text(st, 1));
	}
	db_finalize(st);
	if (rc < 0)
		return -1;
	if (rc == DB_DONE && resume_id)
		return error("run %lld records no vocab", (long long)resume_id);
	if (rc == DB_DONE) {
		struct vocab_build_opts o = { VOCAB_DEFAULT_SIZE, VOCAB_DEFAULT_MIN_COUNT, NULL,
					      T->cfg->quiet };
		if (!T->cfg->quiet)
			fprintf(stderr, "mmdb: no vocab yet: building one from the titles\n");
		if (vocab_build(T->db, cache_dir, &o, path, vocab_id))
			return -1;
	}
	return 0;
}

/* Balanced class weights as scikit-learn's compute_class_weight: n / (C * n_k). */
static float *balanced_weights(const struct split_data *sd, int C)
{
	float *w = xcalloc((size_t)C, sizeof(float));
	size_t i;
	int64_t count[METRICS_MAX_CLASSES] = { 0 };
	int k;

	for (i = 0; i < sd->n; i++)
		count[sd->items[i].label]++;
	for (k = 0; k < C; k++)
		w[k] = count[k] ? (float)((double)sd->n / ((double)C * (double)count[k])) : 1.0f;
	return w;
}

static int make_loaders(struct trainer *T, const char *cache_dir)
{
	struct run_config *cfg = T->cfg;
	struct loader_opts o = { 0 };
	char objects[4096], prep[4096];
	int i;

	snprintf(objects, sizeof(objects), "%s/objects", cache_dir);
	snprintf(prep, sizeof(prep), "%s/prep", cache_dir);
	o.batch_size = cfg->batch_size;
	o.max_len = cfg->modalities & MT_TEXT ? cfg->max_len : 0;
	o.image_size = cfg->modalities & MT_IMAGE ? cfg->image_size : 0;
	o.resize_mode = cfg->resize;
	o.workers = cfg->workers;
	o.prefetch = cfg->workers;
	o.seed = cfg->seed;
	o.rank = cfg->rank;
	o.world = cfg->world_size;
	o.tok = T->tok;
	o.objects_dir = objects;
	o.prep_dir = cfg->prep_cache ? prep : NULL;
	for (i = 0; i < 3; i++) {
		o.shuffle = i == 0;
		/* Training sees only full batches (a last batch of one post would break
		 * batch norm; on CUDA every new shape costs kernel selection); the
		 * evaluation pads its last batch to the same shape instead. */
		o.drop_last = i == 0 &&
			loader_shard_size(T->split[0].n, cfg->world_size) >= (size_t)cfg->batch_size;
		if (!T->split[i].n)
			continue;
		if (loader_new(&T->ld[i], T->split[i].items, T->split[i].n, &o))
			return -1;
	}
	return 0;
}

static int make_model(struct trainer *T)
{
	struct run_config *cfg = T->cfg;
	struct mt_config mc;
	char report[4096];

	memset(&mc, 0, sizeof(mc));
	mc.num_classes = T->C;
	mc.modalities = cfg->modalities;
	mc.fusion = cfg->fusion;
	mc.text_model = cfg->text_model;
	mc.vocab_size = T->hf ? T->hf->vocab_size : T->tok ? tok_vocab_size(T->tok) : 0;
	if (T->hf)
		mc.text_shape = T->hf->shape;
	mc.max_len = cfg->max_len;
	mc.image_model = cfg->image_model;
	mc.image_size = cfg->image_size;
	mc.seed_recipe = cfg->seed_recipe;
	mc.dropout = (float)cfg->dropout;
	mc.optimizer = cfg->optimizer;
	mc.lr = cfg->lr;
	mc.weight_decay = cfg->weight_decay;
	mc.momentum = cfg->momentum;
	mc.grad_clip = cfg->grad_clip;
	mc.freeze = cfg->freeze;
	mc.class_weights = T->class_weights;
	mc.device = cfg->device;
	mc.amp = cfg->amp;
	mc.seed = cfg->seed;
	mc.text_dropout_set = cfg->text_dropout_set;
	mc.text_dropout = (float)cfg->text_dropout;
	if (mt_manual_seed(cfg->seed) || mt_model_new(&mc, &T->model))
		return error("cannot build the model: %s", mt_last_error());
	if (cfg->text_weights && (cfg->modalities & MT_TEXT) &&
	    mt_model_load_weights(T->model, cfg->text_weights, MT_PART_TEXT, report, sizeof(report)))
		return error("cannot load '%s': %s", cfg->text_weights, mt_last_error());
	if (cfg->image_weights && (cfg->modalities & MT_IMAGE) &&
	    mt_model_load_weights(T->model, cfg->image_weights, MT_PART_IMAGE, report, sizeof(report)))
		return error("cannot load '%s': %s", cfg->image_weights, mt_last_error());
	return 0;
}

/* Reads the status of a run to resume and refuses what cannot be resumed. */
static int check_resumable(struct trainer *T, int64_t id)
{
	struct db_stmt *st = NULL;
	char status[32] = "";
	int ret = -1;

	train_mark_crashed(T->db, 60);
	if (db_prepare(T->db, &st, "SELECT status FROM runs WHERE id = ?1"))
		return -1;
	db_bind_int(st, 1, id);
	if (db_step(st) == DB_ROW)
		snprintf(status, sizeof(status), "%s", db_column_text(st, 0));
	db_finalize(st);
	if (!strcmp(status, "running"))
		error("run %lld is still running (pid alive)", (long long)id);
	else if (!strcmp(status, "completed") || !strcmp(status, "early_stopped"))
		error("run %lld has finished (%s): nothing to resume", (long long)id, status);
	else
		ret = 0;
	return ret;
}

/* A checkpoint temporary ("<name>.ckpt.tmp<pid>") whose writer is gone. */
static int stale_checkpoint_tmp(const char *name, void *arg)
{
	const char *t = strstr(name, ".ckpt.tmp");
	(void)arg;
	return t && !other_process_alive(strtol(t + 9, NULL, 10));
}

static void fresh_state(struct trainer *T)
{
	memset(&T->st, 0, sizeof(T->st));
	T->st.magic = TRAIN_STATE_MAGIC;
	T->st.version = TRAIN_STATE_VERSION;
	T->st.epoch = 1;
	T->st.world_size = T->cfg->world_size;
	T->st.lr = T->cfg->lr;
	T->st.plateau_best = T->st.es_best = T->st.best_val_loss = INFINITY;
}

static int load_last(struct trainer *T)
{
	void *extra = NULL;
	size_t len = 0;
	struct stat stt;

	if (stat(T->last_path, &stt)) {
		fresh_state(T); /* died before its first checkpoint: start over */
		return 0;
	}
	if (mt_checkpoint_load(T->model, T->last_path, &extra, &len))
		return error("cannot load checkpoint '%s': %s", T->last_path, mt_last_error());
	if (train_state_decode(extra, len, &T->st)) {
		free(extra);
		return error("checkpoint '%s' was not written by this mmdb", T->last_path);
	}
	free(extra);
	td_resize_world(T->cfg, &T->st, T->run_id, T->writer && !T->cfg->quiet);
	return 0;
}

int train_state_decode(const void *blob, size_t len, struct train_state *out)
{
	struct train_state st;
	if (!blob || len < 2 * sizeof(uint32_t))
		return -1;
	memset(&st, 0, sizeof(st));
	memcpy(&st, blob, 2 * sizeof(uint32_t));
	if (st.magic != TRAIN_STATE_MAGIC)
		return -1;
	if (st.version == TRAIN_STATE_VERSION && len == sizeof(st)) {
		memcpy(&st, blob, sizeof(st));
	} else if (st.version == 1 && len == TRAIN_STATE_V1_SIZE) {
		memcpy(&st, blob, TRAIN_STATE_V1_SIZE);
		/* The steps already taken this epoch were not counted. */
		st.correct = st.step > 0 ? -1 : 0;
		st.version = TRAIN_STATE_VERSION;
	} else {
		return -1;
	}
	*out = st;
	return 0;
}

/* --loader-only: the train split's batches as fast as the loader makes
 * them, twice (the second epoch reads the prep cache), with no model. */
static int loader_only(struct trainer *T, const char *cache_dir)
{
	struct loader_batch *b;
	int e, rc;

	if (make_loaders(T, cache_dir))
		return -1;
	for (e = 1; e <= 2; e++) {
		double t0 = now_seconds(), dt;
		long batches = 0, posts = 0;
		loader_start_epoch(T->ld[0], e, 0);
		while ((rc = loader_next(T->ld[0], &b)) == 1) {
			batches++;
			posts += b->n;
			loader_release(T->ld[0], b);
		}
		if (rc < 0)
			return -1;
		dt = now_seconds() - t0;
		printf("loader epoch %d: %ld batches, %ld posts in %.3f s: %.1f batches/s, %.0f posts/s "
		       "(%d workers, batch %d%s)\n", e, batches, posts, dt, batches / (dt > 0 ? dt : 1e-9),
		       posts / (dt > 0 ? dt : 1e-9), T->cfg->workers, T->cfg->batch_size,
		       T->cfg->prep_cache ? (e == 1 ? ", decoding" : ", prep cache") : ", decoding");
	}
	return 0;
}

/*
 * --text-model DIR: reads and checks the folder, and makes the run use it:
 * its shape, its weights (unless --text-weights), its vocab (unless
 * --vocab) and its casing; the runs row records the folder and hashes.
 */
static int open_model_dir(struct trainer *T)
{
	struct run_config *cfg = T->cfg;
	char *abs;
	T->given_dir = cfg->text_model_dir;
	T->given_model = cfg->text_model;
	if (hf_model_open(cfg->text_model_dir, &T->hf))
		return -1;
	if (cfg->max_len > T->hf->shape.max_positions)
		return error("--max-len %d: the model of '%s' takes at most %d tokens", cfg->max_len,
			     cfg->text_model_dir, T->hf->shape.max_positions);
	if (!cfg->text_weights)
		cfg->text_weights = T->hf->weights_path;
	if (!cfg->vocab)
		cfg->vocab = T->hf->vocab_path;
	if (sha256_file(cfg->text_weights, T->hf_weights_sha256, NULL))
		return -1;
	abs = realpath(cfg->text_model_dir, NULL);
	snprintf(T->hf_dir, sizeof(T->hf_dir), "%s", abs ? abs : cfg->text_model_dir);
	free(abs);
	cfg->text_model_dir = T->hf_dir;
	cfg->text_model = T->hf->name;
	cfg->text_config_sha256 = T->hf->config_sha256;
	cfg->text_weights_sha256 = T->hf_weights_sha256;
	return 0;
}

/* A resumed run's folder must be the one it started with: same config, same weights. */
static int check_same_folder(struct trainer *T, int64_t id)
{
	struct db_stmt *st = NULL;
	int ret = 0;
	if (db_prepare(T->db, &st, "SELECT coalesce(text_config_sha256, ''), "
				   "coalesce(text_weights_sha256, '') FROM runs WHERE id = ?1"))
		return -1;
	db_bind_int(st, 1, id);
	if (db_step(st) == DB_ROW) {
		if (strcmp(db_column_text(st, 0), T->hf->config_sha256))
			ret = error("'%s' is not the config.json run %lld started with (sha256 %.12s..., "
				    "the run's %.12s...)", T->hf->config_path, (long long)id,
				    T->hf->config_sha256, db_column_text(st, 0));
		else if (strcmp(db_column_text(st, 1), T->hf_weights_sha256))
			ret = error("'%s' are not the weights run %lld started with (sha256 %.12s..., "
				    "the run's %.12s...)", T->cfg->text_weights, (long long)id,
				    T->hf_weights_sha256, db_column_text(st, 1));
	}
	db_finalize(st);
	return ret;
}

int train_run(struct db *db, const char *cache_dir, struct run_config *cfg,
	      const char *argv_json, int64_t resume_id, int64_t *run_id)
{
	struct trainer T;
	struct strbuf json = STRBUF_INIT;
	char *vocab_path = NULL;
	int64_t vocab_id = 0;
	int counts[3], i, ret = -1, ok;
	const char *s, *why = "setup failed";

	memset(&T, 0, sizeof(T));
	T.db = db;
	T.cfg = cfg;
	if (cfg->world_size < 1)
		cfg->world_size = 1;
	T.writer = cfg->rank == 0;
	if (!T.writer)
		cfg->quiet = 1;  /* rank 0 shows the progress */
	T.C = cfg->num_classes;
	T.t_session = now_seconds();
	if ((s = getenv("MMDB_TEST_NAN_AT_STEP")) && *s)
		T.nan_at_step = atoll(s);
	if ((s = getenv("MMDB_TEST_STEP_SLEEP_MS")) && *s)
		T.step_sleep_ms = atol(s);
	/* a model folder is read and checked first: a bad one costs no libtorch start */
	if ((cfg->modalities & MT_TEXT) && cfg->text_model_dir && open_model_dir(&T))
		goto out;
	if (mt_load() < 0) {
		error("%s", mt_last_error());
		goto out;
	}
	if (resume_id && !td_agree(cfg, !T.writer || check_resumable(&T, resume_id) == 0))
		goto out;
	if (resume_id && T.hf && check_same_folder(&T, resume_id))
		goto out;

	if (!strcmp(cfg->device, "auto"))
		cfg->device = mt_cuda_available() ? "cuda" : "cpu";
	else if (!strncmp(cfg->device, "cuda", 4) && !mt_cuda_available()) {
		error("--device %s: CUDA is not available in this build or machine", cfg->device);
		goto out;
	}
	if (cfg->dist && !strncmp(cfg->device, "cuda", 4)) {
		/* a rank on CUDA: the GPU of its LOCAL_RANK */
		snprintf(T.device, sizeof(T.device), "cuda:%d", cfg->local_rank);
		cfg->device = T.device;
	}
	if (cfg->threads > 0 && mt_set_num_threads(cfg->threads)) {
		error("--threads %d: %s", cfg->threads, mt_last_error());
		goto out;
	}
	if (cfg->amp && strncmp(cfg->device, "cuda", 4))
		warning("--amp has an effect on CUDA only");

	if (cfg->modalities & MT_TEXT) {
		/* Rank 0 first: it may register or build the vocab the others read. */
		if (T.writer) {
			ok = resolve_vocab(&T, cache_dir, resume_id, &vocab_path, &vocab_id) == 0;
			if (!td_agree(cfg, ok) || !ok)
				goto out;
		} else {
			if (!td_agree(cfg, 1))
				goto out;
			if (!resume_id && cfg->vocab)
				vocab_path = xstrdup(cfg->vocab);
			else if (resolve_vocab(&T, cache_dir, resume_id, &vocab_path, &vocab_id))
				goto out;
		}
		if (tok_load(&T.tok, vocab_path))
			goto out;
		cfg->vocab = vocab_path;
		if (T.hf) {
			tok_set_lowercase(T.tok, T.hf->lowercase);
			if (tok_vocab_size(T.tok) > T.hf->vocab_size) {
				error("vocab '%s' has %d tokens, more than the %d word embeddings of '%s'",
				      vocab_path, tok_vocab_size(T.tok), T.hf->vocab_size, T.hf->config_path);
				goto out;
			}
		}
	}
	static const char *const names[3] = { "train", "validate", "test" };
	for (i = 0; i < 3; i++) {
		if (load_split(&T, &T.split[i], names[i]))
			goto out;
		counts[i] = (int)T.split[i].n;
	}
	if (!counts[0] || !counts[1]) {
		error("no labelled posts in the %s split%s: ingest train and validate files first",
		      !counts[0] ? "train" : "validate",
		      (cfg->modalities & MT_IMAGE) && cfg->missing_image == MISSING_SKIP ?
		      " with an 'ok' image (or use --missing-image blank)" : "");
		goto out;
	}
	if (cfg->class_weights_balanced)
		T.class_weights = balanced_weights(&T.split[0], T.C);
	if (cfg->loader_only) {
		ret = loader_only(&T, cache_dir);
		goto out;
	}

	/* Rank 0 alone creates (or reopens) the runs row; the others learn its id. */
	ok = 1;
	if (resume_id) {
		T.run_id = resume_id;
		if (T.writer && tdb_resume_run(db, resume_id))
			ok = 0;
	} else if (T.writer) {
		run_config_json(cfg, &json);
		json.buf[--json.len] = 0; /* drop the closing brace: append argv */
		sb_addf(&json, ", \"argv\": %s}", argv_json);
		if (tdb_create_run(db, cfg, json.buf, vocab_id, counts, mt_torch_version(), &T.run_id))
			ok = 0;
	}
	if (ok && T.writer && (cfg->dist || resume_id) &&
	    tdb_set_dist(db, T.run_id, cfg->world_size, cfg->dist ? mt_dist_backend(cfg->dist) : NULL))
		ok = 0;
	if (!td_agree(cfg, ok) || !ok || td_broadcast(cfg, &T.run_id, sizeof(T.run_id)))
		goto out;
	*run_id = T.run_id;
	snprintf(T.dir, sizeof(T.dir), "%s/runs/%lld", cache_dir, (long long)T.run_id);
	snprintf(T.best_path, sizeof(T.best_path), "%s/best.ckpt", T.dir);
	snprintf(T.last_path, sizeof(T.last_path), "%s/last.ckpt", T.dir);
	why = "cannot create the checkpoint directory";
	if (T.writer && (mkdir_p(T.dir, 0755) ||
			 tdb_set_checkpoints(db, T.run_id, T.best_path, T.last_path)))
		goto fail_status;
	if (T.writer) {
		/* what a process killed while saving left behind */
		remove_matching(T.dir, stale_checkpoint_tmp, NULL);
		td_account_forget(T.dir);  /* an earlier attempt's, never recorded */
	}
	if (!cfg->quiet && cfg->dist)
		fprintf(stderr, "run %lld: %s on %d train, %d validate, %d test posts (%d ranks over %s, "
				"global batch %d, %s, %d workers each)\n", (long long)T.run_id,
			resume_id ? "resuming" : "training", counts[0], counts[1], counts[2],
			cfg->world_size, mt_dist_backend(cfg->dist), cfg->batch_size * cfg->world_size,
			cfg->device, cfg->workers);
	else if (!cfg->quiet)
		fprintf(stderr, "run %lld: %s on %d train, %d validate, %d test posts (%s, %d workers)\n",
			(long long)T.run_id, resume_id ? "resuming" : "training", counts[0], counts[1],
			counts[2], cfg->device, cfg->workers);

	why = "cannot build the model (see the run's output)";
	ok = make_model(&T) == 0;
	if (ok) {
		why = "cannot start the data loader";
		ok = make_loaders(&T, cache_dir) == 0;
	}
	if (ok && resume_id) {
		why = "cannot load the last checkpoint";
		ok = load_last(&T) == 0;
	} else if (ok) {
		fresh_state(&T);
	}
	if (ok && cfg->dist) {
		/* Replicas start from rank 0's weights; dropout draws differ per rank. */
		why = "cannot make the model a replica of rank 0's";
		if (mt_dist_attach(cfg->dist, T.model, cfg->sync_bn) ||
		    mt_manual_seed(cfg->seed + 7919 * (uint64_t)cfg->rank + (uint64_t)T.st.global_step))
			ok = !error("%s: %s", why, mt_last_error());
	}
	if (!td_agree(cfg, ok)) {
		if (ok)
			why = "another rank failed to set up";
		goto fail_status;
	}
	T.t_session = now_seconds();
	T.last_heartbeat = T.t_session;

	ret = train_loop(&T);
	goto out;

fail_status:
	train_record_failure(&T, why);
	ret = -1;
out:
	for (i = 0; i < 3; i++) {
		loader_free(T.ld[i]);
		split_release(&T.split[i]);
	}
	mt_model_free(T.model);
	tok_free(T.tok);
	free(T.class_weights);
	free(T.shard_probs);
	sb_release(&json);
	if (ret != 0 && !T.run_id)
		ret = -1;
	/* cfg->vocab pointed into vocab_path, the folder's strings into T.hf:
	 * the caller is done with cfg. */
	cfg->vocab = NULL;
	if (cfg->device == T.device)
		cfg->device = "auto";
	free(vocab_path);
	if (T.hf) {
		if (cfg->text_weights == T.hf->weights_path)
			cfg->text_weights = NULL;
		cfg->text_model = T.given_model;
		cfg->text_model_dir = T.given_dir;
		cfg->text_config_sha256 = cfg->text_weights_sha256 = NULL;
		hf_model_free(T.hf);
	}
	return ret;
}

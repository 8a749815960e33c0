/*
 * train_config: a run's settings (defaults, the "seed" preset, the JSON kept
 * in runs.config), finding runs by id or name, and marking runs whose
 * process died as crashed.
 */
#include "train.h"
#include "db.h"
#include "torch/mt.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

void run_config_defaults(struct run_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->label = "6way";
	cfg->num_classes = 6;
	cfg->modalities = MT_TEXT | MT_IMAGE;
	cfg->fusion = MT_FUSION_MAX;
	cfg->text_model = "bert-base";
	cfg->image_model = "resnet50";
	cfg->lr = 1e-5;
	cfg->epochs = 20;
	cfg->batch_size = 32;
	cfg->optimizer = MT_ADAM;
	cfg->weight_decay = 0;
	cfg->momentum = 0.9;
	cfg->scheduler = SCHED_PLATEAU;
	cfg->plateau_factor = 0.5;
	cfg->plateau_patience = 1;
	cfg->min_lr = 1e-6;
	cfg->early_stop = 5;
	cfg->dropout = 0.3;
	cfg->max_len = 80;
	cfg->image_size = 224;
	cfg->resize = RESIZE_SQUASH;
	cfg->class_weights_balanced = 1;
	cfg->seed = 1;
	cfg->device = "auto";
	cfg->missing_image = MISSING_SKIP;
	cfg->prep_cache = 0;
}

int run_config_preset(struct run_config *cfg, const char *name)
{
	if (strcmp(name, "seed"))
		return -1;
	/* The original recipe (DESIGN.md): BERT [CLS] -> dropout -> Linear(768, C),
	 * ResNet50 logits -> dropout -> Linear(1000, C), element-wise max. */
	cfg->preset = "seed";
	cfg->modalities = MT_TEXT | MT_IMAGE;
	cfg->text_model = "bert-base";
	cfg->image_model = "resnet50";
	cfg->seed_recipe = 1;
	cfg->fusion = MT_FUSION_MAX;
	cfg->optimizer = MT_ADAM;
	cfg->lr = 1e-5;
	cfg->weight_decay = 0;
	cfg->scheduler = SCHED_PLATEAU;
	cfg->plateau_factor = 0.5;
	cfg->plateau_patience = 1;
	cfg->min_lr = 1e-6;
	cfg->warmup = 0;
	cfg->early_stop = 5;
	cfg->early_stop_delta = 0;
	cfg->epochs = 20;
	cfg->max_len = 80;
	cfg->dropout = 0.3;
	cfg->class_weights_balanced = 1;
	cfg->image_size = 224;
	cfg->resize = RESIZE_SQUASH;
	cfg->grad_clip = 0;
	return 0;
}

const char *fusion_name(int f)
{
	static const char *const n[] = { "max", "sum", "mean", "concat", "gated" };
	return f >= 0 && f < (int)ARRAY_SIZE(n) ? n[f] : "?";
}

const char *optimizer_name(int o)
{
	static const char *const n[] = { "adam", "adamw", "sgd" };
	return o >= 0 && o < (int)ARRAY_SIZE(n) ? n[o] : "?";
}

const char *scheduler_name(int s)
{
	static const char *const n[] = { "plateau", "cosine", "none" };
	return s >= 0 && s < (int)ARRAY_SIZE(n) ? n[s] : "?";
}

static void json_key_str(struct strbuf *sb, const char *k, const char *v)
{
	sb_addf(sb, ", \"%s\": ", k);
	if (v)
		sb_add_json_str(sb, v);
	else
		sb_adds(sb, "null");
}

void run_config_json(const struct run_config *c, struct strbuf *sb)
{
	int i;
	const char *mod = c->modalities == (MT_TEXT | MT_IMAGE) ? "text,image"
			  : c->modalities == MT_TEXT ? "text" : "image";

	sb_adds(sb, "{\"label\": ");
	sb_add_json_str(sb, c->label);
	sb_addf(sb, ", \"num_classes\": %d", c->num_classes);
	json_key_str(sb, "name", c->name);
	json_key_str(sb, "notes", c->notes);
	json_key_str(sb, "preset", c->preset);
	sb_adds(sb, ", \"tags\": [");
	for (i = 0; i < c->ntags; i++) {
		if (i)
			sb_adds(sb, ", ");
		sb_add_json_str(sb, c->tags[i]);
	}
	sb_addc(sb, ']');
	json_key_str(sb, "modalities", mod);
	json_key_str(sb, "fusion", fusion_name(c->fusion));
	json_key_str(sb, "text_model", c->modalities & MT_TEXT ? c->text_model : NULL);
	json_key_str(sb, "text_model_dir", c->modalities & MT_TEXT ? c->text_model_dir : NULL);
	json_key_str(sb, "image_model", c->modalities & MT_IMAGE ? c->image_model : NULL);
	json_key_str(sb, "vocab", c->vocab);
	json_key_str(sb, "text_weights", c->text_weights);
	json_key_str(sb, "image_weights", c->image_weights);
	sb_adds(sb, ", \"freeze\": [");
	sb_adds(sb, (c->freeze & MT_FREEZE_TEXT) ? "\"text\"" : "");
	sb_adds(sb, (c->freeze & MT_FREEZE_TEXT) && (c->freeze & MT_FREEZE_IMAGE) ? ", " : "");
	sb_adds(sb, (c->freeze & MT_FREEZE_IMAGE) ? "\"image\"" : "");
	sb_addc(sb, ']');
	sb_addf(sb, ", \"seed_recipe\": %s", c->seed_recipe ? "true" : "false");
	sb_addf(sb, ", \"lr\": %.17g, \"epochs\": %d, \"batch_size\": %d", c->lr, c->epochs,
		c->batch_size);
	json_key_str(sb, "optimizer", optimizer_name(c->optimizer));
	sb_addf(sb, ", \"weight_decay\": %.17g, \"momentum\": %.17g", c->weight_decay, c->momentum);
	json_key_str(sb, "scheduler", scheduler_name(c->scheduler));
	sb_addf(sb, ", \"plateau_factor\": %.17g, \"plateau_patience\": %d, \"min_lr\": %.17g",
		c->plateau_factor, c->plateau_patience, c->min_lr);
	sb_addf(sb, ", \"warmup\": %d, \"early_stop\": %d, \"early_stop_delta\": %.17g", c->warmup,
		c->early_stop, c->early_stop_delta);
	sb_addf(sb, ", \"dropout\": %.17g, \"max_len\": %d, \"image_size\": %d", c->dropout,
		c->max_len, c->image_size);
	json_key_str(sb, "resize", c->resize == RESIZE_CROP ? "crop" : "squash");
	json_key_str(sb, "class_weights", c->class_weights_balanced ? "balanced" : "none");
	sb_addf(sb, ", \"grad_clip\": %.17g, \"seed\": %llu", c->grad_clip,
		(unsigned long long)c->seed);
	json_key_str(sb, "device", c->device);
	sb_addf(sb, ", \"amp\": %s, \"threads\": %d, \"workers\": %d", c->amp ? "true" : "false",
		c->threads, c->workers);
	json_key_str(sb, "missing_image", c->missing_image == MISSING_BLANK ? "blank" : "skip");
	sb_addf(sb, ", \"limit\": %d, \"prep_cache\": %s", c->limit,
		c->prep_cache ? "true" : "false");
	sb_addf(sb, ", \"text_dropout\": %.17g, \"sync_bn\": %s, \"world_size\": %d",
		c->text_dropout_set ? c->text_dropout : 0.1, c->sync_bn ? "true" : "false",
		c->world_size > 0 ? c->world_size : 1);
	sb_addf(sb, ", \"global_batch_size\": %d}",
		c->batch_size * (c->world_size > 0 ? c->world_size : 1));
}

int run_lookup(struct db *db, const char *spec, int64_t *id)
{
	struct db_stmt *st = NULL;
	long v;
	int rc, n = 0, ret = -1;
	char *end;

	v = strtol(spec, &end, 10);
	if (*spec && !*end && v > 0) {
		if (db_prepare(db, &st, "SELECT id FROM runs WHERE id = ?1"))
			return -1;
		db_bind_int(st, 1, v);
	} else {
		if (db_prepare(db, &st, "SELECT id FROM runs WHERE name = ?1 ORDER BY id"))
			return -1;
		db_bind_text(st, 1, spec, -1);
	}
	while ((rc = db_step(st)) == DB_ROW) {
		*id = db_column_int(st, 0);
		n++;
	}
	if (rc < 0)
		goto out;
	if (n == 0)
		error("no run '%s'", spec);
	else if (n > 1)
		error("run name '%s' is ambiguous (%d runs): give its id", spec, n);
	else
		ret = 0;
out:
	db_finalize(st);
	return ret;
}

static int pid_alive(int64_t pid)
{
	if (pid <= 0)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int train_mark_crashed(struct db *db, double stale_seconds)
{
	struct db_stmt *st = NULL, *up = NULL;
	char host[256] = "";
	int64_t *ids = NULL;
	size_t n = 0, alloc = 0, i;
	int rc, marked = 0;
	double now;

	gethostname(host, sizeof(host) - 1);
	now = (double)time(NULL);
	if (db_prepare(db, &st, "SELECT id, pid, host, heartbeat_at FROM runs WHERE status = 'running'"))
		return -1;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *h = db_column_text(st, 2);
		int same_host = h && !strcmp(h, host);
		double hb = db_column_type(st, 3) == DB_NULL ? 0 : db_column_double(st, 3);
		int dead = same_host ? !pid_alive(db_column_int(st, 1)) : now - hb > stale_seconds;
		/* A reused pid: alive, but silent for far longer than a heartbeat. */
		if (same_host && !dead && hb > 0 && now - hb > 4 * stale_seconds)
			dead = 1;
		if (dead) {
			ALLOC_GROW(ids, n + 1, alloc);
			ids[n++] = db_column_int(st, 0);
		}
	}
	db_finalize(st);
	if (rc < 0) {
		free(ids);
		return -1;
	}
	if (!n)
		return 0;
	if (db_prepare(db, &up, "UPDATE runs SET status = 'crashed', reason = "
				"'the training process stopped without finishing (pid gone, no heartbeat)' "
				"WHERE id = ?1 AND status = 'running'")) {
		free(ids);
		return -1;
	}
	for (i = 0; i < n; i++) {
		db_reset(up);
		db_bind_int(up, 1, ids[i]);
		if (db_step(up) < 0) {
			marked = -1;
			break;
		}
		marked += db_changes(db);
	}
	db_finalize(up);
	free(ids);
	return marked;
}

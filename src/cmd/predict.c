/*
 * mmdb predict --run RUN (--title TEXT [--image FILE] | --tsv FILE): class
 * probabilities from a run's best checkpoint, for posts that need not be in
 * the database.
 */
#include "cmds.h"
#include "../db.h"
#include "../hfmodel.h"
#include "../image.h"
#include "../metrics.h"
#include "../output.h"
#include "../results.h"
#include "../tokenizer.h"
#include "../torch/mt.h"
#include "../train.h"
#include "../util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct post_in {
	char *id, *title, *image; /* image: a file path, or NULL */
};

struct model_info {
	char label[8], device[32], text_model[32], image_model[32], resize[8];
	int modalities, fusion, max_len, image_size, seed_recipe, num_classes;
	double dropout;
	char *vocab, *ckpt;
	char *text_dir;              /* a Hugging Face folder's run: the folder */
	char text_config_sha256[65]; /* and its config.json's hash then */
};

static int read_run(struct db *db, int64_t id, struct model_info *mi)
{
	struct db_stmt *st = NULL;
	int ret = -1;
	const char *s;

	if (db_prepare(db, &st,
		       "SELECT r.label, r.modalities, coalesce(r.fusion, 'max'), r.text_model, "
		       "r.image_model, coalesce(r.max_len, 80), coalesce(r.image_size, 224), r.dropout, "
		       "coalesce(json_extract(r.config, '$.seed_recipe'), 0), "
		       "coalesce(json_extract(r.config, '$.resize'), 'squash'), "
		       "(SELECT path FROM vocabs v WHERE v.id = r.vocab_id), r.checkpoint_best, r.best_epoch, "
		       "r.text_model_dir, r.text_config_sha256 FROM runs r WHERE r.id = ?1"))
		return -1;
	db_bind_int(st, 1, id);
	if (db_step(st) != DB_ROW)
		goto out;
	snprintf(mi->label, sizeof(mi->label), "%s", db_column_text(st, 0));
	mi->num_classes = mi->label[0] - '0';
	s = db_column_text(st, 1);
	mi->modalities = (strstr(s, "text") ? MT_TEXT : 0) | (strstr(s, "image") ? MT_IMAGE : 0);
	s = db_column_text(st, 2);
	mi->fusion = !strcmp(s, "sum") ? MT_FUSION_SUM : !strcmp(s, "mean") ? MT_FUSION_MEAN
		     : !strcmp(s, "concat") ? MT_FUSION_CONCAT : !strcmp(s, "gated") ? MT_FUSION_GATED
		     : MT_FUSION_MAX;
	s = db_column_text(st, 3);
	snprintf(mi->text_model, sizeof(mi->text_model), "%s", s ? s : "bert-base");
	s = db_column_text(st, 4);
	snprintf(mi->image_model, sizeof(mi->image_model), "%s", s ? s : "resnet50");
	mi->max_len = (int)db_column_int(st, 5);
	mi->image_size = (int)db_column_int(st, 6);
	mi->dropout = db_column_double(st, 7);
	mi->seed_recipe = (int)db_column_int(st, 8);
	snprintf(mi->resize, sizeof(mi->resize), "%s", db_column_text(st, 9));
	s = db_column_text(st, 10);
	mi->vocab = s ? xstrdup(s) : NULL;
	s = db_column_text(st, 11);
	mi->ckpt = s ? xstrdup(s) : NULL;
	s = db_column_text(st, 13);
	mi->text_dir = s && (mi->modalities & MT_TEXT) ? xstrdup(s) : NULL;
	s = db_column_text(st, 14);
	snprintf(mi->text_config_sha256, sizeof(mi->text_config_sha256), "%s", s ? s : "");
	if (db_column_type(st, 12) == DB_NULL || !mi->ckpt) {
		error("run %lld has no best checkpoint yet", (long long)id);
		goto out;
	}
	if ((mi->modalities & MT_TEXT) && !mi->vocab) {
		error("run %lld records no vocab", (long long)id);
		goto out;
	}
	ret = 0;
out:
	db_finalize(st);
	return ret;
}

/* A minimal reader of Fakeddit-style TSV (header; '"' quoting with doubled
 * quotes; fields may hold tabs and newlines). Returns the next record's
 * fields (owned by the reader until the next call) or 0 at EOF. */
struct tsv {
	FILE *f;
	struct strbuf field;
	char **fields;
	size_t n, alloc;
};

static int tsv_next(struct tsv *t)
{
	int c, quoted = 0, any = 0;
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->fields[i]);
	t->n = 0;
	sb_reset(&t->field);
	sb_adds(&t->field, "");
	for (;;) {
		c = getc(t->f);
		if (c == EOF && !any)
			return 0;
		any = 1;
		if (quoted) {
			if (c == EOF)
				return -1;
			if (c == '"') {
				int d = getc(t->f);
				if (d == '"') {
					sb_addc(&t->field, '"');
					continue;
				}
				quoted = 0;
				if (d != EOF)
					ungetc(d, t->f);
				continue;
			}
			sb_addc(&t->field, (char)c);
			continue;
		}
		if (c == '"' && t->field.len == 0) {
			quoted = 1;
			continue;
		}
		if (c == '\t' || c == '\n' || c == EOF) {
			if (t->field.len && t->field.buf[t->field.len - 1] == '\r' && c != '\t')
				t->field.buf[--t->field.len] = 0;
			ALLOC_GROW(t->fields, t->n + 1, t->alloc);
			t->fields[t->n++] = xstrdup(t->field.buf);
			sb_reset(&t->field);
			sb_adds(&t->field, "");
			if (c != '\t')
				return 1;
			continue;
		}
		sb_addc(&t->field, (char)c);
	}
}

static int read_tsv(const char *path, struct db *db, const char *cache, struct post_in **out,
		    size_t *nout)
{
	struct tsv t = { 0 };
	struct post_in *p = NULL;
	size_t n = 0, alloc = 0, i;
	int rc, ci = -1, ct = -1, ctitle = -1, cimg = -1, ret = -1;
	struct db_stmt *st = NULL;

	if (!(t.f = fopen(path, "r")))
		return error("cannot open '%s': %s", path, strerror(errno));
	if (tsv_next(&t) != 1) {
		error("'%s': no header line", path);
		goto out;
	}
	for (i = 0; i < t.n; i++) {
		if (!strcmp(t.fields[i], "id")) ci = (int)i;
		else if (!strcmp(t.fields[i], "clean_title")) ct = (int)i;
		else if (!strcmp(t.fields[i], "title")) ctitle = (int)i;
		else if (!strcmp(t.fields[i], "image")) cimg = (int)i;
	}
	if (ct < 0)
		ct = ctitle;
	if (ct < 0) {
		error("'%s': the header has no clean_title or title column", path);
		goto out;
	}
	if (db_prepare(db, &st, "SELECT sha256 FROM images WHERE post_id = ?1 AND status = 'ok'"))
		goto out;
	while ((rc = tsv_next(&t)) == 1) {
		struct post_in *q;
		if (t.n == 1 && !*t.fields[0])
			continue; /* blank line */
		if ((int)t.n <= ct) {
			error("'%s': record %zu has %zu fields", path, n + 1, t.n);
			goto out;
		}
		ALLOC_GROW(p, n + 1, alloc);
		q = &p[n++];
		memset(q, 0, sizeof(*q));
		q->id = xstrdup(ci >= 0 && ci < (int)t.n ? t.fields[ci] : "");
		q->title = xstrdup(t.fields[ct]);
		if (cimg >= 0 && cimg < (int)t.n && *t.fields[cimg]) {
			q->image = xstrdup(t.fields[cimg]);
		} else if (*q->id) {
			db_reset(st);
			db_bind_text(st, 1, q->id, -1);
			if (db_step(st) == DB_ROW) {
				struct strbuf sb = STRBUF_INIT;
				const char *sha = db_column_text(st, 0);
				sb_addf(&sb, "%s/objects/%.2s/%s", cache, sha, sha);
				q->image = sb_detach(&sb);
			}
		}
	}
	if (rc < 0) {
		error("'%s': a quoted field does not end", path);
		goto out;
	}
	*out = p;
	*nout = n;
	p = NULL;
	ret = 0;
out:
	if (p) {
		for (i = 0; i < n; i++) {
			free(p[i].id);
			free(p[i].title);
			free(p[i].image);
		}
		free(p);
	}
	db_finalize(st);
	for (i = 0; i < t.n; i++)
		free(t.fields[i]);
	free(t.fields);
	sb_release(&t.field);
	fclose(t.f);
	return ret;
}

/* The largest image file read (as images fetch/import's --max-bytes default). */
#define MAX_IMAGE_BYTES (32 << 20)

/* Pixels of an image file, or blank (with a warning) when it cannot be read. */
static void image_pixels(const char *path, int S, int mode, uint8_t *out)
{
	FILE *f;
	uint8_t *data = NULL;
	size_t n = 0, cap = 0, got;
	char why[256] = "";

	memset(out, 0, (size_t)S * S * 3);
	if (!path)
		return;
	if (!(f = fopen(path, "rb"))) {
		warning("cannot open '%s': %s; using a blank image", path, strerror(errno));
		return;
	}
	do {
		if (n > MAX_IMAGE_BYTES) {
			fclose(f);
			free(data);
			warning("'%s' is larger than %d MiB; using a blank image", path,
				MAX_IMAGE_BYTES >> 20);
			return;
		}
		if (n + 65536 > cap)
			data = xrealloc(data, cap = (n + 65536) * 2);
		got = fread(data + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	if (img_decode_resize(data, n, S, mode, out, why, sizeof(why))) {
		memset(out, 0, (size_t)S * S * 3);
		warning("'%s': %s; using a blank image", path, why);
	}
	free(data);
}

int cmd_predict(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "title", required_argument, NULL, 't' },
		{ "image", required_argument, NULL, 'i' },
		{ "tsv", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = NULL, *title = NULL, *image = NULL, *tsv = NULL, *device = "cpu";
	struct model_info mi = { 0 };
	struct post_in *posts = NULL;
	struct tokenizer *tok = NULL;
	struct hf_model *hf = NULL;
	mt_model *model = NULL;
	struct mt_config mc;
	struct table *t = NULL;
	char **names = NULL;
	size_t n = 0, i;
	int c, fmt = FMT_TABLE, k, C = 0, ret = 1;
	int64_t id;
	int32_t *ids = NULL;
	uint8_t *mask = NULL, *pix = NULL;
	float *probs = NULL;

	while ((c = getopt_long(argc, argv, "r:t:i:s:d:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': spec = optarg; break;
		case 't': title = optarg; break;
		case 'i': image = optarg; break;
		case 's': tsv = optarg; break;
		case 'd': device = optarg; break;
		case 'f':
			if ((fmt = output_format_parse(optarg)) < 0)
				return usage_error("predict: unknown format '%s' (table, csv, json)", optarg);
			break;
		case 'h':
			printf("usage: mmdb predict --run RUN (--title TEXT [--image FILE] | --tsv FILE)\n"
			       "                    [--device cpu|cuda[:N]] [--format table|csv|json]\n\n"
			       "Class probabilities from the run's best checkpoint. A TSV needs a header "
			       "with\nclean_title (or title); its id column finds the post's image in the "
			       "cache,\nan 'image' column may give image files.\n");
			return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return usage_error("predict: unexpected argument '%s'", argv[optind]);
	if (!spec || (!title && !tsv) || (title && tsv) || (image && tsv))
		return usage_error("predict: give --run RUN and either --title TEXT [--image FILE] or --tsv FILE");
	if (mt_load() < 0) {
		error("predict: %s", mt_last_error());
		goto out;
	}
	if (run_lookup(ctx->db, spec, &id) || read_run(ctx->db, id, &mi))
		goto out;
	C = mi.num_classes;
	if (tsv) {
		if (read_tsv(tsv, ctx->db, ctx->cache_dir, &posts, &n))
			goto out;
	} else {
		posts = xcalloc(1, sizeof(*posts));
		posts[0].id = xstrdup("");
		posts[0].title = xstrdup(title);
		posts[0].image = image ? xstrdup(image) : NULL;
		n = 1;
	}
	if ((mi.modalities & MT_IMAGE) && title && !image)
		warning("run %lld uses images: without --image the image is blank", (long long)id);
	if ((mi.modalities & MT_TEXT) && tok_load(&tok, mi.vocab))
		goto out;
	/* a folder's run: its shape again, and its casing; the weights are the checkpoint's */
	if (mi.text_dir) {
		if (hf_model_open(mi.text_dir, &hf))
			goto out;
		if (strcmp(hf->config_sha256, mi.text_config_sha256)) {
			error("'%s' changed since run %lld was trained (sha256 %.12s..., the run's %.12s...)",
			      hf->config_path, (long long)id, hf->config_sha256, mi.text_config_sha256);
			goto out;
		}
		tok_set_lowercase(tok, hf->lowercase);
	}
	memset(&mc, 0, sizeof(mc));
	mc.num_classes = C;
	mc.modalities = mi.modalities;
	mc.fusion = mi.fusion;
	mc.text_model = mi.text_model;
	mc.vocab_size = hf ? hf->vocab_size : tok ? tok_vocab_size(tok) : 0;
	if (hf)
		mc.text_shape = hf->shape;
	mc.max_len = mi.max_len;
	mc.image_model = mi.image_model;
	mc.image_size = mi.image_size;
	mc.seed_recipe = mi.seed_recipe;
	mc.dropout = (float)mi.dropout;
	mc.lr = 1e-5;
	mc.device = device;
	if (mt_model_new(&mc, &model)) {
		error("cannot build the model: %s", mt_last_error());
		goto out;
	}
	{
		void *extra = NULL;
		size_t len = 0;
		if (mt_checkpoint_load(model, mi.ckpt, &extra, &len)) {
			error("cannot load '%s': %s", mi.ckpt, mt_last_error());
			goto out;
		}
		free(extra);
	}
	if (results_label_names(ctx->db, mi.label, &names) != C)
		goto out;
	ids = xcalloc((size_t)mi.max_len, sizeof(int32_t));
	mask = xcalloc((size_t)mi.max_len, 1);
	pix = xcalloc((size_t)mi.image_size * mi.image_size * 3, 1);
	probs = xcalloc((size_t)C, sizeof(float));
	t = table_new(4 + C);
	table_set_header(t, 0, "id");
	table_set_header(t, 1, "title");
	table_set_header(t, 2, "pred");
	table_set_header(t, 3, "prob");
	table_set_precision(t, 3, 4);
	for (k = 0; k < C; k++) {
		table_set_header(t, 4 + k, names[k]);
		table_set_precision(t, 4 + k, 4);
	}
	for (i = 0; i < n; i++) {
		struct mt_batch b = { 0 };
		int pred;
		b.n = 1;
		if (mi.modalities & MT_TEXT) {
			tok_encode(tok, posts[i].title, strlen(posts[i].title), mi.max_len, ids, mask);
			b.max_len = mi.max_len;
			b.input_ids = ids;
			b.attention_mask = mask;
		}
		if (mi.modalities & MT_IMAGE) {
			image_pixels(posts[i].image, mi.image_size, !strcmp(mi.resize, "crop") ?
				     IMG_CROP : IMG_SQUASH, pix);
			b.image_size = mi.image_size;
			b.pixels = pix;
		}
		if (mt_eval_batch(model, &b, probs, NULL)) {
			error("evaluating '%s': %s", posts[i].title, mt_last_error());
			goto out;
		}
		pred = metrics_argmax(probs, C);
		table_add_row(t);
		table_cell_text(t, 0, posts[i].id);
		table_cell_text(t, 1, posts[i].title);
		table_cell_text(t, 2, names[pred]);
		table_cell_double(t, 3, probs[pred]);
		for (k = 0; k < C; k++)
			table_cell_double(t, 4 + k, probs[k]);
	}
	table_print(t, stdout, fmt);
	ret = 0;
out:
	for (i = 0; i < n; i++) {
		free(posts[i].id);
		free(posts[i].title);
		free(posts[i].image);
	}
	free(posts);
	table_free(t);
	results_free_names(names, C);
	mt_model_free(model);
	tok_free(tok);
	hf_model_free(hf);
	free(mi.vocab);
	free(mi.ckpt);
	free(mi.text_dir);
	free(ids);
	free(mask);
	free(pix);
	free(probs);
	return ret;
}

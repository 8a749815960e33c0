/*
 * model: `mmdb model list` (the presets with parameter counts) and
 * `mmdb model inspect FILE` (a safetensors file's tensors and the preset it
 * matches). `model forward` (not in --help) runs one backbone of mmdb on
 * inputs from a safetensors file, for the parity tests against PyTorch;
 * `model bench` (not in --help either) times training steps.
 */
#include "cmds.h"
#include "model_fetch.h"
#include "../hfmodel.h"
#include "../output.h"
#include "../safetensors.h"
#include "../torch/mt.h"
#include "../util.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define BERT_UNCASED_VOCAB 30522

static void model_usage(FILE *f)
{
	fprintf(f,
		"usage: mmdb model list [--vocab-size N] [--format table|csv|json]\n"
		"       mmdb model inspect FILE|DIR [--format table|csv|json]\n");
	model_fetch_usage(f);
	fprintf(f,
		"\n"
		"list     the text (BERT) and image (ResNet) presets with their parameter\n"
		"         counts (BERT with N tokens, 30522 by default; ResNet with a\n"
		"         1000-class fc), then the Hugging Face BERT folders in the cache\n"
		"         (<cache>/models/*/ with a config.json: mmdb model fetch hf:...)\n"
		"inspect  the tensors of a safetensors file (name, dtype, shape), then\n"
		"         in table format the totals and which preset the file matches;\n"
		"         of a Hugging Face BERT folder, what mmdb reads from it (shape,\n"
		"         activation, casing, vocab, weights), after checking all of it\n"
		"fetch    downloads pretrained vocab and weights into the cache, verified\n"
		"         by size and sha256 (mmdb model fetch -h)\n");
}

static int parse_format(const char *s, int *fmt)
{
	if ((*fmt = output_format_parse(s)) < 0)
		return usage_error("model: unknown format '%s' (table, csv, json)", s);
	return 0;
}

/* The Hugging Face folders under <cache>/models/, as rows of the list. */
static int list_folders(struct table *t, const char *cache_dir)
{
	struct strbuf dir = STRBUF_INIT, sub = STRBUF_INIT;
	struct dirent **names = NULL;
	int n;
	sb_addf(&dir, "%s/models", cache_dir);
	n = scandir(dir.buf, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		struct hf_model *hf = NULL;
		char shape[160];
		sb_reset(&sub);
		sb_addf(&sub, "%s/%s", dir.buf, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && hf_is_model_dir(sub.buf)) {
			table_add_row(t);
			table_cell_text(t, 0, sub.buf);
			table_cell_text(t, 1, "text");
			if (hf_model_open(sub.buf, &hf) == 0) {
				snprintf(shape, sizeof shape, "%d layers, hidden %d, %d heads, FF %d (%s, %s)",
					 hf->shape.layers, hf->shape.hidden, hf->shape.heads, hf->shape.ff, hf->act,
					 hf->lowercase ? "uncased" : "cased");
				table_cell_text(t, 2, shape);
				table_cell_int(t, 3, hf->params);
			} else {
				table_cell_text(t, 2, "unusable (see the message above)");
			}
			hf_model_free(hf);
		}
		free(names[i]);
	}
	free(names);
	sb_release(&dir);
	sb_release(&sub);
	return 0;
}

static int model_list(int argc, char **argv, const char *cache_dir)
{
	static const struct option opts[] = {
		{ "vocab-size", required_argument, NULL, 'V' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, fmt = FMT_TABLE, vocab = BERT_UNCASED_VOCAB, ret = 0;
	while ((c = getopt_long(argc, argv, "V:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			if (parse_int(optarg, 1, 10000000, "--vocab-size", &vocab) < 0)
				return 2;
			break;
		case 'f':
			if (parse_format(optarg, &fmt))
				return 2;
			break;
		case 'h': model_usage(stdout); return 0;
		default: model_usage(stderr); return 2;
		}
	}
	if (optind < argc)
		return usage_error("model list: unexpected argument '%s'", argv[optind]);
	struct table *t = table_new(4);
	table_set_header(t, 0, "name");
	table_set_header(t, 1, "kind");
	table_set_header(t, 2, "shape");
	table_set_header(t, 3, "params");
	const char *name;
	int kind;
	for (int i = 0; (name = mt_preset_name(i, &kind)); i++) {
		struct mt_preset_info pi;
		int64_t n;
		char shape[128];
		if (mt_preset_get(name, &pi) < 0 || mt_preset_params(name, vocab, &n) < 0) {
			ret = error("model list: %s", mt_last_error());
			break;
		}
		if (kind == MT_TEXT)
			snprintf(shape, sizeof shape, "%d layers, hidden %d, %d heads, FF %d", pi.layers, pi.hidden,
				 pi.heads, pi.ff);
		else
			snprintf(shape, sizeof shape, "%s %d-%d-%d-%d, width %d", pi.bottleneck ? "bottleneck" : "basic",
				 pi.blocks[0], pi.blocks[1], pi.blocks[2], pi.blocks[3], pi.width);
		table_add_row(t);
		table_cell_text(t, 0, name);
		table_cell_text(t, 1, kind == MT_TEXT ? "text" : "image");
		table_cell_text(t, 2, shape);
		table_cell_int(t, 3, n);
	}
	if (!ret)
		ret = list_folders(t, cache_dir);
	if (!ret)
		table_print(t, stdout, fmt);
	table_free(t);
	return ret ? 1 : 0;
}

static const struct st_tensor *find_any(const struct st_file *f, const char *a, const char *b)
{
	const struct st_tensor *t = st_find(f, a);
	return t ? t : st_find(f, b);
}

/* How many blocks "<prefix>N." there are (the largest N + 1). */
static int count_blocks(const struct st_file *f, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < f->n; i++) {
		const char *s = f->t[i].name;
		if (strncmp(s, prefix, pl))
			continue;
		char *end;
		long k = strtol(s + pl, &end, 10);
		if (end != s + pl && *end == '.' && k >= 0 && k < 10000 && k + 1 > n)
			n = (int)k + 1;
	}
	return n;
}

/* The preset whose architecture the file holds, written to buf ("" for none). */
static void match_preset(const struct st_file *f, char *buf, size_t n)
{
	const char *name;
	int kind;
	buf[0] = 0;
	for (int i = 0; (name = mt_preset_name(i, &kind)); i++) {
		struct mt_preset_info pi;
		if (mt_preset_get(name, &pi) < 0)
			continue;
		if (kind == MT_TEXT) {
			const char *pre[] = {"bert.", ""};
			for (int p = 0; p < 2; p++) {
				char k[128];
				snprintf(k, sizeof k, "%sembeddings.word_embeddings.weight", pre[p]);
				const struct st_tensor *w = st_find(f, k);
				snprintf(k, sizeof k, "%sencoder.layer.0.intermediate.dense.weight", pre[p]);
				const struct st_tensor *ff = st_find(f, k);
				snprintf(k, sizeof k, "%sencoder.layer.", pre[p]);
				if (w && ff && w->ndim == 2 && ff->ndim == 2 && w->shape[1] == pi.hidden &&
				    ff->shape[0] == pi.ff && count_blocks(f, k) == pi.layers) {
					snprintf(buf, n, "%s", name);
					return;
				}
			}
		} else {
			const char *pre[] = {"resnet.", ""};
			for (int p = 0; p < 2; p++) {
				char k[128];
				snprintf(k, sizeof k, "%sconv1.weight", pre[p]);
				const struct st_tensor *c1 = st_find(f, k);
				snprintf(k, sizeof k, "%slayer1.0.conv3.weight", pre[p]);
				int bott = st_find(f, k) != NULL;
				if (!c1 || c1->ndim != 4 || c1->shape[0] != pi.width || bott != pi.bottleneck)
					continue;
				int same = 1;
				for (int l = 0; l < 4; l++) {
					snprintf(k, sizeof k, "%slayer%d.", pre[p], l + 1);
					same &= count_blocks(f, k) == pi.blocks[l];
				}
				if (same) {
					snprintf(buf, n, "%s", name);
					return;
				}
			}
		}
	}
}

/* model inspect DIR: what mmdb reads from a Hugging Face folder, once checked. */
static int inspect_folder(const char *dir, int fmt)
{
	struct hf_model *hf;
	char buf[128], sha[65];
	if (hf_model_open(dir, &hf) || hf_model_weights_sha256(hf, sha)) {
		hf_model_free(hf);
		return 1;
	}
	struct table *t = table_new(2);
	table_set_header(t, 0, "field");
	table_set_header(t, 1, "value");
#define ROW(k, ...) do { snprintf(buf, sizeof buf, __VA_ARGS__); table_add_row(t); \
		table_cell_text(t, 0, k); table_cell_text(t, 1, buf); } while (0)
	ROW("folder", "%s", hf->dir);
	ROW("model_type", "%s", hf->model_type);
	ROW("shape", "%s", hf->name);
	ROW("num_hidden_layers", "%d", hf->shape.layers);
	ROW("hidden_size", "%d", hf->shape.hidden);
	ROW("num_attention_heads", "%d", hf->shape.heads);
	ROW("intermediate_size", "%d", hf->shape.ff);
	ROW("max_position_embeddings", "%d", hf->shape.max_positions);
	ROW("type_vocab_size", "%d", hf->shape.type_vocab);
	ROW("layer_norm_eps", "%g", hf->shape.layer_norm_eps);
	ROW("hidden_act", "%s", hf->act);
	ROW("vocab_size", "%d", hf->vocab_size);
	ROW("vocab_tokens", "%d", hf->vocab_lines);
	ROW("do_lower_case", "%s", hf->lowercase ? "true" : "false");
	ROW("tensor_prefix", "%s", hf->prefix[0] ? hf->prefix : "(none)");
	ROW("pooler", "%s", hf->has_pooler ? "present (not used)" : "absent");
	ROW("weights_dtype", "%s", st_dtype_name(hf->weights_dtype));
	ROW("params", "%lld", (long long)hf->params);
	ROW("config_sha256", "%s", hf->config_sha256);
	ROW("weights_sha256", "%s", sha);
#undef ROW
	table_print(t, stdout, fmt);
	table_free(t);
	if (fmt == FMT_TABLE)
		printf("\nmmdb run --text-model %s\n", hf->dir);
	hf_model_free(hf);
	return 0;
}

static int model_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, fmt = FMT_TABLE;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (parse_format(optarg, &fmt))
				return 2;
			break;
		case 'h': model_usage(stdout); return 0;
		default: model_usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc)
		return usage_error("model inspect: give one safetensors file or model folder");
	if (hf_is_model_dir(argv[optind]))
		return inspect_folder(argv[optind], fmt);
	struct st_file *f;
	if (st_open(argv[optind], &f, NULL, 0) < 0)
		return 1;
	struct table *t = table_new(4);
	table_set_header(t, 0, "name");
	table_set_header(t, 1, "dtype");
	table_set_header(t, 2, "shape");
	table_set_header(t, 3, "bytes");
	uint64_t params = 0, bytes = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct st_tensor *x = &f->t[i];
		struct strbuf sh = STRBUF_INIT;
		sb_addc(&sh, '[');
		for (int d = 0; d < x->ndim; d++)
			sb_addf(&sh, "%s%lld", d ? ", " : "", (long long)x->shape[d]);
		sb_addc(&sh, ']');
		table_add_row(t);
		table_cell_text(t, 0, x->name);
		table_cell_text(t, 1, st_dtype_name(x->dtype));
		table_cell_text(t, 2, sh.buf);
		table_cell_int(t, 3, (int64_t)x->nbytes);
		sb_release(&sh);
		params += st_numel(x);
		bytes += x->nbytes;
	}
	table_print(t, stdout, fmt);
	table_free(t);
	if (fmt == FMT_TABLE) {
		char preset[64];
		match_preset(f, preset, sizeof preset);
		printf("\n%zu tensors, %llu parameters, %llu bytes of data\n", f->n, (unsigned long long)params,
		       (unsigned long long)bytes);
		for (size_t i = 0; i < f->n_meta; i++)
			printf("metadata %s = %s\n", f->meta_key[i], f->meta_val[i]);
		printf("preset: %s\n", preset[0] ? preset : "none matches");
	}
	st_close(f);
	return 0;
}

/* Copies a tensor of the expected dtype and rank out of f; NULL if absent. */
static const void *input(const struct st_file *f, const char *name, int dtype, int ndim, const int64_t **shape)
{
	const struct st_tensor *t = st_find(f, name);
	if (!t)
		return NULL;
	if (t->dtype != dtype || t->ndim != ndim) {
		error("model forward: input '%s' must be %s of rank %d", name, st_dtype_name(dtype), ndim);
		return NULL;
	}
	*shape = t->shape;
	return st_data(f, t);
}

/*
 * model forward (--text PRESET | --image PRESET) --weights W --inputs IN --out OUT:
 * IN holds input_ids (I32, B x L) and attention_mask (U8, B x L), or pixels
 * (U8, B x S x S x 3); OUT receives "features" (F32): the [CLS] hidden state
 * (B x H), or the ResNet's 1000 fc logits (B x 1000).
 */
static int model_forward(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "text", required_argument, NULL, 't' },
		{ "image", required_argument, NULL, 'i' },
		{ "weights", required_argument, NULL, 'w' },
		{ "inputs", required_argument, NULL, 'I' },
		{ "out", required_argument, NULL, 'o' },
		{ 0 },
	};
	const char *text = NULL, *image = NULL, *weights = NULL, *inputs = NULL, *out = NULL;
	int c, ret = 1;
	while ((c = getopt_long(argc, argv, "t:i:w:I:o:", opts, NULL)) != -1) {
		switch (c) {
		case 't': text = optarg; break;
		case 'i': image = optarg; break;
		case 'w': weights = optarg; break;
		case 'I': inputs = optarg; break;
		case 'o': out = optarg; break;
		default: return 2;
		}
	}
	if (text && !weights && hf_is_model_dir(text)) {
		static char wpath[4200];
		snprintf(wpath, sizeof wpath, "%s/model.safetensors", text);
		weights = wpath;
	}
	if (!!text == !!image || !weights || !inputs || !out)
		return usage_error("model forward: needs --text or --image, --weights, --inputs and --out");
	struct st_file *in = NULL, *w = NULL;
	struct hf_model *hf = NULL;
	mt_model *m = NULL;
	float *feat = NULL;
	if (text && hf_is_model_dir(text) && hf_model_open(text, &hf))
		return 1;
	if (st_open(inputs, &in, NULL, 0) < 0 || st_open(weights, &w, NULL, 0) < 0)
		goto out;
	struct mt_config cfg = {0};
	struct mt_batch b = {0};
	const int64_t *sh = NULL;
	cfg.num_classes = 2;
	cfg.dropout = 0;
	cfg.optimizer = MT_ADAM;
	cfg.lr = 1e-3;
	cfg.device = getenv("MMDB_DEVICE") ? getenv("MMDB_DEVICE") : "cpu";
	if (text) {
		const struct st_tensor *we = find_any(w, "bert.embeddings.word_embeddings.weight",
						      "embeddings.word_embeddings.weight");
		if (!we || we->ndim != 2) {
			error("model forward: '%s' has no BERT word embeddings", weights);
			goto out;
		}
		cfg.modalities = MT_TEXT;
		cfg.text_model = text;
		cfg.vocab_size = (int)we->shape[0];
		if (hf) {
			cfg.text_model = hf->name;
			cfg.text_shape = hf->shape;
		}
		b.input_ids = input(in, "input_ids", ST_I32, 2, &sh);
		if (!b.input_ids) {
			error("model forward: '%s' has no input_ids", inputs);
			goto out;
		}
		b.n = (int)sh[0];
		b.max_len = (int)sh[1];
		b.attention_mask = input(in, "attention_mask", ST_U8, 2, &sh);
		if (!b.attention_mask || sh[0] != b.n || sh[1] != b.max_len) {
			error("model forward: '%s' needs an attention_mask like input_ids", inputs);
			goto out;
		}
		cfg.max_len = b.max_len;
	} else {
		cfg.modalities = MT_IMAGE;
		cfg.image_model = image;
		cfg.seed_recipe = 1; /* keeps the ResNet's fc */
		b.pixels = input(in, "pixels", ST_U8, 4, &sh);
		if (!b.pixels || sh[1] != sh[2] || sh[3] != 3) {
			error("model forward: '%s' needs pixels (U8, B x S x S x 3)", inputs);
			goto out;
		}
		b.n = (int)sh[0];
		b.image_size = cfg.image_size = (int)sh[1];
	}
	char report[8192];
	if (mt_model_new(&cfg, &m) < 0 ||
	    mt_model_load_weights(m, weights, text ? MT_PART_TEXT : MT_PART_IMAGE, report, sizeof report) < 0) {
		error("model forward: %s", mt_last_error());
		goto out;
	}
	fputs(report, stderr);
	size_t n = (size_t)b.n * 4096;
	int dim = 0;
	feat = xmalloc(n * sizeof(float));
	if (mt_forward_features(m, &b, text ? MT_PART_TEXT : MT_PART_IMAGE, feat, n, &dim) < 0) {
		error("model forward: %s", mt_last_error());
		goto out;
	}
	int64_t oshape[2] = {b.n, dim};
	struct st_out o = {"features", ST_F32, 2, oshape, feat};
	if (st_write(out, &o, 1, NULL, 0, NULL, 0) < 0)
		goto out;
	ret = 0;
out:
	free(feat);
	mt_model_free(m);
	st_close(in);
	st_close(w);
	hf_model_free(hf);
	return ret;
}

/* CPU seconds of the whole process (every thread), user and system. */
static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * model bench --text P --image P --size S --batch B --steps N [--warmup W]
 * [--max-len L] [--threads T] [--device D]: training samples/s on a fixed
 * synthetic batch (for tests/bench/bench_train_cpu.sh).
 */
static int model_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "text", required_argument, NULL, 't' },
		{ "image", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "steps", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "max-len", required_argument, NULL, 'L' },
		{ "threads", required_argument, NULL, 'T' },
		{ "device", required_argument, NULL, 'd' },
		{ "amp", no_argument, NULL, 'a' },
		{ "fused", no_argument, NULL, 'F' },
		{ "no-fused", no_argument, NULL, 'N' },
		{ "checkpoint", required_argument, NULL, 'c' },
		{ 0 },
	};
	struct mt_config cfg = {0};
	int c, S = 112, B = 16, steps = 5, warmup = 2, L = 64, threads = 0, ret = 1;
	const char *ckpt = NULL;
	cfg.num_classes = 6;
	cfg.fusion = MT_FUSION_MAX;
	cfg.vocab_size = 30522;
	cfg.dropout = 0.1f;
	cfg.optimizer = MT_ADAM;
	cfg.lr = 1e-5;
	cfg.device = "cpu";
	cfg.seed = 1;
	while ((c = getopt_long(argc, argv, "t:i:s:b:n:w:L:T:d:aFNc:", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 't': cfg.text_model = optarg; cfg.modalities |= MT_TEXT; break;
		case 'i': cfg.image_model = optarg; cfg.modalities |= MT_IMAGE; break;
		case 's': bad = parse_int(optarg, 32, 4096, "--size", &S); break;
		case 'b': bad = parse_int(optarg, 1, 4096, "--batch", &B); break;
		case 'n': bad = parse_int(optarg, 1, 100000, "--steps", &steps); break;
		case 'w': bad = parse_int(optarg, 0, 100000, "--warmup", &warmup); break;
		case 'L': bad = parse_int(optarg, 1, 512, "--max-len", &L); break;
		case 'T': bad = parse_int(optarg, 1, 1024, "--threads", &threads); break;
		case 'd': cfg.device = optarg; break;
		case 'a': cfg.amp = 1; break;
		case 'F': cfg.fused_optimizer = 1; break;
		case 'N': cfg.fused_optimizer = -1; break;
		case 'c': ckpt = optarg; break;
		default: return 2;
		}
		if (bad)
			return 2;
	}
	if (!cfg.modalities)
		return usage_error("model bench: needs --text and/or --image");
	/* --text DIR: a Hugging Face folder's shape and weights */
	struct hf_model *hf = NULL;
	if (cfg.text_model && hf_is_model_dir(cfg.text_model)) {
		if (hf_model_open(cfg.text_model, &hf))
			return 1;
		cfg.text_shape = hf->shape;
		cfg.vocab_size = hf->vocab_size;
		cfg.text_model = hf->name;
	}
	cfg.max_len = L;
	cfg.image_size = S;
	if (threads && mt_set_num_threads(threads) < 0) {
		error("model bench: %s", mt_last_error());
		hf_model_free(hf);
		return 1;
	}
	int32_t *ids = xmalloc((size_t)B * L * sizeof(int32_t)), *labels = xmalloc((size_t)B * sizeof(int32_t));
	uint8_t *mask = xmalloc((size_t)B * L), *px = xmalloc((size_t)B * S * S * 3);
	unsigned r = 1;
	for (size_t i = 0; i < (size_t)B * L; i++) {
		r = r * 1103515245u + 12345u;
		ids[i] = (int32_t)((r >> 8) % (unsigned)cfg.vocab_size);
		mask[i] = 1;
	}
	for (size_t i = 0; i < (size_t)B * S * S * 3; i++) {
		r = r * 1103515245u + 12345u;
		px[i] = (uint8_t)(r >> 16);
	}
	for (int i = 0; i < B; i++)
		labels[i] = i % cfg.num_classes;
	struct mt_batch b = {B, L, ids, mask, S, px, labels};
	mt_model *m = NULL;
	float loss = 0;
	double t0 = now_seconds();
	if (mt_model_new(&cfg, &m) < 0 ||
	    (hf && mt_model_load_weights(m, hf->weights_path, MT_PART_TEXT, NULL, 0) < 0)) {
		error("model bench: %s", mt_last_error());
		goto out;
	}
	double c0 = cpu_seconds();
	for (int i = 0; i < warmup + steps; i++) {
		if (i == warmup) {
			t0 = now_seconds();
			c0 = cpu_seconds();
		}
		if (mt_train_step(m, &b, &loss) < 0) {
			error("model bench: %s", mt_last_error());
			goto out;
		}
		if (i == warmup + steps - 1) {
			double dt = now_seconds() - t0;
			printf("%.3f samples/s (%d steps of %d in %.2f s, %.2f CPU s, %d threads, loss %.4f)\n",
			       steps * B / dt, steps, B, dt, cpu_seconds() - c0, mt_get_num_threads(), loss);
		}
	}
	if (ckpt) {
		/* the step after a checkpoint, then the same step after loading it */
		float a, b2;
		if (mt_checkpoint_save(m, ckpt, "x", 1) < 0 || mt_train_step(m, &b, &a) < 0 ||
		    mt_checkpoint_load(m, ckpt, NULL, NULL) < 0 || mt_train_step(m, &b, &b2) < 0) {
			error("model bench: %s", mt_last_error());
			goto out;
		}
		printf("checkpoint: next-step loss %.6f, after loading %.6f (%s)\n", a, b2,
		       a == b2 ? "identical" : "differs");
	}
	ret = 0;
out:
	mt_model_free(m);
	hf_model_free(hf);
	free(ids);
	free(labels);
	free(mask);
	free(px);
	return ret;
}

int cmd_model(int argc, char **argv, struct mmdb_ctx *ctx)
{
	if (argc < 2) {
		model_usage(stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		model_usage(stdout);
		return 0;
	}
	argc--;
	argv++;
	optind = 0; /* afresh: see main.c */
	/* these call into libtorch: without it, one line saying why, before any work */
	if ((!strcmp(sub, "list") || !strcmp(sub, "inspect") || !strcmp(sub, "forward") ||
	     !strcmp(sub, "bench")) &&
	    !(argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) && mt_load() < 0) {
		error("model %s: %s", sub, mt_last_error());
		return 1;
	}
	if (!strcmp(sub, "list"))
		return model_list(argc, argv, ctx->cache_dir);
	if (!strcmp(sub, "inspect"))
		return model_inspect(argc, argv);
	if (!strcmp(sub, "forward"))
		return model_forward(argc, argv);
	if (!strcmp(sub, "bench"))
		return model_bench(argc, argv);
	if (!strcmp(sub, "fetch"))
		return model_fetch(argc, argv, ctx);
	return usage_error("model: unknown subcommand '%s' (list, inspect, fetch)", sub);
}

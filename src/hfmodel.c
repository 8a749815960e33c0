/*
 * hfmodel: reads and checks a Hugging Face BERT folder (see hfmodel.h).
 *
 * config.json gives the shape. The fields mmdb reads: model_type ("bert"),
 * vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
 * intermediate_size (required), max_position_embeddings (512),
 * type_vocab_size (2), layer_norm_eps (1e-12), hidden_act ("gelu"), the
 * defaults being BertConfig's. Fields that would change the network into
 * one mmdb does not build (position_embedding_type other than "absolute",
 * is_decoder, add_cross_attention) are errors, never ignored. Every size
 * is bounded and the parameter count too, before anything is allocated.
 */
#include "hfmodel.h"
#include "safetensors.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* No real config.json comes near this; a bigger one is refused unread. */
#define HF_MAX_JSON (1u << 20)
/* bert-large is 335M parameters; 2^31 floats are 8 GiB. */
#define HF_MAX_PARAMS (INT64_C(1) << 31)

static const struct {
	const char *name;
	int act;
} acts[] = {
	{ "gelu", MT_ACT_GELU },
	{ "gelu_new", MT_ACT_GELU_TANH },
	{ "gelu_pytorch_tanh", MT_ACT_GELU_TANH },
	{ "gelu_fast", MT_ACT_GELU_TANH },
	{ "relu", MT_ACT_RELU },
	{ "silu", MT_ACT_SILU },
	{ "swish", MT_ACT_SILU },
};

static char *path_join(const char *dir, const char *file)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	char *p = xmalloc(st_add(st_add(n, strlen(file)), 2));
	memcpy(p, dir, n);
	p[n] = '/';
	strcpy(p + n + 1, file);
	return p;
}

int hf_is_model_dir(const char *path)
{
	struct stat st;
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return 0;
	char *cfg = path_join(path, "config.json");
	int ok = !stat(cfg, &st) && S_ISREG(st.st_mode);
	free(cfg);
	return ok;
}

/* A regular file there, or an error naming it and what the folder lacks. */
static int need_file(const char *path, const char *dir)
{
	struct stat st;
	if (stat(path, &st))
		return error("model folder '%s': cannot use '%s': %s", dir, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error("model folder '%s': '%s' is not a regular file", dir, path);
	return 0;
}

/* Parses the JSON object in path (at most HF_MAX_JSON bytes). */
static int load_json(const char *path, json_t **out)
{
	struct stat st;
	json_error_t je;
	*out = NULL;
	if (stat(path, &st))
		return error("cannot open '%s': %s", path, strerror(errno));
	if (st.st_size > HF_MAX_JSON)
		return error("'%s' has %lld bytes: too large for a config (at most %u)", path,
			     (long long)st.st_size, HF_MAX_JSON);
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return error("'%s': line %d: %s", path, je.line, je.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return error("'%s': not a JSON object", path);
	}
	*out = j;
	return 0;
}

/* An integer field in [min, max]; def when absent and not required (def < 0: required). */
static int get_int(json_t *o, const char *path, const char *key, long long def, long long min,
		   long long max, int *out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (def < 0)
			return error("'%s': no %s", path, key);
		*out = (int)def;
		return 0;
	}
	if (!json_is_integer(v))
		return error("'%s': %s must be an integer", path, key);
	long long x = json_integer_value(v);
	if (x < min || x > max)
		return error("'%s': %s %lld is out of range (%lld..%lld)", path, key, x, min, max);
	*out = (int)x;
	return 0;
}

/* A boolean field; def when absent or null. */
static int get_bool(json_t *o, const char *path, const char *key, int def, int *out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return error("'%s': %s must be true or false", path, key);
	*out = json_is_true(v);
	return 0;
}

/* A string field (NULL when absent or null); anything else is an error. */
static int get_str(json_t *o, const char *path, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return error("'%s': %s must be a string", path, key);
	*out = json_string_value(v);
	return 0;
}

static int read_config(struct hf_model *m)
{
	const char *path = m->config_path, *s;
	struct mt_bert_shape *sh = &m->shape;
	json_t *j = NULL;
	double eps = 1e-12;
	int flag = 0, ret = -1;

	if (load_json(path, &j))
		return -1;
	if (get_str(j, path, "model_type", &s))
		goto out;
	if (!s) {
		error("'%s': no model_type (mmdb reads BERT folders: model_type \"bert\")", path);
		goto out;
	}
	if (strcmp(s, "bert")) {
		error("'%s': model_type '%.40s' is not BERT (mmdb reads model_type \"bert\")", path, s);
		goto out;
	}
	snprintf(m->model_type, sizeof m->model_type, "%s", s);
	if (get_int(j, path, "vocab_size", -1, 1, 1000000, &m->vocab_size) ||
	    get_int(j, path, "hidden_size", -1, 1, 8192, &sh->hidden) ||
	    get_int(j, path, "num_hidden_layers", -1, 1, 128, &sh->layers) ||
	    get_int(j, path, "num_attention_heads", -1, 1, 256, &sh->heads) ||
	    get_int(j, path, "intermediate_size", -1, 1, 65536, &sh->ff) ||
	    get_int(j, path, "max_position_embeddings", 512, 1, 65536, &sh->max_positions) ||
	    get_int(j, path, "type_vocab_size", 2, 1, 1024, &sh->type_vocab))
		goto out;
	if (sh->hidden % sh->heads) {
		error("'%s': hidden_size %d is not a multiple of num_attention_heads %d", path, sh->hidden,
		      sh->heads);
		goto out;
	}
	json_t *v = json_object_get(j, "layer_norm_eps");
	if (v && !json_is_null(v)) {
		if (!json_is_number(v)) {
			error("'%s': layer_norm_eps must be a number", path);
			goto out;
		}
		eps = json_number_value(v);
		if (!(eps > 0 && eps < 1)) {
			error("'%s': layer_norm_eps %g is out of range (0..1)", path, eps);
			goto out;
		}
	}
	sh->layer_norm_eps = eps;
	v = json_object_get(j, "hidden_act");
	if (v && !json_is_null(v) && !json_is_string(v)) {
		error("'%s': hidden_act must be a string (mmdb implements the named activations)", path);
		goto out;
	}
	s = v && json_is_string(v) ? json_string_value(v) : "gelu";
	size_t a;
	for (a = 0; a < ARRAY_SIZE(acts) && strcmp(acts[a].name, s); a++)
		;
	if (a == ARRAY_SIZE(acts)) {
		error("'%s': hidden_act '%.40s' is not implemented (gelu, gelu_new, gelu_pytorch_tanh, "
		      "gelu_fast, relu, silu, swish)", path, s);
		goto out;
	}
	sh->act = acts[a].act;
	snprintf(m->act, sizeof m->act, "%s", s);
	/* fields that would make another network than the one mmdb builds */
	if (get_str(j, path, "position_embedding_type", &s))
		goto out;
	if (s && strcmp(s, "absolute")) {
		error("'%s': position_embedding_type '%.40s' is not implemented (only \"absolute\")", path, s);
		goto out;
	}
	if (get_bool(j, path, "is_decoder", 0, &flag))
		goto out;
	if (flag) {
		error("'%s': is_decoder true is not implemented (an encoder only)", path);
		goto out;
	}
	if (get_bool(j, path, "add_cross_attention", 0, &flag))
		goto out;
	if (flag) {
		error("'%s': add_cross_attention true is not implemented", path);
		goto out;
	}
	/* the encoder's parameters, in 64 bits: every factor is bounded above */
	int64_t H = sh->hidden, F = sh->ff;
	int64_t per_layer = 4 * (H * H + H) + (H * F + F) + (F * H + H) + 4 * H;
	m->params = (m->vocab_size + sh->max_positions + sh->type_vocab) * H + 2 * H + sh->layers * per_layer;
	if (m->params > HF_MAX_PARAMS) {
		error("'%s': %lld parameters (vocab_size %d, hidden_size %d, num_hidden_layers %d, "
		      "intermediate_size %d) is more than mmdb loads (%lld)", path, (long long)m->params,
		      m->vocab_size, sh->hidden, sh->layers, sh->ff, (long long)HF_MAX_PARAMS);
		goto out;
	}
	snprintf(m->name, sizeof m->name, "bert-L%d-H%d-A%d", sh->layers, sh->hidden, sh->heads);
	ret = 0;
out:
	json_decref(j);
	return ret;
}

static int read_tokenizer_config(struct hf_model *m)
{
	const char *path = m->tokenizer_config_path, *cls;
	json_t *j = NULL, *v;
	int flag = 0, ret = -1;

	if (load_json(path, &j))
		return -1;
	/* BertTokenizer's defaults: lower-cased, accents stripped with it */
	if (get_bool(j, path, "do_lower_case", 1, &m->lowercase))
		goto out;
	v = json_object_get(j, "strip_accents");
	if (v && !json_is_null(v)) {
		if (!json_is_boolean(v)) {
			error("'%s': strip_accents must be true, false or null", path);
			goto out;
		}
		if (json_is_true(v) != m->lowercase) {
			error("'%s': strip_accents %s with do_lower_case %s is not implemented", path,
			      json_is_true(v) ? "true" : "false", m->lowercase ? "true" : "false");
			goto out;
		}
	}
	if (get_bool(j, path, "tokenize_chinese_chars", 1, &flag))
		goto out;
	if (!flag) {
		error("'%s': tokenize_chinese_chars false is not implemented", path);
		goto out;
	}
	if (get_bool(j, path, "do_basic_tokenize", 1, &flag))
		goto out;
	if (!flag) {
		error("'%s': do_basic_tokenize false is not implemented", path);
		goto out;
	}
	if (get_str(j, path, "tokenizer_class", &cls))
		goto out;
	if (cls && strcmp(cls, "BertTokenizer") && strcmp(cls, "BertTokenizerFast")) {
		error("'%s': tokenizer_class '%.40s' is not implemented (BertTokenizer)", path, cls);
		goto out;
	}
	ret = 0;
out:
	json_decref(j);
	return ret;
}

/* Counts vocab.txt's lines, as Hugging Face reads them (a last line without '\n' counts). */
static int count_vocab(struct hf_model *m)
{
	FILE *f = fopen(m->vocab_path, "rb");
	char buf[1 << 16];
	size_t n;
	long long lines = 0;
	int last = '\n';
	if (!f)
		return error("cannot open '%s': %s", m->vocab_path, strerror(errno));
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		for (size_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		last = (unsigned char)buf[n - 1];
	}
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return error("cannot read '%s'", m->vocab_path);
	lines += last != '\n';
	if (lines > m->vocab_size)
		return error("'%s' has %lld tokens, more than the %d of vocab_size in '%s'", m->vocab_path,
			     lines, m->vocab_size, m->config_path);
	m->vocab_lines = (int)lines;
	return 0;
}

/*
 * The tensor prefix+name (or its old TensorFlow-port name, gamma/beta for a
 * LayerNorm's weight/bias) must be there with shape (d0[, d1]) and a float dtype.
 */
static int want(const struct hf_model *m, const struct st_file *f, const char *name, int64_t d0,
		int64_t d1, int optional)
{
	char k[160], alt[160];
	snprintf(k, sizeof k, "%s%s", m->prefix, name);
	const struct st_tensor *t = st_find(f, k);
	size_t n = strlen(k);
	if (!t && n > 17 && !strcmp(k + n - 17, ".LayerNorm.weight")) {
		snprintf(alt, sizeof alt, "%.*sgamma", (int)(n - 6), k);
		t = st_find(f, alt);
	} else if (!t && n > 15 && !strcmp(k + n - 15, ".LayerNorm.bias")) {
		snprintf(alt, sizeof alt, "%.*sbeta", (int)(n - 4), k);
		t = st_find(f, alt);
	}
	if (!t)
		return optional ? 1 : error("'%s': no tensor '%s' (config.json wants it)", m->weights_path, k);
	int ndim = d1 ? 2 : 1;
	if (t->ndim != ndim || t->shape[0] != d0 || (d1 && t->shape[1] != d1)) {
		char shape[96] = "";
		for (int d = 0; d < t->ndim && strlen(shape) < 70; d++)
			snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", d ? ", " : "",
				 (long long)t->shape[d]);
		if (d1)
			return error("'%s': tensor '%s' has shape [%s], config.json wants [%lld, %lld]",
				     m->weights_path, t->name, shape, (long long)d0, (long long)d1);
		return error("'%s': tensor '%s' has shape [%s], config.json wants [%lld]", m->weights_path,
			     t->name, shape, (long long)d0);
	}
	if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16 && t->dtype != ST_F64)
		return error("'%s': tensor '%s' is %s, not a float type", m->weights_path, t->name,
			     st_dtype_name(t->dtype));
	return 0;
}

/* The weights' header against the config: every encoder tensor, its shape. */
static int check_weights(struct hf_model *m)
{
	struct st_file *f = NULL;
	const struct mt_bert_shape *s = &m->shape;
	const int64_t H = s->hidden, F = s->ff;
	char err[512], k[128];
	int ret = -1;

	if (st_open(m->weights_path, &f, err, sizeof err) < 0)
		return error("%s", err);
	m->prefix = st_find(f, "bert.embeddings.word_embeddings.weight") ? "bert." : "";
	const struct st_tensor *we = NULL;
	snprintf(k, sizeof k, "%sembeddings.word_embeddings.weight", m->prefix);
	we = st_find(f, k);
	m->weights_dtype = we ? we->dtype : ST_F32;
	if (want(m, f, "embeddings.word_embeddings.weight", m->vocab_size, H, 0) ||
	    want(m, f, "embeddings.position_embeddings.weight", s->max_positions, H, 0) ||
	    want(m, f, "embeddings.token_type_embeddings.weight", s->type_vocab, H, 0) ||
	    want(m, f, "embeddings.LayerNorm.weight", H, 0, 0) || want(m, f, "embeddings.LayerNorm.bias", H, 0, 0))
		goto out;
	for (int i = 0; i < s->layers; i++) {
		static const char *const sq[] = { "attention.self.query", "attention.self.key",
						   "attention.self.value", "attention.output.dense" };
		static const char *const ln[] = { "attention.output.LayerNorm", "output.LayerNorm" };
		for (size_t q = 0; q < ARRAY_SIZE(sq); q++) {
			snprintf(k, sizeof k, "encoder.layer.%d.%s.weight", i, sq[q]);
			if (want(m, f, k, H, H, 0))
				goto out;
			snprintf(k, sizeof k, "encoder.layer.%d.%s.bias", i, sq[q]);
			if (want(m, f, k, H, 0, 0))
				goto out;
		}
		for (size_t q = 0; q < ARRAY_SIZE(ln); q++) {
			snprintf(k, sizeof k, "encoder.layer.%d.%s.weight", i, ln[q]);
			if (want(m, f, k, H, 0, 0))
				goto out;
			snprintf(k, sizeof k, "encoder.layer.%d.%s.bias", i, ln[q]);
			if (want(m, f, k, H, 0, 0))
				goto out;
		}
		snprintf(k, sizeof k, "encoder.layer.%d.intermediate.dense.weight", i);
		if (want(m, f, k, F, H, 0))
			goto out;
		snprintf(k, sizeof k, "encoder.layer.%d.intermediate.dense.bias", i);
		if (want(m, f, k, F, 0, 0))
			goto out;
		snprintf(k, sizeof k, "encoder.layer.%d.output.dense.weight", i);
		if (want(m, f, k, H, F, 0))
			goto out;
		snprintf(k, sizeof k, "encoder.layer.%d.output.dense.bias", i);
		if (want(m, f, k, H, 0, 0))
			goto out;
	}
	/* a layer past num_hidden_layers: the file is of another config */
	snprintf(k, sizeof k, "%sencoder.layer.%d.output.dense.weight", m->prefix, s->layers);
	if (st_find(f, k)) {
		error("'%s': has an encoder layer %d, past the num_hidden_layers %d of config.json", m->weights_path, s->layers,
		      s->layers);
		goto out;
	}
	/* the pooler is optional; if there, it must fit */
	int r = want(m, f, "pooler.dense.weight", H, H, 1);
	if (r < 0)
		goto out;
	m->has_pooler = r == 0;
	if (m->has_pooler && want(m, f, "pooler.dense.bias", H, 0, 0))
		goto out;
	ret = 0;
out:
	st_close(f);
	return ret;
}

int hf_model_open(const char *dir, struct hf_model **out)
{
	struct hf_model *m = xcalloc(1, sizeof(*m));
	struct stat st;
	uint64_t size;
	int ret = -1;

	*out = NULL;
	m->dir = xstrdup(dir);
	m->config_path = path_join(dir, "config.json");
	m->tokenizer_config_path = path_join(dir, "tokenizer_config.json");
	m->vocab_path = path_join(dir, "vocab.txt");
	m->weights_path = path_join(dir, "model.safetensors");
	m->prefix = "";
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		error("model folder '%s': %s", dir, errno && stat(dir, &st) ? strerror(errno) : "not a directory");
		goto out;
	}
	if (need_file(m->config_path, dir) || need_file(m->tokenizer_config_path, dir) ||
	    need_file(m->vocab_path, dir) || need_file(m->weights_path, dir))
		goto out;
	if (read_config(m) || read_tokenizer_config(m) || count_vocab(m) || check_weights(m))
		goto out;
	if (sha256_file(m->config_path, m->config_sha256, &size))
		goto out;
	*out = m;
	m = NULL;
	ret = 0;
out:
	hf_model_free(m);
	return ret;
}

void hf_model_free(struct hf_model *m)
{
	if (!m)
		return;
	free(m->dir);
	free(m->config_path);
	free(m->tokenizer_config_path);
	free(m->vocab_path);
	free(m->weights_path);
	free(m);
}

int hf_model_weights_sha256(const struct hf_model *m, char hex[65])
{
	uint64_t size;
	return sha256_file(m->weights_path, hex, &size);
}

const char *const hf_model_files[] = { "config.json", "tokenizer_config.json", "vocab.txt",
				       "model.safetensors", NULL };

static int is_hex(const char *s, size_t n)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return 0;
	return i == n;
}

int hf_hub_tree_read(const char *path, const char *what, const char *const *names, size_t n,
		     struct hf_hub_file *out)
{
	json_error_t je;
	json_t *j = NULL;
	struct stat st;
	int ret = -1;

	if (stat(path, &st) || st.st_size > (8 << 20))
		return error("the file listing of %s is missing or too large", what);
	j = json_load_file(path, 0, &je);
	if (!j || !json_is_array(j)) {
		error("the file listing of %s is not a JSON array%s%s", what, j ? "" : ": ", j ? "" : je.text);
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		size_t i;
		json_t *e = NULL;
		json_array_foreach(j, i, e) {
			const char *p = json_string_value(json_object_get(e, "path"));
			if (p && !strcmp(p, names[k]))
				break;
		}
		if (i == json_array_size(j)) {
			error("%s has no '%s' (a BERT folder needs config.json, tokenizer_config.json, "
			      "vocab.txt, model.safetensors)", what, names[k]);
			goto out;
		}
		struct hf_hub_file *f = &out[k];
		json_t *lfs = json_object_get(e, "lfs");
		json_t *size = json_object_get(lfs ? lfs : e, "size");
		const char *oid = json_string_value(json_object_get(lfs ? lfs : e, "oid"));
		memset(f, 0, sizeof(*f));
		if (!json_is_integer(size) || json_integer_value(size) < 0 || !oid ||
		    !is_hex(oid, lfs ? 64 : 40)) {
			error("the file listing of %s: '%s' has no usable size and %s", what, names[k],
			      lfs ? "lfs sha256" : "git oid");
			goto out;
		}
		f->size = json_integer_value(size);
		snprintf(lfs ? f->sha256 : f->git_sha1, lfs ? sizeof f->sha256 : sizeof f->git_sha1, "%s", oid);
	}
	ret = 0;
out:
	json_decref(j);
	return ret;
}

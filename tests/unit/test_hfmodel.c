/* Tests of hfmodel: Hugging Face BERT folders read and checked, hostile
 * configs refused before anything is built, the hub's file listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hfmodel.h"
#include "safetensors.h"
#include "util.h"

static char dir[256];

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/mmdb-test-hf-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

#define V 10 /* tokens */
#define H 8
#define FF 16
#define POS 64

/* Weights of a 1-layer BERT (H 8, FF 16, POS positions), zeros; prefix
 * "bert." or ""; old gamma/beta LayerNorm names; a pooler or not. */
static void write_weights(const char *prefix, int gamma_beta, int pooler, int layers)
{
	static float zeros[V * POS * H + FF * H];
	struct st_out t[64];
	int64_t shapes[64][2];
	char names[64][96];
	int n = 0;
#define T2(nm, a, b) do { snprintf(names[n], 96, "%s%s", prefix, nm); shapes[n][0] = a; shapes[n][1] = b; \
		t[n] = (struct st_out){ names[n], ST_F32, b ? 2 : 1, shapes[n], zeros }; n++; } while (0)
	const char *w = gamma_beta ? "gamma" : "weight", *bi = gamma_beta ? "beta" : "bias";
	char k[96];
	T2("embeddings.word_embeddings.weight", V, H);
	T2("embeddings.position_embeddings.weight", POS, H);
	T2("embeddings.token_type_embeddings.weight", 2, H);
	snprintf(k, sizeof k, "embeddings.LayerNorm.%s", w);
	T2(k, H, 0);
	snprintf(k, sizeof k, "embeddings.LayerNorm.%s", bi);
	T2(k, H, 0);
	for (int l = 0; l < layers; l++) {
		const char *sq[] = { "attention.self.query", "attention.self.key", "attention.self.value",
				     "attention.output.dense" };
		for (int i = 0; i < 4; i++) {
			snprintf(k, sizeof k, "encoder.layer.%d.%s.weight", l, sq[i]);
			T2(k, H, H);
			snprintf(k, sizeof k, "encoder.layer.%d.%s.bias", l, sq[i]);
			T2(k, H, 0);
		}
		const char *ln[] = { "attention.output.LayerNorm", "output.LayerNorm" };
		for (int i = 0; i < 2; i++) {
			snprintf(k, sizeof k, "encoder.layer.%d.%s.%s", l, ln[i], w);
			T2(k, H, 0);
			snprintf(k, sizeof k, "encoder.layer.%d.%s.%s", l, ln[i], bi);
			T2(k, H, 0);
		}
		snprintf(k, sizeof k, "encoder.layer.%d.intermediate.dense.weight", l);
		T2(k, FF, H);
		snprintf(k, sizeof k, "encoder.layer.%d.intermediate.dense.bias", l);
		T2(k, FF, 0);
		snprintf(k, sizeof k, "encoder.layer.%d.output.dense.weight", l);
		T2(k, H, FF);
		snprintf(k, sizeof k, "encoder.layer.%d.output.dense.bias", l);
		T2(k, H, 0);
	}
	if (pooler) {
		T2("pooler.dense.weight", H, H);
		T2("pooler.dense.bias", H, 0);
	}
#undef T2
	char path[512], err[256];
	snprintf(path, sizeof path, "%s/model.safetensors", dir);
	assert_int_equal(st_write(path, t, (size_t)n, NULL, 0, err, sizeof err), 0);
}

static const char *good_config =
	"{\"model_type\": \"bert\", \"vocab_size\": 10, \"hidden_size\": 8, \"num_hidden_layers\": 1,"
	" \"num_attention_heads\": 2, \"intermediate_size\": 16, \"max_position_embeddings\": 64,"
	" \"type_vocab_size\": 2, \"layer_norm_eps\": 1e-7, \"hidden_act\": \"gelu_new\"}";

static void write_folder(void)
{
	write_text("config.json", good_config);
	write_text("tokenizer_config.json", "{\"do_lower_case\": false, \"tokenizer_class\": \"BertTokenizer\"}");
	write_text("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\nd\ne\n");
	write_weights("", 0, 1, 1);
}

static void test_hfmodel__reads_the_folder(void **state)
{
	struct hf_model *m;
	write_folder();
	assert_true(hf_is_model_dir(dir));
	assert_int_equal(hf_model_open(dir, &m), 0);
	assert_string_equal(m->name, "bert-L1-H8-A2");
	assert_int_equal(m->vocab_size, 10);
	assert_int_equal(m->vocab_lines, 10);
	assert_int_equal(m->shape.layers, 1);
	assert_int_equal(m->shape.hidden, 8);
	assert_int_equal(m->shape.heads, 2);
	assert_int_equal(m->shape.ff, 16);
	assert_int_equal(m->shape.max_positions, 64);
	assert_true(m->shape.layer_norm_eps == 1e-7);
	assert_int_equal(m->shape.act, MT_ACT_GELU_TANH);
	assert_int_equal(m->lowercase, 0);
	assert_int_equal(m->has_pooler, 1);
	assert_string_equal(m->prefix, "");
	/* embeddings (10 + 64 + 2) x 8 + LN 16; a layer 4 x 72 + 136 + 136 + 32 */
	assert_int_equal(m->params, (10 + 64 + 2) * 8 + 16 + (4 * 72 + 8 * 16 + 16 + 16 * 8 + 8 + 4 * 8));
	char hex[65];
	uint64_t size;
	char cfg[600];
	snprintf(cfg, sizeof cfg, "%s/config.json", dir);
	assert_int_equal(sha256_file(cfg, hex, &size), 0);
	assert_string_equal(m->config_sha256, hex);
	hf_model_free(m);
}

static void test_hfmodel__prefix_old_names_no_pooler(void **state)
{
	struct hf_model *m;
	write_folder();
	write_weights("bert.", 1, 0, 1);
	assert_int_equal(hf_model_open(dir, &m), 0);
	assert_string_equal(m->prefix, "bert.");
	assert_int_equal(m->has_pooler, 0);
	hf_model_free(m);
}

/* Each config (or tokenizer config) is refused, and nothing is returned. */
static void test_hfmodel__refuses_hostile_configs(void **state)
{
	static const struct {
		const char *file, *find, *replace;
	} cases[] = {
		{ "config.json", "\"bert\"", "\"roberta\"" },
		{ "config.json", "\"model_type\": \"bert\",", "" },
		{ "config.json", "\"gelu_new\"", "\"gelu_10\"" },
		{ "config.json", "\"gelu_new\"", "[\"gelu\"]" },
		{ "config.json", "1e-7", "0" },
		{ "config.json", "\"hidden_size\": 8", "\"hidden_size\": \"8\"" },
		{ "config.json", "\"hidden_size\": 8", "\"hidden_size\": 8.5" },
		{ "config.json", "\"num_attention_heads\": 2", "\"num_attention_heads\": 3" },
		{ "config.json", "\"vocab_size\": 10", "\"vocab_size\": 1000000000000" },
		{ "config.json", "\"vocab_size\": 10", "\"vocab_size\": -1" },
		{ "config.json", "\"hidden_size\": 8, \"num_hidden_layers\": 1",
		  "\"hidden_size\": 8192, \"num_hidden_layers\": 128" },
		{ "config.json", "\"type_vocab_size\": 2", "\"type_vocab_size\": 2, \"is_decoder\": true" },
		{ "config.json", "\"type_vocab_size\": 2", "\"type_vocab_size\": 2, \"position_embedding_type\": \"relative_key\"" },
		{ "config.json", "\"vocab_size\": 10", "\"vocab_size\": 10, \"vocab_size\": 10" },
		{ "config.json", "{", "[" },
		{ "config.json", "\"intermediate_size\": 16", "\"intermediate_size\": 32" },
		{ "config.json", "\"num_hidden_layers\": 1", "\"num_hidden_layers\": 2" },
		{ "config.json", "\"vocab_size\": 10", "\"vocab_size\": 9" },
		{ "config.json", "\"max_position_embeddings\": 64", "\"max_position_embeddings\": 512" },
		{ "tokenizer_config.json", "false", "false, \"tokenize_chinese_chars\": false" },
		{ "tokenizer_config.json", "false", "false, \"strip_accents\": true" },
		{ "tokenizer_config.json", "\"BertTokenizer\"", "\"XLMRobertaTokenizer\"" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[1024];
		const char *base = !strcmp(cases[i].file, "config.json") ? good_config
				   : "{\"do_lower_case\": false, \"tokenizer_class\": \"BertTokenizer\"}";
		const char *at = strstr(base, cases[i].find);
		assert_non_null(at);
		snprintf(text, sizeof text, "%.*s%s%s", (int)(at - base), base, cases[i].replace,
			 at + strlen(cases[i].find));
		write_folder();
		write_text(cases[i].file, text);
		struct hf_model *m = (struct hf_model *)1;
		if (hf_model_open(dir, &m) != -1 || m != NULL)
			fail_msg("case %zu (%s: %s) was not refused", i, cases[i].file, cases[i].replace);
	}
}

static void test_hfmodel__refuses_missing_files(void **state)
{
	const char *files[] = { "config.json", "tokenizer_config.json", "vocab.txt", "model.safetensors" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char path[512];
		struct hf_model *m;
		write_folder();
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		assert_int_equal(unlink(path), 0);
		assert_int_equal(hf_model_open(dir, &m), -1);
		assert_null(m);
		assert_int_equal(hf_is_model_dir(dir), i != 0); /* a folder is one by its config.json */
	}
}

static void test_hfmodel__hub_listing(void **state)
{
	char path[512];
	struct hf_hub_file f[4];
	snprintf(path, sizeof path, "%s/listing.json", dir);
	write_text("listing.json",
		   "[{\"type\": \"file\", \"path\": \"config.json\", \"size\": 612, "
		   "\"oid\": \"ce013625030ba8dba906f756967f9e9ca394464a\"},"
		   "{\"type\": \"file\", \"path\": \"tokenizer_config.json\", \"size\": 350, "
		   "\"oid\": \"0123456789abcdef0123456789abcdef01234567\"},"
		   "{\"type\": \"file\", \"path\": \"vocab.txt\", \"size\": 231508, "
		   "\"oid\": \"fb140275c155a9c7c5a3b3e0e77a9e839594a938\"},"
		   "{\"type\": \"file\", \"path\": \"model.safetensors\", \"size\": 134, "
		   "\"oid\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"lfs\": {\"oid\": "
		   "\"53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db\", \"size\": 90868376, "
		   "\"pointerSize\": 134}}]");
	assert_int_equal(hf_hub_tree_read(path, "'x'", hf_model_files, 4, f), 0);
	assert_int_equal(f[0].size, 612);
	assert_string_equal(f[0].git_sha1, "ce013625030ba8dba906f756967f9e9ca394464a");
	assert_string_equal(f[0].sha256, "");
	assert_int_equal(f[3].size, 90868376);
	assert_string_equal(f[3].sha256, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db");
	assert_string_equal(f[3].git_sha1, "");
	const char *more[] = { "config.json", "pytorch_model.bin" };
	assert_int_equal(hf_hub_tree_read(path, "'x'", more, 2, f), -1);
	write_text("listing.json", "{\"error\": \"Repository not found\"}");
	assert_int_equal(hf_hub_tree_read(path, "'x'", hf_model_files, 4, f), -1);
	write_text("listing.json", "[{\"path\": \"config.json\", \"size\": 1, \"oid\": \"xyz\"}]");
	assert_int_equal(hf_hub_tree_read(path, "'x'", hf_model_files, 1, f), -1);
}

static void test_hfmodel__git_blob_sha1(void **state)
{
	char path[512], hex[41];
	snprintf(path, sizeof path, "%s/hello", dir);
	write_text("hello", "hello\n");
	assert_int_equal(git_blob_sha1_file(path, hex), 0);
	assert_string_equal(hex, "ce013625030ba8dba906f756967f9e9ca394464a"); /* git hash-object */
	write_text("hello", "");
	assert_int_equal(git_blob_sha1_file(path, hex), 0);
	assert_string_equal(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hfmodel__reads_the_folder),
		cmocka_unit_test(test_hfmodel__prefix_old_names_no_pooler),
		cmocka_unit_test(test_hfmodel__refuses_hostile_configs),
		cmocka_unit_test(test_hfmodel__refuses_missing_files),
		cmocka_unit_test(test_hfmodel__hub_listing),
		cmocka_unit_test(test_hfmodel__git_blob_sha1),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

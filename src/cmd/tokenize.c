/*
 * mmdb tokenize: WordPiece token ids for texts on stdin, one text a line
 * (or one JSON string a line with --json), as the models get them.
 */
#include "cmds.h"
#include "../hfmodel.h"
#include "../jsonstr.h"
#include "../tokenizer.h"
#include "../util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tokenize_usage(FILE *f)
{
	fprintf(f,
		"usage: mmdb tokenize (--vocab FILE [--cased] | --model DIR) [--max-len N] [--json]\n"
		"                     [--full | --tokens | --words]\n\n"
		"Reads texts from stdin, one a line, and prints the model input of each:\n"
		"[CLS], WordPiece ids (bert-base-uncased rules), [SEP], truncated or padded\n"
		"with [PAD] to --max-len (default %d), as space-separated ids.\n\n"
		"  --vocab FILE   a WordPiece vocab.txt (one token a line, id = line number)\n"
		"  --cased        keep case and accents (a cased BERT's vocab)\n"
		"  --model DIR    a Hugging Face BERT folder: its vocab.txt and the casing of\n"
		"                 its tokenizer_config.json\n"
		"  --max-len N    sequence length, [CLS] and [SEP] included (2..100000)\n"
		"  --json         each input line is a JSON string (texts may hold newlines);\n"
		"                 each output line is {\"input_ids\":[...],\"attention_mask\":[...]}\n"
		"  --full         all ids of the text, no special tokens, no truncation\n"
		"                 (with --json: an \"ids_full\" member is added)\n"
		"  --tokens       the tokens as strings, [CLS] to [SEP]\n"
		"  --words        the normalised, pre-tokenised words before WordPiece\n"
		"                 (--vocab optional: it only adds literal special tokens)\n",
		TOK_DEFAULT_MAX_LEN);
}

static void add_int(struct strbuf *sb, long v)
{
	char b[24];
	int n = 0;
	unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
	if (v < 0)
		sb_addc(sb, '-');
	do {
		b[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		sb_addc(sb, b[--n]);
}

static void add_ids(struct strbuf *sb, const int32_t *ids, size_t n, int json)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (i)
			sb_addc(sb, json ? ',' : ' ');
		add_int(sb, ids[i]);
	}
}

/* Token strings of ids: JSON strings, or space-separated. */
static void add_tokens(struct strbuf *sb, const struct tokenizer *t, const int32_t *ids,
		       size_t n, int json)
{
	size_t i;
	for (i = 0; i < n; i++) {
		const char *s = tok_id_token(t, ids[i]);
		if (i)
			sb_addc(sb, json ? ',' : ' ');
		if (json)
			sb_add_json_str(sb, s);
		else
			sb_adds(sb, s);
	}
}

struct words_out {
	struct strbuf *sb;
	int json, count;
};

static int add_word(void *arg, const char *w, size_t len, size_t nchars, int is_special)
{
	struct words_out *o = arg;
	char *copy;
	if (o->count++)
		sb_addc(o->sb, o->json ? ',' : ' ');
	if (!o->json) {
		sb_add(o->sb, w, len);
		return 0;
	}
	copy = xstrndup(w, len);
	sb_add_json_str(o->sb, copy);
	free(copy);
	return 0;
}

enum { MODE_IDS, MODE_FULL, MODE_TOKENS, MODE_WORDS };

int cmd_tokenize(int argc, char **argv, struct mmdb_ctx *ctx)
{
	static const struct option opts[] = {
		{ "vocab", required_argument, NULL, 'V' },
		{ "cased", no_argument, NULL, 'C' },
		{ "model", required_argument, NULL, 'M' },
		{ "max-len", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "full", no_argument, NULL, 'F' },
		{ "tokens", no_argument, NULL, 'T' },
		{ "words", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *vocab = NULL, *model = NULL;
	struct hf_model *hf = NULL;
	int cased = 0;
	int max_len = TOK_DEFAULT_MAX_LEN, json = 0, mode = MODE_IDS, c, ret = 0, n;
	struct tokenizer *t = NULL;
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	int32_t *ids = NULL, *full = NULL;
	uint8_t *mask = NULL;
	size_t full_cap = 256, nfull, lineno = 0, i;
	char *line = NULL;
	size_t line_alloc = 0;
	ssize_t len;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'V': vocab = optarg; break;
		case 'C': cased = 1; break;
		case 'M': model = optarg; break;
		case 'm':
			if (parse_int(optarg, 2, 100000, "--max-len", &max_len))
				return 2;
			break;
		case 'j': json = 1; break;
		case 'F': mode = MODE_FULL; break;
		case 'T': mode = MODE_TOKENS; break;
		case 'W': mode = MODE_WORDS; break;
		case 'h': tokenize_usage(stdout); return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return usage_error("tokenize: unexpected argument '%s'", argv[optind]);
	if (model && (vocab || cased))
		return usage_error("tokenize: --model DIR gives the vocab and casing: no --vocab or --cased with it");
	if (model) {
		if (hf_model_open(model, &hf))
			return 1;
		vocab = hf->vocab_path;
		cased = !hf->lowercase;
	}
	if (!vocab && (mode != MODE_WORDS || cased)) {
		hf_model_free(hf);
		return usage_error("tokenize: --vocab FILE (or --model DIR) is required");
	}
	if (vocab && tok_load(&t, vocab)) {
		hf_model_free(hf);
		return 1;
	}
	if (t)
		tok_set_lowercase(t, !cased);
	hf_model_free(hf);

	ids = xmalloc(st_mult((size_t)max_len, sizeof(*ids)));
	mask = xmalloc((size_t)max_len);
	full = xmalloc(full_cap * sizeof(*full));
	while ((len = getline(&line, &line_alloc, stdin)) >= 0) {
		const char *s = line;
		size_t slen = (size_t)len;
		lineno++;
		if (slen && line[slen - 1] == '\n')
			slen--;
		if (json) {
			const char *why;
			sb_reset(&text);
			if ((why = json_string_parse(line, slen, &text))) {
				ret = error("tokenize: stdin line %zu: %s", lineno, why);
				goto out;
			}
			s = text.buf ? text.buf : "";
			slen = text.len;
		}
		sb_reset(&out);
		if (mode == MODE_WORDS) {
			struct words_out wo = { &out, json, 0 };
			sb_adds(&out, json ? "{\"words\":[" : "");
			tok_words(t, s, slen, add_word, &wo);
			sb_adds(&out, json ? "]}\n" : "\n");
		} else if (mode == MODE_IDS || mode == MODE_TOKENS || json) {
			if ((n = tok_encode(t, s, slen, max_len, ids, mask)) < 0) {
				ret = -1;
				goto out;
			}
			if (mode == MODE_TOKENS) {
				sb_adds(&out, json ? "{\"tokens\":[" : "");
				add_tokens(&out, t, ids, (size_t)n, json);
				sb_adds(&out, json ? "]" : "");
			} else if (json) {
				sb_adds(&out, "{\"input_ids\":[");
				add_ids(&out, ids, (size_t)max_len, 1);
				sb_adds(&out, "],\"attention_mask\":[");
				for (i = 0; i < (size_t)max_len; i++)
					sb_adds(&out, i ? (mask[i] ? ",1" : ",0") : (mask[i] ? "1" : "0"));
				sb_adds(&out, "]");
			} else {
				add_ids(&out, ids, (size_t)max_len, 0);
			}
		}
		if (mode == MODE_FULL) {
			while ((nfull = tok_encode_full(t, s, slen, full, full_cap)) > full_cap) {
				full_cap = nfull;
				full = xrealloc(full, st_mult(full_cap, sizeof(*full)));
			}
			sb_adds(&out, json ? ",\"ids_full\":[" : "");
			add_ids(&out, full, nfull, json);
			sb_adds(&out, json ? "]" : "");
		}
		if (mode != MODE_WORDS)
			sb_adds(&out, json ? "}\n" : "\n");
		if (fwrite(out.buf, 1, out.len, stdout) != out.len) {
			ret = error("tokenize: cannot write the output");
			goto out;
		}
	}
	if (ferror(stdin))
		ret = error("tokenize: cannot read stdin");
	if (fflush(stdout))
		ret = error("tokenize: cannot write the output");
out:
	free(line);
	free(ids);
	free(mask);
	free(full);
	sb_release(&text);
	sb_release(&out);
	tok_free(t);
	return ret ? 1 : 0;
}

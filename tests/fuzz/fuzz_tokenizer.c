/*
 * fuzz_tokenizer: the WordPiece tokenizer (src/tokenizer.c) on arbitrary
 * bytes (invalid UTF-8, NULs, combining marks, CJK, literal special
 * tokens), with two vocabs: a small one written at start-up (most words
 * fall back to [UNK] or split into "##" pieces) and the real
 * bert-base-uncased vocab.txt when it is found ($MMDB_FUZZ_VOCAB, else
 * $MMDB_SHARED/golden/vocab.txt, else ../shared/golden/vocab.txt).
 *
 * The first input byte picks the sequence length; the rest is the text.
 * Invariants checked:
 *  - tok_encode gives [CLS], ids, [SEP], then [PAD] to the length, the mask
 *    marking the real tokens, every id inside the vocab;
 *  - its ids are the first max_len - 2 of tok_encode_full's (truncation from
 *    the right, nothing else differs), and tok_encode_full's count does not
 *    depend on the buffer it is given;
 *  - tok_words reports words of valid UTF-8 holding nchars characters (cut
 *    to TOK_MAX_WORD_CHARS for a longer word).
 */
#include "fuzz.h"
#include "tokenizer.h"
#include "tsv.h"

#include <string.h>
#include <unistd.h>

static struct tokenizer *toks[2];
static int ntoks;

static const char *const small_vocab[] = {
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "the", "un", "##aff", "##able",
	"##b", "##a", "!", ",", ".", "\xe4\xb8\xad", "e", "##e", "caf\xc3\xa9", "cafe", "##s",
	"x", "##x", "[", "]", "'", "#", "##",
};

static void load(const char *path)
{
	struct tokenizer *t;
	if (ntoks < 2 && tok_load(&t, path) == 0)
		toks[ntoks++] = t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[512];
	const char *env = getenv("MMDB_FUZZ_VOCAB"), *shared = getenv("MMDB_SHARED");
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/mmdb-fuzz-vocab-%ld.txt", dir, (long)getpid());
	f = fopen(path, "w");
	FUZZ_CHECK(f);
	for (i = 0; i < sizeof(small_vocab) / sizeof(small_vocab[0]); i++)
		fprintf(f, "%s\n", small_vocab[i]);
	FUZZ_CHECK(fclose(f) == 0);
	load(path);
	unlink(path);
	FUZZ_CHECK(ntoks == 1);

	if (env && *env) {
		load(env);
	} else {
		if (shared && *shared) {
			snprintf(path, sizeof(path), "%s/golden/vocab.txt", shared);
			if (access(path, R_OK) == 0)
				load(path);
		}
		if (ntoks < 2 && access("../shared/golden/vocab.txt", R_OK) == 0)
			load("../shared/golden/vocab.txt");
	}
	fprintf(stderr, "fuzz_tokenizer: %d vocab%s\n", ntoks, ntoks > 1 ? "s" : "");
	return 0;
}

struct words {
	size_t count;
};

static int on_word(void *arg, const char *w, size_t len, size_t nchars, int is_special)
{
	struct words *ws = arg;
	size_t i, cps = 0;
	FUZZ_CHECK(len > 0 && nchars >= 1);
	FUZZ_CHECK(utf8_valid(w, len));
	for (i = 0; i < len; i++)
		cps += ((unsigned char)w[i] & 0xc0) != 0x80;
	/* A word over the limit comes cut to its first TOK_MAX_WORD_CHARS characters. */
	FUZZ_CHECK(cps == (nchars > TOK_MAX_WORD_CHARS ? TOK_MAX_WORD_CHARS : nchars));
	ws->count++;
	return 0;
}

static void one(const struct tokenizer *t, const char *text, size_t len, int max_len)
{
	int32_t *ids = malloc((size_t)max_len * sizeof(*ids)), *full, small[3];
	uint8_t *mask = malloc((size_t)max_len);
	int n, i, vs = tok_vocab_size(t);
	size_t nfull, nfull2, k;
	struct words ws = { 0 };

	FUZZ_CHECK(ids && mask);
	n = tok_encode(t, text, len, max_len, ids, mask);
	FUZZ_CHECK(n >= 2 && n <= max_len);
	FUZZ_CHECK(ids[0] == tok_cls_id(t) && ids[n - 1] == tok_sep_id(t));
	for (i = 0; i < max_len; i++) {
		FUZZ_CHECK(ids[i] >= 0 && ids[i] < vs);
		FUZZ_CHECK(mask[i] == (i < n));
		if (i >= n)
			FUZZ_CHECK(ids[i] == tok_pad_id(t));
		FUZZ_CHECK(tok_id_token(t, ids[i]) != NULL);
	}

	nfull = tok_encode_full(t, text, len, NULL, 0);
	full = malloc((nfull + 1) * sizeof(*full));
	FUZZ_CHECK(full);
	FUZZ_CHECK(tok_encode_full(t, text, len, full, nfull) == nfull);
	nfull2 = tok_encode_full(t, text, len, small, 3);
	FUZZ_CHECK(nfull2 == nfull);
	for (k = 0; k < nfull && k < 3; k++)
		FUZZ_CHECK(small[k] == full[k]);
	FUZZ_CHECK((size_t)n - 2 == (nfull < (size_t)max_len - 2 ? nfull : (size_t)max_len - 2));
	for (k = 0; k < nfull; k++) {
		FUZZ_CHECK(full[k] >= 0 && full[k] < vs);
		if (k + 1 < (size_t)n - 1)
			FUZZ_CHECK(ids[k + 1] == full[k]);
	}

	FUZZ_CHECK(tok_words(t, text, len, on_word, &ws) == 0);
	/* Each word gives at least one id. */
	FUZZ_CHECK(ws.count <= nfull);
	free(full);
	free(ids);
	free(mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int max_len, i;
	char *text;
	if (size < 1)
		return 0;
	max_len = 2 + data[0] % 128;
	/* An exact-size copy, not NUL-terminated: an overread is caught. */
	text = malloc(size - 1 ? size - 1 : 1);
	FUZZ_CHECK(text);
	memcpy(text, data + 1, size - 1);
	for (i = 0; i < ntoks; i++)
		one(toks[i], text, size - 1, max_len);
	{
		struct words ws = { 0 };
		tok_words(NULL, text, size - 1, on_word, &ws);
	}
	free(text);
	return 0;
}

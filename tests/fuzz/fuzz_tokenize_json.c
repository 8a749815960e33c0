/*
 * fuzz_tokenize_json: the input of `mmdb tokenize --json` (src/jsonstr.c,
 * as src/cmd/tokenize.c uses it): the input is split into lines as getline
 * does, each line is parsed as one JSON string and, when it parses, encoded
 * the way the command does (tok_encode, tok_encode_full, tok_words with a
 * small vocab). Invariants checked:
 *  - a line that fails gives a reason;
 *  - a parsed value without NUL bytes, written back as JSON by
 *    sb_add_json_str (what the command's output uses), parses again to the
 *    same bytes;
 *  - the value is valid UTF-8 whenever the line was (escapes make only
 *    valid UTF-8; surrogates must pair).
 */
#include "fuzz.h"
#include "jsonstr.h"
#include "tokenizer.h"
#include "tsv.h"
#include "util.h"

#include <string.h>
#include <unistd.h>

static struct tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\n##b\nthe\n\"\n\\\n{\n}\n";
	char path[256];
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	FILE *f;
	snprintf(path, sizeof(path), "%s/mmdb-fuzz-jvocab-%ld.txt", dir, (long)getpid());
	f = fopen(path, "w");
	FUZZ_CHECK(f && fwrite(vocab, 1, sizeof(vocab) - 1, f) == sizeof(vocab) - 1);
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(tok_load(&tok, path) == 0);
	unlink(path);
	return 0;
}

static int on_word(void *arg, const char *w, size_t len, size_t nchars, int is_special)
{
	struct strbuf *sb = arg;
	char *copy = xstrndup(w, len);
	sb_add_json_str(sb, copy);
	free(copy);
	return 0;
}

static void one_line(const char *line, size_t len)
{
	struct strbuf val = STRBUF_INIT, again = STRBUF_INIT, js = STRBUF_INIT;
	const char *why = json_string_parse(line, len, &val);
	int32_t ids[16];
	uint8_t mask[16];
	size_t nfull;

	if (why) {
		FUZZ_CHECK(*why);
		goto out;
	}
	if (utf8_valid(line, len))
		FUZZ_CHECK(utf8_valid(val.buf ? val.buf : "", val.len));
	if (!val.buf || !memchr(val.buf, '\0', val.len)) {
		sb_add_json_str(&js, val.buf ? val.buf : "");
		why = json_string_parse(js.buf, js.len, &again);
		FUZZ_CHECK(why == NULL);
		FUZZ_CHECK(again.len == val.len);
		FUZZ_CHECK(!val.len || !memcmp(again.buf, val.buf, val.len));
	}
	/* As the command then does with the value. */
	FUZZ_CHECK(tok_encode(tok, val.buf ? val.buf : "", val.len, 16, ids, mask) >= 2);
	nfull = tok_encode_full(tok, val.buf ? val.buf : "", val.len, NULL, 0);
	(void)nfull;
	sb_reset(&js);
	tok_words(tok, val.buf ? val.buf : "", val.len, on_word, &js);
out:
	sb_release(&val);
	sb_release(&again);
	sb_release(&js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		/* An exact-size copy of the line (the command's buffer is larger). */
		char *line = malloc(len ? len : 1);
		FUZZ_CHECK(line);
		memcpy(line, p, len);
		one_line(line, len);
		free(line);
		p += len + (nl != NULL);
	}
	return 0;
}

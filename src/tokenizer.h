/*
 * tokenizer: the bert-base-uncased WordPiece tokenizer, exactly as Hugging
 * Face's tokenizers engine does it (BertNormalizer with clean_text,
 * handle_chinese_chars, strip_accents and lowercase; BertPreTokenizer;
 * WordPiece with "##" and max 100 characters a word; [CLS] $A [SEP]).
 *
 * A tokenizer is loaded from a vocab.txt (one token a line, id = line
 * number, as Hugging Face reads it: trailing whitespace of a line is not
 * part of the token). The special tokens [PAD] [UNK] [CLS] [SEP] [MASK] are
 * looked up by string, so any vocab order works; [UNK], [CLS], [SEP] and
 * [PAD] must be present. Written literally in a text (case-sensitive), a
 * special token present in the vocab becomes its own id.
 *
 * Thread safety: a loaded tokenizer is read-only. Any number of threads may
 * call tok_encode / tok_encode_full / tok_words on one tokenizer at once;
 * tok_free must not race with them.
 *
 * This is the only module that includes utf8proc.h.
 */
#ifndef MMDB_TOKENIZER_H
#define MMDB_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

struct tokenizer;

/* The default sequence length of the original recipe. */
#define TOK_DEFAULT_MAX_LEN 80
/* Words longer than this (in code points, after normalisation) are [UNK]. */
#define TOK_MAX_WORD_CHARS 100

/*
 * Loads the vocab at vocab_path. On success returns 0 and *out owns the
 * tokenizer (release with tok_free). A missing, unreadable, empty or binary
 * (NUL bytes, invalid UTF-8) file, or one without [UNK], [CLS], [SEP] or
 * [PAD], is an error naming the file: returns -1 with *out NULL.
 */
int tok_load(struct tokenizer **out, const char *vocab_path);
void tok_free(struct tokenizer *t);

/*
 * Casing: on (1, the default) the text is lower-cased and its accents
 * stripped, as bert-base-uncased does; off (0) keeps both, as a cased BERT
 * (tokenizer_config.json "do_lower_case": false, strip_accents unset) does:
 * only clean_text and the spaces around CJK characters remain. Set it before
 * the tokenizer is shared between threads.
 */
void tok_set_lowercase(struct tokenizer *t, int on);
int tok_lowercase(const struct tokenizer *t);

/* Number of ids (lines) in the vocab. */
int tok_vocab_size(const struct tokenizer *t);

/* Ids of the special tokens; tok_mask_id is -1 when the vocab has no [MASK]. */
int tok_pad_id(const struct tokenizer *t);
int tok_unk_id(const struct tokenizer *t);
int tok_cls_id(const struct tokenizer *t);
int tok_sep_id(const struct tokenizer *t);
int tok_mask_id(const struct tokenizer *t);

/* Id of token s (exact, NUL-terminated), or -1 if not in the vocab. */
int tok_token_id(const struct tokenizer *t, const char *s);
/* Token string of id (owned by t), or NULL when id is out of range. */
const char *tok_id_token(const struct tokenizer *t, int id);

/*
 * Model input for one text (UTF-8, len bytes; not NUL-terminated needed):
 * ids[0..max_len) = [CLS], at most max_len - 2 WordPiece ids (truncated
 * from the right), [SEP], then [PAD] up to max_len; mask[i] = 1 for the
 * real tokens, 0 for padding. Invalid UTF-8 bytes are treated as U+FFFD
 * (and so dropped, as clean_text drops U+FFFD).
 *
 * Returns the number of real tokens ([CLS] and [SEP] included, so >= 2),
 * or -1 (with error()) when max_len < 2. ids and mask hold max_len
 * elements; mask may be NULL. Allocates nothing for texts of up to a few
 * KB; thread-safe.
 */
int tok_encode(const struct tokenizer *t, const char *text, size_t len, int max_len,
	       int32_t *ids, uint8_t *mask);

/*
 * All WordPiece ids of a text, without special tokens and without
 * truncation (Hugging Face's ids with add_special_tokens=False). Writes at
 * most cap ids to ids (which may be NULL when cap is 0) and returns the
 * total count, which may exceed cap (call again with a larger buffer),
 * like snprintf. Thread-safe.
 */
size_t tok_encode_full(const struct tokenizer *t, const char *text, size_t len,
		       int32_t *ids, size_t cap);

/*
 * Normalises and pre-tokenises a text exactly as the encoder does (no vocab
 * needed, so t may be NULL: then no special tokens are recognised) and calls
 * fn once per word, in order, with the word's UTF-8 bytes (not
 * NUL-terminated; valid only during the call) and its length in code
 * points. A word longer than TOK_MAX_WORD_CHARS (which encodes as [UNK])
 * is given cut to its first TOK_MAX_WORD_CHARS code points, with nchars
 * its whole length. A literal special token is reported as is_special = 1. Stops
 * early and returns fn's value when fn returns nonzero; returns 0 otherwise.
 * Used to build vocabs.
 */
typedef int (*tok_word_fn)(void *arg, const char *word, size_t len, size_t nchars,
			   int is_special);
int tok_words(const struct tokenizer *t, const char *text, size_t len, tok_word_fn fn,
	      void *arg);

/* The version of libutf8proc in use and the Unicode version of its data. */
const char *tok_utf8proc_version(void);
const char *tok_unicode_version(void);

#endif

/*
 * vocab: WordPiece vocabularies for mmdb's tokenizer. Builds one from the
 * ingested titles (the offline default, when no pretrained vocab.txt is
 * given) and records vocab files in the vocabs table, so each run can name
 * the vocab it used.
 */
#ifndef MMDB_VOCAB_H
#define MMDB_VOCAB_H

#include <stdint.h>

struct db;

#define VOCAB_DEFAULT_SIZE 8000
#define VOCAB_DEFAULT_MIN_COUNT 2

struct vocab_build_opts {
	int size;          /* tokens in all, specials included (>= 7) */
	int min_count;     /* a whole word needs this many occurrences (>= 1) */
	const char *out;   /* where to write; NULL: <cache>/vocab/vocab-<sha8>.txt */
	int quiet;         /* no summary on stderr */
};

/*
 * Builds a vocab from the titles of the train split (all splits when there
 * are no train posts): [PAD] [UNK] [CLS] [SEP] [MASK] (ids 0..4); then every
 * character seen, most frequent first, and its "##" form (left out for
 * characters only ever seen as a word of their own: punctuation, CJK);
 * then the most frequent whole words (after the tokenizer's normalisation)
 * seen at least min_count times, until size. When the characters alone do
 * not fit, the rarest are left out (they become [UNK]) with a warning.
 * Ties are broken by byte order, so the same titles give the same file.
 *
 * The file is written atomically (temporary name, fsync, rename) and
 * registered in the vocabs table with source 'built'. On success returns
 * 0, *path_out (absolute; owned by the caller) and *id_out (vocabs.id).
 * Returns -1 with a message when there are no titles, size is too small, or
 * writing fails.
 */
int vocab_build(struct db *db, const char *cache_dir, const struct vocab_build_opts *o,
		char **path_out, int64_t *id_out);

/*
 * Records the vocab file at path in the vocabs table: its absolute path,
 * sha256, size (number of tokens) and source ("built" or "file"). The file
 * is loaded first, so a file the tokenizer cannot use is refused. The same
 * path with the same contents gives back the existing row. Returns 0 and
 * *id_out, or -1 with a message.
 */
int vocab_register(struct db *db, const char *path, const char *source, int64_t *id_out);

#endif

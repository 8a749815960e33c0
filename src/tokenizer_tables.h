/*
 * tokenizer_tables.h: where Hugging Face's tokenizers engine and libutf8proc
 * disagree about a code point (different Unicode versions). Private to
 * tokenizer.c. Each list is sorted; a {-1, -1} entry keeps it non-empty.
 */
struct cp_range {
	int32_t lo, hi;
};
struct cp_map {
	int32_t from, to;
};

/* General category Cc/Cf/Co: clean_text drops them. */
static const struct cp_range other_not[] = { { -1, -1 } };
static const struct cp_range other_also[] = { { -1, -1 } };
/* Mn: dropped after decomposition. */
static const struct cp_range mn_not[] = { { -1, -1 } };
static const struct cp_range mn_also[] = { { -1, -1 } };
/* P*: punctuation, isolated by the pre-tokeniser. */
static const struct cp_range punct_not[] = { { -1, -1 } };
static const struct cp_range punct_also[] = { { -1, -1 } };
/* Simple lower-case mappings. */
static const struct cp_map lower_fix[] = { { -1, -1 } };

/* Canonical decompositions that differ; returns their length, 0 if none. */
static int32_t nfd_lookup(int32_t c, int32_t *d)
{
	(void)c;
	(void)d;
	return 0;
}

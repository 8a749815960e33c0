/*
 * jsonstr: parsing of one JSON string held alone on a line, as
 * `mmdb tokenize --json` reads its input. Plain C, no allocation beyond the
 * caller's strbuf.
 */
#ifndef MMDB_JSONSTR_H
#define MMDB_JSONSTR_H

#include <stddef.h>

struct strbuf;

/*
 * Parses s[0..n) holding exactly one JSON string (white space around it
 * allowed) and appends its value to out as UTF-8 (it may hold NUL bytes
 * from "\u0000"; out->len counts them). Returns NULL, or a static
 * description of what is wrong ("unterminated JSON string", ...); on
 * failure out holds an unspecified prefix of the value.
 */
const char *json_string_parse(const char *s, size_t n, struct strbuf *out);

#endif

/*
 * text: turns text from the database into something safe to draw in a
 * terminal cell grid. Control and escape characters are made visible (ESC
 * as "^[") or replaced, invalid UTF-8 becomes U+FFFD, and the width of each
 * character is taken from wcwidth() so wide and combining characters keep
 * columns aligned. No curses here: the screens draw what this returns.
 */
#ifndef MMDB_UI_TEXT_H
#define MMDB_UI_TEXT_H

#include <stddef.h>
#include <wchar.h>

/*
 * Converts UTF-8 `s` (NULL draws as "") into at most `outn - 1` wide
 * characters in `out` (NUL-terminated) that occupy at most `maxcols`
 * terminal columns, cutting at the last whole character that fits. Tabs,
 * newlines and carriage returns become spaces; other C0 controls and DEL
 * become "^X"; C1 controls and non-printable characters become '?';
 * zero-width characters are kept only after a printable base character.
 * Returns the number of columns used; *consumed (if not NULL) gets the
 * bytes of s used, so a caller can wrap the rest onto the next line.
 * Needs setlocale() for wcwidth().
 */
int text_fit(const char *s, wchar_t *out, size_t outn, int maxcols, size_t *consumed);

/* Columns `s` would occupy after text_fit's cleaning (no limit). */
int text_width(const char *s);

/*
 * Cleans `s` into a new UTF-8 string (caller frees) with the same rules as
 * text_fit, without a width limit: for single-line strings shown by tests
 * and prompts.
 */
char *text_clean(const char *s);

#endif

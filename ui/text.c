/*
 * text: safe, width-aware conversion of database text for the dashboard.
 * See text.h.
 */
#define _XOPEN_SOURCE 700
#include "text.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 character at s; *len gets its byte length (>= 1). */
static uint32_t utf8_next(const unsigned char *s, int *len)
{
	uint32_t c = s[0], min;
	int n, i;
	if (c < 0x80) { *len = 1; return c; }
	if ((c & 0xe0) == 0xc0) { n = 2; c &= 0x1f; min = 0x80; }
	else if ((c & 0xf0) == 0xe0) { n = 3; c &= 0x0f; min = 0x800; }
	else if ((c & 0xf8) == 0xf0) { n = 4; c &= 0x07; min = 0x10000; }
	else { *len = 1; return 0xfffd; }
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) { *len = i; return 0xfffd; }
		c = (c << 6) | (s[i] & 0x3f);
	}
	*len = n;
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0xfffd;
	return c;
}

/*
 * Cleans one character into up to two display characters (w[0], w[1]) and
 * returns how many; *cols gets their width. `after_base` says whether a
 * printable character precedes (for zero-width ones).
 */
static int clean_char(uint32_t c, int after_base, wchar_t w[2], int *cols)
{
	int cw;
	if (c == '\t' || c == '\n' || c == '\r') {
		w[0] = ' '; *cols = 1; return 1;
	}
	if (c < 0x20 || c == 0x7f) {
		w[0] = '^'; w[1] = c == 0x7f ? '?' : (wchar_t)(c + '@'); *cols = 2; return 2;
	}
	if (c >= 0x80 && c < 0xa0) {
		w[0] = '?'; *cols = 1; return 1;
	}
	cw = wcwidth((wchar_t)c);
	if (cw < 0) {
		w[0] = '?'; *cols = 1; return 1;
	}
	if (cw == 0 && !after_base)
		return 0;
	w[0] = (wchar_t)c; *cols = cw; return 1;
}

int text_fit(const char *s, wchar_t *out, size_t outn, int maxcols, size_t *consumed)
{
	const unsigned char *start = (const unsigned char *)(s ? s : ""), *p = start;
	size_t n = 0;
	int used = 0, base = 0;
	if (!outn)
		return 0;
	while (*p) {
		wchar_t w[2];
		int len, cols, k, i;
		uint32_t c = utf8_next(p, &len);
		k = clean_char(c, base, w, &cols);
		if (k && (used + cols > maxcols || n + k >= outn))
			break;
		p += len;
		if (!k)
			continue;
		for (i = 0; i < k; i++)
			out[n++] = w[i];
		used += cols;
		base = cols > 0 || base;
	}
	out[n] = 0;
	if (consumed)
		*consumed = (size_t)(p - start);
	return used;
}

int text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int used = 0, base = 0;
	while (*p) {
		wchar_t w[2];
		int len, cols;
		uint32_t c = utf8_next(p, &len);
		p += len;
		if (!clean_char(c, base, w, &cols))
			continue;
		used += cols;
		base = 1;
	}
	return used;
}

static void put_utf8(struct strbuf *sb, uint32_t c)
{
	char b[4];
	if (c < 0x80) { sb_addc(sb, (char)c); return; }
	if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6)); b[1] = (char)(0x80 | (c & 0x3f));
		sb_add(sb, b, 2); return;
	}
	if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12)); b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f)); sb_add(sb, b, 3); return;
	}
	b[0] = (char)(0xf0 | (c >> 18)); b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((c >> 6) & 0x3f)); b[3] = (char)(0x80 | (c & 0x3f));
	sb_add(sb, b, 4);
}

char *text_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	struct strbuf sb = STRBUF_INIT;
	int base = 0;
	sb_adds(&sb, "");
	while (*p) {
		wchar_t w[2];
		int len, cols, k, i;
		uint32_t c = utf8_next(p, &len);
		p += len;
		k = clean_char(c, base, w, &cols);
		for (i = 0; i < k; i++)
			put_utf8(&sb, (uint32_t)w[i]);
		if (k)
			base = 1;
	}
	return sb_detach(&sb);
}

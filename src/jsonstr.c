/*
 * jsonstr: one JSON string on a line. See jsonstr.h.
 */
#include "jsonstr.h"
#include "util.h"

/* 4 hex digits at p; -1 if not. */
static long hex4(const char *p)
{
	long v = 0;
	int i;
	for (i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static void add_utf8(struct strbuf *sb, long c)
{
	char b[4];
	if (c < 0x80) {
		sb_addc(sb, (char)c);
		return;
	}
	if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3f));
		sb_add(sb, b, 2);
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		sb_add(sb, b, 3);
	} else {
		b[0] = (char)(0xf0 | (c >> 18));
		b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		sb_add(sb, b, 4);
	}
}

const char *json_string_parse(const char *s, size_t n, struct strbuf *out)
{
	const char *p = s, *end = s + n;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if (p == end || *p != '"')
		return "not a JSON string (it must start with '\"')";
	p++;
	for (;;) {
		unsigned char c;
		if (p == end)
			return "unterminated JSON string";
		c = (unsigned char)*p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return "control character inside a JSON string (escape it)";
		if (c != '\\') {
			sb_addc(out, (char)c);
			continue;
		}
		if (p == end)
			return "unterminated JSON string";
		switch (*p++) {
		case '"': sb_addc(out, '"'); break;
		case '\\': sb_addc(out, '\\'); break;
		case '/': sb_addc(out, '/'); break;
		case 'b': sb_addc(out, '\b'); break;
		case 'f': sb_addc(out, '\f'); break;
		case 'n': sb_addc(out, '\n'); break;
		case 'r': sb_addc(out, '\r'); break;
		case 't': sb_addc(out, '\t'); break;
		case 'u': {
			long u = end - p >= 4 ? hex4(p) : -1;
			if (u < 0)
				return "bad \\u escape (4 hex digits wanted)";
			p += 4;
			if (u >= 0xd800 && u <= 0xdbff) {
				long lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return "lone surrogate in a \\u escape";
				p += 6;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			} else if (u >= 0xdc00 && u <= 0xdfff) {
				return "lone surrogate in a \\u escape";
			}
			add_utf8(out, u);
			break;
		}
		default:
			return "unknown escape in a JSON string";
		}
	}
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if (p != end)
		return "text after the JSON string";
	return NULL;
}

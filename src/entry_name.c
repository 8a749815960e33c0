/*
 * entry_name: safety and post id of an imported entry's name. See entry_name.h.
 */
#include "entry_name.h"

#include <string.h>

const char *entry_name_unsafe(const char *name)
{
	const char *p = name;
	if (!*name)
		return "empty name";
	if (name[0] == '/' || name[0] == '\\' || (name[0] && name[1] == ':'))
		return "absolute path";
	while (*p) {
		size_t n = strcspn(p, "/\\");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "'..' in the path";
		p += n;
		if (*p)
			p++;
	}
	return NULL;
}

int entry_name_id(const char *name, char *id, size_t n)
{
	const char *base = name, *p, *dot;
	for (p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	dot = strchr(base, '.');
	if (!dot || dot == base || (size_t)(dot - base) >= n || !dot[1])
		return -1;
	memcpy(id, base, (size_t)(dot - base));
	id[dot - base] = 0;
	return 0;
}

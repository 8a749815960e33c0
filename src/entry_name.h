/*
 * entry_name: what `mmdb images import` makes of an entry's name (an archive
 * member or a file in a folder): whether it is safe to consider at all, and
 * the post id it names. Pure string functions: a name never becomes a path.
 */
#ifndef MMDB_ENTRY_NAME_H
#define MMDB_ENTRY_NAME_H

#include <stddef.h>

/*
 * Why name (NUL-terminated) is unsafe: "empty name", "absolute path" (a
 * leading '/' or '\\', or a drive letter "C:"), "'..' in the path" (a ".."
 * component, with '/' or '\\' as separators); NULL when it is safe. The
 * string returned is static.
 */
const char *entry_name_unsafe(const char *name);

/*
 * The post id of a name "<dir>/<id>.<ext>" (any depth, '/' or '\\'
 * separators): the base name up to its first '.', which must be neither
 * first nor last. Writes it NUL-terminated into id (n bytes) and returns 0,
 * or -1 when the name is not so formed or the id does not fit.
 */
int entry_name_id(const char *name, char *id, size_t n);

#endif

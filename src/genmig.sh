#!/bin/sh
# Turns migrations/*.sql into a C array (src/migrations.c): mmdb carries its
# migrations inside the binary.
set -e
echo '/* generated from the migrations folder by src/genmig.sh; do not edit */'
echo '#include "migrations.h"'
echo 'const struct mmdb_migration mmdb_migrations[] = {'
for f in "$@"; do
	printf '\t{ "%s",\n' "$(basename "$f")"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t  "/' -e 's/$/\\n"/' "$f"
	printf '\t},\n'
done
echo '};'
echo "const size_t mmdb_migration_count = $#;"

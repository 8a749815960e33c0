#!/bin/sh
# Turns migrations/*.sql into a C array (src/migrations.c): mmdb carries its
# migrations inside the binary.
set -e
echo '/* generated from the migrations folder by src/genmig.sh; do not edit */'
echo '#include "migrations.h"'
echo 'const struct mmdb_migration mmdb_migrations[] = {'
last=0
for f in "$@"; do
	n=$(basename "$f" | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$/\1/p')
	if [ -z "$n" ] || [ "$n" -le "$last" ]; then
		echo "genmig: '$f': migrations are named NNNN_<what>.sql with increasing numbers" >&2
		exit 1
	fi
	last=$n
	printf '\t{ %d, "%s",\n' "$n" "$(basename "$f")"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t  "/' -e 's/$/\\n"/' "$f"
	printf '\t},\n'
done
echo '};'
echo "const size_t mmdb_migration_count = $#;"

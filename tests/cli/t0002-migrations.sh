#!/bin/sh
# Migrations: from empty to the current schema equals schema/schema.sql;
# every earlier version migrates forward without losing rows; a writer
# holding a transaction does not make a reader fail within busy_timeout.
. "$(dirname "$0")/lib.sh"

norm() { grep -v '^--' | sed 's/[[:space:]]\{1,\}/ /g; s/ *$//' | grep -v '^$'; }

"$MMDB" -q init
cur=$(q 'PRAGMA user_version')
sqlite3 "$MMDB_DB" .schema | norm >"$T/got.sql"
norm <"$MMDB_TOP/schema/schema.sql" >"$T/want.sql"
if diff -u "$T/want.sql" "$T/got.sql" >"$T/diff"; then ok "migrated-from-empty schema equals schema/schema.sql"
else fail "schema/schema.sql is out of date (make schema/schema.sql)"; head -30 "$T/diff"; fi

# every earlier version: the number of each migration file but the last
check_eq "the schema version is the newest migration's number" "$cur" \
	"$(ls "$MMDB_TOP"/migrations/*.sql | sed 's|.*/0*\([0-9]*\)_.*|\1|' | tail -1)"
for v in $(ls "$MMDB_TOP"/migrations/*.sql | sed 's|.*/0*\([0-9]*\)_.*|\1|'); do
	[ "$v" -lt "$cur" ] || continue
	db="$T/v$v.db"
	"$MMDB" -q --db "$db" init --to "$v"
	# sqlite3 here: mmdb sql refuses (or migrates) a database older than itself.
	check_eq "database at version $v" "$(sqlite3 "$db" 'PRAGMA user_version')" "$v"
	sqlite3 "$db" "INSERT INTO datasets(name) VALUES ('kept-$v')"
	check_status "version $v migrates to $cur" 0 "$MMDB" --db "$db" init
	check_eq "version $v reaches $cur" "$(MMDB_DB=$db q 'PRAGMA user_version')" "$cur"
	check_eq "rows survive migration from $v" "$(MMDB_DB=$db q "SELECT name FROM datasets WHERE name='kept-$v'")" "kept-$v"
	sqlite3 "$db" .schema | norm >"$T/v$v.sql"
	check_status "migrated-from-$v schema equals the fresh one" 0 diff -q "$T/v$v.sql" "$T/got.sql"
done

# A writer holds BEGIN IMMEDIATE for 2 s; a reader and a second writer wait
# (busy_timeout) instead of failing with "database is locked".
python3 - "$MMDB_DB" <<'EOF2' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("INSERT INTO datasets(name) VALUES ('held')")
time.sleep(2)
c.execute("COMMIT")
EOF2
sleep 0.5
check_status "a reader is not blocked by a writer" 0 "$MMDB" sql "SELECT count(*) FROM datasets"
check_status "a second writer waits for the first" 0 "$MMDB" sql --write "INSERT INTO datasets(name) VALUES ('second')"
wait
check_eq "both writes landed" "$(q "SELECT count(*) FROM datasets WHERE name IN ('held','second')")" "2"

# usage errors for malformed numbers
check_status "--to 1x is a usage error" 2 "$MMDB" init --to 1x
check_status "--to 0 is a usage error" 2 "$MMDB" init --to 0
check_status "--to past the newest is a usage error" 2 "$MMDB" init --to 99999

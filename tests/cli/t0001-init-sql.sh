#!/bin/sh
# init, migrations, sql read-only refusal, formats, usage errors.
. "$(dirname "$0")/lib.sh"

check_status "--help exits 0" 0 "$MMDB" --help
check_match "--help lists commands" "$("$MMDB" --help)" "init.*create or migrate"
check_match "--version" "$("$MMDB" --version)" "^mmdb [0-9]+\.[0-9]+\.[0-9]+$"
check_status "unknown command is a usage error" 2 "$MMDB" frobnicate
check_status "init creates the database" 0 "$MMDB" init
check_eq "user_version is set" "$(q 'PRAGMA user_version')" "$("$MMDB" env --format json | sed 's/.*"schema": \([0-9]*\).*/\1/')"
check_eq "WAL mode" "$(q 'PRAGMA journal_mode')" "wal"
check_match "init again is up to date" "$("$MMDB" init)" "up to date"
check_status "sql refuses writes without --write" 1 "$MMDB" sql "DELETE FROM label_names"
check_match "refusal says why" "$(cat "$T/.err")" "--write"
check_eq "nothing was deleted" "$(q 'SELECT count(*) FROM label_names')" "11"
check_status "sql --write writes" 0 "$MMDB" sql --write "INSERT INTO datasets(name) VALUES ('x')"
check_eq "row written" "$(q "SELECT name FROM datasets")" "x"
check_status "a failing statement exits 1" 1 "$MMDB" sql "SELECT * FROM no_such_table"
check_match "with SQLite's message" "$(cat "$T/.err")" "no such table: no_such_table"
check_eq "csv output" "$("$MMDB" sql --format csv "SELECT 1 AS a, 'x,y' AS b" | tr -d '\r')" 'a,b
1,"x,y"'
check_eq "json output" "$("$MMDB" sql --format json "SELECT 1 AS a, NULL AS b, 'q\"' AS c")" '[{"a": 1, "b": null, "c": "q\""}]'
check_status "unknown format is a usage error" 2 "$MMDB" sql --format xml "SELECT 1"
check_eq "options may follow the SQL" "$("$MMDB" sql "SELECT 1 AS a" --format csv | tr -d '\r')" 'a
1'
check_eq "... and global options come before the command" "$("$MMDB" -q sql "SELECT 2 AS b" --format=json)" '[{"b": 2}]'
check_status "sql on a missing database fails" 1 "$MMDB" --db "$T/missing.db" sql "SELECT 1"
check_match "naming the file" "$(cat "$T/.err")" "missing.db"
printf 'this is not a database at all, just text.................................................................' > "$T/junk.db"
check_status "a non-SQLite file is refused" 1 "$MMDB" --db "$T/junk.db" init
check_match "naming the file" "$(cat "$T/.err")" "junk.db"
"$MMDB" sql --write "PRAGMA user_version = 999" >/dev/null
check_status "a newer database is refused" 1 "$MMDB" init
check_match "with a clear message" "$(cat "$T/.err")" "newer than this mmdb"
check_status "init -h works without a database" 0 "$MMDB" --db "$T/none.db" init -h
check_status "--db from MMDB_DB" 0 test -f "$MMDB_DB"
check_status "env runs" 0 "$MMDB" env

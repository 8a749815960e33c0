#!/bin/sh
# The database locked by another writer (a python3 sqlite3 connection in
# BEGIN EXCLUSIVE) for longer than mmdb's busy timeout, during ingest,
# images fetch and run: a one-line error naming the lock and the database
# file, nothing half-written, and the same command completes once the lock
# is gone. A lock released within the timeout is simply waited for.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imgtest.sh"
. "$(dirname "$0")/lib_run.sh"
. "$(dirname "$0")/faults.sh"
q() { sqlite3 -batch "$MMDB_DB" ".timeout 30000" "$1"; }
VAL="$SAMPLE/multimodal_validate.tsv"
LOCKED="database '$MMDB_DB' is locked by another process"
# A short busy timeout keeps the test quick; the locks below outlast it.
export MMDB_BUSY_TIMEOUT=1
stderr_lines() { grep -c . "$1"; }

"$MMDB" init >/dev/null
# --- ingest ---------------------------------------------------------------
check "another writer holds the lock" hold_lock "$MMDB_DB" 30
check_status "ingest while it is held fails" 1 "$MMDB" -q ingest "$VAL"
check_match "naming the lock and the database" "$(cat "$T/.err")" "^mmdb: $LOCKED"
check_eq "in one line" "$(stderr_lines "$T/.err")" 1
kill "$LOCK_PID"; wait "$LOCK_PID" 2>/dev/null
check_eq "database intact" "$(q "PRAGMA integrity_check")" ok
check_eq "nothing written" "$(q "SELECT (SELECT count(*) FROM posts) + (SELECT count(*) FROM ingests)")" 0
check_status "the same ingest once the lock is gone" 0 "$MMDB" -q ingest "$VAL"
check_eq "every record in, once" "$(q "SELECT count(*) || ' ' || count(DISTINCT id) FROM posts")" "9996 9996"

check "a lock held for a moment" hold_lock "$MMDB_DB" 1
MMDB_BUSY_TIMEOUT=60 "$MMDB" -q ingest "$SAMPLE/multimodal_test_public.tsv" >/dev/null 2>"$T/err"
check_eq "is waited for (busy timeout 60 s)" "$?" 0
wait "$LOCK_PID"
check_eq "and the ingest completes" "$(q "SELECT count(*) FROM posts WHERE split = 'test'")" 9998

# --- images fetch -----------------------------------------------------------
export MMDB_DB="$T/fetch.db"
LOCKED="database '$MMDB_DB' is locked by another process"
start_server
"$MMDB" init >/dev/null
n=0
for f in "$IMAGES"/*.jpg; do
	id=$(basename "$f" .jpg)
	add_post "$id" "$B/slow/$id.jpg"
	n=$((n + 1))
done
flush_posts
check "another writer holds the lock" hold_lock "$MMDB_DB" 30
check_status "fetch while it is held fails" 1 "$MMDB" -q images fetch
check_match "naming the lock and the database" "$(cat "$T/.err")" "^mmdb: $LOCKED"
check_eq "in one line" "$(stderr_lines "$T/.err")" 1
kill "$LOCK_PID"; wait "$LOCK_PID" 2>/dev/null
check_eq "nothing fetched" "$(q "SELECT count(*) FROM images WHERE status <> 'pending'")" 0

# Locked in the middle: rows are written once a second, between them the
# lock is free for the other writer to take.
"$MMDB" -q images fetch --jobs 2 >/dev/null 2>"$T/err" &
pid=$!
i=0
while [ "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" -lt 2 ] && [ $i -lt 600 ]; do
	sleep 0.1; i=$((i + 1))
done
check "another writer takes the lock mid-fetch" hold_lock "$MMDB_DB" 60
wait "$pid"
check_eq "the fetch fails" "$?" 1
check_match "naming the lock and the database" "$(cat "$T/err")" "^mmdb: $LOCKED"
check_eq "in one line" "$(stderr_lines "$T/err")" 1
kill "$LOCK_PID"; wait "$LOCK_PID" 2>/dev/null
check_eq "database intact" "$(q "PRAGMA integrity_check")" ok
done1=$(q "SELECT count(*) FROM images WHERE status = 'ok'")
check "part of it was recorded" test "$done1" -ge 2 -a "$done1" -lt $((n - 1))
check_eq "the rest still pending (none marked failed)" "$(q "SELECT count(*) FROM images WHERE status NOT IN ('ok', 'removed', 'pending')")" 0
check_eq "every ok row has its object" "$(q "SELECT sha256 FROM images WHERE status = 'ok'" |
	while read -r s; do [ -f "$MMDB_CACHE/objects/$(echo "$s" | cut -c1-2)/$s" ] || echo "$s"; done)" ""
check_eq "objects whole" "$(bad_objects)" ""
check_eq "no temporary file left" "$(count_tmp)" 0
check_status "the same fetch once the lock is gone" 0 "$MMDB" -q images fetch --jobs 8
check_eq "every image fetched" "$(q "SELECT count(*) FROM images WHERE status IN ('ok', 'removed')")" "$n"
check_eq "one object per image" "$(count_objects)" "$((n - 1))"

# --- run ------------------------------------------------------------------
end_without_torch "the lock during mmdb run"
kill "$SERVER_PID" 2>/dev/null
export MMDB_DB="$T/run.db" MMDB_CACHE="$T/runcache"
LOCKED="database '$MMDB_DB' is locked by another process"
check "synthetic dataset" setup_synthetic 48 32 16
check "another writer holds the lock" hold_lock "$MMDB_DB" 60
check_status "a run while it is held fails" 1 "$MMDB" -q run --name r0 --epochs 2 $TINY
check_match "naming the lock and the database" "$(cat "$T/.err")" "^mmdb: $LOCKED"
check_eq "in one line" "$(stderr_lines "$T/.err")" 1
kill "$LOCK_PID"; wait "$LOCK_PID" 2>/dev/null
check_eq "no run recorded" "$(q "SELECT count(*) FROM runs")" 0

"$MMDB" -q run --name r1 --epochs 200 $TINY >/dev/null 2>"$T/err" &
pid=$!
check "the run reaches epoch 1" wait_for "SELECT epochs_done >= 1 FROM runs WHERE name = 'r1'" 120
check "another writer takes the lock mid-run" hold_lock "$MMDB_DB" 120
wait "$pid"
check_eq "the run fails" "$?" 1
check_match "naming the lock and the database" "$(cat "$T/err")" "^mmdb: $LOCKED"
check_eq "in one line" "$(grep -v '^run ' "$T/err" | grep -c .)" 1
kill "$LOCK_PID"; wait "$LOCK_PID" 2>/dev/null
check_eq "database intact" "$(q "PRAGMA integrity_check")" ok
check_match "the run is resumable (failed, or crashed once its pid is gone)" \
	"$("$MMDB" runs --format csv | grep '^[0-9]*,r1,')" ",r1,(failed|crashed),"
check_eq "its epochs rows whole (train and validate per epoch)" \
	"$(q "SELECT count(*) = 2 * (SELECT epochs_done FROM runs WHERE name = 'r1') FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = 'r1'")" 1
before=$(q "SELECT epochs_done FROM runs WHERE name = 'r1'")
# (48 train posts, batches of 16: 3 steps an epoch; stop one step after one more epoch)
MMDB_TEST_STOP_AFTER_STEPS=$(((before + 1) * 3 + 1)) "$MMDB" -q run --resume r1 >/dev/null 2>&1
check_eq "it resumes once the lock is gone (stopped by the test one epoch later)" "$?" 130
check_eq "having trained one more epoch" "$(q "SELECT status || ' ' || (epochs_done - $before) FROM runs WHERE name = 'r1'")" "interrupted 1"

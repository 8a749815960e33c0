#!/bin/sh
# A rank that hangs (SIGSTOP: alive, silent) in a data-parallel run: the
# other times out after MMDB_DIST_TIMEOUT, calls the roll through the store
# and ends the run failed naming the silent rank; the launcher then stops
# it and exits. Then rank 0 hangs: the store it hosts does not answer, so
# rank 1 names it and records the failure. Both runs resume to completion.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check "synthetic dataset" setup_synthetic 96 32 32
end_without_torch "hung ranks"
export MMDB_DIST_TIMEOUT=4 # seconds a collective waits
args="--modalities text --text-model bert-tiny --max-len 12 --lr 1e-3 --optimizer adamw
	--threads 1 --workers 1 --seed 5 --epochs 30 --early-stop 0 --batch-size 8"

signal_rank STOP h1 1
check_match "rank 1 stopped: the launcher ended within 60 s (${secs}s)" "$secs" '^([0-9]|[1-5][0-9])$'
check_eq "status failed" "$(q "SELECT status FROM runs WHERE name = 'h1'")" failed
check_match "the reason names rank 1 as not responding" "$(q "SELECT reason FROM runs WHERE name = 'h1'")" \
	"rank 1 \(pid $victim on .*\) is not responding \(no answer in [0-9]+ s\)"
check_eq "rank 0 is not blamed" "$(q "SELECT reason FROM runs WHERE name = 'h1'" | grep -c "rank 0")" 0
check_match "the launcher stopped the hung rank" "$(cat "$T/h1.out")" "stopping the other ranks"
check_status "resume with 2 ranks" 0 "$MMDB" -q run --resume h1 --nproc 2
check_eq "completed, 30 epochs" "$(q "SELECT status||'|'||epochs_done FROM run_summary WHERE name = 'h1'")" \
	"completed|30"

signal_rank STOP h0 0
check_match "rank 0 stopped: the launcher ended within 60 s (${secs}s)" "$secs" '^([0-9]|[1-5][0-9])$'
check_eq "status failed (written by rank 1)" "$(q "SELECT status FROM runs WHERE name = 'h0'")" failed
check_match "the reason names rank 0 as not responding" "$(q "SELECT reason FROM runs WHERE name = 'h0'")" \
	"rank 0 \(pid $victim on .*\) is not responding"
check_status "resume with 1 process" 0 "$MMDB" -q run --resume h0
check_eq "completed" "$(q "SELECT status||'|'||epochs_done FROM run_summary WHERE name = 'h0'")" "completed|30"

# The same with each step followed by a pause (MMDB_TEST_STEP_SLEEP_MS), so
# that the stop falls between two collectives, not inside one: the stopped
# rank, continued and told to stop by the launcher, must neither record
# 'interrupted' over the failure nor blame the rank that is gone in its wake.
export MMDB_TEST_STEP_SLEEP_MS=300
signal_rank STOP p0 0
check_eq "rank 0 stopped between steps: status failed" "$(q "SELECT status FROM runs WHERE name = 'p0'")" failed
check_match "... the reason names rank 0" "$(q "SELECT reason FROM runs WHERE name = 'p0'")" \
	"rank 0 \(pid $victim on .*\) is not responding"
check_eq "... rank 0 did not report the run interrupted" "$(grep -c 'interrupted' "$T/p0.out")" 0
check_match "... it says it was told to stop" "$(cat "$T/p0.out")" "rank 0 was told to stop \(SIGINT or SIGTERM\)"
signal_rank STOP p1 1
check_match "rank 1 stopped between steps: the reason names rank 1" "$(q "SELECT reason FROM runs WHERE name = 'p1'")" \
	"rank 1 \(pid $victim on .*\) is not responding"
check_eq "... rank 1 blames no one, nor dies of a broken pipe" \
	"$(grep -c 'rank 0 (pid [0-9]* on .*) is gone\|signal 13' "$T/p1.out")" 0
check_match "... it says it was told to stop" "$(cat "$T/p1.out")" "rank 1 was told to stop \(SIGINT or SIGTERM\)"
check_eq "no c10d socket warnings from the roll calls" "$(cat "$T/h1.out" "$T/h0.out" "$T/p0.out" "$T/p1.out" |
	grep -c 'waitForInput')" 0
unset MMDB_TEST_STEP_SLEEP_MS

# Rank 0 hangs while the database is locked (as when rank 0 stops inside a
# transaction; here another process holds the lock): rank 1 cannot record
# the failure, so it leaves its account in the run's folder and exits; rank
# 0, continued and told to stop by the launcher, records rank 1's account,
# not its own, once the lock is gone.
"$MMDB" -q run --name l0 $args --nproc 2 >"$T/l0.out" 2>&1 &
launcher=$!
wait_for "SELECT count(*) >= 4 FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = 'l0'" $((60 * SLOW))
victim=$(rank_pid "$launcher" 0)
id=$(q "SELECT id FROM runs WHERE name = 'l0'")
account="$MMDB_CACHE/runs/$id/failure-rank1"
{
	echo 'BEGIN IMMEDIATE;'
	i=0
	while [ ! -e "$account" ] && [ $i -lt $((900 * SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
	echo 'COMMIT;'
} | sqlite3 "$MMDB_DB" &
holder=$!
locked() { ! sqlite3 "$MMDB_DB" ".timeout 0" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; }
i=0
while ! locked && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "the database is held locked" locked
kill -STOP "$victim"
i=0
while kill -0 "$launcher" 2>/dev/null && [ $i -lt $((900 * SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
kill -9 "$launcher" "$victim" "$holder" 2>/dev/null
wait "$launcher" 2>/dev/null
wait "$holder" 2>/dev/null
check_match "rank 1 left its account" "$(cat "$T/l0.out")" "rank 1: the database is locked; the failure's account waits in"
check_eq "status failed" "$(q "SELECT status FROM runs WHERE name = 'l0'")" failed
check_match "the reason is rank 1's: rank 0 is not responding" "$(q "SELECT reason FROM runs WHERE name = 'l0'")" \
	"rank 0 \(pid $victim on .*\) is not responding"
check_eq "the account is gone once recorded" "$(ls "$MMDB_CACHE/runs/$id" | grep -c failure-rank)" 0
check_status "resume" 0 "$MMDB" -q run --resume l0
check_eq "completed" "$(q "SELECT status||'|'||epochs_done FROM run_summary WHERE name = 'l0'")" "completed|30"

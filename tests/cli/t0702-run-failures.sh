#!/bin/sh
# Runs that end badly: a NaN loss fails the run with that reason; Ctrl-C
# saves and marks it interrupted; kill -9 leaves it 'running' until `mmdb
# runs` sees its pid gone and marks it crashed (and it can be resumed);
# two runs train at once against one database.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check "synthetic dataset" setup_synthetic 96 32 32

MMDB_TEST_NAN_AT_STEP=3 "$MMDB" -q run --name nan --epochs 2 $TINY 2>"$T/err"
check_eq "a NaN loss exits 1" "$?" 1
check_eq "status failed with the reason" "$(q "SELECT status||'|'||reason FROM runs WHERE name = 'nan'")" \
	"failed|loss is NaN at epoch 1 step 3"
check_match "and says so" "$(cat "$T/err")" "loss is NaN"

"$MMDB" -q run --name int --epochs 200 $TINY >"$T/int.out" 2>&1 &
pid=$!
check "the run reaches epoch 1" wait_for "SELECT epochs_done >= 1 FROM runs WHERE name = 'int'" 60
check_eq "its pid is recorded while running" "$(q "SELECT pid||status FROM runs WHERE name = 'int'")" "${pid}running"
kill -INT "$pid"
wait "$pid"
check_eq "Ctrl-C exits 130" "$?" 130
check_eq "status interrupted" "$(q "SELECT status FROM runs WHERE name = 'int'")" interrupted
check "its last checkpoint is saved" test -s "$MMDB_CACHE/runs/$(q "SELECT id FROM runs WHERE name = 'int'")/last.ckpt"

"$MMDB" -q run --name killed --epochs 200 $TINY >/dev/null 2>&1 &
pid=$!
check "the run reaches epoch 1" wait_for "SELECT epochs_done >= 1 FROM runs WHERE name = 'killed'" 60
kill -9 "$pid"
wait "$pid" 2>/dev/null
check_eq "after kill -9 the row still says running" "$(q "SELECT status FROM runs WHERE name = 'killed'")" running
check_match "mmdb runs shows it crashed" "$("$MMDB" runs --format csv)" "killed,crashed"
check_eq "marked crashed in the database" "$(q "SELECT status FROM runs WHERE name = 'killed'")" crashed
check_eq "other runs untouched" "$(q "SELECT status FROM runs WHERE name = 'int'")" interrupted

# Two runs at once against the same database.
"$MMDB" -q run --name c1 --epochs 2 $TINY >"$T/c1" 2>&1 &
p1=$!
"$MMDB" -q run --name c2 --epochs 2 --modalities text $TINY >"$T/c2" 2>&1 &
p2=$!
wait "$p1"; r1=$?
wait "$p2"; r2=$?
check_eq "two concurrent runs both succeed" "$r1$r2" 00
check_eq "both completed with all their rows" "$(q "SELECT group_concat(n, ' ') FROM (SELECT r.name||':'||r.status||':'||
	(SELECT count(*) FROM epochs e WHERE e.run_id = r.id)||':'||(SELECT count(*) FROM predictions p WHERE p.run_id = r.id)
	AS n FROM runs r WHERE r.name IN ('c1', 'c2') ORDER BY r.name)")" "c1:completed:5:64 c2:completed:5:64"

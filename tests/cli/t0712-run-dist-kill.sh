#!/bin/sh
# A rank killed with SIGKILL in a data-parallel run: the other stops on its
# own within 60 s, the run ends failed naming the rank, every epoch written
# is whole (train and validate rows), and --resume finishes it, with the
# same or another number of ranks. Then the same with rank 0 killed: rank 1
# records the failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check "synthetic dataset" setup_synthetic 96 32 32
end_without_torch "killed ranks"
args="--modalities text --text-model bert-tiny --max-len 12 --lr 1e-3 --optimizer adamw
	--threads 1 --workers 1 --seed 5 --epochs 40 --early-stop 0 --batch-size 8"

signal_rank 9 k1 1
check_match "rank 1 killed: the run ended within 60 s (${secs}s)" "$secs" '^([0-9]|[1-5][0-9])$'
check_eq "status failed" "$(q "SELECT status FROM runs WHERE name = 'k1'")" failed
check_match "the reason names rank 1" "$(q "SELECT reason FROM runs WHERE name = 'k1'")" "rank 1 \(pid [0-9]+ on .*\) is gone"
check_match "the launcher says how rank 1 ended" "$(cat "$T/k1.out")" "rank 1 \(pid [0-9]+\) was killed by signal 9"
check_eq "every epoch recorded whole (train and validate rows)" \
	"$(q "SELECT count(*) FROM (SELECT epoch FROM epochs e JOIN runs r ON r.id = e.run_id
	WHERE r.name = 'k1' GROUP BY epoch HAVING count(*) != 2)")" 0
check_eq "no test rows or predictions yet" "$(q "SELECT (SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id
	WHERE r.name = 'k1' AND split = 'test') + (SELECT count(*) FROM predictions p JOIN runs r ON r.id = p.run_id
	WHERE r.name = 'k1')")" 0
id=$(q "SELECT id FROM runs WHERE name = 'k1'")
check_eq "no checkpoint temporaries left" "$(ls "$MMDB_CACHE/runs/$id" | grep -c tmp)" 0
check_status "resume with 2 ranks" 0 "$MMDB" -q run --resume k1 --nproc 2
check_eq "completed, 40 epochs, a test row and 64 predictions" \
	"$(q "SELECT status||'|'||epochs_done||'|'||(SELECT count(*) FROM epochs WHERE run_id = $id AND split = 'test')||'|'||
	(SELECT count(*) FROM predictions WHERE run_id = $id) FROM run_summary WHERE id = $id")" "completed|40|1|64"

signal_rank 9 k0 0
check_match "rank 0 killed: the run ended within 60 s (${secs}s)" "$secs" '^([0-9]|[1-5][0-9])$'
check_eq "status failed (written by rank 1)" "$(q "SELECT status FROM runs WHERE name = 'k0'")" failed
check_match "the reason names rank 0" "$(q "SELECT reason FROM runs WHERE name = 'k0'")" "rank 0 \(pid [0-9]+ on .*\) is gone"
check_status "resume with 1 process (another world size)" 0 "$MMDB" -q run --resume k0
check_eq "completed" "$(q "SELECT status||'|'||epochs_done||'|'||world_size FROM run_summary WHERE name = 'k0'")" "completed|40|1"

# Interrupted, not killed: SIGINT to the launcher (as Ctrl-C), then SIGTERM
# to rank 1 alone. The ranks stop at the same step, the run is
# 'interrupted' with its position saved, and --resume finishes it.
export MMDB_TEST_STEP_SLEEP_MS=100 # the signal falls between steps too
signal_rank INT i1 launcher
check_eq "SIGINT to the launcher: interrupted" "$(q "SELECT status FROM runs WHERE name = 'i1'")" interrupted
check_match "... both ranks ended interrupted together (no failed collective)" "$(grep -c 'was interrupted (status 130)' "$T/i1.out")" '^2$'
check_match "... rank 0 says where to resume" "$(cat "$T/i1.out")" "run [0-9]+ interrupted at epoch [0-9]+ step [0-9]+"
signal_rank TERM i2 1
check_eq "SIGTERM to rank 1 alone: interrupted" "$(q "SELECT status FROM runs WHERE name = 'i2'")" interrupted
check_match "... both ranks ended interrupted together (no failed collective)" "$(grep -c 'was interrupted (status 130)' "$T/i2.out")" '^2$'
unset MMDB_TEST_STEP_SLEEP_MS
check_status "resume the first with 2 ranks" 0 "$MMDB" -q run --resume i1 --nproc 2
check_status "resume the second with 1 process" 0 "$MMDB" -q run --resume i2
check_eq "both completed, 40 epochs" "$(q "SELECT group_concat(status||'|'||epochs_done, ',') FROM run_summary
	WHERE name IN ('i1', 'i2')")" "completed|40,completed|40"

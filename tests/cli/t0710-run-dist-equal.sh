#!/bin/sh
# Data-parallel runs: 2 ranks (gloo over loopback, --nproc 2, batch 8 each)
# against 1 process with the same global batch (16) and seed, text only (no
# BatchNorm) and no dropout: per-epoch train losses agree within 1e-4
# relative, validate and test metrics are identical, predictions agree.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check "synthetic dataset" setup_synthetic 100 30 30
end_without_torch "data-parallel runs"
# 100 train posts: 50 a rank; 6 full global batches of 16 (drop_last) either
# way. 30 validate posts: 15 a rank, the last batch of each padded.
args="--modalities text --text-model bert-tiny --max-len 12 --lr 1e-3 --optimizer adamw
	--threads 1 --workers 1 --seed 5 --epochs 3 --dropout 0 --text-dropout 0
	--class-weights none --scheduler none"

check_status "one process, batch 16" 0 "$MMDB" -q run --name one $args --batch-size 16
check_status "two ranks, batch 8 each" 0 "$MMDB" -q run --name two $args --batch-size 8 --nproc 2

check_eq "the runs row records 2 ranks over gloo" \
	"$(q "SELECT world_size||','||backend FROM runs WHERE name = 'two'")" "2,gloo"
check_eq "one process: world_size 1" "$(q "SELECT world_size FROM runs WHERE name = 'one'")" 1
json=$("$MMDB" runs --format json)
check_match "mmdb runs --format json has world_size" "$json" '"world_size": 2'
check_eq "one runs row, epochs written once" \
	"$(q "SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = 'two'")" 7

loss_diff=$(q "SELECT max(abs(a.loss - b.loss) / abs(a.loss)) FROM epochs a JOIN epochs b
	ON a.epoch = b.epoch AND a.split = b.split
	WHERE a.run_id = (SELECT id FROM runs WHERE name = 'one')
	AND b.run_id = (SELECT id FROM runs WHERE name = 'two') AND a.split = 'train'")
check_match "train losses within 1e-4 relative (max $loss_diff)" \
	"$(awk -v d="$loss_diff" 'BEGIN { print (d != "" && d < 1e-4) ? "yes" : "no" }')" "^yes$"
check_eq "3 train epochs compared" "$(q "SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id
	WHERE r.name = 'two' AND e.split = 'train'")" 3
metrics() { q "SELECT group_concat(r, ';') FROM (SELECT e.epoch||e.split||':'||e.accuracy||','||
	printf('%.12f', e.precision)||','||printf('%.12f', e.recall)||','||printf('%.12f', e.f1)||','||
	printf('%.12f', e.f1_macro) AS r FROM epochs e JOIN runs r ON r.id = e.run_id
	WHERE r.name = '$1' AND e.split != 'train' ORDER BY e.epoch, e.split)"; }
check_eq "validate and test metrics identical" "$(metrics two)" "$(metrics one)"
check_match "validate and test metrics recorded" "$(metrics two)" "3validate:.*"
check_match "test metrics recorded" "$(metrics two)" "test:"
vloss=$(q "SELECT max(abs(a.loss - b.loss) / abs(a.loss)) FROM epochs a JOIN epochs b
	ON a.epoch = b.epoch AND a.split = b.split
	WHERE a.run_id = (SELECT id FROM runs WHERE name = 'one')
	AND b.run_id = (SELECT id FROM runs WHERE name = 'two') AND a.split != 'train'")
check_match "validate and test losses within 1e-5 relative (max $vloss)" \
	"$(awk -v d="$vloss" 'BEGIN { print (d != "" && d < 1e-5) ? "yes" : "no" }')" "^yes$"
check_eq "a prediction for every validate and test post, same classes" \
	"$(q "SELECT count(*) || '/' || sum(a.pred = b.pred) FROM predictions a JOIN predictions b
	ON a.post_id = b.post_id AND a.run_id = (SELECT id FROM runs WHERE name = 'one')
	AND b.run_id = (SELECT id FROM runs WHERE name = 'two')")" "60/60"

# Resume with another world size: 2 ranks interrupted mid-epoch 2, one process ends it.
MMDB_TEST_STOP_AFTER_STEPS=8 "$MMDB" -q run --name cut $args --batch-size 8 --nproc 2 >"$T/cut" 2>&1
check_eq "2 ranks interrupted by the test hook: exit 130" "$?" 130
check_eq "interrupted after epoch 1" "$(q "SELECT status||'|'||epochs_done FROM run_summary WHERE name = 'cut'")" "interrupted|1"
check_status "resumed by one process" 0 "$MMDB" -q run --resume cut
check_eq "completed, world_size now 1" \
	"$(q "SELECT status||'|'||epochs_done||'|'||world_size FROM run_summary WHERE name = 'cut'")" "completed|3|1"
check_status "--nproc inside a rank is refused" 2 env WORLD_SIZE=2 RANK=0 "$MMDB" run --nproc 2 $args
check_status "a malformed RANK is an error" 1 env WORLD_SIZE=2 RANK=x "$MMDB" run $args
check_match "naming the variable" "$(cat "$T/.err")" 'RANK'

#!/bin/sh
# Resume: a run interrupted mid-epoch (and one interrupted at an epoch's
# end) and resumed finishes with exactly the metrics and predictions of an
# uninterrupted run with the same seed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check "synthetic dataset" setup_synthetic 96 32 32
# 96 posts / 16 = 6 steps an epoch; dropout on, so the RNG state matters.
args="--epochs 3 --dropout 0.3 $TINY"

check_status "uninterrupted run" 0 "$MMDB" -q run --name whole $args
MMDB_TEST_STOP_AFTER_STEPS=9 "$MMDB" -q run --name cut $args >"$T/out" 2>&1
check_eq "interrupted mid-epoch 2: exit 130" "$?" 130
check_eq "status interrupted, one epoch recorded" "$(q "SELECT status||'|'||epochs_done FROM runs WHERE name = 'cut'")" "interrupted|1"
check_match "the reason says how to resume" "$(q "SELECT reason FROM runs WHERE name = 'cut'")" "resume"
# leftovers in the run's folder: checkpoint temporaries of a dead writer
# (removed) and of a live one (pid 1: kept), an unrecorded failure's account
dir="$MMDB_CACHE/runs/$(q "SELECT id FROM runs WHERE name = 'cut'")"
: >"$dir/last.ckpt.tmp2147483646" && : >"$dir/best.ckpt.tmp1" && echo old >"$dir/failure-rank1"
check_status "resume" 0 "$MMDB" -q run --resume cut
check_eq "resume removed the dead writer's temporary and the old account, kept the live one's" \
	"$(ls "$dir" | grep 'tmp\|failure' | tr '\n' ' ')" "best.ckpt.tmp1 "
check_eq "resumed run completed" "$(q "SELECT status||'|'||epochs_done FROM runs WHERE name = 'cut'")" "completed|3"

MMDB_TEST_STOP_AFTER_STEPS=12 "$MMDB" -q run --name edge $args >/dev/null 2>&1
check_eq "interrupted at the end of epoch 2's training" "$(q "SELECT status FROM runs WHERE name = 'edge'")" interrupted
check_status "resume it" 0 "$MMDB" -q run --resume edge

rows() { q "SELECT group_concat(r, ';') FROM (SELECT e.epoch||e.split||':'||printf('%.9f', e.loss)||','||
	coalesce(printf('%.9f', e.accuracy), '')||','||coalesce(printf('%.9f', e.f1_macro), '')||','||e.lr AS r
	FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = '$1' ORDER BY e.epoch, e.split)"; }
preds() { q "SELECT group_concat(post_id||pred||probs, ';') FROM (SELECT * FROM predictions p JOIN runs r
	ON r.id = p.run_id WHERE r.name = '$1' ORDER BY post_id)"; }
classes() { q "SELECT group_concat(c.epoch||c.split||c.label||printf('%.9f', c.f1)||c.support, ';') FROM
	(SELECT * FROM class_metrics c JOIN runs r ON r.id = c.run_id WHERE r.name = '$1' ORDER BY 2, 3, 4) c"; }
whole=$(rows whole)
check_match "the uninterrupted run has 7 epoch rows" "$whole" "^1train.*3validate.*$"
check_eq "train rows carry accuracy, resumed ones too" "$(q "SELECT count(*) FROM epochs
	WHERE split = 'train' AND accuracy IS NULL")" 0
check_eq "mid-epoch resume: same epoch rows (train accuracy included)" "$(rows cut)" "$whole"
check_eq "mid-epoch resume: same per-class rows" "$(classes cut)" "$(classes whole)"
check_eq "mid-epoch resume: same predictions" "$(preds cut)" "$(preds whole)"
check_eq "epoch-end resume: same epoch rows" "$(rows edge)" "$whole"
check_eq "epoch-end resume: same predictions" "$(preds edge)" "$(preds whole)"
check_eq "same best epoch" "$(q "SELECT count(DISTINCT best_epoch) FROM runs")" 1

# A checkpoint written before train accuracy was counted (train state
# version 1) still resumes: the interrupted epoch's train accuracy is
# unknown (NULL), every other row as the uninterrupted run's.
MMDB_TEST_STOP_AFTER_STEPS=9 "$MMDB" -q run --name old $args >/dev/null 2>&1
old=$(q "SELECT id FROM runs WHERE name = 'old'")
check "its checkpoint rewritten as version 1" "$PY" "$MMDB_TOP/tests/torch/ckpt_v1.py" "$MMDB_CACHE/runs/$old/last.ckpt"
check_status "a version 1 checkpoint resumes" 0 "$MMDB" -q run --resume old
acc() { q "SELECT group_concat(CASE WHEN accuracy IS NULL THEN 'null' ELSE printf('%.9f', accuracy) END, ' ') FROM (SELECT accuracy FROM epochs e
	JOIN runs r ON r.id = e.run_id WHERE r.name = '$1' AND split = 'train' ORDER BY epoch)"; }
set -- $(acc whole)
check_eq "epoch 2's train accuracy unknown, epochs 1 and 3 as uninterrupted" "$(acc old)" "$1 null $3"
check_eq "the other rows as uninterrupted" "$(rows old | sed 's/2train:\([^,]*\),[^,]*,/2train:\1,,/')" \
	"$(rows whole | sed 's/2train:\([^,]*\),[^,]*,/2train:\1,,/')"
check_eq "and the same predictions" "$(preds old)" "$(preds whole)"

check_status "a finished run cannot be resumed" 1 "$MMDB" run --resume whole
check_match "saying why" "$(cat "$T/.err")" "finished"
check_status "--resume takes no other flag" 2 "$MMDB" run --resume cut --lr 1
check_status "--resume of a missing run" 1 "$MMDB" run --resume nosuch

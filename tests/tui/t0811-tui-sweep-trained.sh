#!/bin/sh
# mmdb tui on a sweep that mmdb trained (sweep create, a worker, tiny models
# on synthetic data): the sweeps screen, the trials best first as 'mmdb sweep
# show' orders them, a trial's run with its train accuracy per epoch, and a
# running trial appearing while its worker trains.
# lib_run.sh first: lib-tui.sh's wait_for (the screen's) must win over its (SQL's).
. "$(dirname "$0")/../cli/lib_run.sh"
. "$(dirname "$0")/lib-tui.sh"

end_without_torch "training a sweep needs libtorch"
check "synthetic dataset" setup_synthetic 64 32 16
tiny="--epochs 2 --text-model bert-tiny --image-model resnet-small --image-size 32 --max-len 12
	--batch-size 16 --threads 1 --workers 2 --seed 5"
check_status "a 4-trial grid" 0 "$MMDB" -q sweep create g --grid lr=1e-4,1e-2 --grid fusion=max,concat -- $tiny
check_status "one worker drains it" 0 "$MMDB" -q sweep run g
check_eq "every trial finished with a metric" "$(q "SELECT count(*) AS n FROM sweep_trials WHERE metric IS NOT NULL
	AND status IN ('completed', 'early_stopped', 'pruned')")" 4

start_tui 100 30
keys S
best=$(q "SELECT printf('%.4f #%d', metric, idx) AS b FROM sweep_trials ORDER BY metric DESC, idx LIMIT 1")
check_screen "the sweep with its best trial" "^ +1 g +grid +best_val_f1 +none +4/4 +0/0 +$best *$"
keys Enter
check_screen "its trials" "mmdb sweep 1  g  \[4/4 done\]"
want=$(q "SELECT group_concat(idx, ' ') AS o FROM (SELECT idx FROM sweep_trials ORDER BY metric DESC, idx)")
got=$(screen | sed -n '6,9p' | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')
check_eq "best first, as 'mmdb sweep show' orders them" "$got" "$want"
check_match "sweep show agrees on the best" "$("$MMDB" sweep show g)" "best: trial ${best#*#} "
keys Enter
run=$(q "SELECT run_id AS r FROM sweep_trials ORDER BY metric DESC, idx LIMIT 1")
check_screen "Enter: the best trial's run" "mmdb run $run  g-${best#*#} "
rows "SELECT epoch, printf('%.4f', accuracy) AS a FROM epochs WHERE run_id = $run AND split = 'train' ORDER BY epoch" >"$T/want"
screen >"$T/pane"; bad=0
while IFS=, read -r e a; do
	grep -Eq "^ +$e +[0-9.]+ +[0-9.]+ +$a " "$T/pane" || { bad=1; echo "    epoch $e: train accuracy $a"; }
done <"$T/want"
if [ $bad = 0 ]; then ok "the trained run's train accuracy per epoch"; else fail "train accuracy per epoch"; sed 's/^/    | /' "$T/pane"; fi
keys q q

# A second sweep whose worker is still training: its running trial shows up.
check_status "a second sweep" 0 "$MMDB" -q sweep create slow --grid lr=1e-3 -- $tiny --epochs 40
"$MMDB" -q sweep run slow >/dev/null 2>&1 &
worker=$!
check_screen "the running trial is counted" "slow +grid .* 0/1 +1/0 " 60
keys Home Enter
check_screen "its trial is running" "^ +1 running " 30
kill -INT $worker 2>/dev/null; wait $worker 2>/dev/null
keys Q

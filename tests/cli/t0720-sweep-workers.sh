#!/bin/sh
# mmdb sweep: a 6-trial grid on synthetic data with tiny models, one lr
# divergent (SGD at lr 10: its loss becomes NaN), ASHA pruning. Two workers
# drain it at once; one is killed with kill -9 in the middle of a trial and
# a third is started. In the end every trial has exactly one run, none is
# pending or running, the killed trial's run was resumed (same run), the
# divergent trials are pruned or failed, and `sweep show` names the best.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check "synthetic dataset" setup_synthetic 96 32 32
end_without_torch "sweep workers train"

# TINY's --lr and --optimizer are overridden: SGD, the lr swept.
check_status "create a 6-trial grid" 0 "$MMDB" sweep create g --grid lr=1e-3,3e-3,10 \
	--grid dropout=0.1,0.3 --prune asha -- $TINY --optimizer sgd --epochs 3
check_eq "6 pending trials, lr x dropout, the last key fastest" "$(q "SELECT group_concat(params, ' ')
	FROM (SELECT params FROM sweep_trials ORDER BY idx)")" \
	'{"lr": 1e-3, "dropout": 0.1} {"lr": 1e-3, "dropout": 0.3} {"lr": 3e-3, "dropout": 0.1} {"lr": 3e-3, "dropout": 0.3} {"lr": 10, "dropout": 0.1} {"lr": 10, "dropout": 0.3}'

# Worker A is slowed (a sleep after each step) so that it is surely killed
# in the middle of a trial; B runs at full speed.
MMDB_TEST_STEP_SLEEP_MS=150 "$MMDB" -q sweep run g >"$T/a.out" 2>&1 &
A=$!
"$MMDB" sweep run g >"$T/b.out" 2>&1 &
B=$!
# mid_trial: the trial worker A is in, once its run has an epoch done and
# is still training 0.3 s later (not pruned right after that epoch).
mid_trial() {
	q "SELECT t.idx FROM sweep_trials t JOIN runs r ON r.id = t.run_id WHERE t.worker LIKE '%:$A'
		AND t.status = 'running' AND r.status = 'running' AND r.epochs_done >= 1"
}
k=0 idx=""
while [ $k -lt $((100 * SLOW)) ]; do
	idx=$(mid_trial)
	if [ -n "$idx" ]; then
		sleep 0.3
		[ "$(mid_trial)" = "$idx" ] && break
	fi
	idx=""
	sleep 0.1
	k=$((k + 1))
done
check_match "worker A is in a trial, one epoch done" "$idx" '^[1-6]$'
kill -9 $A
wait $A 2>/dev/null
killed=$(q "SELECT idx FROM sweep_trials WHERE worker LIKE '%:$A' AND status = 'running'")
krun=$(q "SELECT run_id FROM sweep_trials WHERE idx = '$killed'")
check_match "A's trial is left running by a dead worker" "$killed" '^[1-6]$'
echo "# worker A killed in trial $killed (run $krun)"
"$MMDB" sweep run g >"$T/c.out" 2>&1 &
C=$!
wait $B
check_eq "worker B ends well" "$?" 0
wait $C
check_eq "worker C ends well" "$?" 0

check_eq "no trial pending, running or crashed" "$(q "SELECT count(*) FROM sweep_trials WHERE status IN
	('pending', 'running', 'crashed', 'interrupted')")" 0
check_eq "every trial has exactly one run" "$(q "SELECT count(*) FROM sweep_trials t WHERE
	(SELECT count(*) FROM runs r WHERE r.trial_id = t.id) <> 1")" 0
check_eq "6 runs, each linked to the sweep and to its trial" "$(q "SELECT count(*) FROM sweep_trials t
	JOIN runs r ON r.id = t.run_id AND r.trial_id = t.id AND r.sweep_id = t.sweep_id")" 6
check_eq "runs are named after the sweep and trial" "$(q "SELECT count(*) FROM sweep_trials t JOIN runs r
	ON r.id = t.run_id WHERE r.name = 'g-' || t.idx")" 6
check_eq "a trial's status is its run's" "$(q "SELECT count(*) FROM sweep_trials t JOIN runs r ON
	r.id = t.run_id WHERE r.status <> t.status")" 0
check_eq "the killed trial's run was resumed, not started again" "$(q "SELECT run_id FROM sweep_trials
	WHERE idx = '$killed'")" "$krun"
check_match "the killed trial finished" "$(q "SELECT status FROM sweep_trials WHERE idx = '$killed'")" \
	'^(completed|early_stopped|pruned|failed)$'
check_match "a worker said it resumed it" "$(cat "$T/b.out" "$T/c.out")" \
	"trial $killed \\(.*\\): resuming its run"
check_eq "its run's rows are whole: a train and a validate row per epoch done" "$(q "SELECT
	count(*) FILTER (WHERE split = 'train') || '|' || count(*) FILTER (WHERE split = 'validate')
	FROM epochs WHERE run_id = '$krun'")" "$(q "SELECT epochs_done || '|' || epochs_done FROM runs
	WHERE id = '$krun'")"
check_eq "the divergent trials were pruned or failed" "$(q "SELECT count(*) FROM sweep_trials WHERE
	json_extract(params, '$.lr') = 10 AND status IN ('pruned', 'failed')")" 2
check_eq "a failed trial says why (NaN loss)" "$(q "SELECT count(*) FROM sweep_trials WHERE
	status = 'failed' AND reason NOT LIKE 'loss is NaN%' AND reason NOT LIKE 'loss is infinite%'")" 0
check_eq "a pruned trial names the rule and rung" "$(q "SELECT count(*) FROM sweep_trials t JOIN runs r
	ON r.id = t.run_id WHERE t.status = 'pruned' AND (t.reason NOT LIKE 'asha: rung at epoch 1:%' OR
	r.reason IS NOT t.reason OR r.epochs_done <> 1)")" 0
check_eq "finished trials carry the metric of their run" "$(q "SELECT count(*) FROM sweep_trials t JOIN
	run_summary s ON s.id = t.run_id WHERE t.status IN ('completed', 'pruned') AND
	t.metric IS NOT s.best_val_f1")" 0
check_eq "the completed trials reached epoch 3" "$(q "SELECT count(*) FROM sweep_trials t JOIN runs r
	ON r.id = t.run_id WHERE t.status = 'completed' AND r.epochs_done <> 3")" 0

best=$(q "SELECT idx FROM sweep_trials WHERE metric IS NOT NULL ORDER BY metric DESC, idx LIMIT 1")
brun=$(q "SELECT run_id FROM sweep_trials WHERE idx = $best")
blr=$(q "SELECT params -> '$.lr' FROM sweep_trials WHERE idx = $best")
sqlite3 "$MMDB_DB" "SELECT '# trial ' || idx || ' ' || params || ' ' || status || ' ' ||
	coalesce(printf('%.4f', metric), '-') || ' ' || coalesce(reason, '') FROM sweep_trials" 2>/dev/null
"$MMDB" sweep show g >"$T/show" 2>&1
check_eq "show exits 0" "$?" 0
check_match "show names the best trial and its run" "$(cat "$T/show")" "^best: trial $best \\(run $brun\\)"
check_match "with a ready mmdb run command line" "$(grep -A1 '^best:' "$T/show" | tail -1)" \
	"^  mmdb run --text-model bert-tiny .* --optimizer sgd --epochs 3 --lr $blr --dropout [0-9.]+$"
check_match "and the mean per value of each swept parameter" "$(cat "$T/show")" \
	'^  lr: 1e-3 [0-9.]+ \(2 of 2\), 3e-3 [0-9.]+ \(2 of 2\), 10 '
check_eq "show --format json: the best trial" "$("$MMDB" sweep show g --format json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(d["best"]["trial"], d["best"]["run"], d["trials"][0]["trial"], len(d["trials"]), sorted(d["means"]))')" \
	"$best $brun $best 6 ['dropout', 'lr']"
check_eq "runs --sweep g lists its 6 runs" "$("$MMDB" runs --sweep g --format json | "$PY" -c '
import json, sys
print(len(json.load(sys.stdin)))')" 6
check_eq "runs --format json: sweep is the name, or null" "$("$MMDB" -q run --name plain --epochs 1 $TINY \
	>/dev/null 2>&1; "$MMDB" runs --format json | "$PY" -c '
import json, sys
print(sorted(set(str(r["sweep"]) for r in json.load(sys.stdin))))')" "['None', 'g']"

# Ctrl-C (here: the interrupt flag raised after 3 steps) interrupts the
# trial and stops the worker; the next worker resumes the same run.
check_status "a one-trial sweep" 0 "$MMDB" -q sweep create i --grid lr=1e-3 -- $TINY --epochs 2
MMDB_TEST_STOP_AFTER_STEPS=3 "$MMDB" -q sweep run i >"$T/i.out" 2>&1
check_eq "an interrupted worker exits 130" "$?" 130
irun=$(q "SELECT run_id FROM sweep_trials t JOIN sweeps s ON s.id = t.sweep_id WHERE s.name = 'i'")
check_eq "the trial and its run are interrupted" "$(q "SELECT t.status || '|' || r.status FROM sweep_trials t
	JOIN runs r ON r.id = t.run_id WHERE t.run_id = '$irun'")" "interrupted|interrupted"
check_status "the next worker resumes it" 0 "$MMDB" sweep run i
check_match "saying so" "$(cat "$T/.err")" "trial 1 \\(lr=1e-3\\): resuming its run"
check_eq "to the end, in the same run" "$(q "SELECT t.status || '|' || r.status || '|' || r.epochs_done || '|' ||
	(SELECT count(*) FROM runs WHERE trial_id = t.id) FROM sweep_trials t JOIN runs r ON r.id = t.run_id
	WHERE t.run_id = '$irun'")" "completed|completed|2|1"

#!/bin/sh
# mmdb tui, sweeps: the sweeps screen (name, method, metric, trials done of
# total, best metric) against the database; a sweep's trials best first
# with their parameters, Enter on a trial opens its run; the scatter of the
# metric against a parameter (a cycles it; a log axis for lr); the runs
# screen filtered by sweep; live updates; the run screen shows each setting
# once, fusion none for a text-only run, and train accuracy per epoch.
. "$(dirname "$0")/lib-tui.sh"

fill_db
"$MMDB" sql --write <"$TUI_DIR/fill_sweeps.sql" >/dev/null
nruns=$(rows "SELECT count(*) FROM runs")
start_tui 100 30
check_screen "the runs screen opens" "mmdb runs  $nruns of $nruns"

# A trial's metric as the dashboard should show it: the recorded one, else
# its run's value so far of the sweep's metric.
TM="coalesce(t.metric, CASE s.metric WHEN 'best_val_accuracy' THEN rs.best_val_accuracy ELSE rs.best_val_f1 END)"
TJ="sweep_trials t JOIN sweeps s ON s.id = t.sweep_id LEFT JOIN run_summary rs ON rs.id = t.run_id"

keys S
check_screen "S opens the sweeps" "mmdb sweeps  3 sweeps"
rows "SELECT w.id, w.name, w.method, w.metric, w.prune,
	(SELECT count(*) FROM sweep_trials t WHERE t.sweep_id = w.id AND t.status IN ('completed', 'early_stopped', 'pruned', 'failed'))
	|| '/' || (SELECT count(*) FROM sweep_trials t WHERE t.sweep_id = w.id) AS done,
	coalesce((SELECT printf('%.4f #%d', $TM, t.idx) FROM $TJ WHERE t.sweep_id = w.id AND $TM IS NOT NULL
	 ORDER BY $TM DESC, t.idx LIMIT 1), '-') AS best
	FROM sweeps w ORDER BY w.id DESC" | tr -d '"' >"$T/want"
screen >"$T/pane"; bad=0
while IFS=, read -r id name method metric prune done best; do
	grep -Eq "^ +$id +$name +$method +$metric +$prune +$done +[0-9]+/[0-9]+ +$best *$" "$T/pane" ||
		{ bad=1; echo "    no row for sweep $id: $name $method $metric $prune $done $best"; }
done <"$T/want"
if [ $bad = 0 ]; then ok "each sweep's row: method, metric, trials done, best (as SQL says)"; else
	fail "each sweep's row"; sed 's/^/    | /' "$T/pane"; fi
check_eq "newest sweep first" "$(screen | sed -n 3p | awk '{print $1}')" 3

# lr-grid (id 1) is the last row.
keys End Enter
check_screen "Enter opens the sweep" "mmdb sweep 1  lr-grid  \[6/8 done\]"
check_screen "its search, metric and pruning" "grid search, maximise best_val_f1, pruning asha"
check_screen "its trial counts" "trials: 6 of 8 done, 1 running, 1 pending, 1 pruned, 1 failed"
check_screen "the parameters are columns" "# STATUS +METRIC +RUN +lr +fusion +REASON"
rows "SELECT t.idx, t.status, CASE WHEN $TM IS NULL THEN '-' ELSE printf('%.4f', $TM) END AS m,
	coalesce(t.run_id, '-') AS r, printf('%g', json_extract(t.params, '$.lr')) AS lr,
	json_extract(t.params, '$.fusion') AS f FROM $TJ WHERE t.sweep_id = 1 ORDER BY $TM IS NULL, $TM DESC, t.idx" >"$T/want"
screen | sed -n '6,13p' | awk '{print $1}' >"$T/got"
check_eq "trials best first (no metric last)" "$(cat "$T/got")" "$(cut -d, -f1 "$T/want")"
screen >"$T/pane"; bad=0
while IFS=, read -r idx st m run lr fu; do
	grep -Eq "^ +$idx +$st +$m +$run +$lr +$fu( |$)" "$T/pane" || { bad=1; echo "    trial $idx: $st $m $run $lr $fu"; }
done <"$T/want"
if [ $bad = 0 ]; then ok "each trial: status, metric, run, parameters"; else fail "each trial"; sed 's/^/    | /' "$T/pane"; fi
check_screen "a running trial shows its run's metric so far" "^ +6 running +$(rows "SELECT printf('%.4f', best_val_f1) FROM run_summary WHERE trial_id = 6")"
check_screen "a pruned trial says why" "^ +5 pruned .*asha: rung 1"

# Enter on the best trial opens its run.
best_run=$(rows "SELECT t.run_id FROM $TJ WHERE t.sweep_id = 1 ORDER BY $TM DESC LIMIT 1")
keys Home Enter
check_screen "Enter opens the trial's run" "mmdb run $best_run  lr-grid-4 "
check_screen "the run names its sweep and trial" "sweep=lr-grid +trial=4"
keys q
check_screen "q: back to the sweep" "mmdb sweep 1 "
keys End Enter
check_screen "a pending trial has no run to open" "trial 8 has no run yet \(pending\)"
keys '?'
check_screen "help: the sweep screen's keys" "Help: sweep screen keys"
check_screen "help names the parameter key" "scatter: next / previous parameter"
keys j

# Scatter: lr on a log axis.
keys 2
# (wait_for uses n: the count goes in np)
np=$(rows "SELECT count(*) FROM $TJ WHERE t.sweep_id = 1 AND $TM IS NOT NULL")
check_screen "scatter of the metric against lr" "best_val_f1 against lr: $np of 8 trials"
check_screen "lr on a log axis" "x: lr, log scale"
check_screen "decades labelled" "1e-05 +0.0001 +0.001"
ymax=$(rows "SELECT printf('%.3f', max($TM)) FROM $TJ WHERE t.sweep_id = 1")
ymin=$(rows "SELECT printf('%.3f', min($TM)) FROM $TJ WHERE t.sweep_id = 1")
check_screen "y axis from the best metric" "^ +$ymax│"
check_screen "down to the worst" "^ +$ymin│"
# braille: how many lines hold a braille character (U+2800..U+28FF, in UTF-8 E2 A0..A3 xx).
braille() { LC_ALL=C grep -c "$(printf '\342[\240\241\242\243]')"; }
# The best trial's mark is on the top row, the worst's on the bottom one.
screen >"$T/pane"
check_eq "a braille mark on the best metric's row" "$(grep "^ *$ymax│" "$T/pane" | braille)" 1
check_eq "a braille mark on the worst metric's row" "$(grep "^ *$ymin│" "$T/pane" | braille)" 1
keys a
check_screen "a: the next parameter" "best_val_f1 against fusion: $np of 8 trials"
check_screen "text values are categories" "concat +max *$"
check_no_screen "categories: no log axis" "log scale"
keys A
check_screen "A: back to lr" "against lr: "
keys q
check_screen "q: back to the sweeps" "mmdb sweeps "

# dropout-random (id 2): numbers on a linear axis.
keys Home Down Enter
check_screen "the random sweep" "mmdb sweep 2  dropout-random  \[5/5 done\]"
check_screen "random search, best_val_accuracy" "random search, maximise best_val_accuracy, pruning median"
keys 2
check_screen "scatter against dropout" "best_val_accuracy against dropout: 5 of 5 trials"
check_no_screen "dropout: a linear axis" "log scale"
check_screen "linear ticks: the smallest, middle and largest value" "0.05 .* 0.235 .* 0.42 *$"

# Live: a trial finishing elsewhere shows up without a key.
keys 1 q
check_screen "back to the sweeps" "mmdb sweeps "
"$MMDB" sql --write "UPDATE sweep_trials SET status = 'completed', metric = 0.75, finished_at = 1769990000
	WHERE sweep_id = 1 AND idx = 6" >/dev/null
check_screen "a trial finished by a worker: done and best update" "lr-grid .* 7/8 +0/1 +0.7500 #6 *$"

# The runs screen filtered by sweep.
keys q
check_screen "back to the runs" "mmdb runs "
keys w
n1=$(rows "SELECT count(*) FROM runs WHERE sweep_id = 1")
check_screen "w: the first sweep's runs" "mmdb runs  $n1 of $nruns .*filter: sweep=lr-grid"
screen | sed -n '3,$p' | awk '$1 ~ /^[0-9]+$/ {print $1}' | sort -n >"$T/got"
check_eq "exactly its runs" "$(cat "$T/got")" "$(rows "SELECT id FROM runs WHERE sweep_id = 1 ORDER BY id")"
keys w
check_screen "w: the next sweep" "mmdb runs  $(rows "SELECT count(*) FROM runs WHERE sweep_id = 2") of $nruns .*sweep=dropout-random"
keys w
check_screen "w past the last sweep: every run" "mmdb runs  $nruns of $nruns  sort"
keys w x
check_screen "x clears the sweep filter" "mmdb runs  $nruns of $nruns  sort"

# The text-only run: fusion none, each setting once, train accuracy per epoch.
last=$(rows "SELECT max(id) FROM runs")
keys Home Enter
check_screen "the text-only run" "mmdb run $last  text-only"
check_screen "fusion none for one modality" "modalities=text +fusion=none"
check_eq "each setting once (fusion, lr)" "$(screen | grep -o '[a-z_.]*\(fusion\|lr\)=' | sort | tr '\n' ' ')" "fusion= lr= "
check_screen "a config-only setting by its own name" "warmup=10"
rows "SELECT t.epoch, printf('%.4f', t.accuracy) AS ta, printf('%.4f', v.accuracy) AS va FROM epochs t JOIN epochs v
	USING (run_id, epoch) WHERE run_id = $last AND t.split = 'train' AND v.split = 'validate'" >"$T/want"
screen >"$T/pane"; bad=0
while IFS=, read -r e tacc vacc; do
	grep -Eq "^ +$e +[0-9.]+ +[0-9.]+ +$tacc +$vacc " "$T/pane" || { bad=1; echo "    epoch $e: $tacc $vacc"; }
done <"$T/want"
if [ $bad = 0 ]; then ok "train accuracy per epoch beside validation's"; else fail "train accuracy per epoch"; sed 's/^/    | /' "$T/pane"; fi
keys q

# 80x24: the sweep screens still fit.
tm resize-window -t tui -x 80 -y 24
keys S End Enter 2
check_screen "80x24: the scatter with its ticks" "1e-05 +0.0001 +0.001"
check_screen "80x24: the summary" "trials: 7 of 8 done"

keys Q
i=0; while [ ! -s "$T/tui.exit" ] && [ $i -lt $((50 * SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
check_eq "Q quits with status 0" "$(cat "$T/tui.exit" 2>/dev/null)" "0"
check_eq "nothing printed on stderr" "$(cat "$T/tui.err")" ""

#!/bin/sh
# bench_tui: mmdb tui on a large database (10,000 runs x 20 epochs, about
# 2 million prediction rows: 17 finished runs with predictions for 120,000
# validation and test posts each, Fakeddit's full size), driven through tmux. Prints the first draw and
# the per-key response (median and worst, as the dashboard measures them:
# from the key to the end of the redraw) against the budgets (200 ms, 50 ms),
# with the dashboard indexes (migration 0006) and, as the anchor, without
# them, and the ratio. The keys visit every screen: paging and every filter
# on a 60,000-post split (title searches included, one matching nothing),
# and a comparison of six runs with predictions (their disagreements),
# and the sweeps: a sweep of BENCH_TRIALS (2,000) trials over as many runs
# (its trials best first, the scatter of each parameter, the runs screen
# filtered by it), besides tests/tui/fill_sweeps.sql's three.
# BENCH_RUNS / BENCH_PRED_RUNS / BENCH_POSTS shrink it; BENCH_DB=FILE starts
# from a copy of a database an earlier run built; BENCH_TUI_NO_ANCHOR=1
# skips the session without indexes; BENCH_TUI_KEYS=PREFIX keeps the
# timing files (one line per key: name, ms, screen).
set -u
: "${MMDB:?run through tests/bench/run.sh (make bench)}"
top=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/mmdb-bench-tui.XXXXXX")
SOCK="mmdb-bench-$$"
trap 'tmux -L "$SOCK" kill-server 2>/dev/null; rm -rf "$T"' EXIT
command -v tmux >/dev/null || { echo "bench_tui: tmux is not installed"; exit 1; }
if infocmp tmux-256color >/dev/null 2>&1; then TERMNAME=tmux-256color; else TERMNAME=screen; fi
export MMDB_DB="$T/big.db" MMDB_CACHE="$T/cache"
runs=${BENCH_RUNS:-10000} pred_runs=${BENCH_PRED_RUNS:-20} posts=${BENCH_POSTS:-300000}
trials=${BENCH_TRIALS:-2000}

t0=$(date +%s.%N)
if [ -n "${BENCH_DB:-}" ]; then
	cp "$BENCH_DB" "$MMDB_DB" || exit 1
	"$MMDB" -q init >/dev/null || exit 1
else
	"$MMDB" -q init >/dev/null
	{ echo "CREATE TEMP TABLE fill_params(nruns, nepochs, nposts, npred);"
	  echo "INSERT INTO fill_params VALUES ($runs, 20, $posts, $pred_runs);"
	  cat "$top/tests/tui/fill.sql"; } | "$MMDB" sql --write >/dev/null || exit 1
	"$MMDB" sql --write <"$top/tests/tui/fill_sweeps.sql" >/dev/null || exit 1
	# The big sweep: one trial per run 1..trials, a third of them with no
	# recorded metric (the dashboard then reads the run's).
	"$MMDB" sql --write "INSERT INTO sweeps(id, name, method, metric, goal, prune, trials, spec)
	  VALUES (100, 'big', 'random', 'best_val_f1', 'max', 'asha', $trials, '{}');
	INSERT INTO sweep_trials(sweep_id, idx, params, status, run_id, metric)
	  SELECT 100, r.id, json_object('lr', r.lr, 'dropout', r.dropout, 'fusion', r.fusion,
	    'batch-size', r.batch_size),
	    CASE WHEN r.status IN ('completed', 'early_stopped') THEN r.status ELSE 'failed' END, r.id,
	    CASE WHEN r.id % 3 <> 0 THEN (SELECT f1 FROM epochs e WHERE e.run_id = r.id
	      AND e.epoch = r.best_epoch AND e.split = 'validate') END
	  FROM runs r WHERE r.id <= $trials AND r.sweep_id IS NULL;
	UPDATE runs SET sweep_id = 100, trial_id = (SELECT t.id FROM sweep_trials t
	  WHERE t.sweep_id = 100 AND t.run_id = runs.id) WHERE id <= $trials AND sweep_id IS NULL" >/dev/null || exit 1
fi
t1=$(date +%s.%N)
counts=$("$MMDB" sql --format csv "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM epochs), (SELECT count(*) FROM predictions), (SELECT count(*) FROM sweep_trials)" | sed -n 2p | tr -d '\r')
echo "database: runs, epoch rows, prediction rows, sweep trials = $counts (built in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s)"

tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
wait_for() {
	n=300
	while [ $n -gt 0 ]; do tm capture-pane -p -t b 2>/dev/null | grep -Eq -- "$1" && return 0; sleep 0.05; n=$((n - 1)); done
	echo "bench_tui: timed out waiting for /$1/"; tm capture-pane -p -t b | head -5; return 1
}
key() { tm send-keys -t b "$@"; sleep 0.15; }

# One session: first draw, then keys across every screen.
session() {
	tim="$T/timing.$1"
	rm -f "$tim"
	tm kill-server 2>/dev/null
	sleep 0.5
	tm new-session -d -s b -x 100 -y 30 "env LANG=C.UTF-8 TERM=$TERMNAME MMDB_DB='$MMDB_DB' '$MMDB' tui --interval 3600 --timing '$tim'; sleep 600" ||
	{ sleep 1; tm new-session -d -s b -x 100 -y 30 "env LANG=C.UTF-8 TERM=$TERMNAME MMDB_DB='$MMDB_DB' '$MMDB' tui --interval 3600 --timing '$tim'; sleep 600"; }
	wait_for "mmdb runs " || return 1
	key j; key j; key NPage; key NPage; key NPage; key End; key Home
	key '>'; key '>'; key '>'; key I; key '<'
	key / ; tm send-keys -t b -l "concat"; key Enter; key x
	key s; key s; key x
	# Run 1 (it has predictions) is the last row by id.
	i=0; while [ $i -lt 12 ] && ! tm capture-pane -p -t b | grep -q "sort: ID desc"; do key '>'; i=$((i + 1)); done
	key End; key Enter; wait_for "mmdb run 1 " || return 1
	key 2; key 3; key 4; key Down; key Right; key Enter
	wait_for "mmdb predictions" || return 1
	key x; key j; key NPage; key NPage; key End; key Up; key PPage; key Home
	key m; key w; key NPage; key l; key NPage; key t; key p; key x
	# Title search: a common word, then one no title holds (the whole split scanned, in steps).
	key /; tm send-keys -t b -l "topic 7"; key Enter; key NPage; key End
	key /; tm send-keys -t b C-u; tm send-keys -t b -l "zzzz"; key Enter; sleep 1; key x
	key v; key End; key Enter
	wait_for "mmdb post " || return 1
	key q; key q; key q
	# Compare six runs with predictions (1-3, 5-7; run 4 failed): End is run 1.
	key End; key Up; key Up; key Up; key Up; key Up; key Up
	key Space; key Space; key Space; key Down; key Space; key Space; key Space
	key c; wait_for "mmdb compare" || return 1
	key 2; key m; key 3; key 4; sleep 1; key j; key NPage; key End; key Home; key v; key NPage; key q
	# Sweeps: the list, the big sweep's trials and scatters, the runs filtered by it.
	key S; wait_for "mmdb sweeps" || return 1
	key j; key Home; key Enter; wait_for "mmdb sweep 100 " || return 1
	key j; key NPage; key End; key Home; key 2; key a; key a; key a; key A; key 1; key q; key q
	key w; key w; key w; key w; key x
	key Q
	sleep 0.3
}

stats() {
	first=$(sed -n 's/^first_draw_ms //p' "$1")
	exec_ms=$(sed -n 's/^first_draw_since_exec_ms //p' "$1")
	ready=$(sed -n 's/^ready_ms //p' "$1")
	awk '/^key / {print $3}' "$1" | sort -n >"$1.keys"
	nkeys=$(wc -l <"$1.keys")
	med=$(sed -n "$(( (nkeys + 1) / 2 ))p" "$1.keys")
	worst=$(tail -1 "$1.keys")
	# CPU time per key: the work itself, apart from the machine's load.
	awk '/^key / {print $5}' "$1" | sort -n >"$1.cpu"
	cmed=$(sed -n "$(( (nkeys + 1) / 2 ))p" "$1.cpu")
	cworst=$(tail -1 "$1.cpu")
	slowest=$(grep '^key' "$1" | sort -k3 -n | tail -4 | awk '{printf "%s (%s) %s ms; ", $2, $4, $3}')
	# The keys on the sweep screens, and the sweep filter on the runs screen.
	sweepkeys=$(awk '$1 == "key" && ($4 == "sweeps" || $4 == "sweep" || ($4 == "runs" && $2 == "w")) {print $3}' "$1" | sort -n)
	sweep_n=$(printf '%s\n' "$sweepkeys" | grep -c .)
	sweep_med=$(printf '%s\n' "$sweepkeys" | sed -n "$(( (sweep_n + 1) / 2 ))p")
	sweep_worst=$(printf '%s\n' "$sweepkeys" | tail -1)
	[ -n "${BENCH_TUI_KEYS:-}" ] && cp "$1" "$BENCH_TUI_KEYS.$(basename "$1")"
}

session with || exit 1
stats "$T/timing.with"
f_with=$first; r_with=$ready; m_with=$med; w_with=$worst; e_with=$exec_ms; s_with=$slowest; n_with=$nkeys
sw_with="sweep keys ($sweep_n, $trials trials): median $sweep_med ms, worst $sweep_worst ms  (budget 50 ms: worst/budget $(awk "BEGIN { printf \"%.2f\", $sweep_worst / 50 }"))"
c_with="CPU per key: median $cmed ms, worst $cworst ms"

ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
if [ -n "${BENCH_TUI_NO_ANCHOR:-}" ]; then
	echo "first draw (from the command's start): ${f_with} ms  (budget 200 ms: ratio $(ratio "$f_with" 200))"
	echo "first draw (from exec, incl. library start-up): ${e_with} ms; all runs loaded: ${r_with} ms"
	echo "keys ($n_with): median ${m_with} ms, worst ${w_with} ms  (budget 50 ms: worst/budget $(ratio "$w_with" 50))"
	echo "slowest keys: $s_with"
	echo "$sw_with"
	echo "$c_with"
	exit 0
fi
# The anchor: the same session without the dashboard's indexes.
"$MMDB" sql --write "DROP INDEX epochs_run_split; DROP INDEX predictions_post; DROP INDEX predictions_label_prob" >/dev/null
session without || exit 1
stats "$T/timing.without"

ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
echo "first draw (from the command's start): ${f_with} ms  (budget 200 ms: ratio $(ratio "$f_with" 200))"
echo "all runs loaded (sorting and filters ready): ${r_with} ms"
echo "first draw (from exec, incl. library start-up): ${e_with} ms"
echo "keys ($n_with): median ${m_with} ms, worst ${w_with} ms  (budget 50 ms: worst/budget $(ratio "$w_with" 50))"
echo "slowest keys: $s_with"
echo "$sw_with"
echo "$c_with"
echo "without the 0006 indexes: first draw ${first} ms, keys median ${med} ms, worst ${worst} ms"
echo "slowest keys without: $slowest"
echo "ratio without/with: first draw $(ratio "$first" "$f_with"), worst key $(ratio "$worst" "$w_with")"

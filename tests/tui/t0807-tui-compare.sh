#!/bin/sh
# mmdb tui, compare screen with six and with three runs: only the settings
# that differ (values per run as in runs), the curves overlaid with one
# colour per run and a legend, per-class F1 side by side with deltas
# against the first run (as in class_metrics), the posts where the runs
# disagree (count and rows as SQL says), help; at 80x24; a compared run
# deleted while shown.
. "$(dirname "$0")/lib-tui.sh"

# The expected values come from the sqlite3 shell (it starts in
# milliseconds; the checks run dozens of queries).
rows() { sqlite3 -batch -noheader -list -separator , "$MMDB_DB" "$1"; }
"$MMDB" init >/dev/null
{ echo "CREATE TEMP TABLE fill_params(nruns, nepochs, nposts, npred); INSERT INTO fill_params VALUES (7, 5, 120, 7);"
  cat "$TUI_DIR/fill.sql"; } | "$MMDB" sql --write >/dev/null
start_tui 100 30
check_screen "the runs screen opens" "mmdb runs  7 of 7"
# Mark 7, 6, 5, 3, 2, 1 (run 4 failed: it has no predictions).
keys Home Space Space Space Down Space Space Space
check_screen "six runs marked" "marked: 6"
keys c
check_screen "compare opens with the six runs in marking order" "mmdb compare  #7 #6 #5 #3 #2 #1"

# compare_checks RUNS...: every view against the database.
# disagree_rows: the post, its class and each run's prediction, per row
# of the disagreements view (class numbers left of the TITLE column).
disagree_rows() {
	screen >"$T/dpane"
	python3 - "$T/dpane" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
head = [l for l in lines if l.startswith('POST ') and 'TITLE' in l]
if head:
    cut = head[0].index('TITLE')
    for l in lines:
        if re.match(r'^p\d+ ', l):
            print(l.split()[0], ' '.join(re.findall(r'(?:^|\s)(\d) ', l[:cut])))
PY
}
# check_rows "what" K: waits for the view to list the first K rows SQL gives.
check_rows() {
	want=$(head -n "$2" "$T/want")
	i=0
	while [ "$(disagree_rows)" != "$want" ] && [ $i -lt $((150 * SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
	check_eq "$1" "$(disagree_rows)" "$want"
}

compare_checks() {
	ids="$*"; nr=$#; list=$(echo "$ids" | tr ' ' ,)
	order="CASE id"; i=0
	for id in $ids; do order="$order WHEN $id THEN $i"; i=$((i + 1)); done
	order="$order END"

	keys 1
	check_screen "$nr runs: settings view" "^SETTING "
	for col in fusion lr batch_size dropout seed; do
		want=$(rows "SELECT group_concat(v, ' +') FROM (SELECT CAST($col AS TEXT) AS v FROM runs WHERE id IN ($list) ORDER BY $order)")
		check_screen "$nr runs: $col differs, one value per run" "^$col +$want *$"
		check_no_screen "$nr runs: $col once (the config's copy not repeated)" "^config\.$col "
	done
	for col in optimizer text_model image_model label epochs max_len; do
		check_eq "$nr runs: $col is the same in all: hidden" \
			"$(rows "SELECT count(DISTINCT $col) FROM runs WHERE id IN ($list)")" "1"
		check_no_screen "$nr runs: no $col row" "^$col "
	done

	keys 2
	check_screen "$nr runs: curves" "validation loss \(m: next metric\)"
	tm capture-pane -p -e -t tui >"$T/epane"
	got=$(python3 - "$T/epane" $ids <<'PY'
import re, sys
# Each cell's foreground colour from the SGR codes tmux writes.
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
ids = sys.argv[2:]
legend, plot = {}, set()
for y, line in enumerate(lines):
    fg, text = None, ''
    for m in re.finditer(r'\x1b\[([0-9;]*)m|([^\x1b])', line):
        if m.group(1) is not None:
            codes = [c for c in m.group(1).split(';') if c]
            i = 0
            while i < len(codes):
                c = int(codes[i])
                if c == 0 or c == 39: fg = None
                elif 30 <= c <= 37 or 90 <= c <= 97: fg = c
                elif c == 38 and i + 2 < len(codes): fg = ('256', codes[i + 2]); i += 2
                i += 1
            continue
        ch = m.group(2)
        text += ch
        if 0x2801 <= ord(ch) <= 0x28ff and fg is not None: plot.add(fg)
        for rid in ids:
            if text.endswith('\u2500 #%s ' % rid) and rid not in legend: legend[rid] = fg
print('legend %d/%d colours %d plotted %d' % (len(legend), len(ids), len(set(legend.values())), len(plot & set(legend.values()))))
PY
)
	check_eq "$nr runs: a legend entry per run, each its own colour" "${got% plotted*}" "legend $nr/$nr colours $nr"
	check_match "$nr runs: the plot uses the runs' colours" "$got" "plotted ([3-9]|$nr)$"
	keys m
	check_screen "$nr runs: m: the next metric" "training loss \(m: next metric\)"

	keys 3
	check_screen "$nr runs: per-class F1" "^CLASS "
	# Each run's test point (they all have one), delta against the first run.
	first=$(echo "$ids" | cut -d' ' -f1)
	rows "SELECT label || ' ' || name || '~' || group_concat(cell, '~') AS v FROM
	      (SELECT c.label, (SELECT name FROM label_names WHERE scheme = '6way' AND label = c.label) AS name,
	              CASE WHEN c.run_id = $first THEN printf('%.3f', c.f1)
	                   ELSE printf('%.3f %+.3f', c.f1, c.f1 - (SELECT f1 FROM class_metrics
	                        WHERE run_id = $first AND split = 'test' AND label = c.label)) END AS cell
	       FROM class_metrics c WHERE c.run_id IN ($list) AND c.split = 'test'
	       ORDER BY c.label, CASE c.run_id $(i=0; for id in $ids; do printf 'WHEN %s THEN %s ' "$id" "$i"; i=$((i + 1)); done) END)
	      GROUP BY label ORDER BY label" | sed 's/^"//; s/"$//; s/+/[+]/g; s/~/ +/g' >"$T/want"
	screen >"$T/pane"; bad=0
	while read -r line; do
		grep -Eq "^$line *$" "$T/pane" || { bad=1; echo "    no row /^$line/"; }
	done <"$T/want"
	if [ $bad = 0 ] && [ -s "$T/want" ]; then ok "$nr runs: every class's F1 per run with its delta"; else
		fail "$nr runs: every class's F1 per run with its delta"; sed 's/^/    | /' "$T/pane"; fi

	keys 4
	# Posts every run predicted, where not all predictions are the same.
	sel="FROM predictions p WHERE p.run_id IN ($list) AND p.split = 'validate'
	     GROUP BY p.post_id HAVING count(*) = $nr AND min(p.pred) <> max(p.pred)"
	ndis=$(rows "SELECT count(*) FROM (SELECT p.post_id $sel)")
	check_screen "$nr runs: the disagreement count" "^$ndis posts of the validate split where the runs' predictions differ"
	rows "SELECT p.post_id || ' ' || max(p.label) || ' ' || group_concat(p.pred, ' ') AS v
	      FROM (SELECT * FROM predictions p WHERE p.run_id IN ($list) AND p.split = 'validate' ORDER BY p.post_id, $(echo "$order" | sed 's/CASE id/CASE p.run_id/')) p
	      GROUP BY p.post_id HAVING count(*) = $nr AND min(p.pred) <> max(p.pred) ORDER BY p.post_id" >"$T/want"
	# A page holds 25 rows at 100x30.
	check_rows "$nr runs: each disagreement row: the post, its class and every run's prediction" \
		"$([ "$ndis" -lt 25 ] && echo "$ndis" || echo 25)"
	keys '?'
	check_screen "$nr runs: ? lists the compare keys" "Help: compare screen keys"
	check_screen "$nr runs: help names the metric key" "curves: next metric"
	keys Escape
	check_gone_help
}

check_gone_help() {
	if wait_gone "Help: compare" 15; then ok "help closes"; else fail "help closes"; fi
}

compare_checks 7 6 5 3 2 1
keys Enter
post=$(head -1 "$T/want" | cut -d' ' -f1)
check_screen "Enter opens the first disagreement's post" "mmdb post $post "
keys q
check_screen "q: back to the compare" "mmdb compare "

# 80x24: the six runs' predictions still fit beside each other.
tm resize-window -t tui -x 80 -y 24
# 19 rows at 80x24.
check_rows "80x24: every run's prediction on each row" 19
keys 2
check_screen "80x24: the legend names every run" "#7 .*#6 .*#5"
check_screen "80x24: second legend line" "#3 .*#2 .*#1"
tm resize-window -t tui -x 100 -y 30
keys q

# Three runs: unmark 7, 6, 5.
check_screen "back on the runs" "mmdb runs  7 of 7"
keys Home Space Space Space
check_screen "three runs left marked" "marked: 3"
keys c
check_screen "compare of three" "mmdb compare  #3 #2 #1"
compare_checks 3 2 1

# A compared run deleted by another process: back to the runs, saying why.
"$MMDB" sql --write "DELETE FROM runs WHERE id = 2" >/dev/null
check_screen "a deleted run closes the compare" "run 2 no longer exists" 15
check_screen "the runs without it" "mmdb runs  6 of 6"

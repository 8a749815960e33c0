#!/bin/sh
# mmdb tui, runs screen: content against the database, sorting, filters
# (text, status, tag), help, compare of marked runs, deletion with
# confirmation (rows and checkpoint folder), q quits.
. "$(dirname "$0")/lib-tui.sh"

fill_db
mkdir -p "$MMDB_CACHE/runs/4" && echo x >"$MMDB_CACHE/runs/4/last.pt"
start_tui 100 30
# The values the checks compare against, in one query.
IFS=, read -r maxid best worst nconcat ncompleted nbaseline f6 f5 ndis <<EOF
$(rows "SELECT (SELECT max(id) FROM runs) AS a,
  (SELECT id FROM run_summary ORDER BY best_val_f1 DESC LIMIT 1) AS b,
  (SELECT id FROM run_summary WHERE best_val_f1 IS NOT NULL ORDER BY best_val_f1 LIMIT 1) AS c,
  (SELECT count(*) FROM runs WHERE fusion = 'concat' OR name LIKE '%concat%') AS d,
  (SELECT count(*) FROM runs WHERE status = 'completed') AS e,
  (SELECT count(*) FROM run_tags WHERE tag = 'baseline') AS f,
  (SELECT printf('%.3f', f1) FROM class_metrics WHERE run_id = 6 AND split = 'test' AND label = 1) AS g,
  (SELECT printf('%.3f %+.3f', c5.f1, c5.f1 - c6.f1) FROM class_metrics c5, class_metrics c6
    WHERE c5.run_id = 5 AND c6.run_id = 6 AND c5.split = 'test' AND c6.split = 'test' AND c5.label = 1 AND c6.label = 1) AS h,
  (SELECT count(*) FROM predictions a JOIN predictions b ON b.post_id = a.post_id AND b.run_id = 5
    WHERE a.run_id = 6 AND a.split = 'validate' AND a.pred <> b.pred) AS i")
EOF
check_screen "the runs screen opens" "mmdb runs  6 of 6"
# The dashboard never trains: libtorch stays unloaded (it would cost a
# second of start-up and 100 MB).
# (Nothing to check in a build without libtorch, whose mmdb may run under
# memcheck: make valgrind.)
if [ -n "${MMDB_TEST_NO_TORCH:-}" ]; then
	skip "the dashboard maps no libtorch ($MMDB_TEST_NO_TORCH)"
else
	pane=$(tm display-message -p -t tui '#{pane_pid}')
	tuipid=$(for s in /proc/[0-9]*/stat; do
		read -r pid comm st ppid rest <"$s" 2>/dev/null && [ "$ppid" = "$pane" ] && [ "$comm" = "(mmdb)" ] && echo "$pid"
	done)
	check_match "the dashboard's process is found" "$tuipid" '^[0-9]+$'
	check_eq "the dashboard maps no libtorch" "$(grep -c 'libtorch\|libc10\|mmdb-torch' "/proc/$tuipid/maps")" 0
fi

# Every run's row shows its id, name, status and best validation / test metrics.
rows "SELECT id, name, CASE status WHEN 'early_stopped' THEN 'early-stop' ELSE status END,
	     CASE WHEN best_val_f1 IS NULL THEN '-' ELSE printf('%.3f', best_val_f1) END,
	     CASE WHEN test_accuracy IS NULL THEN '-' ELSE printf('%.3f', test_accuracy) END
      FROM run_summary" >"$T/want"
screen >"$T/pane"
bad=0
while IFS=, read -r id name status f1 acc; do
	grep -Eq "^ +$id +$status +$name .* $f1 .* $acc " "$T/pane" || { bad=1; echo "    no row for run $id: $name $status $f1 $acc"; }
done <"$T/want"
if [ $bad = 0 ]; then ok "each run's row matches run_summary"; else fail "each run's row matches run_summary"; sed 's/^/    | /' "$T/pane"; fi
check_eq "rows are sorted by id, newest first" "$(sed -n 3p "$T/pane" | awk '{print $1}')" "$maxid"

# Sorting: > walks the columns until validation F1; best first.
i=0
while [ $i -lt 16 ] && ! screen | grep -q "sort: valF1"; do keys '>'; sleep 0.1; i=$((i + 1)); done
check_screen "sort by validation F1" "sort: valF1 desc"
check_eq "best validation F1 first" "$(screen | sed -n 3p | awk '{print $1}')" "$best"
keys I
check_screen "I inverts the order" "sort: valF1 asc"
check_eq "lowest validation F1 first (NULLs last)" "$(screen | sed -n 3p | awk '{print $1}')" "$worst"

# Filters.
keys /; type_text concat; keys Enter
check_screen "text filter" "mmdb runs  $nconcat of 6 .*filter: /concat"
keys x
check_screen "x clears the filter" "mmdb runs  6 of 6  sort"
keys s
check_screen "status filter: running" "0 of 6 .*status=running"
keys s
check_screen "status filter: completed" "$ncompleted of 6 .*status=completed"
keys x t; type_text baseline; keys Enter
check_screen "tag filter" "$nbaseline of 6 .*tag=baseline"
keys x

# Help lists this screen's keys; any key closes it.
keys '?'
check_screen "? shows help" "Help: runs screen keys"
check_screen "help names the compare key" "compare the marked runs"
keys j
check_screen "a key closes help" "mmdb runs  6 of 6"
check_no_screen "help is gone" "Help: runs"

# Compare: mark two runs (sorted by id again), c opens the compare screen.
i=0
while [ $i -lt 16 ] && ! screen | grep -q "sort: ID desc"; do keys '>'; sleep 0.1; i=$((i + 1)); done
keys Home Space Space
check_screen "two runs marked" "marked: 2"
keys c
check_screen "compare opens" "mmdb compare  #6 #5"
check_screen "compare: differing fusion shown" "^fusion +sum +max"
check_no_screen "compare: equal settings hidden" "^optimizer "
keys 2
check_screen "compare: curves with a legend per run" "#6 sum-lr5e-05-6.*#5 max-lr3e-05-5"
keys 3
f5=$(printf '%s' "$f5" | sed 's/+/[+]/g')
check_screen "compare: per-class F1 with deltas" "^1 satire/parody +$f6 +$f5"
keys 4
check_screen "compare: posts where the runs disagree" "^$ndis posts of the validate split where"
keys q
check_screen "q goes back to the runs" "mmdb runs  6 of 6"

# Delete run 4 (third row) with confirmation.
keys Home Down Down d
check_screen "delete asks first" "delete run 4 .*\[y/N\]"
keys n
check_screen "n cancels" "cancelled"
check_eq "run 4 is still there" "$(q 'SELECT count(*) FROM runs WHERE id = 4')" "1"
keys d
check_screen "asks again" "delete run 4 "
keys y
check_screen "y deletes" "deleted run 4"
check_screen "the list shrinks" "mmdb runs  5 of 5"
check_eq "run 4, its epochs and tags are gone; others stay" \
	"$(rows "SELECT (SELECT count(*) FROM runs WHERE id = 4) AS a, (SELECT count(*) FROM epochs WHERE run_id = 4) AS b, (SELECT count(*) FROM run_tags WHERE run_id = 4) AS c, (SELECT count(*) > 0 FROM epochs WHERE run_id = 5) AS d")" "0,0,0,1"
check_status "its checkpoint folder is gone" 1 test -e "$MMDB_CACHE/runs/4"

keys q
i=0; while [ ! -s "$T/tui.exit" ] && [ $i -lt $((50 * SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
check_eq "q quits with status 0" "$(cat "$T/tui.exit" 2>/dev/null)" "0"

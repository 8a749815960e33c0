#!/bin/sh
# mmdb tui, runs screen on a wide terminal: each run's duration; sorting by
# every column gives the order SQL gives (missing values last either way,
# ties by id), I inverts it; the status filter cycles through every status with the
# counts SQL says; Escape cancels a deletion.
. "$(dirname "$0")/lib-tui.sh"

rows() { sqlite3 -batch -noheader -list -separator , "$MMDB_DB" "$1"; }
fill_db
start_tui 170 30
check_screen "the runs screen opens" "mmdb runs  6 of 6"
got_ids() { screen | sed -n '3,$p' | tr -d '*' | awk '$1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' ' | sed 's/ $//'; }
# check_order "what" ORDER-BY: waits for the rows to be in SQL's order.
check_order() {
	want=$(rows "SELECT group_concat(id, ' ') FROM (SELECT s.id FROM run_summary s JOIN runs r ON r.id = s.id ORDER BY $2)")
	i=0
	while [ "$(got_ids)" != "$want" ] && [ $i -lt $((100 * SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
	check_eq "$1" "$(got_ids)" "$want"
}
# Each row's duration (the TIME column) from the recorded seconds.
rows "SELECT id, CASE WHEN seconds < 3600 THEN printf('%dm%02ds', seconds / 60, seconds % 60)
                      ELSE printf('%dh%02dm', seconds / 3600, seconds / 60 % 60) END FROM runs" >"$T/want"
screen >"$T/pane"; bad=0
while IFS=, read -r id dur; do
	grep -Eq "^[ *]+$id .* $dur( |$)" "$T/pane" || { bad=1; echo "    run $id: $dur"; }
done <"$T/want"
if [ $bad = 0 ]; then ok "each run's duration as recorded"; else fail "each run's duration"; sed 's/^/    | /' "$T/pane"; fi
TAGS="(SELECT group_concat(tag, ',') FROM run_tags g WHERE g.run_id = s.id)"
check_order "ID, newest first" "s.id DESC"
# Each > moves to the next column: its title, its direction, SQL's order.
for col in "STATUS asc|s.status COLLATE NOCASE, s.id" \
	   "NAME asc|s.name COLLATE NOCASE NULLS LAST, s.id" \
	   "FUSION asc|s.fusion COLLATE NOCASE NULLS LAST, s.id" \
	   "MODELS asc|s.text_model COLLATE NOCASE, s.id" \
	   "LR asc|s.lr NULLS LAST, s.id" \
	   "BS asc|s.batch_size, s.id" \
	   "EP desc|s.epochs_done DESC, s.id" \
	   "valF1 desc|s.best_val_f1 DESC NULLS LAST, s.id" \
	   "valAcc desc|s.best_val_accuracy DESC NULLS LAST, s.id" \
	   "tstAcc desc|s.test_accuracy DESC NULLS LAST, s.id" \
	   "tstF1 desc|s.test_f1 DESC NULLS LAST, s.id" \
	   "TIME desc|r.seconds DESC NULLS LAST, s.id" \
	   "TAGS asc|$TAGS COLLATE NOCASE NULLS LAST, s.id" \
	   "CREATED desc|r.created_at DESC, s.id"; do
	title=${col%%|*}; order=${col#*|}
	keys '>'
	check_screen "> sorts by $title" "sort: $title "
	check_order "sorted by $title: SQL's order" "$order"
done
keys I
check_screen "I inverts" "sort: CREATED asc"
check_order "CREATED ascending" "r.created_at, s.id"
keys '<'
check_screen "< goes back a column" "sort: TAGS asc"
keys I
check_order "TAGS descending, runs without tags still last" "$TAGS COLLATE NOCASE DESC NULLS LAST, s.id"

# The status filter cycles through every status.
for st in running completed early_stopped failed interrupted crashed pruned; do
	keys s
	c=$(rows "SELECT count(*) FROM runs WHERE status = '$st'")
	check_screen "s: status $st ($c runs)" "mmdb runs  $c of 6 .*status=$st"
done
keys s
check_screen "s: back to every status" "mmdb runs  6 of 6  sort"

# Deletion asks; Escape cancels like n.
keys Home d
check_screen "d asks" "delete run [0-9]+ .*\[y/N\]"
keys Escape
check_screen "Escape cancels" "cancelled"
check_eq "nothing deleted" "$(rows 'SELECT count(*) FROM runs')" "6"

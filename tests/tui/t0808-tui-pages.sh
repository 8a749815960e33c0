#!/bin/sh
# mmdb tui, predictions on a split larger than one step of work (2,400
# posts): counts and pages under every filter and order match SQL (paging
# forward and back, to the end, a confusion cell, predicted class, title
# search common and rare); new data elsewhere keeps the page; a resize
# refills it; a post's image status says why there is no image; help on
# the run and post screens; the run deleted while its predictions are shown.
. "$(dirname "$0")/lib-tui.sh"

rows() { sqlite3 -batch -noheader -list -separator , "$MMDB_DB" "$1"; }
"$MMDB" init >/dev/null
{ echo "CREATE TEMP TABLE fill_params(nruns, nepochs, nposts, npred); INSERT INTO fill_params VALUES (2, 2, 12000, 2);"
  cat "$TUI_DIR/fill.sql"; } | "$MMDB" sql --write >/dev/null
run=2
P="FROM predictions p JOIN posts s ON s.id = p.post_id WHERE p.run_id = $run AND p.split = 'validate'"
# want_page WHERE ORDER LIMIT OFFSET: the post ids SQL lists there.
want_page() { rows "SELECT group_concat(post_id, ' ') FROM (SELECT p.post_id $P $1 ORDER BY $2 LIMIT $3 OFFSET $4)"; }
count() { rows "SELECT count(*) $P $1"; }
got_page() { screen | sed -n '4,$p' | awk '$1 ~ /^p[0-9]+$/ {print $1}' | tr '\n' ' ' | sed 's/ $//'; }
# check_page "what" WANT: waits for the page to list WANT.
check_page() {
	i=0
	while [ "$(got_page)" != "$2" ] && [ $i -lt $((150 * SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
	check_eq "$1" "$(got_page)" "$2"
}

start_tui 80 24
keys Home p
total=$(count "")
check_screen "the split's count once counted" "validate split  $total posts"
check_page "first page: the first 20 posts" "$(want_page "" p.post_id 20 0)"
keys NPage NPage NPage
check_page "PgDn x3: posts 61-80" "$(want_page "" p.post_id 20 60)"
check_screen "the rows are numbered" "rows 61-80"
keys PPage
check_page "PgUp: posts 41-60" "$(want_page "" p.post_id 20 40)"
keys End
check_page "End: the last 20" "$(want_page "" p.post_id 20 $((total - 20)))"
check_screen "End: numbered from the count" "rows $((total - 19))-$total"
keys PPage
check_page "PgUp from the end" "$(want_page "" p.post_id 20 $((total - 40)))"
keys Home
check_page "Home: the first page again" "$(want_page "" p.post_id 20 0)"
keys Up
check_page "Up on the first row stays" "$(want_page "" p.post_id 20 0)"
i=0; while [ $i -lt 20 ]; do keys Down; i=$((i + 1)); done
check_page "Down past the last row: the next page" "$(want_page "" p.post_id 20 20)"

# New data from another process (the run renamed): the page stays where it is.
keys NPage
check_page "on posts 41-60" "$(want_page "" p.post_id 20 40)"
"$MMDB" sql --write "UPDATE runs SET name = 'renamed-two' WHERE id = $run" >/dev/null
check_screen "the new name appears" "run $run renamed-two" 15
check_page "and the page did not move" "$(want_page "" p.post_id 20 40)"
# A taller window: the page grows from the same first row.
tm resize-window -t tui -x 100 -y 40
check_page "resized to 100x40: 36 rows from the same post" "$(want_page "" p.post_id 36 40)"
tm resize-window -t tui -x 80 -y 24
check_page "back to 80x24: 20 rows" "$(want_page "" p.post_id 20 40)"

keys m
check_screen "m: misclassified count" "validate split  $(count "AND p.pred <> p.label") posts"
check_page "m: the first misclassified posts" "$(want_page "AND p.pred <> p.label" p.post_id 20 0)"
keys NPage
check_page "m: PgDn" "$(want_page "AND p.pred <> p.label" p.post_id 20 20)"
keys x p
check_screen "p: predicted class 0" "filter: pred=0 true"
check_screen "p: its count" "validate split  $(count "AND p.pred = 0") posts"
check_page "p: its posts" "$(want_page "AND p.pred = 0" p.post_id 20 0)"
keys p t t t
check_screen "t and p: a confusion cell (true 2, predicted 1)" "filter: true=2 .* pred=1 "
check_screen "the cell's count" "validate split  $(count "AND p.label = 2 AND p.pred = 1") posts"
check_page "the cell's posts" "$(want_page "AND p.label = 2 AND p.pred = 1" p.post_id 20 0)"
keys x w
check_page "w: confidently wrong first" "$(want_page "AND p.pred <> p.label" "p.prob_pred DESC, p.post_id DESC" 20 0)"
keys NPage
check_page "w: PgDn" "$(want_page "AND p.pred <> p.label" "p.prob_pred DESC, p.post_id DESC" 20 20)"
keys l
check_page "l: lowest probability of the true label first" "$(want_page "" "p.prob_label, p.post_id" 20 0)"
keys End
check_page "l: End" "$(want_page "" "p.prob_label, p.post_id" 20 $((total - 20)))"

keys x /; type_text "topic 3"; keys Enter
check_screen "search: a common title word, counted" "validate split  $(count "AND s.title LIKE '%topic 3%'") posts"
check_page "search: its first posts" "$(want_page "AND s.title LIKE '%topic 3%'" p.post_id 20 0)"
keys /; keys C-u; type_text "Post 1199"; keys Enter
check_screen "search: a rare title (near the end of the split)" "validate split  $(count "AND s.title LIKE '%Post 1199%'") posts"
check_page "search: its posts" "$(want_page "AND s.title LIKE '%Post 1199%'" p.post_id 20 0)"
keys /; keys C-u; type_text "no such title"; keys Enter
check_screen "search: no match says so" "no predictions match"
check_screen "search: counted zero" "validate split  0 posts"

# Post details: why each post has no image, as the images table says.
for kind in removed http_error none missing; do
	case $kind in
	none) cond="NOT EXISTS (SELECT 1 FROM images i WHERE i.post_id = p.post_id)"; want="image: none \(no images row" ;;
	missing) cond="EXISTS (SELECT 1 FROM images i WHERE i.post_id = p.post_id AND i.status = 'ok')"
		 want="image: ok in the database, but missing from the cache" ;;
	*) cond="EXISTS (SELECT 1 FROM images i WHERE i.post_id = p.post_id AND i.status = '$kind')"
	   want="image: $kind \($(rows "SELECT reason FROM images WHERE status = '$kind' LIMIT 1")\)" ;;
	esac
	title=$(rows "SELECT s.title $P AND $cond ORDER BY p.post_id LIMIT 1")
	post=$(rows "SELECT p.post_id $P AND $cond ORDER BY p.post_id LIMIT 1")
	keys /; keys C-u; type_text "$title"; keys Enter
	check_page "search for '$title'" "$post"
	keys Enter
	check_screen "post $post opens, with its subreddit" "mmdb post $post  r/$(rows "SELECT subreddit FROM posts WHERE id = '$post'") "
	check_screen "post $post ($kind): $want" "$want"
	if [ $kind = none ]; then
		keys '?'
		check_screen "? on the post screen lists its keys" "Help: post screen keys"
		check_screen "post help names the image key" "the image alone"
		keys Escape
		wait_gone "Help: post" 15
	fi
	keys q
	check_screen "back to the predictions" "mmdb predictions "
done

keys q
check_screen "q: the runs screen" "mmdb runs  2 of 2"
keys Home Enter
check_screen "Enter: the run screen" "mmdb run $run "
keys '?'
check_screen "? on the run screen lists its keys" "Help: run screen keys"
check_screen "run help names the confusion drill-down" "confusion view: the posts of the cell"
keys Escape
wait_gone "Help: run" 15
keys p
check_screen "p: its predictions (the test split, as the run screen's point)" "mmdb predictions  run $run .* test split"
"$MMDB" sql --write "DELETE FROM runs WHERE id = $run" >/dev/null
check_screen "the run deleted while its predictions are shown: back, saying why" "run $run no longer exists" 15
check_screen "back on the runs screen" "mmdb runs  1 of 1"

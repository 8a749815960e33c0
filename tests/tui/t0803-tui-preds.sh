#!/bin/sh
# mmdb tui, predictions screen at 80x24: counts and first rows under each
# filter and order match SQL; paging moves through the split a page at a
# time; the split toggles.
. "$(dirname "$0")/lib-tui.sh"

fill_db
# More validation posts than a page: a second run's worth of rows is not
# needed, the fill has 24 validation posts per run and a page holds 20.
run=2
start_tui 80 24
IFS=, read -r nval nwrong cw lt ntrue0 nsearch ntest lastpost firstpost lastpage <<EOF
$(rows "SELECT
  (SELECT count(*) FROM predictions WHERE run_id = $run AND split = 'validate') AS a,
  (SELECT count(*) FROM predictions WHERE run_id = $run AND split = 'validate' AND pred <> label) AS b,
  (SELECT post_id FROM predictions WHERE run_id = $run AND split = 'validate' AND pred <> label ORDER BY prob_pred DESC, post_id DESC LIMIT 1) AS c,
  (SELECT post_id FROM predictions WHERE run_id = $run AND split = 'validate' ORDER BY prob_label, post_id LIMIT 1) AS d,
  (SELECT count(*) FROM predictions WHERE run_id = $run AND split = 'validate' AND label = 0) AS e,
  (SELECT count(*) FROM prediction_posts WHERE run_id = $run AND split = 'validate' AND title LIKE '%topic 3%') AS f,
  (SELECT count(*) FROM predictions WHERE run_id = $run AND split = 'test') AS g,
  (SELECT max(post_id) FROM predictions WHERE run_id = $run AND split = 'validate') AS h,
  (SELECT min(post_id) FROM predictions WHERE run_id = $run AND split = 'validate') AS i,
  (SELECT group_concat(post_id, ' ') FROM (SELECT post_id FROM predictions WHERE run_id = $run AND split = 'validate'
     ORDER BY post_id LIMIT 20 OFFSET (SELECT count(*) - 20 FROM predictions WHERE run_id = $run AND split = 'validate'))) AS j")
EOF
# Run 2 is the fifth row (ids descending).
keys Home Down Down Down Down p
check_screen "p opens the run's validation predictions" "mmdb predictions  run $run .* validate split  $nval posts"
check_eq "first row is the first post" "$(screen | sed -n 4p | awk '{print $1}')" "$firstpost"
keys End
check_screen "End pages to the last post" "^$lastpost "
check_eq "the last page holds the split's last 20 posts in order" "$(screen | sed -n '4,23p' | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')" "$lastpage"
keys Home
check_screen "Home comes back" "^$firstpost "
keys m
check_screen "m: misclassified only" "validate split  $nwrong posts"
check_screen "m: filter shown" "filter: misclassified"
keys m w
check_screen "w: confidently wrong first" "confidently-wrong-first"
check_eq "w: the most confident mistake first" "$(screen | sed -n 4p | awk '{print $1}')" "$cw"
keys w l
check_screen "l: lowest probability of the true label first" "lowest-true-prob-first"
check_eq "l: the likeliest label error first" "$(screen | sed -n 4p | awk '{print $1}')" "$lt"
keys x t
check_screen "t: true class filter" "validate split  $ntrue0 posts"
check_screen "t: names the class" "filter: true=0 true"
keys x /
type_text "topic 3"
keys Enter
check_screen "/: title search" "validate split  $nsearch posts"
keys x v
check_screen "v: the test split" "test split  $ntest posts"
keys '?'
check_screen "help lists the predictions keys" "lowest probability of the true label first"
keys Escape
check_screen "help closes" "test split  $ntest posts"

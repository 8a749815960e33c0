#!/bin/sh
# mmdb tui, run screen at 80x24: overview (settings, epoch table), charts
# with labelled axes, per-class table, confusion heat map; Enter on a cell
# lists exactly the posts SQL says; a post's detail (labels, probabilities,
# image status).
. "$(dirname "$0")/lib-tui.sh"

fill_db
run=6
start_tui 80 24 --run $run
# Everything the checks compare against, in one query.
IFS=, read -r best vf1 tacc ymax lastep tep n00 sh00 l p <<EOF
$(rows "SELECT r.best_epoch,
  (SELECT printf('%.4f', f1) FROM epochs WHERE run_id = r.id AND epoch = r.best_epoch AND split = 'validate') AS a,
  (SELECT printf('%.4f', accuracy) FROM epochs WHERE run_id = r.id AND split = 'test') AS b,
  (SELECT printf('%.3f', max(loss)) FROM epochs WHERE run_id = r.id AND split IN ('train', 'validate')) AS c,
  (SELECT max(epoch) FROM epochs WHERE run_id = r.id) AS d,
  (SELECT epoch FROM epochs WHERE run_id = r.id AND split = 'test') AS e,
  (SELECT count FROM confusion WHERE run_id = r.id AND split = 'test' AND label = 0 AND pred = 0) AS f,
  (SELECT printf('%3.0f%%', 100.0 * c.count / (SELECT sum(count) FROM confusion WHERE run_id = r.id AND split = 'test' AND label = 0))
     FROM confusion c WHERE run_id = r.id AND split = 'test' AND label = 0 AND pred = 0) AS g,
  x.label, x.pred
  FROM runs r, (SELECT label, pred FROM predictions WHERE run_id = $run AND split = 'test' AND label <> pred
                GROUP BY label, pred ORDER BY count(*) DESC, label, pred LIMIT 1) x
  WHERE r.id = $run")
EOF
check_screen "the run screen opens" "mmdb run $run  sum-lr5e-05-6  \[completed\]"
check_screen "overview: best epoch" "best epoch $best: val F1 $vf1"
check_screen "overview: test metrics" "test: acc $tacc"
check_screen "overview: settings (fusion)" "fusion=sum"
check_screen "overview: settings (lr)" " lr=5.0e-05"
check_screen "overview: settings (dropout)" "dropout=0.1"
# The config JSON repeats the typed columns: each setting is shown once.
check_eq "overview: each setting once" "$(screen | grep -o '[a-z_.]*dropout=' | tr '\n' ' ')" "dropout= "
rows "SELECT epoch, printf('%.4f', t.loss), printf('%.4f', v.loss), printf('%.4f', v.f1)
      FROM epochs t JOIN epochs v USING (run_id, epoch)
      WHERE run_id = $run AND t.split = 'train' AND v.split = 'validate' ORDER BY epoch" >"$T/want"
screen >"$T/pane"; bad=0
while IFS=, read -r e tl vl vf; do
	grep -Eq "^ +$e +$tl +$vl +[0-9.]+ +[0-9.]+ +$vf " "$T/pane" || { bad=1; echo "    epoch $e: $tl $vl $vf"; }
done <"$T/want"
if [ $bad = 0 ]; then ok "overview: one row per epoch, as in epochs"; else fail "overview: one row per epoch"; sed 's/^/    | /' "$T/pane"; fi

keys 2
check_screen "charts: loss, accuracy, F1" "^Loss .*train.*validate"
check_screen "charts: accuracy" "^Accuracy "
check_screen "charts: F1" "^F1 "
check_screen "charts: y axis labelled with the largest loss" "^ +$ymax│"
check_screen "charts: x axis labelled with epochs" "└1─+epoch─+$lastep$"
check_screen "charts: braille dots drawn" "⣀|⠤|⠒|⠉"

keys 3
check_screen "classes: the test point first" "epoch $tep, test split"
rows "SELECT c.label, n.name, printf('%.4f', precision), printf('%.4f', recall), printf('%.4f', f1), support
      FROM class_metrics c JOIN label_names n ON n.scheme = '6way' AND n.label = c.label
      WHERE run_id = $run AND split = 'test' ORDER BY c.label" >"$T/want"
screen >"$T/pane"; bad=0
while IFS=, read -r cl name pr rc f sup; do
	grep -Eq "^ +$cl $name +$pr +$rc +$f +$sup " "$T/pane" || { bad=1; echo "    class $cl: $name $pr $rc $f $sup"; }
done <"$T/want"
if [ $bad = 0 ]; then ok "classes: every class as in class_metrics"; else fail "classes: every class"; sed 's/^/    | /' "$T/pane"; fi
keys '['
check_screen "[ steps to another evaluated epoch" "epoch [0-9]+, validate split"
keys ']'
check_screen "] steps back" "epoch $tep, test split"

keys 4
check_screen "confusion: class names on rows" "^5 misleading conte"
check_screen "confusion: count and row share" "^0 true +$n00 +$sh00"
# The largest off-diagonal cell: move there and open it.
i=0; while [ $i -lt "$l" ]; do keys Down; i=$((i + 1)); done
i=0; while [ $i -lt "$p" ]; do keys Right; i=$((i + 1)); done
check_screen "confusion: the cell is selected" "cell: true $l .*predicted $p "
keys Enter
want=$(rows "SELECT post_id FROM predictions WHERE run_id = $run AND split = 'test' AND label = $l AND pred = $p ORDER BY post_id")
n=$(printf '%s\n' "$want" | grep -c .)
check_screen "drill-down: the predictions screen with the cell's filter" "test split  $n posts"
screen | sed -n '4,$p' | awk '$1 ~ /^p[0-9]+$/ {print $1}' >"$T/got"
check_eq "drill-down lists exactly the cell's posts" "$(cat "$T/got")" "$want"

# Post detail.
post=$(printf '%s\n' "$want" | head -1)
keys Enter
IFS='|' read -r title l2 l3 l6 st <<EOF
$(rows "SELECT s.title || '|' || s.label_2way || ' ' || n2.name || '|' || s.label_3way || ' ' || n3.name || '|' || s.label_6way || ' ' || n6.name || '|' || coalesce(i.status, '') AS v
      FROM posts s JOIN label_names n2 ON n2.scheme = '2way' AND n2.label = s.label_2way
      JOIN label_names n3 ON n3.scheme = '3way' AND n3.label = s.label_3way
      JOIN label_names n6 ON n6.scheme = '6way' AND n6.label = s.label_6way
      LEFT JOIN images i ON i.post_id = s.id WHERE s.id = '$post'" | sed 's/^"//; s/"$//')
EOF
check_screen "post detail opens" "mmdb post $post "
check_screen "post: title" "^$title"
check_screen "post: labels in all three schemes" "2-way $l2 +3-way $l3 +6-way $l6"
rows "SELECT j.key, printf('%.4f', j.value) FROM predictions p, json_each(p.probs) j WHERE p.run_id = $run AND p.post_id = '$post'" >"$T/want"
screen >"$T/pane"; bad=0
while IFS=, read -r k v; do grep -Eq "^  $k .* $v$" "$T/pane" || { bad=1; echo "    class $k: $v"; }; done <"$T/want"
if [ $bad = 0 ]; then ok "post: every class probability"; else fail "post: every class probability"; sed 's/^/    | /' "$T/pane"; fi
case "$st" in
ok) check_screen "post: image status (cache file missing)" "image: ok in the database, but missing from the cache" ;;
"") check_screen "post: no image row" "image: none" ;;
*) check_screen "post: why there is no image" "image: $st" ;;
esac

# q backs out level by level.
keys q
check_screen "q: back to the predictions" "mmdb predictions "
keys q
check_screen "q: back to the run" "mmdb run $run "
keys q
check_screen "q: back to the runs" "mmdb runs "

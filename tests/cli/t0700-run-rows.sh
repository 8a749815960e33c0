#!/bin/sh
# mmdb run on synthetic data: every table row it writes, then the result
# commands (runs, show, compare, export, predict, runs rm) on it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check "synthetic dataset ingested, images imported, vocab built" setup_synthetic 96 32 32

# Usage errors come before any work.
check_status "run -h" 0 "$MMDB" run -h
check_status "--lr 1e-3x is a usage error" 2 "$MMDB" run --lr 1e-3x
check_status "--label 7way is a usage error" 2 "$MMDB" run --label 7way
check_status "--fusion foo is a usage error" 2 "$MMDB" run --fusion foo
check_status "--device gpu is a usage error" 2 "$MMDB" run --device gpu
check_status "--epochs 0 is a usage error" 2 "$MMDB" run --epochs 0
check_eq "no run row for usage errors" "$(q 'SELECT count(*) FROM runs')" 0

check_status "a fused run trains" 0 "$MMDB" -q run --name t1 --tag a --tag b --epochs 2 \
	--notes "first run" $TINY
id=$(q "SELECT id FROM runs WHERE name = 't1'")
check_eq "status completed" "$(q "SELECT status FROM runs WHERE id = $id")" completed
check_eq "typed columns" "$(q "SELECT label||'|'||modalities||'|'||fusion||'|'||text_model||'|'||
	image_model||'|'||lr||'|'||batch_size||'|'||epochs||'|'||optimizer||'|'||max_len||'|'||image_size||
	'|'||class_weights||'|'||seed||'|'||device||'|'||dropout||'|'||scheduler FROM runs WHERE id = $id")" \
	"6way|text,image|max|bert-tiny|resnet-small|0.001|16|2|adamw|12|32|balanced|5|cpu|0.3|plateau"
check_eq "config JSON holds every setting" "$(q "SELECT json_extract(config, '$.lr')||'|'||
	json_extract(config, '$.plateau_patience')||'|'||json_extract(config, '$.early_stop')||'|'||
	json_extract(config, '$.resize')||'|'||json_array_length(config, '$.tags')||'|'||
	json_extract(config, '$.argv[0]') FROM runs WHERE id = $id")" "0.001|1|5|squash|2|run"
check_eq "tags" "$(q "SELECT group_concat(tag, ',') FROM (SELECT tag FROM run_tags WHERE run_id = $id ORDER BY tag)")" "a,b"
check_eq "post counts, epochs done, best epoch, vocab" "$(q "SELECT train_posts||'|'||validate_posts||'|'||
	test_posts||'|'||epochs_done||'|'||(best_epoch BETWEEN 1 AND 2)||'|'||(vocab_id IS NOT NULL)
	FROM runs WHERE id = $id")" "96|32|32|2|1|1"
check_eq "times, heartbeat, versions" "$(q "SELECT seconds > 0 AND heartbeat_at > 0 AND finished_at
	IS NOT NULL AND started_at IS NOT NULL AND mmdb_version IS NOT NULL AND torch_version IS NOT NULL
	AND progress = 1 AND host IS NOT NULL FROM runs WHERE id = $id")" 1
check "best checkpoint on disk" test -s "$(q "SELECT checkpoint_best FROM runs WHERE id = $id")"
check "last checkpoint on disk" test -s "$MMDB_CACHE/runs/$id/last.ckpt"

check_eq "epochs rows: 2 train, 2 validate, 1 test" "$(q "SELECT group_concat(split||epoch, ' ') FROM
	(SELECT * FROM epochs WHERE run_id = $id ORDER BY split, epoch)")" \
	"test$(q "SELECT best_epoch FROM runs WHERE id = $id") train1 train2 validate1 validate2"
check_eq "train rows: loss, lr, speed, loader wait share, samples" "$(q "SELECT count(*) FROM epochs
	WHERE run_id = $id AND split = 'train' AND loss > 0 AND lr > 0 AND samples_per_s > 0 AND seconds > 0
	AND loader_wait BETWEEN 0 AND 1 AND samples = 96")" 2
# Train accuracy: the share of the epoch's trained posts classified right,
# so accuracy x samples is a whole count.
check_eq "train rows: accuracy, a count of right predictions over the samples" "$(q "SELECT count(*)
	FROM epochs WHERE run_id = $id AND split = 'train' AND accuracy BETWEEN 0 AND 1
	AND abs(accuracy * samples - round(accuracy * samples)) < 1e-6")" 2
check_eq "validate rows: loss and every metric" "$(q "SELECT count(*) FROM epochs WHERE run_id = $id
	AND split = 'validate' AND loss > 0 AND accuracy BETWEEN 0 AND 1 AND precision BETWEEN 0 AND 1
	AND recall BETWEEN 0 AND 1 AND f1 BETWEEN 0 AND 1 AND precision_macro BETWEEN 0 AND 1 AND
	recall_macro BETWEEN 0 AND 1 AND f1_macro BETWEEN 0 AND 1 AND samples = 32")" 2
check_eq "class_metrics: 6 classes x (2 validate + 1 test)" "$(q "SELECT count(*) FROM class_metrics
	WHERE run_id = $id")" 18
check_eq "class supports add up to the split" "$(q "SELECT group_concat(s, ' ') FROM (SELECT
	sum(support) AS s FROM class_metrics WHERE run_id = $id GROUP BY epoch, split ORDER BY epoch, split)")" \
	"$(q "SELECT group_concat(32, ' ') FROM epochs WHERE run_id = $id AND split <> 'train'")"
check_eq "confusion: 36 cells x 3" "$(q "SELECT count(*) FROM confusion WHERE run_id = $id")" 108
check_eq "recall of each class = its confusion diagonal / support" "$(q "SELECT count(*) FROM class_metrics c
	WHERE run_id = $id AND abs(recall - coalesce((SELECT 1.0 * k.count FROM confusion k WHERE
	k.run_id = c.run_id AND k.epoch = c.epoch AND k.split = c.split AND k.label = c.label AND
	k.pred = c.label) / nullif(support, 0), 0)) > 1e-9")" 0
check_eq "accuracy = confusion trace / total" "$(q "SELECT count(*) FROM epochs e WHERE run_id = $id AND
	split <> 'train' AND abs(accuracy - (SELECT 1.0 * sum(CASE WHEN label = pred THEN count END) /
	sum(count) FROM confusion k WHERE k.run_id = e.run_id AND k.epoch = e.epoch AND k.split = e.split))
	> 1e-9")" 0
check_eq "a prediction for every validate and test post" "$(q "SELECT count(*)||'|'||
	sum(split = 'validate')||'|'||sum(split = 'test') FROM predictions WHERE run_id = $id")" "64|32|32"
check_eq "probs: 6 numbers summing to 1, prob_pred the largest, prob_label the label's" \
	"$(q "SELECT count(*) FROM predictions p WHERE run_id = $id AND (json_array_length(probs) <> 6 OR
	abs((SELECT sum(value) FROM json_each(p.probs)) - 1) > 1e-4 OR
	abs(prob_pred - (SELECT max(value) FROM json_each(p.probs))) > 1e-6 OR
	abs(prob_label - json_extract(probs, '$[' || label || ']')) > 1e-6 OR
	json_extract(probs, '$[' || pred || ']') <> (SELECT max(value) FROM json_each(p.probs)))")" 0
check_eq "test accuracy agrees with the test predictions" "$(q "SELECT abs((SELECT accuracy FROM epochs
	WHERE run_id = $id AND split = 'test') - (SELECT avg(pred = label) FROM predictions WHERE run_id = $id
	AND split = 'test')) < 1e-9")" 1
check_eq "validate predictions come from the best epoch" "$(q "SELECT abs((SELECT accuracy FROM epochs e
	JOIN runs r ON r.id = e.run_id AND e.epoch = r.best_epoch WHERE run_id = $id AND split = 'validate') -
	(SELECT avg(pred = label) FROM predictions WHERE run_id = $id AND split = 'validate')) < 1e-9")" 1
check_eq "labels are the posts' 6-way labels" "$(q "SELECT count(*) FROM predictions p JOIN posts s ON
	s.id = p.post_id WHERE p.run_id = $id AND p.label <> s.label_6way")" 0
check_eq "run_summary view is filled" "$(q "SELECT best_val_accuracy IS NOT NULL AND test_f1 IS NOT NULL
	AND train_samples_per_s > 0 FROM run_summary WHERE id = $id")" 1

# A second run (text only, 2-way) for the listing and comparison.
check_status "a text-only 2-way run" 0 "$MMDB" -q run --name t2 --modalities text --label 2way --epochs 1 $TINY
id2=$(q "SELECT id FROM runs WHERE name = 't2'")
check_eq "text-only: no image columns, 2 classes" "$(q "SELECT coalesce(image_model, '-')||'|'||
	coalesce(fusion, '-')||'|'||(SELECT count(*) FROM class_metrics WHERE run_id = $id2 AND split = 'test')
	FROM runs WHERE id = $id2")" "-|-|2"

json=$("$MMDB" runs --format json)
check "runs --format json has every documented key" "$PY" -c '
import json, sys
rows = json.loads(sys.argv[1])
keys = "id name status label modalities fusion text_model image_model lr batch_size epochs_done best_epoch best_val_accuracy best_val_f1 test_accuracy test_precision test_recall test_f1 test_f1_macro train_samples_per_s seconds".split()
assert len(rows) == 2, rows
for r in rows:
    missing = [k for k in keys if k not in r]
    assert not missing, missing
assert rows[0]["status"] == "completed" and rows[0]["name"] == "t1"
assert rows[1]["fusion"] is None and rows[1]["label"] == "2way"
assert 0 <= rows[0]["test_accuracy"] <= 1 and rows[0]["train_samples_per_s"] > 0
' "$json"
check_eq "runs json test_accuracy equals the database's" \
	"$(printf '%s' "$json" | "$PY" -c 'import json,sys; print(round(json.load(sys.stdin)[0]["test_accuracy"], 9))')" \
	"$(q "SELECT round(test_accuracy, 9) FROM run_summary WHERE id = $id")"
out=$("$MMDB" runs)
check_match "runs table shows the settings that differ" "$out" "modalities.*label|label.*modalities"
check_match "runs table lists both" "$out" "t2"
check_eq "runs --status/--tag filter" "$("$MMDB" runs --tag a --format csv | tail -n +2 | wc -l)" 1
check_eq "runs --where" "$("$MMDB" runs --where "label = '2way'" --format csv | tail -n +2 | cut -d, -f2)" "t2"
check_eq "runs --sort -id" "$("$MMDB" runs --sort -id --format csv | sed -n 2p | cut -d, -f1)" "$id2"
check_status "runs --sort nosuch is a usage error" 2 "$MMDB" runs --sort nosuch

out=$("$MMDB" show t1)
check_match "show: epochs" "$out" "== epochs"
check_match "show: train accuracy per epoch" "$out" "train_acc"
tacc=$(q "SELECT printf('%.4f', accuracy) FROM epochs WHERE run_id = $id AND split = 'train' AND epoch = 2")
check_match "show: epoch 2's train accuracy as stored" "$(printf '%s\n' "$out" | grep -E '^ *2 ')" " $tacc "
check_match "show: confusion matrix with class names" "$out" "satire/parody"
check_match "show: test metrics" "$out" "== test"
check_match "show: config" "$out" "plateau_factor"
check "show --format json is JSON" "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); assert len(d["epochs"]) == 2 and d["run"]["status"] == "completed"' "$("$MMDB" show --format json t1)"
check_status "show of a missing run fails" 1 "$MMDB" show nosuch
# Each setting once (the config repeats some of the run's rows, as vocab),
# and a text-only run's fusion is none, as on the dashboard's run screen.
settings() { printf '%s\n' "$1" | sed -n '/^== run$/,/^$/p' | awk 'NR > 2 && NF { print $1 }'; }
out2=$("$MMDB" show t2)
check_eq "show: the settings are read" "$(settings "$out" | grep -cxE 'vocab|fusion|lr|plateau_factor')" 4
check_eq "show: each setting once" "$(settings "$out" | sort | uniq -d)" ""
check_eq "show: each setting once (a text-only run)" "$(settings "$out2" | sort | uniq -d)" ""
check_eq "show: a fused run's fusion" "$(printf '%s\n' "$out" | awk '$1 == "fusion" { print $2 }')" max
check_eq "show: a text-only run's fusion is none" "$(printf '%s\n' "$out2" | awk '$1 == "fusion" { print $2 }')" none
check_eq "show: the run's vocab" "$(printf '%s\n' "$out2" | awk '$1 == "vocab" { print $2 }')" \
	"$(q "SELECT v.path FROM runs r JOIN vocabs v ON v.id = r.vocab_id WHERE r.id = $id2")"
check "show --format json: each key once, fusion none for the text-only run" "$PY" -c '
import collections, json, sys
def once(pairs):
    dup = [k for k, n in collections.Counter(k for k, _ in pairs).items() if n > 1]
    assert not dup, dup
    return dict(pairs)
for arg, fusion in zip(sys.argv[1:], ("max", "none")):
    run = json.loads(arg, object_pairs_hook=once)["run"]
    assert run["fusion"] == fusion, (run["name"], run["fusion"])
    assert run["vocab"] and run["lr"] == 0.001, run
' "$("$MMDB" show --format json t1)" "$("$MMDB" show --format json t2)"

out=$("$MMDB" compare t1 t2)
check_match "compare: differing settings" "$out" "modalities +text,image +text"
check_match "compare: metrics side by side" "$out" "test_accuracy"
check_match "compare: disagreeing posts" "$out" "run $id right and run $id2 wrong"

check_eq "export epochs csv: 5 rows" "$("$MMDB" export --run t1 --what epochs | tail -n +2 | wc -l)" 5
check "export predictions json: 64 objects with names" "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); assert len(d) == 64 and "label_name" in d[0]' "$("$MMDB" export --run t1 --what predictions --format json)"
check_eq "export config json" "$("$MMDB" export --run t1 --what config --format json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["batch_size"])')" 16
check_status "export --what nothing is a usage error" 2 "$MMDB" export --run t1 --what nothing

img=$(ls "$T/data/images" | head -1)
out=$("$MMDB" predict --run t1 --title "the senator says" --image "$T/data/images/$img" --format json)
check "predict: probabilities of the 6 classes summing to 1" "$PY" -c '
import json, sys
r = json.loads(sys.argv[1])[0]
names = ["true", "satire/parody", "false connection", "imposter content", "manipulated content", "misleading content"]
assert abs(sum(r[n] for n in names) - 1) < 1e-4, r
assert r["pred"] in names and abs(r["prob"] - max(r[n] for n in names)) < 1e-6
' "$out"
check_eq "predict --tsv: a row per post" "$("$MMDB" predict --run t1 --tsv "$T/data/multimodal_test_public.tsv" --format csv | tail -n +2 | wc -l)" 32
check_eq "predict agrees with the stored test predictions" "$("$MMDB" predict --run t1 --tsv "$T/data/multimodal_test_public.tsv" --format csv | tail -n +2 | cut -d, -f1,3 | sort | tr -d '\r' | md5sum)" \
	"$("$MMDB" sql --format csv "SELECT post_id, pred_name FROM prediction_posts WHERE run_id = $id AND split = 'test' ORDER BY post_id" | tail -n +2 | tr -d '\r' | sort | md5sum)"

check_status "runs rm t2" 0 "$MMDB" -q runs rm t2
check_eq "its rows are gone" "$(q "SELECT (SELECT count(*) FROM runs WHERE id = $id2) + (SELECT count(*) FROM
	epochs WHERE run_id = $id2) + (SELECT count(*) FROM predictions WHERE run_id = $id2)")" 0
check_status "its files are gone" 1 test -e "$MMDB_CACHE/runs/$id2"
check_eq "the other run stays" "$(q "SELECT count(*) FROM predictions WHERE run_id = $id")" 64
check_status "runs rm of a missing run fails" 1 "$MMDB" runs rm t2

# --preset seed: the original recipe's settings; flags given beside it win.
check_status "--preset seed with smaller models" 0 "$MMDB" -q run --name preset --preset seed \
	--text-model bert-tiny --image-model resnet-small --image-size 32 --max-len 12 --epochs 1 \
	--limit 32 --threads 1 --workers 2
check_eq "preset: the original recipe, explicit flags win" "$(q "SELECT preset||'|'||fusion||'|'||
	scheduler||'|'||dropout||'|'||class_weights||'|'||optimizer||'|'||json_extract(config, '$.seed_recipe')||'|'||
	json_extract(config, '$.early_stop')||'|'||json_extract(config, '$.plateau_factor')||'|'||
	json_extract(config, '$.plateau_patience')||'|'||(json_extract(config, '$.min_lr') = 1e-6)||'|'||
	(lr = 1e-5)||'|'||epochs||'|'||text_model||'|'||max_len FROM runs WHERE name = 'preset'")" \
	"seed|max|plateau|0.3|balanced|adam|1|5|0.5|1|1|1|1|bert-tiny|12"
check_status "an unknown preset is a usage error" 2 "$MMDB" run --preset nosuch

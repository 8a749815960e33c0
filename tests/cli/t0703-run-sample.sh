#!/bin/sh
# A text-only run on real Fakeddit rows (../shared/fakeddit-sample): trained
# on the validate file, evaluated on the test file (half validate, half
# test), it must beat the majority-class baseline on test.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check "ingest the validate file as train" "$MMDB" -q ingest --split train "$SAMPLE/multimodal_validate.tsv"
check "ingest the test file as validate" "$MMDB" -q ingest --split validate "$SAMPLE/multimodal_test_public.tsv"
check "half of it becomes test" "$MMDB" sql --write "UPDATE posts SET split = 'test' WHERE split = 'validate' AND rowid % 2 = 0"
check "vocab from the titles" "$MMDB" -q vocab build
check_status "text-only run" 0 "$MMDB" -q run --name sample --modalities text --text-model bert-tiny \
	--max-len 24 --batch-size 32 --epochs 2 --lr 2e-3 --optimizer adamw --class-weights none \
	--threads 1 --workers 2 --limit 1500
acc=$(q "SELECT test_accuracy FROM run_summary WHERE name = 'sample'")
base=$(q "SELECT max(n) * 1.0 / sum(n) FROM (SELECT count(*) AS n FROM posts WHERE split = 'test' GROUP BY label_6way)")
echo "# test accuracy $acc, majority-class baseline $base"
check_eq "beats the majority-class baseline on test" "$(q "SELECT $acc > $base + 0.03")" 1
check_eq "no run used subreddit or domain: labels are label_6way" "$(q "SELECT count(*) FROM predictions p
	JOIN posts s ON s.id = p.post_id WHERE p.label <> s.label_6way")" 0

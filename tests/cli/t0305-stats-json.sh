#!/bin/sh
# mmdb stats: the JSON keys scripts rely on, CSV and table output, class
# names, image coverage by status and ingest errors by reason.
. "$(dirname "$0")/lib.sh"

VAL="$SAMPLE/multimodal_validate.tsv"
TEST="$SAMPLE/multimodal_test_public.tsv"
if [ ! -f "$VAL" ] || [ ! -f "$TEST" ]; then
	skip "no sample files in $SAMPLE"
	exit 0
fi

check "stats on an empty database" "$MMDB" stats --format json
check_match "zeros, all splits present" "$(cat "$T/.out")" '"train": \{"posts": 0, .*"validate": \{"posts": 0, .*"test": \{"posts": 0'

# A bad record (label 7) to show up among the errors.
sed '2s/\t0$/\t7/' "$VAL" > "$T/multimodal_validate.tsv"
"$MMDB" -q ingest "$T/multimodal_validate.tsv" "$TEST" >/dev/null
sqlite3 "$MMDB_DB" "UPDATE images SET status = 'ok' WHERE rowid % 10 = 0"

"$MMDB" stats --format json > "$T/stats.json"
check_status "json parses" 0 python3 -c "import json; json.load(open('$T/stats.json'))"
py() { python3 -c "import json; s = json.load(open('$T/stats.json')); print($1)"; }
check_eq "splits.validate.posts" "$(py "s['splits']['validate']['posts']")" 9995
check_eq "splits.test.posts" "$(py "s['splits']['test']['posts']")" 9998
check_eq "splits.test.labels.6way (sample README)" \
	"$(py "' '.join('%s:%d' % (k, v) for k, v in s['splits']['test']['labels']['6way'].items())")" \
	"0:3963 1:598 2:1878 3:189 4:2968 5:402 null:0"
check_eq "2way and 3way keys" \
	"$(py "sorted(s['splits']['test']['labels']['2way']), sorted(s['splits']['test']['labels']['3way'])")" \
	"['0', '1', 'null'] ['0', '1', '2', 'null']"
check_eq "2way sums to the posts" "$(py "sum(s['splits']['test']['labels']['2way'].values())")" 9998
check_eq "ingest_errors" "$(py "s['ingest_errors'], s['ingest_errors_by_reason']")" "1 {'label out of range': 1}"
check_eq "images by status" "$(py "s['images']['ok'] + s['images']['pending'], s['images']['failed']")" \
	"$(sqlite3 "$MMDB_DB" "SELECT count(*) FROM images") 0"
check_eq "images ok" "$(py "s['images']['ok']")" "$(sqlite3 "$MMDB_DB" "SELECT count(*) FROM images WHERE status = 'ok'")"
check_eq "class names" "$(py "s['label_names']['6way']['1'], s['label_names']['3way']['2'], s['label_names']['2way']['0']")" \
	"satire/parody fake with false text fake"

check "table output" "$MMDB" stats
check_match "class names in the table" "$(cat "$T/.out")" "6way +4 +manipulated content +0 +2995 +2968"
check_match "errors by reason" "$(cat "$T/.out")" "label out of range +1"
check "csv output" "$MMDB" stats --format csv
check_match "csv rows" "$(tr -d '\r' < "$T/.out")" "labels,test,6way,3,imposter content,189"
check_status "unknown format" 2 "$MMDB" stats --format xml
check "--dataset filter" "$MMDB" stats --dataset nothing --format json
check_match "other dataset is empty" "$(cat "$T/.out")" '"posts": 0, "ingest_errors"'

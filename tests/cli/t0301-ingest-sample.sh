#!/bin/sh
# ingest of the real Fakeddit sample files: exact record and label counts,
# images rows, the ingests record, idempotent re-ingest, split handling.
. "$(dirname "$0")/lib.sh"

VAL="$SAMPLE/multimodal_validate.tsv"
TEST="$SAMPLE/multimodal_test_public.tsv"
if [ ! -f "$VAL" ] || [ ! -f "$TEST" ]; then
	skip "no sample files in $SAMPLE"
	exit 0
fi
# Queries through the sqlite3 shell: quicker than starting mmdb each time.
q() { sqlite3 "$MMDB_DB" "$1"; }

check "ingest validate and test" "$MMDB" ingest "$VAL" "$TEST"
check_match "summary line names the file and counts" "$(cat "$T/.out")" "multimodal_validate.tsv: 9996 ok, 0 bad"
check_eq "validate records" "$(q "SELECT count(*) FROM posts WHERE split = 'validate'")" 9996
check_eq "test records" "$(q "SELECT count(*) FROM posts WHERE split = 'test'")" 9998
six() { q "SELECT label_6way || ':' || count(*) FROM posts WHERE split = '$1' GROUP BY label_6way ORDER BY label_6way" | tr '\n' ' '; }
check_eq "validate 6-way counts (sample README)" "$(six validate)" "0:3955 1:592 2:1874 3:214 4:2995 5:366 "
check_eq "test 6-way counts (sample README)" "$(six test)" "0:3963 1:598 2:1878 3:189 4:2968 5:402 "
check_eq "2-way is 1 exactly for 6-way true" \
	"$(q "SELECT count(*) FROM posts WHERE (label_2way = 1) != (label_6way = 0)")" 0

# Typed columns: 2.0-style integers, timestamps, True/False, NULL for empty.
check_eq "first validate post typed" \
	"$(q "SELECT author || '|' || created_utc || '|' || typeof(created_utc) || '|' || has_image || '|' || num_comments || '|' || typeof(num_comments) || '|' || score || '|' || upvote_ratio || '|' || line FROM posts WHERE id = 'cypw96'")" \
	"singingdart7854|1567435668|integer|1|4|integer|25|0.72|2"
check_eq "empty linked_submission_id is NULL" "$(q "SELECT count(*) FROM posts WHERE linked_submission_id = ''")" 0
check_eq "empty author is NULL, not ''" "$(q "SELECT count(*) FROM posts WHERE author = ''")" 0
# A title holding a newline (the record spans two physical lines).
check_eq "titles with a newline kept (validate has 2, test 1)" \
	"$(q "SELECT count(*) FROM posts WHERE instr(title, char(10)) > 0")" 3
check_eq "doubled quotes unquoted" \
	"$(q "SELECT title = 'This \"Back Rub Foot Rub Facial\" spot in my neighborhood was shut down due to prostitution. Always knew something shady was up...' FROM posts WHERE id = 'b7d2im'")" 1

# Images: a pending row per post with an image URL.
check_eq "images rows = posts with a URL" \
	"$(q "SELECT (SELECT count(*) FROM images) = (SELECT count(*) FROM posts WHERE image_url IS NOT NULL)")" 1
check_eq "all images pending with the URL" \
	"$(q "SELECT count(*) FROM images i JOIN posts p ON p.id = i.post_id WHERE i.status = 'pending' AND i.url = p.image_url")" \
	"$(q "SELECT count(*) FROM images")"

# The ingests record: path, size, sha256, counts, version.
want_sha=$(sha256sum "$VAL" | cut -d' ' -f1)
check_eq "ingest record" \
	"$(q "SELECT status || ' ' || size || ' ' || sha256 || ' ' || records_ok || ' ' || records_bad || ' ' || split || ' ' || (seconds > 0) || ' ' || mmdb_version FROM ingests WHERE path = '$VAL'")" \
	"completed $(wc -c < "$VAL" | tr -d ' ') $want_sha 9996 0 validate 1 $("$MMDB" --version | cut -d' ' -f2)"
check_eq "dataset defaults to fakeddit" "$(q "SELECT group_concat(DISTINCT d.name) FROM posts p JOIN datasets d ON d.id = p.dataset_id")" "fakeddit"

# Re-ingest: nothing changes, everything counted unchanged.
before=$(q "SELECT count(*) || ' ' || (SELECT count(*) FROM images) FROM posts")
check "re-ingest" "$MMDB" ingest "$VAL"
check_match "re-ingest counts unchanged" "$(cat "$T/.out")" "0 ok, 0 bad, 9996 unchanged, 0 updated"
check_eq "no new rows" "$(q "SELECT count(*) || ' ' || (SELECT count(*) FROM images) FROM posts")" "$before"
check_eq "second ingest recorded" "$(q "SELECT records_unchanged FROM ingests ORDER BY id DESC LIMIT 1")" 9996

# Split: from the name, --split overrides, unknown names are a usage error.
cp "$VAL" "$T/posts.tsv"
check_status "a name without a split is a usage error" 2 "$MMDB" ingest "$T/posts.tsv"
check_match "saying to use --split" "$(cat "$T/.err")" "posts.tsv.*--split"
check_status "--split must be a known split" 2 "$MMDB" ingest --split dev "$T/posts.tsv"
check_status "-h works" 0 "$MMDB" ingest -h
check_status "no file is a usage error" 2 "$MMDB" ingest
check_status "a missing file fails" 1 "$MMDB" ingest "$T/multimodal_train.tsv"
check_match "naming it" "$(cat "$T/.err")" "multimodal_train.tsv"

# --split train on a copy: the same ids in another split are duplicates.
check "--split train ingests" "$MMDB" ingest --split train "$T/posts.tsv"
check_match "same ids, other split: bad records" "$(cat "$T/.out")" "0 ok, 9996 bad"
check_eq "reported as duplicates differing in split" \
	"$(q "SELECT count(*) FROM ingest_errors WHERE reason = 'duplicate id with different content' AND column = 'split'")" 9996
check_eq "posts unchanged" "$(q "SELECT count(*) FROM posts WHERE split = 'train'")" 0

# Another dataset in a fresh database.
rm -f "$MMDB_DB"*
check "--dataset NAME" "$MMDB" ingest --dataset mini --split train "$T/posts.tsv"
check_eq "posts belong to it" "$(q "SELECT count(*) FROM posts p JOIN datasets d ON d.id = p.dataset_id WHERE d.name = 'mini' AND p.split = 'train'")" 9996

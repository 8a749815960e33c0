#!/bin/sh
# ingest reads compressed files and archives (gz, bz2, xz, zst, zip,
# tar.gz), the all_*.tsv layout with extra index columns, the 13-column
# variant without title and 2-/3-way labels, CRLF files and comments.
. "$(dirname "$0")/lib.sh"

TEST="$SAMPLE/multimodal_test_public.tsv"
VAL="$SAMPLE/multimodal_validate.tsv"
if [ ! -f "$TEST" ] || [ ! -f "$VAL" ]; then
	skip "no sample files in $SAMPLE"
	exit 0
fi
q() { sqlite3 "$MMDB_DB" "$1"; }
fresh() { rm -f "$MMDB_DB" "$MMDB_DB-wal" "$MMDB_DB-shm"; }

mkdir "$T/in"
cp "$TEST" "$VAL" "$T/in/"
gzip -c "$TEST" > "$T/multimodal_test_public.tsv.gz"
bzip2 -c "$TEST" > "$T/multimodal_test_public.tsv.bz2"
xz -c "$TEST" > "$T/multimodal_test_public.tsv.xz"
zstd -q -c "$TEST" > "$T/multimodal_test_public.tsv.zst"
(cd "$T/in" && zip -q "$T/test.zip" multimodal_test_public.tsv && tar czf "$T/both.tar.gz" .)

for ext in gz bz2 xz zst; do
	fresh
	check "$ext: ingests" "$MMDB" ingest "$T/multimodal_test_public.tsv.$ext"
	check_eq "$ext: all 9998 records" "$(q "SELECT count(*) FROM posts WHERE split = 'test'")" 9998
	check_eq "$ext: sha256 of the file on disk" "$(q "SELECT sha256 || ' ' || size FROM ingests")" \
		"$(sha256sum "$T/multimodal_test_public.tsv.$ext" | cut -d' ' -f1) $(wc -c < "$T/multimodal_test_public.tsv.$ext" | tr -d ' ')"
done
fresh
check "zip: ingests (split from the entry name)" "$MMDB" ingest "$T/test.zip"
check_eq "zip: all records" "$(q "SELECT count(*) FROM posts WHERE split = 'test'")" 9998
check_eq "zip: ingest path names the entry" "$(q "SELECT path FROM ingests")" "$T/test.zip:multimodal_test_public.tsv"
fresh
check "tar.gz of two files" "$MMDB" ingest "$T/both.tar.gz"
check_eq "tar.gz: both splits" "$(q "SELECT group_concat(split || ':' || n, ' ') FROM (SELECT split, count(*) n FROM posts GROUP BY split ORDER BY split)")" "test:9998 validate:9996"
check_eq "tar.gz: an ingest row per entry, one sha256" "$(q "SELECT count(*) || ' ' || count(DISTINCT sha256) FROM ingests WHERE status = 'completed'")" "2 1"
check "tar.gz again" "$MMDB" ingest "$T/both.tar.gz"
check_eq "idempotent" "$(q "SELECT count(*) FROM posts")" 19994

# all_*.tsv: extra leading index columns; a 13-column variant; CRLF.
python3 - "$VAL" "$T" <<'PY'
import csv, sys
csv.field_size_limit(10**9)
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8', newline=''), delimiter='\t'))
out = sys.argv[2]
def write(name, rows, crlf=False):
    with open(out + '/' + name, 'w', encoding='utf-8', newline='') as f:
        csv.writer(f, delimiter='\t', lineterminator='\r\n' if crlf else '\n').writerows(rows)
write('all_validate.tsv', [['', 'Unnamed: 0'] + rows[0]] + [[str(i), str(i)] + r for i, r in enumerate(rows[1:])])
drop = [rows[0].index(c) for c in ('title', '2_way_label', '3_way_label')]
write('reduced_validate.tsv', [[v for j, v in enumerate(r) if j not in drop] for r in rows])
write('crlf_validate.tsv', rows, crlf=True)
PY
fresh
check "all_validate.tsv" "$MMDB" ingest "$T/all_validate.tsv"
check_eq "all_*: records and columns by name" "$(q "SELECT count(*) || ' ' || sum(title IS NOT NULL) || ' ' || sum(label_6way = 4) FROM posts")" "9996 9996 2995"
fresh
check "13-column variant" "$MMDB" ingest "$T/reduced_validate.tsv"
check_eq "missing columns are NULL, not 0" \
	"$(q "SELECT count(*) || ' ' || count(title) || ' ' || count(label_2way) || ' ' || count(label_3way) || ' ' || count(label_6way) FROM posts")" \
	"9996 0 0 0 9996"
check_match "stats counts them under null" "$("$MMDB" stats --format json)" '"2way": \{"0": 0, "1": 0, "null": 9996\}'
fresh
check "CRLF file" "$MMDB" ingest "$T/crlf_validate.tsv"
check_eq "CRLF: records, no CR left in values" "$(q "SELECT count(*) || ' ' || sum(instr(coalesce(author,'') || coalesce(title,''), char(13)) > 0) FROM posts")" "9996 0"
check_eq "CRLF: titles with a newline kept" "$(q "SELECT count(*) FROM posts WHERE instr(title, char(10)) > 0")" 2

# Comments, by header name, linked to posts by submission_id.
printf '\tid\tauthor\tbody\tisTopLevel\tparent_id\tsubmission_id\tups\n0\tc1\tann\t"first, with\ta tab"\tTrue\tt3_cypw96\tcypw96\t5.0\n1\tc2\t\tsecond\tFalse\tt1_c1\tcypw96\t-2\n' > "$T/all_comments.tsv"
check "comments ingest" "$MMDB" ingest "$T/all_comments.tsv"
check_eq "comments typed" "$(q "SELECT group_concat(id || '|' || coalesce(author, 'NULL') || '|' || is_top_level || '|' || ups, ' ') FROM (SELECT * FROM comments ORDER BY id)")" "c1|ann|1|5 c2|NULL|0|-2"
check_eq "linked to posts" "$(q "SELECT count(*) FROM comments c JOIN posts p ON p.id = c.submission_id")" 2
check_eq "recorded as a comments ingest" "$(q "SELECT kind || ' ' || coalesce(split, 'NULL') FROM ingests ORDER BY id DESC LIMIT 1")" "comments NULL"

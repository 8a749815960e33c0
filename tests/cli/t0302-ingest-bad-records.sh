#!/bin/sh
# Bad input: corrupted copies of the real validate file (label 9, a deleted
# tab, a duplicate id with another title, a file cut mid-quote) give error
# rows and keep every good record; --strict writes nothing; --update;
# files that are no TSV at all get a one-line error naming them.
. "$(dirname "$0")/lib.sh"

VAL="$SAMPLE/multimodal_validate.tsv"
if [ ! -f "$VAL" ]; then
	skip "no sample files in $SAMPLE"
	exit 0
fi
q() { sqlite3 "$MMDB_DB" "$1"; }

# Physical lines: 1 header, 2.. records (no record of the first 20 spans lines).
python3 - "$VAL" "$T" <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
lines = open(src, encoding='utf-8', newline='').read().split('\n')
f = lines[2].split('\t'); f[15] = '9'; lines[2] = '\t'.join(f)          # line 3: label 9
lines[4] = lines[4].replace('\t', '', 1)                               # line 5: a tab deleted
f = lines[6].split('\t'); f[11] = 'Another title'                       # line 7's id again,
assert lines[-1] == ''
lines.insert(len(lines) - 1, '\t'.join(f))                             # at the end, new title
open(out + '/corrupt_validate.tsv', 'w', encoding='utf-8', newline='').write('\n'.join(lines))
# The ids of the two bad records and of the duplicate.
open(out + '/ids', 'w').write(' '.join(l.split('\t')[5] for l in (lines[2], lines[6])) + '\n')
# Cut inside a quoted title: the first quoted field after line 100.
data = open(src, encoding='utf-8', newline='').read()
nl = [i for i, c in enumerate(data) if c == '\n']
start = nl[99] + 1
q = data.index('\t"', start)
line = data.count('\n', 0, q) + 1
open(out + '/cut_validate.tsv', 'w', encoding='utf-8', newline='').write(data[:q + 12])
open(out + '/cutline', 'w').write('%d\n' % line)
PY
set -- $(cat "$T/ids"); bad_id=$1 dup_id=$2
cutline=$(cat "$T/cutline")

check "corrupt copy ingests" "$MMDB" ingest "$T/corrupt_validate.tsv"
check_match "summary counts the bad records" "$(cat "$T/.out")" "9994 ok, 3 bad"
check_eq "every good record is in" "$(q "SELECT count(*) FROM posts")" 9994
check_eq "the label-9 record is not" "$(q "SELECT count(*) FROM posts WHERE id = '$bad_id'")" 0
check_eq "the duplicate kept the first title" "$(q "SELECT title != 'Another title' FROM posts WHERE id = '$dup_id'")" 1
check_eq "error rows: line, column, reason" \
	"$(q "SELECT line || '|' || coalesce(column, '') || '|' || reason FROM ingest_errors ORDER BY line" | tr '\n' ';')" \
	"3|6_way_label|label out of range;5||wrong number of fields;10001|title|duplicate id with different content;"
check_eq "details say what was wrong" \
	"$(q "SELECT detail FROM ingest_errors ORDER BY line" | tr '\n' ';')" \
	"9 not in 0..5;expected 16 fields, found 15;id '$dup_id' stored by ingest 1 (line 7) differs in title;"
check_eq "error rows name the file and keep the record" \
	"$(q "SELECT count(*) FROM ingest_errors WHERE file = '$T/corrupt_validate.tsv' AND length(record) > 100")" 3
check_eq "ingest counts recorded" "$(q "SELECT records_ok || ' ' || records_bad FROM ingests")" "9994 3"

# A file cut in the middle of a quoted title.
check "cut file ingests" "$MMDB" ingest "$T/cut_validate.tsv"
check_eq "its last record is an unterminated quote" \
	"$(q "SELECT line || '|' || reason FROM ingest_errors WHERE file LIKE '%cut_validate.tsv'")" \
	"$cutline|unterminated quoted field at end of file"
# Lines 3 and 5 were bad in the corrupt copy: here they are new.
check_match "the records before it are there" "$(cat "$T/.out")" "2 ok, 1 bad, $((cutline - 2 - 2)) unchanged"

# --strict: any bad record fails everything, nothing is written.
rm -f "$MMDB_DB"*
check_status "--strict fails on a bad record" 1 "$MMDB" ingest --strict "$T/corrupt_validate.tsv"
check_match "one line naming file, line, column and reason" "$(cat "$T/.err")" \
	"corrupt_validate.tsv' line 3, column '6_way_label': label out of range: 9 not in 0..5"
check_eq "a one-line message" "$(wc -l < "$T/.err" | tr -d ' ')" 1
check_eq "nothing was written" "$(q "SELECT (SELECT count(*) FROM posts) + (SELECT count(*) FROM ingests) + (SELECT count(*) FROM ingest_errors) + (SELECT count(*) FROM images)")" 0
check "--strict on a good file" "$MMDB" ingest --strict "$VAL"
check_eq "writes it all" "$(q "SELECT count(*) FROM posts")" 9996

# An edited file: changed content under the same id.
python3 - "$VAL" "$T/edited_validate.tsv" <<'PY'
import sys
lines = open(sys.argv[1], encoding='utf-8', newline='').read().split('\n')
f = lines[1].split('\t'); f[11] = 'An edited title'; lines[1] = '\t'.join(f)
f = lines[2].split('\t'); f[6] = 'https://example.com/new.jpg'; lines[2] = '\t'.join(f)
open(sys.argv[2], 'w', encoding='utf-8', newline='').write('\n'.join(lines))
PY
check "edited file without --update" "$MMDB" ingest "$T/edited_validate.tsv"
check_match "changed rows are bad records" "$(cat "$T/.out")" "0 ok, 2 bad, 9994 unchanged, 0 updated"
check_eq "stored title kept" "$(q "SELECT title FROM posts WHERE id = 'cypw96'")" "My Xbox controller says hi"
check "edited file with --update" "$MMDB" ingest --update "$T/edited_validate.tsv"
check_match "changed rows are updated" "$(cat "$T/.out")" "0 ok, 0 bad, 9994 unchanged, 2 updated"
check_eq "title updated" "$(q "SELECT title FROM posts WHERE id = 'cypw96'")" "An edited title"
check_eq "image URL updated" "$(q "SELECT i.url || ' ' || i.status FROM images i JOIN posts p ON p.id = i.post_id WHERE p.line = 3")" "https://example.com/new.jpg pending"

# Not a TSV: one line naming the file, exit 1, nothing written.
rm -f "$MMDB_DB"*
img=$(ls "$SAMPLE"/images/*.jpg | head -1)
cp "$img" "$T/binary_train.tsv"
: > "$T/empty_train.tsv"
head -1 "$VAL" > "$T/header_train.tsv"
printf 'name\tvalue\nx\t1\n' > "$T/other_train.tsv"
printf 'id\ttitle\nx\tsome title\n' > "$T/nolabel_train.tsv"
for f in binary empty header other nolabel; do
	check_status "$f: fails" 1 "$MMDB" ingest "$T/${f}_train.tsv"
	check_eq "$f: one line" "$(wc -l < "$T/.err" | tr -d ' ')" 1
	check_match "$f: names the file" "$(cat "$T/.err")" "${f}_train.tsv"
done
check_match "binary says so" "$("$MMDB" ingest "$T/binary_train.tsv" 2>&1)" "binary data, not a TSV"
check_match "empty says so" "$("$MMDB" ingest "$T/empty_train.tsv" 2>&1)" "empty file"
check_match "header only says so" "$("$MMDB" ingest "$T/header_train.tsv" 2>&1)" "a header but no records"
check_match "wrong header says so" "$("$MMDB" ingest "$T/other_train.tsv" 2>&1)" "no 'id' column"
check_match "no label column says so" "$("$MMDB" ingest "$T/nolabel_train.tsv" 2>&1)" "no label column"
check_eq "nothing was written" "$(q "SELECT (SELECT count(*) FROM posts) + (SELECT count(*) FROM ingests)")" 0

#!/bin/sh
# Posts are written many to a statement; records whose id is already stored
# (from an earlier ingest, or earlier in the same file) are found among the
# ones written beside them and counted one by one, as if each were written
# alone: unchanged, updated (--update), or a bad record on the right line.
. "$(dirname "$0")/lib.sh"

VAL="$SAMPLE/multimodal_validate.tsv"
if [ ! -f "$VAL" ]; then
	skip "no sample files in $SAMPLE"
	exit 0
fi
q() { sqlite3 -batch "$MMDB_DB" "$1"; }

# every7: every 7th record; dups: 300 records where record 100 comes again
# right after itself (same content) and record 200 again with another
# title, plus record 250 again 40 records later; changed: every 5th record
# with another score. The file line of each record is printed for the checks.
python3 - "$VAL" "$T" <<'PY'
import csv, sys
csv.field_size_limit(10**9)
with open(sys.argv[1], encoding='utf-8', newline='') as f:
    r = csv.reader(f, delimiter='\t')
    header = next(r)
    rows = list(r)
t = sys.argv[2]
def write(name, recs):
    with open(f'{t}/{name}', 'w', encoding='utf-8', newline='') as f:
        w = csv.writer(f, delimiter='\t', lineterminator='\n')
        w.writerow(header)
        for x in recs:
            w.writerow(x)
write('every7_validate.tsv', rows[::7])
ti = header.index('title')
sc = header.index('score')
recs = rows[:300]
recs = recs[:101] + [recs[100]] + recs[101:]            # 100 twice, alike
recs = recs[:202] + [recs[201][:ti] + [recs[201][ti] + ' (edited)'] + recs[201][ti + 1:]] + recs[202:]
recs = recs[:292] + [recs[251]] + recs[292:]            # 250 again, 40 later
write('dups_validate.tsv', recs)
# the file line where each record of dups starts (a record may span lines)
import io
out, line = [], 2
for x in recs:
    buf = io.StringIO()
    csv.writer(buf, delimiter='\t', lineterminator='\n').writerow(x)
    out.append(line)
    line += buf.getvalue().count('\n')
with open(f'{t}/dups.lines', 'w') as f:
    f.write(f'{out[101]} {out[202]} {out[292]}\n')
changed = [x[:sc] + [str(int(float(x[sc] or 0)) + 1000)] + x[sc + 1:] if i % 5 == 0 else x
           for i, x in enumerate(rows)]
write('changed_validate.tsv', changed)
PY
set -- $(python3 -c "print(len(range(0, 9996, 7)), len(range(0, 9996, 5)))")
n7=$1 n5=$2

"$MMDB" -q init >/dev/null
check "every 7th record" "$MMDB" -q ingest --batch 333 "$T/every7_validate.tsv"
check_eq "all of them new" "$(q "SELECT records_ok || '/' || records_unchanged FROM ingests WHERE id = 1")" "$n7/0"
check "then the whole file" "$MMDB" -q ingest --batch 333 "$VAL"
check_eq "the rest new, the stored ones unchanged" \
	"$(q "SELECT records_ok || '/' || records_unchanged || '/' || records_bad FROM ingests WHERE id = 2")" \
	"$((9996 - n7))/$n7/0"
check_eq "every post once" "$(q "SELECT count(*) || ' ' || count(DISTINCT id) FROM posts")" "9996 9996"
check_eq "the new ones belong to the second ingest, with their own lines" \
	"$(q "SELECT count(*) FROM posts WHERE ingest_id = 2")" "$((9996 - n7))"
check_eq "the stored ones still belong to the first" "$(q "SELECT count(*) FROM posts WHERE ingest_id = 1")" "$n7"
check_eq "an images row for every post with a URL" \
	"$(q "SELECT count(*) FROM posts p WHERE image_url IS NOT NULL AND NOT EXISTS (SELECT 1 FROM images i WHERE i.post_id = p.id)")" 0

check "a file repeating records" "$MMDB" -q ingest --split train "$T/dups_validate.tsv"
check_eq "repeats: 0 new, the alike repeat unchanged, the edited one bad" \
	"$(q "SELECT records_ok || '/' || records_unchanged || '/' || records_bad FROM ingests WHERE id = 3")" "0/0/303"
# Each of its 303 records is stored with split validate: all are bad (split differs)
check_eq "every record of it differs in split from the stored post" \
	"$(q "SELECT count(*) FROM ingest_errors WHERE ingest_id = 3 AND column = 'split'")" 303
check_eq "errors in file order" \
	"$(q "SELECT count(*) FROM ingest_errors a JOIN ingest_errors b ON b.id = a.id + 1 WHERE a.ingest_id = 3 AND b.ingest_id = 3 AND b.line <= a.line")" 0

# In a fresh database, the repeats within one file.
rm -f "$MMDB_DB" "$MMDB_DB-wal" "$MMDB_DB-shm"
"$MMDB" -q init >/dev/null
set -- $(cat "$T/dups.lines")
check "repeats in a fresh database" "$MMDB" -q ingest "$T/dups_validate.tsv"
check_eq "300 new, 2 unchanged repeats, 1 bad" \
	"$(q "SELECT records_ok || '/' || records_unchanged || '/' || records_bad FROM ingests")" "300/2/1"
check_eq "the bad one: the edited title, on its line" \
	"$(q "SELECT line || ' ' || column || ' ' || reason FROM ingest_errors")" \
	"$2 title duplicate id with different content"
check_eq "the stored post is the first of the two" \
	"$(q "SELECT count(*) FROM posts WHERE title LIKE '% (edited)'")" 0
check_eq "repeats kept the line of their first record" \
	"$(q "SELECT count(*) FROM posts WHERE line IN ($1, $3)")" 0

# --update: every 5th record changed, the others unchanged.
check "the whole file" "$MMDB" -q ingest "$VAL"
check "changed records with --update" "$MMDB" -q ingest --update "$T/changed_validate.tsv"
check_eq "updated every 5th, the rest unchanged" \
	"$(q "SELECT records_ok || '/' || records_updated || '/' || records_unchanged || '/' || records_bad FROM ingests WHERE id = 3")" \
	"0/$n5/$((9996 - n5))/0"
check_eq "they now belong to the updating ingest" "$(q "SELECT count(*) FROM posts WHERE ingest_id = 3")" "$n5"
check_eq "with their new score" "$(q "SELECT score FROM posts WHERE line = 2")" \
	"$(python3 -c "
import csv
csv.field_size_limit(10**9)
r = csv.reader(open('$VAL', encoding='utf-8', newline=''), delimiter='\t')
h = next(r); x = next(r)
print(int(float(x[h.index('score')] or 0)) + 1000)")"

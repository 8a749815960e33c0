#!/bin/sh
# kill -9 in the middle of an ingest, then the same ingest again: it
# completes, with no record lost or duplicated, and the killed one is
# marked failed.
. "$(dirname "$0")/lib.sh"

VAL="$SAMPLE/multimodal_validate.tsv"
if [ ! -f "$VAL" ]; then
	skip "no sample files in $SAMPLE"
	exit 0
fi
q() { sqlite3 "$MMDB_DB" "$1"; }

# 80,000 real records with fresh ids (quoted titles and all).
N=80000
python3 - "$VAL" "$T/multimodal_train.tsv" $N <<'PY'
import csv, sys
csv.field_size_limit(10**9)
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8', newline=''), delimiter='\t'))
header, rows, n = rows[0], rows[1:], int(sys.argv[3])
idc = header.index('id')
with open(sys.argv[2], 'w', encoding='utf-8', newline='') as f:
    w = csv.writer(f, delimiter='\t', lineterminator='\n')
    w.writerow(header)
    for i in range(n):
        r = list(rows[i % len(rows)])
        r[idc] = '%s%x' % (r[idc], i // len(rows))
        w.writerow(r)
PY
"$MMDB" init >/dev/null
"$MMDB" -q ingest --batch 500 "$T/multimodal_train.tsv" >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(q "SELECT count(*) FROM posts" 2>/dev/null || echo 0)" -lt 1000 ] && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
if kill -9 $pid 2>/dev/null; then ok "killed while ingesting"; else fail "ingest ended before it could be killed"; fi
wait $pid 2>/dev/null
got=$(q "SELECT count(*) FROM posts")
if [ "$got" -gt 0 ] && [ "$got" -lt $N ]; then ok "part of it was committed ($got)"; else fail "part committed (got $got of $N)"; fi
check_eq "committed posts have their images rows" "$(q "SELECT count(*) FROM posts p WHERE image_url IS NOT NULL AND NOT EXISTS (SELECT 1 FROM images i WHERE i.post_id = p.id)")" 0
check_eq "the killed ingest is still marked running" "$(q "SELECT status FROM ingests")" "running"

check "the same ingest again" "$MMDB" ingest "$T/multimodal_train.tsv"
check_eq "every record, once" "$(q "SELECT count(*) || ' ' || count(DISTINCT id) FROM posts")" "$N $N"
check_eq "ok + unchanged = all" "$(q "SELECT (records_ok + records_unchanged) || ' ' || (records_unchanged = $got) FROM ingests WHERE id = 2")" "$N 1"
check_eq "images rows complete" "$(q "SELECT count(*) FROM images")" "$(q "SELECT count(*) FROM posts WHERE image_url IS NOT NULL")"
check_eq "killed ingest marked failed, the new one completed" "$(q "SELECT group_concat(status, ' ') FROM (SELECT status FROM ingests ORDER BY id)")" "failed completed"
check_eq "6-way counts as in the source" \
	"$(q "SELECT group_concat(n, ' ') FROM (SELECT count(*) n FROM posts GROUP BY label_6way ORDER BY label_6way)")" \
	"$(python3 -c "
import csv, sys, collections
csv.field_size_limit(10**9)
r = list(csv.reader(open('$T/multimodal_train.tsv', encoding='utf-8', newline=''), delimiter='\t'))[1:]
c = collections.Counter(x[15] for x in r)
print(' '.join(str(c[k]) for k in sorted(c)))")"

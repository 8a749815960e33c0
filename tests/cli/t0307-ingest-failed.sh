#!/bin/sh
# An ingest that fails with an error (here: a .gz cut short, so reading fails
# half-way) marks its ingests row failed at once, with the reason and the
# records committed so far, instead of leaving it 'running' until the next
# ingest; what it committed stays, and the same ingest of the whole file
# then completes. A killed ingest is marked failed by the next one, saying so.
. "$(dirname "$0")/lib.sh"

VAL="$SAMPLE/multimodal_validate.tsv"
if [ ! -f "$VAL" ]; then
	skip "no sample files in $SAMPLE"
	exit 0
fi
q() { sqlite3 -batch "$MMDB_DB" "$1"; }

"$MMDB" -q init >/dev/null
mkdir "$T/cut" "$T/whole"
gzip -c "$VAL" > "$T/whole/multimodal_validate.tsv.gz"
size=$(wc -c < "$T/whole/multimodal_validate.tsv.gz" | tr -d ' ')
head -c $((size * 2 / 3)) "$T/whole/multimodal_validate.tsv.gz" > "$T/cut/multimodal_validate.tsv.gz"

"$MMDB" -q ingest --batch 500 "$T/cut/multimodal_validate.tsv.gz" >"$T/out" 2>"$T/err"
check_eq "a .gz cut short: ingest exits 1" "$?" 1
check_match "one error line naming the file" "$(cat "$T/err")" "^mmdb: cannot read '.*cut/multimodal_validate.tsv.gz'"
check_eq "its row is failed, not running" "$(q "SELECT status FROM ingests")" failed
check_eq "the reason is the error" "mmdb: $(q "SELECT reason FROM ingests")" "$(head -n 1 "$T/err")"
check_eq "with a finish time" "$(q "SELECT finished_at IS NOT NULL FROM ingests")" 1
n=$(q "SELECT count(*) FROM posts")
if [ "$n" -gt 0 ] && [ "$n" -lt 9996 ]; then ok "the batches read before the error are kept ($n)"
else fail "the batches read before the error are kept (got $n)"; fi
check_eq "records_ok counts them" "$(q "SELECT records_ok FROM ingests")" "$n"
check_eq "their images rows too" \
	"$(q "SELECT count(*) FROM posts p WHERE image_url IS NOT NULL AND NOT EXISTS (SELECT 1 FROM images i WHERE i.post_id = p.id)")" 0
check_eq "no ingest left running" "$(q "SELECT count(*) FROM ingests WHERE status = 'running'")" 0

check_status "the whole file then" 0 "$MMDB" -q ingest "$T/whole/multimodal_validate.tsv.gz"
check_eq "every record, once" "$(q "SELECT count(*) || ' ' || count(DISTINCT id) FROM posts")" "9996 9996"
check_eq "the failed row stays failed with its reason; the new one completed" \
	"$(q "SELECT group_concat(status || ':' || (reason IS NOT NULL), ' ') FROM (SELECT * FROM ingests ORDER BY id)")" \
	"failed:1 completed:0"

# --strict: the failed ingest leaves nothing, not even its row
check_status "--strict, cut short: exits 1" 1 "$MMDB" -q ingest --strict --split test "$T/cut/multimodal_validate.tsv.gz"
check_eq "--strict: no row for it" "$(q "SELECT count(*) FROM ingests")" 2

# A file that fails in its header has no row at all (nothing was started).
printf 'not\ta\tfakeddit\theader\n1\t2\t3\t4\n' > "$T/multimodal_test_public.tsv"
check_status "a wrong header exits 1" 1 "$MMDB" -q ingest "$T/multimodal_test_public.tsv"
check_eq "and leaves no row" "$(q "SELECT count(*) FROM ingests")" 2

# A killed ingest: the next one marks it failed, saying it was interrupted.
python3 - "$VAL" "$T/multimodal_train.tsv" <<'PY'
import csv, sys
csv.field_size_limit(10**9)
with open(sys.argv[1], encoding='utf-8', newline='') as f:
    r = csv.reader(f, delimiter='\t')
    header = next(r)
    rows = list(r)
idc = header.index('id')
with open(sys.argv[2], 'w', encoding='utf-8', newline='') as f:
    w = csv.writer(f, delimiter='\t', lineterminator='\n')
    w.writerow(header)
    for k in range(8):
        for row in rows:
            w.writerow(row[:idc] + ['%s_%d' % (row[idc], k)] + row[idc + 1:])
PY
"$MMDB" -q ingest --batch 200 "$T/multimodal_train.tsv" >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(q "SELECT count(*) FROM posts WHERE split = 'train'" 2>/dev/null || echo 0)" -lt 200 ] && [ $i -lt 600 ] &&
	kill -0 $pid 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
st=$(q "SELECT status FROM ingests WHERE id = 3")
echo "# the killed ingest was $st when killed"
check_status "the next ingest" 0 "$MMDB" -q ingest "$T/whole/multimodal_validate.tsv.gz"
case $st in
running)
	check_eq "marks the killed one failed, interrupted" "$(q "SELECT status || ': ' || reason FROM ingests WHERE id = 3")" \
		"failed: interrupted: its process ended before it finished" ;;
*)
	# It finished before the kill landed (a very fast machine): nothing to mark.
	check_eq "the ingest finished before the kill: completed" "$(q "SELECT status FROM ingests WHERE id = 3")" completed ;;
esac
check_eq "no ingest left running" "$(q "SELECT count(*) FROM ingests WHERE status = 'running'")" 0

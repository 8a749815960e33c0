#!/bin/sh
# bench_ingest: mmdb ingest against the sqlite3 shell's .import of the same
# Fakeddit-shaped file (real rows replicated with fresh ids, so quoted
# titles, doubled quotes and multi-line records stay in) into a table of the
# same columns and primary key. Prints both times, the ratio (.import time /
# mmdb time: >= 1.0 means mmdb is at least as fast while it also types,
# validates, indexes and adds images rows) and mmdb's peak RSS.
# RECORDS (default 600000) and RUNS (default 1; the best run counts) tune it.
set -u
top=${MMDB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
MMDB=${MMDB:-$top/mmdb}
SAMPLE=${MMDB_SHARED:-$top/../shared}/fakeddit-sample
RECORDS=${RECORDS:-600000}
RUNS=${RUNS:-1}
if [ ! -f "$SAMPLE/multimodal_validate.tsv" ]; then
	echo "bench_ingest: no sample files in $SAMPLE; skipped"
	exit 0
fi
for tool in sqlite3 python3; do
	command -v $tool >/dev/null || { echo "bench_ingest: needs $tool; skipped"; exit 0; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/mmdb-bench-ingest.XXXXXX")
trap 'rm -rf "$W"' EXIT
TIMEV=
[ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1 && TIMEV=/usr/bin/time

python3 - "$SAMPLE/multimodal_validate.tsv,$SAMPLE/multimodal_test_public.tsv" "$W/multimodal_train.tsv" "$RECORDS" <<'PY'
import csv, sys
csv.field_size_limit(10**9)
rows = []
for path in sys.argv[1].split(','):
    with open(path, encoding='utf-8', newline='') as f:
        r = csv.reader(f, delimiter='\t')
        header = next(r)
        rows.extend(r)
idc = header.index('id')
n = int(sys.argv[3])
with open(sys.argv[2], 'w', encoding='utf-8', newline='') as f:
    w = csv.writer(f, delimiter='\t', lineterminator='\n')
    w.writerow(header)
    for i in range(n):
        r = rows[i % len(rows)]
        r = r[:idc] + ['%s%x' % (r[idc], i // len(rows))] + r[idc + 1:]
        w.writerow(r)
PY
size=$(wc -c < "$W/multimodal_train.tsv" | tr -d ' ')
echo "input: $RECORDS records, $((size / 1000000)) MB ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"

cat > "$W/import.sql" <<SQL
CREATE TABLE posts(author TEXT, clean_title TEXT, created_utc TEXT, domain TEXT, hasImage TEXT,
  id TEXT PRIMARY KEY, image_url TEXT, linked_submission_id TEXT, num_comments TEXT, score TEXT,
  subreddit TEXT, title TEXT, upvote_ratio TEXT, "2_way_label" TEXT, "3_way_label" TEXT,
  "6_way_label" TEXT);
.mode tabs
.import --skip 1 $W/multimodal_train.tsv posts
SQL

# secs CMD...: wall seconds of CMD (and its peak RSS in $W/rss, CPU in $W/cpu).
secs() {
	t0=$(date +%s.%N)
	if [ -n "$TIMEV" ]; then
		$TIMEV -v -o "$W/timev" "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; return 1; }
		sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/timev" > "$W/rss"
		awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f\n", s }' "$W/timev" > "$W/cpu"
	else
		"$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; return 1; }
		echo 0 > "$W/rss"; echo 0 > "$W/cpu"
	fi
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.2f\n", $2 - $1 }'
}
best_import= best_mmdb= rss= cpu_import= cpu_mmdb=
r=0
while [ $r -lt "$RUNS" ]; do
	rm -f "$W/import.db"*
	t=$(secs sqlite3 "$W/import.db" ".read $W/import.sql") || exit 1
	n=$(sqlite3 "$W/import.db" "SELECT count(*) FROM posts")
	[ "$n" = "$RECORDS" ] || { echo "bench_ingest: .import loaded $n records, not $RECORDS"; exit 1; }
	if [ -z "$best_import" ] || awk "BEGIN { exit !($t < $best_import) }"; then best_import=$t; cpu_import=$(cat "$W/cpu"); fi
	rm -f "$W/mmdb.db"*
	"$MMDB" -q --db "$W/mmdb.db" init >/dev/null
	t=$(secs "$MMDB" -q --db "$W/mmdb.db" ingest "$W/multimodal_train.tsv") || exit 1
	n=$(sqlite3 "$W/mmdb.db" "SELECT count(*) FROM posts")
	[ "$n" = "$RECORDS" ] || { echo "bench_ingest: mmdb ingested $n records, not $RECORDS"; exit 1; }
	if [ -z "$best_mmdb" ] || awk "BEGIN { exit !($t < $best_mmdb) }"; then best_mmdb=$t; cpu_mmdb=$(cat "$W/cpu"); rss=$(cat "$W/rss"); fi
	r=$((r + 1))
done
secs "$MMDB" --version >/dev/null
base_rss=$(cat "$W/rss")
echo "sqlite3 .import : ${best_import} s wall, ${cpu_import} s CPU"
echo "mmdb ingest     : ${best_mmdb} s wall, ${cpu_mmdb} s CPU ($(awk "BEGIN { printf \"%.0f\", $RECORDS / $best_mmdb }") records/s)"
echo "ratio (.import / mmdb, >= 1.0 is the target): $(awk "BEGIN { printf \"%.2f\", $best_import / $best_mmdb }")"
echo "mmdb peak RSS: $((rss / 1024)) MB (target < 100 MB); of it $((base_rss / 1024)) MB are the program itself ('mmdb --version')"

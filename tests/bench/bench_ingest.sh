#!/bin/sh
# bench_ingest: mmdb ingest against the sqlite3 shell's .import of the same
# Fakeddit-shaped file (real rows replicated with fresh ids, so quoted
# titles, doubled quotes and multi-line records stay in) into a table of the
# same columns and primary key. Prints both times (wall and CPU), the ratio
# (.import time / mmdb time: >= 1.0 means mmdb is at least as fast while it
# also types, validates, indexes and adds images rows) and mmdb's peak RSS.
# RECORDS (default 600000) and RUNS (default 3) tune it: the two take turns,
# each run into a fresh database, and the medians count (a machine shared
# with other work gives noisy single runs; every run is printed).
set -u
top=${MMDB_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
MMDB=${MMDB:-$top/mmdb}
SAMPLE=${MMDB_SHARED:-$top/../shared}/fakeddit-sample
RECORDS=${RECORDS:-600000}
RUNS=${RUNS:-3}
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

# run CMD...: runs CMD, appending "wall cpu rss_kb" to $W/runs.
run() {
	t0=$(date +%s.%N)
	if [ -n "$TIMEV" ]; then
		$TIMEV -v -o "$W/timev" "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; return 1; }
	else
		"$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; return 1; }
		: > "$W/timev"
	fi
	t1=$(date +%s.%N)
	awk -F': ' -v t0="$t0" -v t1="$t1" '
		/User time|System time/ { cpu += $2 }
		/Maximum resident set size/ { rss = $2 }
		END { printf "%.2f %.2f %d\n", t1 - t0, cpu, rss }' "$W/timev"
}
: > "$W/import.runs"; : > "$W/mmdb.runs"
r=0
while [ $r -lt "$RUNS" ]; do
	rm -f "$W/import.db"*
	run sqlite3 "$W/import.db" ".read $W/import.sql" >> "$W/import.runs" || exit 1
	n=$(sqlite3 "$W/import.db" "SELECT count(*) FROM posts")
	[ "$n" = "$RECORDS" ] || { echo "bench_ingest: .import loaded $n records, not $RECORDS"; exit 1; }
	rm -f "$W/import.db"* "$W/mmdb.db"*
	"$MMDB" -q --db "$W/mmdb.db" init >/dev/null
	run "$MMDB" -q --db "$W/mmdb.db" ingest "$W/multimodal_train.tsv" >> "$W/mmdb.runs" || exit 1
	n=$(sqlite3 "$W/mmdb.db" "SELECT count(*) || ' ' || (SELECT count(*) FROM images) FROM posts")
	[ "${n% *}" = "$RECORDS" ] || { echo "bench_ingest: mmdb ingested ${n% *} records, not $RECORDS"; exit 1; }
	r=$((r + 1))
	echo "run $r: .import $(cut -d' ' -f1,2 < "$W/import.runs" | tail -n 1 | awk '{ print $1 " s wall, " $2 " s CPU" }');" \
	     "mmdb $(tail -n 1 "$W/mmdb.runs" | awk '{ print $1 " s wall, " $2 " s CPU, " int($3 / 1024) " MB" }')"
done
run "$MMDB" --version > "$W/base.runs"

# median FILE FIELD
median() { cut -d' ' -f"$2" < "$1" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
iw=$(median "$W/import.runs" 1) ic=$(median "$W/import.runs" 2)
mw=$(median "$W/mmdb.runs" 1) mc=$(median "$W/mmdb.runs" 2)
rss=$(cut -d' ' -f3 < "$W/mmdb.runs" | sort -n | tail -n 1)
base_rss=$(cut -d' ' -f3 < "$W/base.runs")
echo "sqlite3 .import : ${iw} s wall, ${ic} s CPU (median of $RUNS)"
echo "mmdb ingest     : ${mw} s wall, ${mc} s CPU ($(awk "BEGIN { printf \"%.0f\", $RECORDS / $mw }") records/s; also ${n#* } images rows, typed columns, labels checked)"
echo "ratio (.import / mmdb, >= 1.0 is the target): $(awk "BEGIN { printf \"%.2f\", $iw / $mw }") wall, $(awk "BEGIN { printf \"%.2f\", $ic / $mc }") CPU"
if [ -n "$TIMEV" ]; then
	echo "mmdb peak RSS: $((rss / 1024)) MB (target < 100 MB); of it $((base_rss / 1024)) MB are the program itself ('mmdb --version')"
else
	echo "mmdb peak RSS: not measured (no GNU time)"
fi

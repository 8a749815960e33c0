#!/bin/sh
# A fetch killed with -9 in the middle leaves whole objects only and a
# consistent database; a re-run finishes the job without asking again for
# what is done. SIGINT stops cleanly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imgtest.sh"
start_server
"$MMDB" init >/dev/null

n=0
for f in "$IMAGES"/*.jpg; do
	id=$(basename "$f" .jpg)
	[ "$id" = ct8etz1 ] && continue
	add_post "$id" "$B/slow/$id.jpg"
	n=$((n + 1))
done
flush_posts

"$MMDB" -q images fetch --jobs 3 >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" -lt 6 ] && [ $i -lt $((300 * SLOW)) ]; do
	sleep 0.05; i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null
done1=$(q "SELECT count(*) FROM images WHERE status = 'ok'")
check_match "killed part-way" "$done1" "^([6-9]|[1-4][0-9])$"
check_eq "database intact" "$(q "PRAGMA integrity_check")" "ok"
check_eq "the rest is still pending" "$(q "SELECT count(*) FROM images WHERE status = 'pending'")" "$((n - done1))"
check_eq "every object is whole" "$(bad_objects)" ""
check_eq "every ok row has its object" \
	"$(q "SELECT sha256 FROM images WHERE status = 'ok'" | while read -r s; do [ -f "$MMDB_CACHE/objects/$(echo "$s" | cut -c1-2)/$s" ] || echo "$s"; done)" ""

# The killed process's last requests are still being served (or still in
# the server's accept queue): wait until the server has been quiet for a
# moment before measuring the re-run's concurrency.
last=-1; i=0
while [ $i -lt 40 ]; do
	now=$(curl -s "$B/_log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	[ "$now" = "$last" ] && [ "$(curl -s "$B/_inflight")" = 0 ] && break
	last=$now; i=$((i + 1)); sleep 0.5
done
before=$(curl -s "$B/_log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
q "SELECT post_id FROM images WHERE status = 'ok'" | sort >"$T/ok-before"
curl -s "$B/_max" >/dev/null
check_status "re-run" 0 "$MMDB" -q images fetch --jobs 8 --per-host 2
check_match "--per-host 2 held (most at once on the server)" "$(curl -s "$B/_max")" "^[12]$"
check_eq "every post accounted for" "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" "$n"
check_eq "temporary files cleaned" "$(count_tmp)" "0"
check_eq "objects whole" "$(bad_objects)" ""
check_eq "one object per image" "$(count_objects)" "$n"
# (requests the killed process had queued may reach the server late: compare ids, not counts)
curl -s "$B/_log" | python3 -c "
import json, sys
for p, t, u, r in json.load(sys.stdin)[$before:]:
    if p.startswith('/slow/'):
        print(p.split('/')[2].split('.')[0])" | sort -u >"$T/asked"
check_eq "no finished image fetched again" "$(comm -12 "$T/ok-before" "$T/asked")" ""
check_eq "every unfinished one fetched" "$(comm -23 "$T/asked" "$T/ok-before" | wc -l | tr -d ' ')" "$((n - done1))"

# --jobs holds: at most that many requests at once on the server.
"$MMDB" sql --write "UPDATE images SET status = 'pending', sha256 = NULL" >/dev/null
curl -s "$B/_max" >/dev/null
check_status "fetch --jobs 3 --limit 12" 0 "$MMDB" -q images fetch --jobs 3 --per-host 16 --limit 12
check_match "--jobs 3 held (most at once on the server)" "$(curl -s "$B/_max")" "^[1-3]$"
check_eq "twelve fetched" "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" "12"

# SIGINT: stops, records what finished, no temporary files, exit 130.
"$MMDB" sql --write "UPDATE images SET status = 'pending', sha256 = NULL" >/dev/null
rm -rf "$MMDB_CACHE"
"$MMDB" -q images fetch --jobs 3 >/dev/null 2>"$T/int.err" &
pid=$!
i=0
while [ "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" -lt 3 ] && [ $i -lt $((300 * SLOW)) ]; do
	sleep 0.05; i=$((i + 1))
done
kill -INT $pid
wait $pid
check_eq "SIGINT exits 130" "$?" "130"
check_eq "no temporary files after SIGINT" "$(count_tmp)" "0"
check_eq "objects whole after SIGINT" "$(bad_objects)" ""
check_eq "ok rows match objects" "$(q "SELECT count(DISTINCT sha256) FROM images WHERE status = 'ok'")" "$(count_objects)"
check_match "not everything was done" "$(q "SELECT count(*) FROM images WHERE status = 'pending'")" "^[1-9]"

#!/bin/sh
# kill -9 at random moments during images fetch, 20 times (a seeded RNG
# picks a fraction of the stage's duration; the seed is printed for a
# replay). After each kill: the database intact, every object in the cache
# whole (its name is the hash of its bytes), every image either ok with its
# object in the cache or still pending (not fetched). When a fetch gets
# everything, the images are reset and the cache emptied, so every kill
# lands on real work. At the end a fetch completes the job.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imgtest.sh"
. "$(dirname "$0")/faults.sh"
q() { sqlite3 -batch "$MMDB_DB" ".timeout 30000" "$1"; }
KILLS=20

start_server
"$MMDB" init >/dev/null
n=0
for f in "$IMAGES"/*.jpg; do
	id=$(basename "$f" .jpg)
	[ "$id" = ct8etz1 ] && continue # (the placeholder: never an object)
	add_post "$id" "$B/slow/$id.jpg"
	n=$((n + 1))
	[ $n = 30 ] && break
done
flush_posts
# The stage's duration: the whole fetch on a copy.
cp "$MMDB_DB" "$T/scratch.db"
t0=$(date +%s.%N)
MMDB_DB="$T/scratch.db" MMDB_CACHE="$T/scratch" "$MMDB" -q images fetch --jobs 8 >/dev/null
D=$(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.3f\n", $2 - $1 }')
echo "# one fetch takes ${D}s"
rand_init "$(date +%s)"

bad="" landed=0 resets=0
i=0
while [ $i -lt $KILLS ]; do
	if [ "$(q "SELECT count(*) FROM images WHERE status = 'pending'")" = 0 ]; then
		q "UPDATE images SET status = 'pending', sha256 = NULL, reason = NULL, source = NULL"
		rm -rf "$MMDB_CACHE/objects"
		resets=$((resets + 1))
	fi
	"$MMDB" -q images fetch --jobs 8 >/dev/null 2>&1 &
	pid=$!
	rand_sleep "$D"
	kill -9 $pid 2>/dev/null && landed=$((landed + 1))
	wait $pid 2>/dev/null
	i=$((i + 1))
	why=""
	[ "$(q "PRAGMA integrity_check")" = ok ] || why="$why integrity"
	[ -z "$(bad_objects 2>/dev/null)" ] || why="$why object-not-whole"
	[ "$(q "SELECT count(*) FROM images WHERE status NOT IN ('ok', 'pending')")" = 0 ] ||
		why="$why status:$(q "SELECT group_concat(DISTINCT status) FROM images")"
	[ "$(q "SELECT count(*) FROM images WHERE (status = 'ok') <> (sha256 IS NOT NULL)")" = 0 ] ||
		why="$why ok-without-hash"
	missing=$(q "SELECT sha256 FROM images WHERE status = 'ok'" | while read -r s; do
		[ -f "$MMDB_CACHE/objects/$(echo "$s" | cut -c1-2)/$s" ] || echo "$s"; done)
	[ -z "$missing" ] || why="$why ok-without-object"
	[ -n "$why" ] && bad="$bad kill$i:$why"
done
check_eq "after each of $KILLS kills: database intact, objects whole, each image ok or pending" "$bad" ""
echo "# $landed of $KILLS kills hit a running fetch; $resets resets"

check_status "a fetch after the last kill" 0 "$MMDB" -q images fetch --jobs 8
check_eq "every image fetched" "$(q "SELECT group_concat(status || ':' || c) FROM (SELECT status, count(*) c FROM images GROUP BY status)")" "ok:$n"
check_eq "objects whole" "$(bad_objects)" ""
check_eq "one object per image" "$(count_objects)" "$n"
check_eq "no temporary file left" "$(count_tmp)" 0
check_eq "database intact" "$(q "PRAGMA integrity_check")" ok

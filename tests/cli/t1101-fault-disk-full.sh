#!/bin/sh
# Disk full while writing the image cache (images import, images fetch), the
# database (ingest) and a checkpoint (mmdb run): one clear error line, no half-written object or
# checkpoint, a consistent database, and the job finishes once space is
# back. The cache lives on a small tmpfs (as root) or, failing that, every
# write is held to a file size limit (EFBIG).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imgtest.sh"
. "$(dirname "$0")/lib_run.sh"
. "$(dirname "$0")/faults.sh"
q() { sqlite3 -batch "$MMDB_DB" "$1"; }

start_server
if ! small_fs "$T/small" 1024; then
	skip "no way to make a small file system (not root, no prlimit)"
	exit 0
fi
echo "# small file system: $FS_KIND"
ERR=$(full_error)
export MMDB_CACHE="$T/small/cache"
"$MMDB" init >/dev/null
n=0
for f in "$IMAGES"/*.jpg; do
	id=$(basename "$f" .jpg)
	add_post "$id" "$B/img/$id.jpg"
	n=$((n + 1))
done
flush_posts
# ulimit kind: objects over 64 KiB cannot be written (the sample has both).
[ "$FS_KIND" = ulimit ] && FS_LIMIT=65536

# --- images import --------------------------------------------------------
limited "$MMDB" -q images import "$IMAGES" >/dev/null 2>"$T/err"
check_eq "import on a full disk exits 1" "$?" 1
check_eq "with one error line" "$(wc -l <"$T/err" | tr -d ' ')" 1
check_match "naming the cache and the cause" "$(cat "$T/err")" "image cache '$MMDB_CACHE'.*$ERR"
check_eq "database intact" "$(q "PRAGMA integrity_check")" ok
part=$(q "SELECT count(*) FROM images WHERE status = 'ok'")
# (with the size limit the first image over it stops the import, maybe the first one)
[ "$FS_KIND" = tmpfs ] && check_match "some images stored before the disk filled" "$part" "^[1-9][0-9]*$"
check "but not all" test "$part" -lt $((n - 1))
check_eq "every stored object whole" "$(bad_objects)" ""
check_eq "no temporary file left" "$(count_tmp)" 0
check_eq "every ok row has its object" "$(q "SELECT sha256 FROM images WHERE status = 'ok'" |
	while read -r s; do [ -f "$MMDB_CACHE/objects/$(echo "$s" | cut -c1-2)/$s" ] || echo "$s"; done)" ""
check_eq "no row says failed" "$(q "SELECT count(*) FROM images WHERE status NOT IN ('ok', 'removed', 'pending')")" 0
grow_fs 65536
check_status "with space again, the same import" 0 "$MMDB" -q images import "$IMAGES"
check_eq "every image in (the placeholder as removed)" \
	"$(q "SELECT group_concat(status || ':' || n) FROM (SELECT status, count(*) n FROM images GROUP BY status ORDER BY status)")" \
	"ok:$((n - 1)),removed:1"
check_eq "objects whole" "$(bad_objects)" ""
check_eq "one object per image" "$(count_objects)" "$((n - 1))"

# --- images fetch ---------------------------------------------------------
q "UPDATE images SET status = 'pending', sha256 = NULL, source = NULL"
rm -rf "$MMDB_CACHE"
if [ "$FS_KIND" = tmpfs ]; then grow_fs 1024; else FS_LIMIT=65536; fi
limited "$MMDB" -q images fetch --jobs 4 >/dev/null 2>"$T/err"
check_eq "fetch on a full disk exits 1" "$?" 1
check_eq "with one error line" "$(wc -l <"$T/err" | tr -d ' ')" 1
check_match "naming the cache and the cause" "$(cat "$T/err")" "image cache '$MMDB_CACHE'.*$ERR"
check_eq "database intact" "$(q "PRAGMA integrity_check")" ok
part=$(q "SELECT count(*) FROM images WHERE status = 'ok'")
check "it stopped before the end" test "$part" -lt $((n - 1))
check_eq "the rest still pending (not failed)" "$(q "SELECT count(*) FROM images WHERE status NOT IN ('ok', 'removed')")" \
	"$(q "SELECT count(*) FROM images WHERE status = 'pending'")"
check_eq "every stored object whole" "$(bad_objects)" ""
check_eq "no temporary file left" "$(count_tmp)" 0
grow_fs 65536
check_status "with space again, the same fetch" 0 "$MMDB" -q images fetch --jobs 4
check_eq "every image fetched" "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" "$((n - 1))"
check_eq "objects whole" "$(bad_objects)" ""

# --- the database itself on the full disk (ingest) -------------------------
rm -rf "$MMDB_CACHE"
export MMDB_DB="$T/small/ingest.db"
# 4 MB: room for a new database (2 MB with 64 KiB pages), not for the posts.
if [ "$FS_KIND" = tmpfs ]; then grow_fs 4096; else FS_LIMIT=4194304; fi
limited "$MMDB" -q ingest "$SAMPLE/multimodal_validate.tsv" >/dev/null 2>"$T/err"
check_eq "ingest into a database on a full disk exits 1" "$?" 1
check_eq "with one error line" "$(wc -l <"$T/err" | tr -d ' ')" 1
# (SQLite says "disk I/O error" for a write refused with EFBIG)
check_match "naming the database and the cause" "$(cat "$T/err")" \
	"^mmdb: (database or disk is full|disk I/O error) \(database '$MMDB_DB'"
check_eq "database intact" "$(q "PRAGMA integrity_check")" ok
grow_fs 65536
check_status "with space again, the same ingest" 0 "$MMDB" -q ingest "$SAMPLE/multimodal_validate.tsv"
check_eq "every record in, once" "$(q "SELECT count(*) || ' ' || count(DISTINCT id) FROM posts")" "9996 9996"
check_eq "the first ingest marked failed, the second completed" \
	"$(q "SELECT group_concat(status, ' ') FROM (SELECT status FROM ingests ORDER BY id)")" "failed completed"

# --- a checkpoint during mmdb run -----------------------------------------
end_without_torch "a full disk during mmdb run"
kill "$SERVER_PID" 2>/dev/null
export MMDB_DB="$T/run.db" MMDB_CACHE="$T/cache"
check "synthetic dataset" setup_synthetic 48 32 16
check_status "a one-epoch run to size a checkpoint" 0 "$MMDB" -q run --name size --epochs 1 $TINY
ck=$(wc -c <"$MMDB_CACHE/runs/1/last.ckpt")
rm -rf "$MMDB_CACHE/runs"
used=$(du -sk "$MMDB_CACHE" | cut -f1)
mkdir -p "$T/small/ck"
cp -a "$MMDB_CACHE/." "$T/small/ck/"
export MMDB_CACHE="$T/small/ck"
if [ "$FS_KIND" = tmpfs ]; then
	# Room for two checkpoints (best and last) and half of a third.
	rm -rf "$T/small/cache"
	grow_fs $((used + ck * 5 / 2 / 1024 + 256))
else
	FS_LIMIT=$((ck / 2))
fi
limited "$MMDB" -q run --name full --epochs 3 $TINY >/dev/null 2>"$T/err"
check_eq "a run whose checkpoint cannot be written exits 1" "$?" 1
check_match "saying which checkpoint and why, in one line" "$(grep -v '^run ' "$T/err")" \
	"^mmdb: cannot save checkpoint $MMDB_CACHE/runs/2/(best|last)\.ckpt: $ERR$"
check_eq "the run is marked failed, with the reason" \
	"$(q "SELECT status || '|' || reason FROM runs WHERE name = 'full'" | sed 's/best\|last/X/')" \
	"failed|cannot save the X checkpoint"
check_eq "no half-written checkpoint" "$(find "$MMDB_CACHE/runs" -name '*.tmp*' | wc -l | tr -d ' ')" 0
check_eq "database intact" "$(q "PRAGMA integrity_check")" ok
grow_fs 131072
check_status "with space again, the run resumes" 0 "$MMDB" -q run --resume full
check_eq "and completes every epoch" "$(q "SELECT status || '|' || epochs_done || '|' ||
	(SELECT count(*) FROM epochs e WHERE e.run_id = r.id) FROM runs r WHERE name = 'full'")" "completed|3|7"

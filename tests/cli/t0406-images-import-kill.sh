#!/bin/sh
# An import killed with -9 leaves whole objects only and a consistent
# database; a re-run imports the rest and skips what is done. First the
# archive comes through a pipe that stops half-way (so the kill lands at a
# known point, after the first half is recorded), then a larger archive is
# killed wherever it happens to be.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imgtest.sh"
"$MMDB" init >/dev/null

ls "$IMAGES" | sed 's/\.jpg$//' | grep -v '^ct8etz1$' >"$T/ids"
n=$(wc -l <"$T/ids" | tr -d ' ')
while read -r id; do add_post "$id" "http://127.0.0.1:9/$id.jpg"; done <"$T/ids"
flush_posts

# feed.py OUT FIRST GO: writes every sample image as x/<id>.jpg to OUT as
# a tar stream; after the first FIRST entries (and a filler entry that
# pushes them out of tar's buffer) it waits for the file GO to exist.
cat >"$T/feed.py" <<'PY'
import io, os, sys, tarfile, time
out, first, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
images = os.environ["IMAGES"]
ids = open(os.environ["IDS"]).read().split()
def add(tf, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data))
try:
    with open(out, "wb") as f, tarfile.open(fileobj=f, mode="w|") as tf:
        for k, i in enumerate(ids):
            if k == first:
                add(tf, "x/filler", b"\0" * 65536)
                f.flush()
                for _ in range(3000):
                    if os.path.exists(go):
                        break
                    time.sleep(0.1)
            add(tf, "x/%s.jpg" % i, open(os.path.join(images, i + ".jpg"), "rb").read())
except BrokenPipeError:
    pass
PY
export IMAGES IDS="$T/ids"
python3 "$T/feed.py" "$T/all.tar" 1000000 "$T/none"

mkfifo "$T/feed.tar"
python3 "$T/feed.py" "$T/feed.tar" 20 "$T/go" 2>/dev/null &
feeder=$!
"$MMDB" -q images import "$T/feed.tar" >/dev/null 2>&1 &
pid=$!
# The first 20 are recorded while the pipe is stalled (generous limit).
i=0
while [ "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" -lt 20 ] && [ $i -lt 1200 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null
touch "$T/go"
wait $feeder
check_eq "the first half recorded before the kill" "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" "20"
check_eq "database intact" "$(q "PRAGMA integrity_check")" "ok"
check_eq "every object is whole" "$(bad_objects)" ""
check_eq "every ok row has its object" \
	"$(q "SELECT sha256 FROM images WHERE status = 'ok'" | while read -r s; do [ -f "$MMDB_CACHE/objects/$(echo "$s" | cut -c1-2)/$s" ] || echo "$s"; done)" ""

check_status "re-run" 0 "$MMDB" -q images import --format csv "$T/all.tar"
check_match "done ones skipped" "$(cat "$T/.out")" "skipped,already in the cache,20"
check_match "the rest imported" "$(cat "$T/.out")" "^ok,,$((n - 20))"
check_eq "every post ok" "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" "$n"
check_eq "no temporary files" "$(count_tmp)" "0"
check_eq "objects whole" "$(bad_objects)" ""
check_eq "one object per image" "$(count_objects)" "$n"

# A larger archive (distinct bytes per entry) killed wherever it is.
m=300
q "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < $m)
INSERT INTO posts(id, dataset_id, split, image_url) SELECT printf('k%04d', i), 1, 'train', NULL FROM c"
python3 - "$IMAGES" "$T/big.tar" "$m" <<'PY'
import io, os, sys, tarfile
src, out, m = sys.argv[1], sys.argv[2], int(sys.argv[3])
imgs = [open(os.path.join(src, f), "rb").read() for f in sorted(os.listdir(src)) if f != "ct8etz1.jpg"]
with tarfile.open(out, "w") as tf:
    for i in range(m):
        data = imgs[i % len(imgs)] + b"mmdb-kill-%06d" % i
        ti = tarfile.TarInfo("set/k%04d.jpg" % i)
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
PY
"$MMDB" -q images import "$T/big.tar" >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(q "SELECT count(*) FROM images WHERE post_id LIKE 'k%' AND status = 'ok'")" -lt 1 ] && [ $i -lt 1200 ] &&
	kill -0 $pid 2>/dev/null; do
	sleep 0.05; i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check_eq "killed anywhere: database intact" "$(q "PRAGMA integrity_check")" "ok"
check_eq "killed anywhere: objects whole" "$(bad_objects)" ""
check_eq "killed anywhere: every ok row has its object" \
	"$(q "SELECT sha256 FROM images WHERE status = 'ok'" | while read -r s; do [ -f "$MMDB_CACHE/objects/$(echo "$s" | cut -c1-2)/$s" ] || echo "$s"; done)" ""
check_status "re-run after the kill" 0 "$MMDB" -q images import "$T/big.tar"
check_eq "every post ok" "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" "$((n + m))"
check_eq "no temporary files left" "$(count_tmp)" "0"
check_eq "objects whole at the end" "$(bad_objects)" ""
check_eq "one object per image at the end" "$(count_objects)" "$((n + m))"

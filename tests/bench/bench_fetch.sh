#!/bin/sh
# bench_fetch: `mmdb images fetch` against aria2c and img2dataset on the
# same URLs at the same concurrency, served by nginx on 127.0.0.1; then
# `mmdb images import` of a .tar.bz2 against `tar -xjf`, several times.
#
# img2dataset (PyPI) goes into a venv of its own, made here on first use
# (BENCH_VENV, default tests/tmp/bench-venv; not part of `make deps`). It
# saves the originals: no resizing, no re-encoding, no EXIF extraction.
#
# The files are copies of the real sample images, each with a few distinct
# bytes appended after the image's end, so every file has its own hash and
# mmdb stores (hashes, fsyncs, renames, records) every one of them.
#
#   BENCH_N=5000    number of files
#   BENCH_JOBS=64   concurrency for every tool
#   BENCH_IMPORT_N=1000  files in the import archive (bzip2 is slow to make)
#   BENCH_IMPORT_RUNS=3  import timings (mmdb and tar take turns)
#   BENCH_PARTS=all      or "fetch", or "import"
set -u
: "${MMDB:?run through tests/bench/run.sh (make bench)}"
N=${BENCH_N:-5000}
J=${BENCH_JOBS:-64}
NI=${BENCH_IMPORT_N:-1000}
RUNS=${BENCH_IMPORT_RUNS:-3}
PARTS=${BENCH_PARTS:-all}
I2D_VENV=${BENCH_VENV:-$MMDB_TOP/tests/tmp/bench-venv}
I2D_VERSION=1.47.0
SAMPLE="$MMDB_SHARED/fakeddit-sample/images"
W=$(mktemp -d "${TMPDIR:-/tmp}/mmdb-bench-fetch.XXXXXX")
chmod 755 "$W" # nginx workers run as an unprivileged user
NGINX_PID=""
cleanup() {
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

command -v nginx >/dev/null || { echo "bench_fetch: nginx not installed (skipped)"; exit 0; }
command -v aria2c >/dev/null || { echo "bench_fetch: aria2c not installed (skipped)"; exit 0; }

# Distinct files b00000.jpg ... from the sample images (not the placeholder).
mkdir -p "$W/www/img"
python3 - "$SAMPLE" "$W/www/img" "$N" <<'PY'
import os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
imgs = [open(os.path.join(src, f), "rb").read() for f in sorted(os.listdir(src)) if f != "ct8etz1.jpg"]
for i in range(n):
    with open(os.path.join(dst, "b%05d.jpg" % i), "wb") as f:
        f.write(imgs[i % len(imgs)] + b"mmdb-bench-%08d" % i)
PY
bytes=$(du -sb "$W/www/img" | cut -f1)

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$W/nginx"
cat >"$W/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 100000;
	client_body_temp_path $W/nginx/body;
	proxy_temp_path $W/nginx/proxy;
	fastcgi_temp_path $W/nginx/fastcgi;
	uwsgi_temp_path $W/nginx/uwsgi;
	scgi_temp_path $W/nginx/scgi;
	types { image/jpeg jpg; }
	server {
		listen 127.0.0.1:$PORT;
		root $W/www;
	}
}
EOF
nginx -c "$W/nginx/nginx.conf" -p "$W/nginx" &
NGINX_PID=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/img/b00000.jpg"; do
	sleep 0.1; i=$((i + 1))
	[ $i -gt 50 ] && { echo "bench_fetch: nginx did not start"; cat "$W/nginx/error.log"; exit 1; }
done
base="http://127.0.0.1:$PORT/img"
i=0
while [ $i -lt "$N" ]; do printf '%s/b%05d.jpg\n' "$base" $i; i=$((i + 1)); done >"$W/urls.txt"

# "seconds peak_kb" of a command, its output in $W/last.log.
timed() {
	/usr/bin/time -f "%e %M" -o "$W/time" "$@" >"$W/last.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || { echo "bench_fetch: '$*' exited $rc"; tail -5 "$W/last.log"; }
	cat "$W/time"
}
rate() { python3 -c "import sys; print('%.0f' % ($1 / max(float('$2'), 1e-9)))"; }
ratio() { python3 -c "print('%.2f' % (float('$1') / max(float('$2'), 1e-9)))"; }

# mmdb: a fresh database with one post per URL.
export MMDB_DB="$W/mmdb.db" MMDB_CACHE="$W/cache"
"$MMDB" -q init >/dev/null
sqlite3 "$MMDB_DB" "INSERT INTO datasets(id, name) VALUES (1, 'bench');
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < $N)
INSERT INTO posts(id, dataset_id, split, image_url)
SELECT printf('b%05d', i), 1, 'train', printf('$base/b%05d.jpg', i) FROM c;"

if [ "$PARTS" != import ]; then
echo "fetch: $N files, $((bytes / 1000000)) MB, $J at once, nginx on 127.0.0.1"
set -- $(timed "$MMDB" images fetch --jobs "$J" --per-host "$J")
m_s=$1 m_kb=$2
ok=$(sqlite3 "$MMDB_DB" "SELECT count(*) FROM images WHERE status = 'ok'")
objs=$(find "$MMDB_CACHE/objects" -type f | wc -l)
inner=$(sed -n 's/.*images in \([0-9.]*\)s.*/\1/p' "$W/last.log")
echo "  mmdb images fetch: ${m_s}s, $(rate "$N" "$m_s") images/s (fetch loop ${inner}s: $(rate "$N" "${inner:-0}") images/s), peak RSS $((m_kb / 1024)) MB; $ok ok, $objs objects"

set -- $(timed aria2c -i "$W/urls.txt" -j "$J" -d "$W/aria2" --max-connection-per-server=1 \
	--file-allocation=none --allow-overwrite=true --auto-file-renaming=false \
	--console-log-level=error --summary-interval=0 --download-result=hide -q)
a_s=$1 a_kb=$2
got=$(find "$W/aria2" -type f | wc -l)
echo "  aria2c -j $J:        ${a_s}s, $(rate "$N" "$a_s") images/s, peak RSS $((a_kb / 1024)) MB; $got files"
echo "  ratio (mmdb images/s / aria2c images/s): $(ratio "$a_s" "$m_s")   [target >= 1.0]"
echo "  ratio, fetch loop only (without mmdb's start-up): $(ratio "$a_s" "${inner:-0}")"

# img2dataset in its own venv (pip install on first use).
if [ ! -x "$I2D_VENV/bin/img2dataset" ]; then
	echo "  (installing img2dataset $I2D_VERSION into $I2D_VENV)"
	{ python3 -m venv "$I2D_VENV" && "$I2D_VENV/bin/pip" install -q "img2dataset==$I2D_VERSION"; } \
		>"$W/i2d-install.log" 2>&1 || { echo "  img2dataset: install failed"; tail -3 "$W/i2d-install.log"; }
fi
if [ -x "$I2D_VENV/bin/img2dataset" ]; then
	set -- $(timed "$I2D_VENV/bin/img2dataset" --url_list "$W/urls.txt" --input_format txt \
		--output_folder "$W/i2d" --output_format files --thread_count "$J" --processes_count 1 \
		--resize_mode no --disable_all_reencoding True --extract_exif False --timeout 60 \
		--retries 0 --enable_wandb False)
	i_s=$1 i_kb=$2
	got=$(find "$W/i2d" -name '*.jpg' | wc -l)
	echo "  img2dataset -t $J:   ${i_s}s, $(rate "$N" "$i_s") images/s, peak RSS $((i_kb / 1024)) MB; $got files"
	echo "  ratio (mmdb images/s / img2dataset images/s): $(ratio "$i_s" "$m_s")"
	echo "  ratio, fetch loop only: $(ratio "$i_s" "${inner:-0}")"
	rm -rf "$W/i2d"
else
	echo "  img2dataset: not available (skipped)"
fi

fi

[ "$PARTS" = fetch ] && exit 0
# Import: the first NI files as public_image_set/<id>.jpg in a .tar.bz2.
mkdir -p "$W/tar/public_image_set"
i=0
while [ $i -lt "$NI" ]; do
	ln "$W/www/img/$(printf 'b%05d.jpg' $i)" "$W/tar/public_image_set/" 2>/dev/null ||
		cp "$W/www/img/$(printf 'b%05d.jpg' $i)" "$W/tar/public_image_set/"
	i=$((i + 1))
done
tar -C "$W/tar" -chjf "$W/set.tar.bz2" public_image_set
rm -rf "$W/tar"
echo "import: $NI files in a $(($(wc -c <"$W/set.tar.bz2") / 1000000)) MB .tar.bz2, $RUNS runs each, taking turns, $(nproc) CPUs"
run_mmdb() {
	rm -rf "$MMDB_CACHE"
	sqlite3 "$MMDB_DB" "UPDATE images SET status = 'pending', sha256 = NULL, source = NULL"
	sync
	set -- $(timed "$MMDB" images import "$W/set.tar.bz2")
	mi_s=$1 mi_kb=$2
	ok=$(sqlite3 "$MMDB_DB" "SELECT count(*) FROM images WHERE status = 'ok' AND source = 'import'")
}
run_tar() {
	rm -rf "$W/untar"
	mkdir -p "$W/untar"
	sync
	set -- $(timed tar -C "$W/untar" -xjf "$W/set.tar.bz2")
	t_s=$1
}
ratios=""
k=0
while [ $k -lt "$RUNS" ]; do
	k=$((k + 1))
	# Odd runs mmdb first, even runs tar first.
	if [ $((k % 2)) = 1 ]; then run_mmdb; run_tar; else run_tar; run_mmdb; fi
	r=$(ratio "$t_s" "$mi_s")
	ratios="$ratios $r"
	echo "  run $k: mmdb images import ${mi_s}s ($(rate "$NI" "$mi_s") images/s, peak RSS $((mi_kb / 1024)) MB, $ok ok); tar -xjf ${t_s}s ($(rate "$NI" "$t_s") images/s); ratio $r"
done
echo "  ratio (mmdb speed / tar speed), median of$ratios: $(python3 -c "import statistics, sys; print('%.2f' % statistics.median(map(float, sys.argv[1:])))" $ratios)   [target >= 0.9]"

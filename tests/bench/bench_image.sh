#!/bin/sh
# bench_image: decode + resize to 224x224 by mmdb (img_decode_resize: DCT-
# scaled JPEG decode, antialiased resize) against Pillow (open, convert RGB,
# resize((224, 224), BILINEAR)) on the same files held in memory, one core
# each (pinned with taskset when there is one). Two sets: the real sample
# images (mostly 320 px previews, 3 PNGs) and 1024x768 JPEGs cut from the
# two large sample photos. Rates are images per second of the thread's CPU
# time (so a busy shared machine does not skew them); each side is measured
# ROUNDS times, alternating, and the best kept. Prints both and the ratio.
#
#   BENCH_SECONDS=2   minimum CPU seconds per measurement
#   BENCH_ROUNDS=3    measurements per side
set -u
: "${MMDB_TOP:?run through tests/bench/run.sh (make bench)}"
SECS=${BENCH_SECONDS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
SIZE=224
SAMPLE="$MMDB_SHARED/fakeddit-sample/images"
PY="$MMDB_TOP/.venv/bin/python"
W=$(mktemp -d "${TMPDIR:-/tmp}/mmdb-bench-image.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
cd "$MMDB_TOP" || exit 1

"$PY" -c 'import PIL' 2>/dev/null || { echo "bench_image: Pillow not installed (make deps)"; exit 1; }
make -s libmmdb.a >/dev/null || exit 1
CFLAGS_B="-std=c11 -O2 -D_GNU_SOURCE -Isrc -pthread"
LIBS_B="-lturbojpeg -lpng -lgif -lwebp -lm -lpthread"
cc $CFLAGS_B -o "$W/bench_image" tests/bench/bench_image.c libmmdb.a $LIBS_B || exit 1

# 1024x768 JPEGs (quality 90, 4:2:0): crops of the large real photos.
mkdir -p "$W/big"
"$PY" - "$SAMPLE" "$W/big" <<'PY' || exit 1
import os, sys
from PIL import Image
src, dst = sys.argv[1], sys.argv[2]
big = [os.path.join(src, f) for f in sorted(os.listdir(src))]
big = [p for p in big if Image.open(p).size[0] >= 2048][:2]
k = 0
for p in big:
    im = Image.open(p).convert("RGB")
    w, h = im.size
    for i in range(6):
        x, y = (w - 2048) * i // 5, (h - 1536) * (5 - i) // 5
        im.crop((x, y, x + 2048, y + 1536)).resize((1024, 768), Image.LANCZOS).save(
            os.path.join(dst, "b%02d.jpg" % k), quality=90)
        k += 1
PY

pin=""
command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null && pin="taskset -c 0"

best() { # the larger of two rates
	awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'
}

run() { # name files...
	name=$1
	shift
	mi=0 ci=0 pi=0 r=0
	while [ $r -lt "$ROUNDS" ]; do
		m=$($pin "$W/bench_image" squash $SIZE "$SECS" "$@") || exit 1
		c=$($pin "$W/bench_image" crop $SIZE "$SECS" "$@") || exit 1
		p=$($pin "$PY" tests/bench/bench_image.py $SIZE "$SECS" "$@") || exit 1
		mi=$(best "$mi" "${m% *}"); ci=$(best "$ci" "${c% *}"); pi=$(best "$pi" "${p% *}")
		r=$((r + 1))
	done
	printf '%-26s mmdb %7.1f img/s (crop mode %7.1f)   Pillow %7.1f img/s   ratio %.2fx\n' \
		"$name ($# files)" "$mi" "$ci" "$pi" "$(awk -v a="$mi" -v b="$pi" 'BEGIN { print a / b }')"
}

echo "decode + resize to ${SIZE}x${SIZE}, one core each${pin:+ ($pin)}, images per CPU second;" \
	"Pillow $("$PY" -c 'import PIL; print(PIL.__version__)'), libjpeg-turbo $("$MMDB" env --format csv 2>/dev/null | sed -n 's/^libjpeg-turbo,//p')"
run "sample images" "$SAMPLE"/*
run "1024x768 JPEGs" "$W"/big/*.jpg

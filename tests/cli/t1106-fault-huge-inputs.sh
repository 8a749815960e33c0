#!/bin/sh
# Out of memory: images whose headers claim 100000x100000 (PNG) and
# 65000x65000 (JPEG), an image file far larger than any image, a
# safetensors header claiming a 16 GiB tensor in a 112-byte file and a
# 2 GiB (sparse) weight file are refused by size checks before anything
# that size is allocated: a clear message, and the process stays small
# (run under `ulimit -v`, or measured with /usr/bin/time).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"
VLIMIT=3500000 # KiB of address space: libtorch's mappings fit, a bomb's pixels do not
# rss_of FILE: the peak resident set (KiB) that /usr/bin/time wrote there.
TIME=""
[ -x /usr/bin/time ] && TIME=/usr/bin/time
measured() { # measured FILE CMD...: runs CMD, its peak RSS into FILE (0 without time)
	out=$1; shift
	if [ -n "$TIME" ]; then "$TIME" -o "$out" -f %M "$@"; else echo 0 >"$out"; "$@"; fi
}
small() { [ "$(tail -1 "$1")" -lt 1048576 ]; } # under 1 GiB
# $LIMITED CMD...: runs CMD with its memory capped by `ulimit -v`. An
# AddressSanitizer build cannot run under it (its shadow memory alone takes
# terabytes of address space): there ASan's own caps take its place, both
# stricter: any single allocation over 1 GiB, or a resident set over the
# limit, is a report that fails the test. (A script, so that `measured`
# can run it too.)
export VLIMIT
LIMITED="$T/limited"
if grep -aqs __asan_init "$MMDB"; then
	printf '%s\n' '#!/bin/sh' 'ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=1024:hard_rss_limit_mb=$((VLIMIT / 1024))" exec "$@"' >"$LIMITED"
else
	printf '%s\n' '#!/bin/sh' 'ulimit -v "$VLIMIT" && exec "$@"' >"$LIMITED"
fi
chmod +x "$LIMITED"

check "synthetic dataset" setup_synthetic 32 16 16
mkdir -p "$T/bombs"
python3 - "$SAMPLE/images" "$T/bombs" "$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM posts WHERE split = 'train' ORDER BY id LIMIT 2)")" <<'PY'
import struct, sys, zlib
src, out, ids = sys.argv[1], sys.argv[2], sys.argv[3].split()
# Real images with their headers rewritten: a PNG (5bn1qa is PNG data) claiming
# 100000x100000 (IHDR CRC fixed) and a JPEG whose frame header claims 65000x65000.
png = open(src + '/5bn1qa.jpg', 'rb').read()
ihdr = b'IHDR' + struct.pack('>II', 100000, 100000) + png[24:29]
png = png[:12] + ihdr + struct.pack('>I', zlib.crc32(ihdr)) + png[33:]
open('%s/%s.png' % (out, ids[0]), 'wb').write(png)
jpg = bytearray(open(src + '/10wrdh.jpg', 'rb').read())
i = 2
while not (0xc0 <= jpg[i + 1] <= 0xcf and jpg[i + 1] not in (0xc4, 0xc8, 0xcc)):
    i += 2 + (jpg[i + 2] << 8 | jpg[i + 3])
struct.pack_into('>HH', jpg, i + 5, 65000, 65000)
open('%s/%s.jpg' % (out, ids[1]), 'wb').write(bytes(jpg))
PY
png=$(ls "$T/bombs"/*.png); jpg=$(ls "$T/bombs"/*.jpg)

# The cache takes them (their bytes are small); decoding them is refused.
check_status "images import of the two bombs (replacing two train images)" 0 \
	"$LIMITED" "$MMDB" -q images import --force "$T/bombs"
check_status "a run decodes them under ulimit -v" 0 \
	"$LIMITED" "$MMDB" -q run --name bombs --epochs 1 $TINY
check_match "saying they are too large (and using blank pixels)" "$(cat "$T/.err")" \
	"too large: 100000x100000; using blank pixels"
check_match "both" "$(cat "$T/.err")" "too large: 65000x65000; using blank pixels"
measured "$T/rss" "$MMDB" images verify >"$T/out" 2>&1
check_eq "images verify marks them too large" \
	"$(q "SELECT group_concat(reason, ', ') FROM (SELECT reason FROM images WHERE status = 'too_large' ORDER BY reason)")" \
	"too large: 100000x100000, too large: 65000x65000"
check "in a small process (peak RSS $(tail -1 "$T/rss") KiB)" small "$T/rss"

# predict: a bomb, and a file far larger than any image.
check_status "predict with the PNG bomb under ulimit -v" 0 \
	"$LIMITED" "$MMDB" -q predict --run bombs --title 'a title' --image "$png"
check_match "says it is too large" "$(cat "$T/.err")" "too large: 100000x100000; using a blank image"
truncate -s 4G "$T/huge.jpg"
measured "$T/rss" "$MMDB" -q predict --run bombs --title 'a title' --image "$T/huge.jpg" >"$T/out" 2>&1
check_eq "predict with a 4 GiB image file completes" "$?" 0
check_match "refusing the file by its size" "$(cat "$T/out")" "huge.jpg' is larger than 32 MiB"
check "without reading it (peak RSS $(tail -1 "$T/rss") KiB)" small "$T/rss"

# Weights: a header that lies about its data, and a real 8 GiB file.
python3 - "$T" <<'PY'
import json, struct, sys
def st(path, name, shape, data):
    nb = 4
    for s in shape:
        nb *= s
    h = json.dumps({name: {"dtype": "F32", "shape": shape, "data_offsets": [0, nb]}}).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h)
        f.truncate(8 + len(h) + data)
st(sys.argv[1] + '/liar.safetensors', 'x', [1 << 30, 4], 16)
# sparse: 2 GiB of zeros that take no disk
st(sys.argv[1] + '/huge.safetensors', 'bert.embeddings.word_embeddings.weight', [1 << 27, 4], 1 << 31)
PY
check_status "model inspect of a header claiming 16 GiB in a tiny file" 1 \
	"$LIMITED" "$MMDB" model inspect "$T/liar.safetensors"
check_match "is refused: the data is not there" "$(cat "$T/.err")" \
	"tensor 'x': data_offsets \[0, 17179869184\) past the end of the data \(16 bytes\)"
# (its 2 GiB mapped fit under the address space limit; read into memory they would show in the RSS)
measured "$T/rss" "$LIMITED" "$MMDB" model inspect "$T/huge.safetensors" >"$T/out" 2>&1
check_eq "model inspect of a 2 GiB weight file" "$?" 0
check_match "lists its tensor" "$(cat "$T/out")" "2147483648 bytes of data"
check "without reading the data (peak RSS $(tail -1 "$T/rss") KiB)" small "$T/rss"
measured "$T/rss" "$LIMITED" "$MMDB" -q run --name huge --epochs 1 --text-weights "$T/huge.safetensors" $TINY >"$T/out" 2>&1
check_eq "a run given it as text weights fails" "$?" 1
check_match "on the shape, before loading it" "$(cat "$T/out")" \
	"tensor 'bert.embeddings.word_embeddings.weight' has shape \[134217728, 4\], the model's"
check "in a small process (peak RSS $(tail -1 "$T/rss") KiB)" small "$T/rss"

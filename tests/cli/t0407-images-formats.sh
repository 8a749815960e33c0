#!/bin/sh
# Formats come from the bytes, never the name: GIF, WebP, PNG and JPEG made
# from a real sample image (all named .jpg) are stored with their format
# and size; a BMP and random bytes are not_image; a cut GIF is corrupt; the
# imgur placeholder re-encoded (other bytes, same 161x81 PNG) is removed.
# Imported from a .tar.gz, a .tar.zst and a folder with a FIFO in it; a
# compressed single file over --max-bytes is skipped while it streams; a
# .tar.bz2 of two streams.
# verify then decodes every stored one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imgtest.sh"
"$MMDB" init >/dev/null

for id in fgif fwebp fwebpl fpng fjpg fbmp frand fcut fph fzst1 fzst2 fbig; do
	add_post "$id" "http://127.0.0.1:9/$id.jpg"
done
flush_posts

mkdir -p "$T/gz/deep" "$T/zst" "$T/dir"
python3 - "$IMAGES" "$T" <<'PY'
import os, sys
from PIL import Image
images, t = sys.argv[1], sys.argv[2]
src = Image.open(os.path.join(images, "10wrdh.jpg")).convert("RGB")
src.save(os.path.join(t, "gz/deep/fgif.jpg"), "GIF")
src.save(os.path.join(t, "gz/fwebp.jpg"), "WEBP", quality=80)
src.save(os.path.join(t, "gz/fwebpl.jpg"), "WEBP", lossless=True)
src.save(os.path.join(t, "zst/fpng.jpg"), "PNG")
src.save(os.path.join(t, "zst/fjpg.jpg"), "JPEG", quality=90)
src.save(os.path.join(t, "dir/fbmp.jpg"), "BMP")
open(os.path.join(t, "dir/frand.jpg"), "wb").write(os.urandom(5000))
gif = open(os.path.join(t, "gz/deep/fgif.jpg"), "rb").read()
open(os.path.join(t, "dir/fcut.jpg"), "wb").write(gif[:len(gif) // 2])
ph = Image.open(os.path.join(images, "ct8etz1.jpg"))
ph.save(os.path.join(t, "dir/fph.jpg"), "PNG", compress_level=1)
open(os.path.join(t, "big.bin"), "wb").write(os.urandom(300000))
PY
cp "$IMAGES/10wrdh.jpg" "$T/zst/fzst1.jpg"
cp "$IMAGES/5bn1qa.jpg" "$T/zst/fzst2.jpg"
mkfifo "$T/dir/fifo.jpg"
tar -C "$T/gz" -czf "$T/set.tar.gz" .
tar -C "$T/zst" -cf "$T/set.tar" . && zstd -q --rm -o "$T/set.tar.zst" "$T/set.tar"
gzip -c "$T/big.bin" >"$T/fbig.jpg.gz"
check_eq "placeholder re-encoded: other bytes" \
	"$(cmp -s "$IMAGES/ct8etz1.jpg" "$T/dir/fph.jpg" && echo same || echo different)" "different"

check_status "import a .tar.gz" 0 "$MMDB" -q images import --format csv "$T/set.tar.gz"
check_status "import a .tar.zst" 0 "$MMDB" -q images import --format csv "$T/set.tar.zst"
check_match "tar.zst: four ok" "$(cat "$T/.out")" "^ok,,4"
check_status "import a folder with a FIFO in it" 0 "$MMDB" -q images import --format csv "$T/dir"
check_match "the FIFO is skipped, never opened" "$(cat "$T/.out")" "skipped,device or special file,1"
check_status "a compressed file over --max-bytes" 0 "$MMDB" -q images import --max-bytes 100K --format csv "$T/fbig.jpg.gz"
check_match "skipped while it streams" "$(cat "$T/.out")" "skipped,over --max-bytes,1"
check_eq "no row for it" "$(q "SELECT count(*) FROM images WHERE post_id = 'fbig'")" "0"

fmt_of() { q "SELECT status || ' ' || coalesce(format, '-') || ' ' || coalesce(width, 0) || 'x' || coalesce(height, 0) FROM images WHERE post_id = '$1'"; }
check_eq "GIF at depth, named .jpg" "$(fmt_of fgif)" "ok gif 320x213"
check_eq "lossy WebP" "$(fmt_of fwebp)" "ok webp 320x213"
check_eq "lossless WebP" "$(fmt_of fwebpl)" "ok webp 320x213"
check_eq "PNG" "$(fmt_of fpng)" "ok png 320x213"
check_eq "JPEG" "$(fmt_of fjpg)" "ok jpeg 320x213"
check_eq "a JPEG from .tar.zst" "$(fmt_of fzst1)" "ok jpeg 320x213"
check_eq "a PNG behind .jpg from .tar.zst" "$(q "SELECT status || ' ' || format FROM images WHERE post_id = 'fzst2'")" "ok png"
check_match "BMP is not_image" "$(status_of fbmp)" "^not_image"
check_match "random bytes are not_image" "$(status_of frand)" "^not_image"
check_match "a cut GIF is corrupt" "$(status_of fcut)" "^corrupt"
check_match "placeholder re-encoded: removed" "$(status_of fph)" "^removed placeholder"
check_eq "hashes are the bytes' own" "$(q "SELECT sha256 FROM images WHERE post_id = 'fwebp'")" \
	"$(sha256sum "$T/gz/fwebp.jpg" | cut -d' ' -f1)"
check_eq "objects: the seven ok images" "$(count_objects)" "7"
check_eq "every object matches its name" "$(bad_objects)" ""
check_eq "no temporary files" "$(count_tmp)" "0"

# A .tar.bz2 in two bzip2 streams (as parallel compressors write them) of
# many small blocks each: decompressed on several threads, in order.
tar -C "$T/zst" -cf "$T/m.tar" .
half=$(($(wc -c <"$T/m.tar") / 2))
{ head -c $half "$T/m.tar" | bzip2 -1; tail -c +$((half + 1)) "$T/m.tar" | bzip2 -1; } >"$T/m.tar.bz2"
check_status "import a two-stream .tar.bz2" 0 "$MMDB" -q images import --force --format csv "$T/m.tar.bz2"
check_match "its four images ok" "$(cat "$T/.out")" "^ok,,4"
check_eq "same objects as before" "$(count_objects) $(bad_objects)" "7 "

"$MMDB" sql --write "UPDATE images SET width = NULL, height = NULL WHERE status = 'ok'" >/dev/null
check_status "verify decodes every format" 0 "$MMDB" -q images verify --rehash --format csv
check_match "all seven ok" "$(cat "$T/.out")" "^ok,,7"
check_eq "sizes from the decoder" "$(fmt_of fgif) / $(fmt_of fwebp) / $(fmt_of fwebpl)" \
	"ok gif 320x213 / ok webp 320x213 / ok webp 320x213"

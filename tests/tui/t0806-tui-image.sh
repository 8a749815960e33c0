#!/bin/sh
# mmdb tui draws a post's cached image with half blocks in 256 colours,
# aspect kept (a real Fakeddit sample image), inline beside the details on
# a wide terminal and alone with i; or says why there is none.
. "$(dirname "$0")/lib-tui.sh"

fill_db
img="$SAMPLE/images/$(ls "$SAMPLE/images" | grep '\.jpg$' | head -1)"
sha=$(sha256sum "$img" | cut -c1-64)
mkdir -p "$MMDB_CACHE/objects/$(echo "$sha" | cut -c1-2)"
cp "$img" "$MMDB_CACHE/objects/$(echo "$sha" | cut -c1-2)/$sha"
# The JPEG's own size, from its SOF marker.
dims=$(python3 - "$img" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
i = 2
while i < len(d):
    m, n = d[i + 1], struct.unpack('>H', d[i + 2:i + 4])[0]
    if m in (0xC0, 0xC1, 0xC2):
        h, w = struct.unpack('>HH', d[i + 5:i + 9]); print(w, h); break
    i += 2 + n
PY
)
set -- $dims; iw=$1; ih=$2
post=$(q "SELECT min(post_id) FROM predictions WHERE run_id = 6 AND split = 'validate'")
"$MMDB" sql --write "INSERT OR REPLACE INTO images(post_id, status, sha256, format, width, height)
  VALUES ('$post', 'ok', '$sha', 'jpeg', $iw, $ih)" >/dev/null

start_tui 120 40 --run 6
keys p v
check_screen "validation predictions" "validate split"
keys Enter
check_screen "the post opens" "mmdb post $post "
check_screen "the image is drawn (status says its size)" "drawn at [0-9]+x[0-9]+ of"
screen >"$T/pane"
got=$(python3 - "$T/pane" "$iw" "$ih" <<'PY'
import sys
rows = [l.rstrip('\n') for l in open(sys.argv[1], encoding='utf-8')]
cells = [l.count('\u2580') for l in rows if '\u2580' in l]
w, h = max(cells), 2 * len(cells)          # half blocks: two pixels a cell
want = int(sys.argv[2]) / int(sys.argv[3])
# h may be one pixel more than the picture (odd heights).
print('ok' if abs(w / h - want) / want < 0.08 or abs(w / (h - 1) - want) / want < 0.08 else 'aspect %dx%d vs %.3f' % (w, h, want))
PY
)
check_eq "the drawing keeps the aspect ratio" "$got" "ok"
check_match "in 256 colours" "$(tm capture-pane -p -e -t tui)" "38;5;[0-9]+"
keys i
check_screen "i shows the image alone" "i details"
n=$(screen | grep -c '▀')
check_match "the picture fills more rows alone" "$n" "^(3[0-9]|[4-9][0-9])$"
keys i
keys q Down Enter
check_screen "another post" "mmdb post "
check_screen "a post without a cached image says why" "image: (removed|http_error|none|ok in the database, but missing)"

#!/bin/sh
# images verify: reads ok images back, records dimensions, finds truncated,
# tampered and missing objects.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imgtest.sh"
"$MMDB" init >/dev/null

{ ls "$IMAGES" | sed "s/\\.jpg$//" | grep -v -e ct8etz1 -e 5bn1qa | head -11; echo 5bn1qa; } >"$T/ids"
while read -r id; do add_post "$id" "http://127.0.0.1:9/$id.jpg"; done <"$T/ids"
flush_posts
mkdir -p "$T/in"
while read -r id; do cp "$IMAGES/$id.jpg" "$T/in/"; done <"$T/ids"
"$MMDB" -q images import "$T/in" >/dev/null

obj() { s=$(q "SELECT sha256 FROM images WHERE post_id = '$1'"); echo "$MMDB_CACHE/objects/$(echo "$s" | cut -c1-2)/$s"; }
id1=$(sed -n 1p "$T/ids"); id2=$(sed -n 2p "$T/ids"); id3=$(sed -n 3p "$T/ids"); id4=$(sed -n 4p "$T/ids")
"$MMDB" sql --write "UPDATE images SET width = NULL, height = NULL" >/dev/null
check_status "verify a clean cache" 0 "$MMDB" -q images verify --rehash --format csv
check_match "all ok" "$(cat "$T/.out")" "^ok,,12"
check_eq "dimensions recorded again" "$(q "SELECT count(*) FROM images WHERE width > 0 AND height > 0")" "12"
check_eq "PNG size from its header" "$(q "SELECT format || ' ' || width || 'x' || height FROM images WHERE post_id = '5bn1qa'")" \
	"$(python3 -c "import struct,sys; d=open('$IMAGES/5bn1qa.jpg','rb').read(); print('png %dx%d' % struct.unpack('>II', d[16:24]))")"

# Damage: cut one object in half, replace another by a different valid
# image, delete a third, flip bytes inside the image data of a fourth.
o1=$(obj "$id1"); o2=$(obj "$id2"); o3=$(obj "$id3"); o4=$(obj "$id4")
size=$(wc -c <"$o1")
head -c $((size / 2)) "$o1" >"$T/half" && cat "$T/half" >"$o1"
cat "$IMAGES/$id1.jpg" >"$o2"
python3 -c "
p='$o4'; d=bytearray(open(p,'rb').read())
for i in range(len(d) // 2, len(d) // 2 + 64): d[i] = 0xff
open(p,'wb').write(d)"
rm -f "$o3"

check_status "verify without --rehash" 0 "$MMDB" -q images verify --format csv
check_match "truncated object: corrupt" "$(q "SELECT status || ' ' || reason FROM images WHERE post_id = '$id1'")" "^corrupt truncated"
check_eq "other valid bytes: unnoticed without --rehash" "$(q "SELECT status FROM images WHERE post_id = '$id2'")" "ok"
check_match "damaged image data: the decoder says corrupt" "$(q "SELECT status || ' ' || reason FROM images WHERE post_id = '$id4'")" "^corrupt (corrupt|truncated)"
check_eq "missing object: back to pending" "$(q "SELECT status || ' ' || reason FROM images WHERE post_id = '$id3'")" "pending object missing from the cache"
check_status "verify --rehash" 0 "$MMDB" -q images verify --rehash --format csv
check_eq "other bytes: corrupt with --rehash" "$(q "SELECT status || ' ' || reason FROM images WHERE post_id = '$id2'")" "corrupt object does not match its sha256"
check_eq "the others stay ok" "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" "8"
check_status "--limit" 0 "$MMDB" -q images verify --limit 2 --format csv
check_match "only two verified" "$(cat "$T/.out")" "^ok,,2"
check_status "unexpected argument" 2 "$MMDB" images verify extra
check_status "verify -h" 0 "$MMDB" images verify -h

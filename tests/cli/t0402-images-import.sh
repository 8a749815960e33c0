#!/bin/sh
# images import from a .tar.bz2, a .tar.xz, a .zip and a folder made from the
# real sample images, with hostile entries that must be skipped and never
# written anywhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imgtest.sh"
"$MMDB" init >/dev/null

# Posts for 30 of the sample images, the placeholder, a text file, a big entry.
ls "$IMAGES" | sed 's/\.jpg$//' | head -30 >"$T/ids"
while read -r id; do add_post "$id" "http://127.0.0.1:9/$id.jpg"; done <"$T/ids"
add_post ct8etz1 "http://127.0.0.1:9/ct8etz1.jpg"
add_post txt1 "http://127.0.0.1:9/txt1.jpg"
add_post big1 "http://127.0.0.1:9/big1.jpg"
flush_posts

mkdir -p "$T/work/sub"
cd "$T/work/sub" || exit 1
python3 - "$IMAGES" "$T" <<'PY'
import io, os, sys, tarfile, zipfile
images, t = sys.argv[1], sys.argv[2]
ids = open(os.path.join(t, "ids")).read().split()
def add(tf, name, data=None, **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if data is not None:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)
def img(i):
    return open(os.path.join(images, i + ".jpg"), "rb").read()
with tarfile.open(os.path.join(t, "set.tar.bz2"), "w:bz2") as tf:
    add(tf, "public_image_set", type=tarfile.DIRTYPE)
    for i in ids[:20]:
        add(tf, "public_image_set/%s.jpg" % i, img(i))
    add(tf, "public_image_set/deeper/still/ct8etz1.jpg", img("ct8etz1"))
    add(tf, "public_image_set/txt1.jpg", b"this is not an image at all\n")
    add(tf, "public_image_set/big1.jpg", img(ids[0]) * 12)
    add(tf, "public_image_set/zzzzzz.jpg", img(ids[1]))          # no such post
    add(tf, "public_image_set/README", b"hello")                  # not <id>.<ext>
    add(tf, "../evil.jpg", img(ids[2]))                           # escapes
    add(tf, "/tmp/abs-evil.jpg", img(ids[3]))                     # absolute
    add(tf, "public_image_set/../../evil2.jpg", img(ids[4]))      # escapes
    add(tf, "public_image_set/link.jpg", type=tarfile.SYMTYPE, linkname="/etc/passwd")
    add(tf, "public_image_set/hard.jpg", type=tarfile.LNKTYPE, linkname="public_image_set/%s.jpg" % ids[0])
    add(tf, "public_image_set/dev.jpg", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
with tarfile.open(os.path.join(t, "more.tar.xz"), "w:xz") as tf:
    for i in ids[20:25]:
        add(tf, "x/%s.jpg" % i, img(i))
with zipfile.ZipFile(os.path.join(t, "set.zip"), "w") as zf:
    for i in ids[25:28]:
        zf.writestr("imgs/%s.jpg" % i, img(i))
    zf.writestr("../../zip-evil.jpg", img(ids[5]))
    zf.writestr("/zip-abs.jpg", img(ids[6]))
os.makedirs(os.path.join(t, "folder/a/b"))
for i in ids[28:30]:
    open(os.path.join(t, "folder/a/b", i + ".jpg"), "wb").write(img(i))
os.symlink("/etc/passwd", os.path.join(t, "folder/a/%s.jpg" % ids[0]))
PY

check_status "import a .tar.bz2" 0 "$MMDB" images import --max-bytes 100K --format csv "$T/set.tar.bz2"
out=$(cat "$T/.out")
check_eq "20 images ok, from import" "$(q "SELECT count(*) FROM images WHERE status = 'ok' AND source = 'import'")" "20"
check_eq "hashes are the files' own" "$(q "SELECT sha256 FROM images WHERE post_id = '$(sed -n 1p "$T/ids")'")" \
	"$(sha256sum "$IMAGES/$(sed -n 1p "$T/ids").jpg" | cut -d' ' -f1)"
check_eq "dimensions recorded" "$(q "SELECT count(*) FROM images WHERE status = 'ok' AND width > 0 AND height > 0")" "20"
check_eq "placeholder at any depth: removed" "$(q "SELECT status FROM images WHERE post_id = 'ct8etz1'")" "removed"
check_eq "text file: not_image" "$(q "SELECT status FROM images WHERE post_id = 'txt1'")" "not_image"
check_eq "over --max-bytes: no row" "$(q "SELECT count(*) FROM images WHERE post_id = 'big1'")" "0"
check_match "over --max-bytes skipped" "$out" "skipped,over --max-bytes,1"
check_match "unknown id counted" "$out" "skipped,no post with this id,1"
check_match "no <id>.<ext> name counted" "$out" "skipped,not named <id>.<ext>,1"
check_match "'..' skipped" "$out" "skipped,'..' in the path,2"
check_match "absolute skipped" "$out" "skipped,absolute path,1"
check_match "symlink skipped" "$out" "skipped,symbolic link,1"
check_match "hard link skipped" "$out" "skipped,hard link,1"
check_match "device skipped" "$out" "skipped,device or special file,1"
check_eq "nothing written outside the cache" \
	"$(ls "$T/work" "$T" /tmp/abs-evil.jpg 2>/dev/null | grep -c evil)" "0"
check_eq "every object matches its name" "$(bad_objects)" ""
check_eq "one object per image" "$(count_objects)" "20"
check_eq "no temporary files" "$(count_tmp)" "0"

check_status "import a .tar.xz and a .zip" 0 "$MMDB" -q images import --format csv "$T/more.tar.xz" "$T/set.zip"
out=$(cat "$T/.out")
check_eq "28 ok" "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" "28"
check_match "zip '..' skipped" "$out" "skipped,'..' in the path,1"
check_match "zip absolute skipped" "$out" "skipped,absolute path,1"
check_eq "zip wrote nothing outside" "$(ls "$T" "$T/work" / 2>/dev/null | grep -c zip-)" "0"

check_status "import a folder" 0 "$MMDB" -q images import --format csv "$T/folder"
check_eq "30 ok" "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" "30"
check_match "folder symlink skipped" "$(cat "$T/.out")" "skipped,symbolic link,1"

check_status "import again" 0 "$MMDB" -q images import --max-bytes 100K --format csv "$T/set.tar.bz2"
check_match "already-ok images are left alone" "$(cat "$T/.out")" "skipped,already in the cache,20"
check_status "--force imports again" 0 "$MMDB" -q images import --force --max-bytes 100K --format csv "$T/set.tar.bz2"
check_match "forced: ok again, objects deduplicated" "$(cat "$T/.out")" "^ok,,20"
check_eq "still one object per image" "$(count_objects)" "30"

# A failed fetch is replaced by an import; the URL is kept.
"$MMDB" sql --write "UPDATE images SET status = 'http_error', http_status = 404, sha256 = NULL WHERE post_id = '$(sed -n 1p "$T/ids")'" >/dev/null
check_status "import over a failed fetch" 0 "$MMDB" -q images import "$T/set.tar.bz2"
check_eq "it is ok now, URL kept" "$(q "SELECT status || ' ' || url FROM images WHERE post_id = '$(sed -n 1p "$T/ids")'")" \
	"ok http://127.0.0.1:9/$(sed -n 1p "$T/ids").jpg"

printf 'garbage, not bzip2' >"$T/bad.tar.bz2"
check_status "a broken archive fails" 1 "$MMDB" -q images import "$T/bad.tar.bz2"
check_match "naming the file" "$(cat "$T/.err")" "bad.tar.bz2"
cp "$IMAGES/$(sed -n 1p "$T/ids").jpg" "$T/big1.jpg"
check_status "a single plain file is one entry" 0 "$MMDB" -q images import --format csv "$T/big1.jpg"
check_eq "imported by its name" "$(q "SELECT status FROM images WHERE post_id = 'big1'")" "ok"
check_status "a missing path fails" 1 "$MMDB" -q images import "$T/none.tar"
check_status "no path is a usage error" 2 "$MMDB" images import

# A zip entry whose checksum does not match its bytes is skipped and said;
# the entries around it are imported.
python3 - "$IMAGES" "$T" <<'PY'
import os, sys, zipfile
images, t = sys.argv[1], sys.argv[2]
ids = open(os.path.join(t, "ids")).read().split()
p = os.path.join(t, "damaged.zip")
with zipfile.ZipFile(p, "w") as zf:
    for i in ids[:3]:
        zf.writestr("d/%s.jpg" % i, open(os.path.join(images, i + ".jpg"), "rb").read())
b = bytearray(open(p, "rb").read())
locs = [i for i in range(len(b) - 4) if b[i:i + 4] == b"PK\x03\x04"]
cens = [i for i in range(len(b) - 4) if b[i:i + 4] == b"PK\x01\x02"]
# the CRC of the second entry (ids[1]), in its local header and the directory
for off in (locs[1] + 14, cens[1] + 16):
    b[off:off + 4] = b"\xde\xad\xbe\xef"
open(p, "wb").write(b)
PY
check_status "a zip with one damaged entry imports the rest" 0 "$MMDB" images import --force --format csv "$T/damaged.zip"
check_match "the damaged entry is skipped" "$(cat "$T/.out")" "skipped,damaged in the archive,1"
check_match "the other two are ok" "$(cat "$T/.out")" "^ok,,2"
"$MMDB" -v images import --force "$T/damaged.zip" >/dev/null 2>"$T/v.err"
check_match "and named with -v" "$(cat "$T/v.err")" "skipped 'd/$(sed -n 2p "$T/ids").jpg': damaged in the archive"
check_eq "every object matches its name" "$(bad_objects)" ""

#!/bin/sh
# Real Fakeddit rows through `mmdb ingest`, their image URLs pointed at the
# test server: fetch gives every post with a URL exactly one final status,
# and `mmdb stats` counts them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imgtest.sh"
start_server
head -n 81 "$SAMPLE/multimodal_validate.tsv" >"$T/multimodal_validate.tsv"
check_status "ingest real rows" 0 "$MMDB" -q ingest "$T/multimodal_validate.tsv"
with_url=$(q "SELECT count(*) FROM posts WHERE coalesce(image_url, '') <> ''")
check_match "rows ingested" "$with_url" "^[1-9][0-9]+$"
check_eq "one pending images row per post with a URL" "$(q "SELECT count(*) FROM images WHERE status = 'pending'")" "$with_url"
check_match "real URLs first" "$(q "SELECT url FROM images LIMIT 1")" "^https://"

# Every fourth post a 404, one the imgur placeholder, the rest real images.
"$MMDB" sql --write "UPDATE posts SET image_url = CASE
  WHEN rowid = (SELECT min(rowid) FROM posts WHERE image_url <> '') THEN '$B/img/ct8etz1.jpg'
  WHEN rowid % 4 = 0 THEN '$B/404/' || id || '.jpg'
  WHEN rowid % 4 = 1 THEN '$B/img/10wrdh.jpg'
  WHEN rowid % 4 = 2 THEN '$B/img/5bn1qa.jpg'
  ELSE '$B/redir/16qxog.jpg' END
  WHERE coalesce(image_url, '') <> ''" >/dev/null
want404=$(q "SELECT count(*) FROM posts WHERE image_url LIKE '%/404/%'")
check_status "fetch" 0 "$MMDB" -q images fetch --retries 0 --format csv
check_eq "changed URLs were taken up" "$(q "SELECT count(*) FROM images i JOIN posts p ON p.id = i.post_id WHERE i.url IS NOT p.image_url")" "0"
check_eq "nothing pending" "$(q "SELECT count(*) FROM images WHERE status = 'pending'")" "0"
check_eq "404s recorded" "$(q "SELECT count(*) FROM images WHERE status = 'http_error' AND http_status = 404")" "$want404"
check_eq "placeholder removed" "$(q "SELECT count(*) FROM images WHERE status = 'removed'")" "1"
check_eq "the rest ok" "$(q "SELECT count(*) FROM images WHERE status = 'ok'")" "$((with_url - want404 - 1))"
check_eq "three distinct objects" "$(count_objects)" "3"
check_status "stats" 0 "$MMDB" stats --format json
check_match "stats counts images by status" "$(tr -d '\n ' <"$T/.out")" "\"images\":\{[^}]*\"ok\":$((with_url - want404 - 1))"
check_match "stats counts http errors" "$(tr -d '\n ' <"$T/.out")" "\"images\":\{[^}]*\"http_error\":$want404"

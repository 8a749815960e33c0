#!/bin/sh
# images fetch against a misbehaving server: every outcome recorded, retries
# end ok, the cache holds only whole objects named by their hash, re-runs
# fetch only what is retryable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/imgtest.sh"
start_server
"$MMDB" init >/dev/null

add_post ok1 "$B/img/10wrdh.jpg"
add_post dup "$B/img/10wrdh.jpg?copy=2"
add_post png "$B/img/5bn1qa.jpg"
add_post redir "$B/redir/3dmp5v.jpg"
add_post e404 "$B/404/x.jpg"
add_post e403 "$B/403/x.jpg"
add_post flaky "$B/flaky/k1/16qxog.jpg"
add_post r429 "$B/429/k2/1mdg9i.jpg"
add_post e503 "$B/always503/k3"
add_post drip "$B/drip/2373dm.jpg"
add_post stall "$B/stall/26mjyb.jpg"
add_post trunc "$B/truncated/2ksn33.jpg"
add_post cllie "$B/cllie/2q23ff.jpg"
add_post big "$B/big/2vjjnd.jpg"
add_post bignocl "$B/bignocl/319iz2.jpg"
add_post loop "$B/loop/0"
add_post tofile "$B/tofile/x"
add_post html "$B/html/x.jpg"
add_post placeholder "$B/img/ct8etz1.jpg"
add_post ftp "ftp://127.0.0.1/x.jpg"
add_post noturl "not a url"
add_post noimage ""
flush_posts

# The limits scale together with $SLOW (lib.sh), which keeps what the checks
# rely on: a stall (100 bytes, then 30 s of silence) trips --stall-timeout
# before --timeout, and /drip/ (17 kB at 256 bytes/s: 67 s) outlasts --timeout
# while never being slow enough to stall.
[ "$SLOW" -le 10 ] || SLOW=10
FLAGS="--timeout $((5 * SLOW)) --stall-timeout $SLOW --min-speed 100 --connect-timeout $((2 * SLOW)) --retries 1 --backoff 0.05 --max-bytes 1M"
check_status "fetch runs to the end" 0 "$MMDB" images fetch $FLAGS --format csv
summary=$(cat "$T/.out")
check_match "summary counts by reason" "$summary" "^http_error,HTTP 404,1"

check_eq "plain image ok" "$(status_of ok1)" "ok "
check_eq "ok row has hash, size, format, dimensions" \
	"$(q "SELECT sha256 || ' ' || bytes || ' ' || format || ' ' || width || 'x' || height || ' ' || source FROM images WHERE post_id = 'ok1'")" \
	"$(sha256sum "$IMAGES/10wrdh.jpg" | cut -d' ' -f1) $(wc -c <"$IMAGES/10wrdh.jpg" | tr -d ' ') jpeg 320x213 fetch"
check_eq "PNG behind a .jpg name is png" "$(q "SELECT format FROM images WHERE post_id = 'png'")" "png"
check_eq "redirect followed" "$(status_of redir)" "ok "
check_eq "404 is http_error" "$(q "SELECT status || ' ' || http_status || ' ' || attempts FROM images WHERE post_id = 'e404'")" "http_error 404 1"
check_eq "403 is http_error" "$(q "SELECT status || ' ' || http_status FROM images WHERE post_id = 'e403'")" "http_error 403"
check_eq "500 then 200 ends ok after a retry" "$(q "SELECT status || ' ' || attempts FROM images WHERE post_id = 'flaky'")" "ok 2"
check_eq "429 then 200 ends ok after a retry" "$(q "SELECT status || ' ' || attempts FROM images WHERE post_id = 'r429'")" "ok 2"
check_eq "503 forever is http_error after retries" "$(q "SELECT status || ' ' || http_status || ' ' || attempts FROM images WHERE post_id = 'e503'")" "http_error 503 2"
check_eq "slow drip times out" "$(status_of drip)" "timeout transfer timeout"
check_eq "stall is aborted" "$(status_of stall)" "timeout stalled transfer"
check_eq "timeouts are retried" "$(q "SELECT group_concat(attempts, ' ') FROM (SELECT attempts FROM images WHERE post_id IN ('drip', 'stall') ORDER BY post_id)")" "2 2"
check_eq "truncated body is retried, then failed" "$(q "SELECT status || ' ' || reason || ' ' || attempts FROM images WHERE post_id = 'trunc'")" "failed truncated transfer 2"
check_match "Content-Length shorter than the image: corrupt" "$(status_of cllie)" "^corrupt truncated"
check_eq "Content-Length over --max-bytes: too_large" "$(status_of big)" "too_large body over the size limit"
check_eq "endless body: too_large" "$(status_of bignocl)" "too_large body over the size limit"
check_eq "redirect loop stops" "$(status_of loop)" "failed too many redirects"
check_eq "redirect to file:// refused" "$(status_of tofile)" "failed redirect to a disallowed scheme"
check_match "HTML is not_image" "$(status_of html)" "^\"?not_image not an image"
check_match "imgur placeholder is removed" "$(status_of placeholder)" "^removed placeholder"
check_match "ftp:// refused" "$(status_of ftp)" "^failed disallowed scheme"
check_eq "malformed URL" "$(status_of noturl)" "failed malformed URL"
check_eq "a post without a URL has no image row" "$(q "SELECT count(*) FROM images WHERE post_id = 'noimage'")" "0"
check_eq "no image is left pending" "$(q "SELECT count(*) FROM images WHERE status = 'pending'")" "0"
check_eq "retryable failures are marked for a later run" \
	"$(q "SELECT group_concat(post_id, ' ') FROM (SELECT post_id FROM images WHERE next_attempt_at IS NOT NULL ORDER BY post_id)")" \
	"drip e503 stall trunc"

# Server-side view of what was asked.
log=$(curl -s "$B/_log")
check_eq "redirect loop: 1 request + 5 redirects" \
	"$(printf '%s' "$log" | python3 -c 'import json,sys; print(sum(1 for p,t,u,r in json.load(sys.stdin) if p.startswith("/loop/")))')" "6"
check_eq "Retry-After honoured (second try >= 1 s later)" \
	"$(printf '%s' "$log" | python3 -c '
import json,sys
t=[t for p,t,u,r in json.load(sys.stdin) if p.startswith("/429/")]
print(len(t) == 2 and t[1] - t[0] >= 0.95)')" "True"
check_match "User-Agent names mmdb" \
	"$(printf '%s' "$log" | python3 -c 'import json,sys; print(set(u for p,t,u,r in json.load(sys.stdin)))')" "mmdb/[0-9.]+ \(\+dataset image fetcher\)"

# The cache: whole objects only, named by content, stored once.
check_eq "every object matches its name" "$(bad_objects)" ""
check_eq "one object per distinct ok image" "$(count_objects)" "$(q "SELECT count(DISTINCT sha256) FROM images WHERE status = 'ok'")"
check_eq "identical bytes stored once" "$(q "SELECT count(DISTINCT sha256) FROM images WHERE post_id IN ('ok1', 'dup')")" "1"
check_eq "no temporary files left" "$(count_tmp)" "0"
check_eq "placeholder not stored" "$(find "$MMDB_CACHE/objects" -name "$(sha256sum "$IMAGES/ct8etz1.jpg" | cut -d' ' -f1)" | wc -l | tr -d ' ')" "0"

# A re-run asks only for what is retryable.
before=$(curl -s "$B/_log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
check_status "re-run" 0 "$MMDB" images fetch $FLAGS --retries 0
asked=$(curl -s "$B/_log" | python3 -c "import json,sys; print(' '.join(sorted(p.split('/')[1] for p,t,u,r in json.load(sys.stdin)[$before:] if p != '/_log')))")
check_eq "re-run fetched only the retryable ones" "$asked" "always503 drip stall truncated"
check_eq "attempts add up" "$(q "SELECT attempts FROM images WHERE post_id = 'e503'")" "3"

# --split and --limit pick a part.
add_post t1 "$B/img/44lnrk.jpg" test
add_post t2 "$B/img/4oxcrc.jpg" test
add_post t3 "$B/img/56b3ip.jpg" test
add_post v1 "$B/img/5tto9k.jpg" validate
flush_posts
check_status "--split test --limit 2" 0 "$MMDB" -q images fetch $FLAGS --split test --limit 2
check_eq "two test images fetched" "$(q "SELECT count(*) FROM images i JOIN posts p ON p.id = i.post_id WHERE p.split = 'test' AND i.status = 'ok'")" "2"
check_eq "validate untouched" "$(status_of v1)" "pending "
check_status "json summary" 0 "$MMDB" -q images fetch $FLAGS --retries 0 --format json
check_match "json summary lists statuses" "$(cat "$T/.out")" '"status": "ok"'
check_eq "everything fetched now" "$(q "SELECT count(*) FROM images WHERE status = 'pending'")" "0"
check_eq "the third test image and the validate one ok" "$(q "SELECT count(*) FROM images WHERE post_id IN ('t1', 't2', 't3', 'v1') AND status = 'ok'")" "4"

# On a terminal: a progress bar with images/s and an ETA. The server holds
# each /slow/ image 0.3 s and --jobs 1 takes them one by one, so the bar is
# drawn while some are done and some are not.
add_post s1 "$B/slow/44lnrk.jpg" validate
add_post s2 "$B/slow/4oxcrc.jpg" validate
add_post s3 "$B/slow/56b3ip.jpg" validate
add_post s4 "$B/slow/5tto9k.jpg" validate
flush_posts
check_status "fetch on a terminal" 0 script -qefc "'$MMDB' images fetch $FLAGS --jobs 1 --split validate" /dev/null
check_match "progress bar with images/s and ETA" "$(tr '\r' '\n' <"$T/.out")" \
	"fetch \[[#.]+\] [1-3]/4 images, [0-9]+/s, ETA [0-9]+m[0-9]+s"
check_eq "fetched on the terminal" "$(q "SELECT count(*) FROM images WHERE post_id LIKE 's_' AND status = 'ok'")" "4"

# Exponential backoff: each retry of a 503 waits at least half the doubled
# delay (the jitter factor is 0.5 to 1.5); only lower bounds are checked.
add_post bo1 "$B/always503/k9" validate
flush_posts
check_status "fetch with --backoff 0.4 --retries 2" 0 "$MMDB" -q images fetch $FLAGS --retries 2 --backoff 0.4 --split validate
check_eq "three tries, then http_error" "$(q "SELECT status || ' ' || attempts FROM images WHERE post_id = 'bo1'")" "http_error 3"
check_eq "retry delays grow: >= 0.2 s, then >= 0.4 s" \
	"$(curl -s "$B/_log" | python3 -c '
import json, sys
t = [t for p, t, u, r in json.load(sys.stdin) if p == "/always503/k9"]
print(len(t) == 3 and t[1] - t[0] >= 0.2 and t[2] - t[1] >= 0.4)')" "True"

check_status "--jobs 0 is a usage error" 2 "$MMDB" images fetch --jobs 0
check_status "--max-bytes 1x is a usage error" 2 "$MMDB" images fetch --max-bytes 1x
check_status "--split nonsense is a usage error" 2 "$MMDB" images fetch --split nonsense
check_status "unknown subcommand" 2 "$MMDB" images frob
check_status "fetch -h" 0 "$MMDB" images fetch -h

#!/bin/sh
# model fetch: the built-in bert-base-uncased/vocab.txt entry fetched from a
# local server (--base-url) and verified; tampered content and a 404 leave
# nothing; an interrupted download resumes with a Range request; a second
# fetch downloads nothing; manifests; usage errors.
. "$(dirname "$0")/lib.sh"

VOCAB="$GOLDEN/vocab.txt"
DIR="$MMDB_CACHE/models/bert-base-uncased"
mkdir -p "$T/good" "$T/bad"
cp "$VOCAB" "$T/good/vocab.txt"
# the same size, one byte changed
python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[1000] ^= 1; open(sys.argv[2], "wb").write(d)' \
	"$VOCAB" "$T/bad/vocab.txt"
head -c 5000 "$VOCAB" >"$T/good/small.txt"
SMALL_SHA=$(sha256sum "$T/good/small.txt" | cut -d' ' -f1)

PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
# serve DIR NAME: tests/imgserver.py over DIR; sets $URL
serve() {
	python3 "$MMDB_TOP/tests/imgserver.py" --root "$1" --port-file "$T/$2.port" 2>>"$T/server.log" &
	PIDS="$PIDS $!"
	i=0
	while [ ! -s "$T/$2.port" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	URL="http://127.0.0.1:$(cat "$T/$2.port")"
}
serve "$T/good" good; G=$URL
serve "$T/bad" bad; BAD=$URL
# how many requests the good server has had for vocab.txt, and their Range headers
log() { python3 -c 'import json, sys, urllib.request
for p, _, _, r in json.load(urllib.request.urlopen(sys.argv[1] + "/_log")):
    if p.endswith("/vocab.txt"): print(p, r or "-")' "$G"; }
leftovers() { find "$MMDB_CACHE/models" -type f 2>/dev/null | sort | tr '\n' ' '; }

# usage
check_status "fetch -h exits 0" 0 "$MMDB" model fetch -h
check_match "fetch -h names --base-url and --manifest" "$(cat "$T/.out")" "--manifest FILE"
check_status "fetch without a name is a usage error" 2 "$MMDB" model fetch
check_status "unknown model is a usage error" 2 "$MMDB" model fetch gpt-17
check_status "unknown file of a model is a usage error" 2 "$MMDB" model fetch bert-base-uncased/nope.bin
check_status "a --base-url that is not http(s) is a usage error" 2 \
	"$MMDB" model fetch bert-base-uncased/vocab.txt --base-url ftp://example.org
out=$("$MMDB" model fetch --list --format csv)
check_match "--list has the real vocab's size and sha256" "$out" \
	"^bert-base-uncased,vocab.txt,231508,07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3,absent"
check_match "--list has resnet50's weights" "$out" "^resnet50,model.safetensors,102469840,[0-9a-f]{64},absent"

# a 404 is a one-line error and leaves no file
check_status "a 404 exits 1" 1 "$MMDB" model fetch bert-base-uncased/vocab.txt --base-url "$G/404"
check_match "the 404 is named" "$(cat "$T/.err")" "HTTP 404"
check_eq "the 404 error is one line" "$(wc -l <"$T/.err" | tr -d ' ')" 1
check_eq "a 404 leaves no file" "$(leftovers)" ""

# tampered content: rejected, nothing under the final name, no .part
check_status "wrong content exits 1" 1 "$MMDB" model fetch bert-base-uncased/vocab.txt --base-url "$BAD/range"
check_match "wrong content: a sha256 mismatch" "$(cat "$T/.err")" "sha256 [0-9a-f]{64}, expected 07eced37"
check_eq "wrong content: one line" "$(wc -l <"$T/.err" | tr -d ' ')" 1
check_eq "wrong content leaves no file" "$(leftovers)" ""

# an interrupted download (a server dripping 64 bytes every 0.25 s; mmdb killed)
"$MMDB" model fetch bert-base-uncased/vocab.txt --base-url "$G/drip" >"$T/drip.out" 2>&1 &
FPID=$!
i=0
while [ "$(stat -c %s "$DIR/vocab.txt.part" 2>/dev/null || echo 0)" -lt 512 ] && [ $i -lt 1200 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -TERM $FPID 2>/dev/null
wait $FPID 2>/dev/null
have=$(stat -c %s "$DIR/vocab.txt.part" 2>/dev/null || echo 0)
check_match "the interrupted download left a partial .part" "$have" "^[1-9][0-9]*$"
[ "$have" -lt 231508 ] && ok "the .part is not whole ($have bytes)" || fail "the .part is whole ($have bytes)"
[ ! -e "$DIR/vocab.txt" ] && ok "nothing under the final name while partial" || fail "vocab.txt exists while partial"

check_status "the resumed fetch exits 0" 0 "$MMDB" model fetch bert-base-uncased/vocab.txt --base-url "$G/range"
resumed=$(cat "$T/.out")
check_match "the resume sent Range: bytes=$have-" "$(log | grep '^/range/')" \
	"^/range/bert-base-uncased/resolve/main/vocab.txt bytes=$have-$"
check "the fetched vocab.txt is the real one" cmp "$DIR/vocab.txt" "$VOCAB"
[ ! -e "$DIR/vocab.txt.part" ] && ok "no .part after the resume" || fail "vocab.txt.part is left"
check_match "says fetched" "$resumed" "^bert-base-uncased/vocab.txt: fetched \(231508 bytes"
check_match "prints the mmdb run flags with the absolute path" "$resumed" \
	"^bert-base-uncased: mmdb run --text-model bert-base --vocab $(cd "$DIR" && pwd -P)/vocab.txt$"

# a second fetch does not download again
before=$(log | wc -l)
check_status "fetching again exits 0" 0 "$MMDB" model fetch bert-base-uncased/vocab.txt --base-url "$G/range"
check_match "fetching again: up to date" "$(cat "$T/.out")" "^bert-base-uncased/vocab.txt: up to date"
check_eq "fetching again sends no request" "$(log | wc -l)" "$before"

# a damaged file under the final name is fetched anew
printf 'x' | dd of="$DIR/vocab.txt" bs=1 seek=10 conv=notrunc 2>/dev/null
check_status "a damaged file is fetched again" 0 "$MMDB" model fetch bert-base-uncased/vocab.txt --base-url "$G/range"
check "... and is whole again" cmp "$DIR/vocab.txt" "$VOCAB"
check_eq "... with one more request" "$(log | wc -l)" "$((before + 1))"
check_match "--list shows it present" "$("$MMDB" model fetch --list --format csv)" "^bert-base-uncased,vocab.txt,.*,present"

# manifests: a relative source under --base-url, a URL as it is, wrong sizes, bad lines
printf '# mirror\n\nsmall range/small.txt 5000 %s\n' "$SMALL_SHA" >"$T/m1"
check_status "a manifest entry under --base-url" 0 "$MMDB" model fetch small --manifest "$T/m1" --base-url "$G"
check "... is fetched whole" cmp "$MMDB_CACHE/models/small/small.txt" "$T/good/small.txt"
printf 'abs %s/range/small.txt 5000 %s\n' "$G" "$SMALL_SHA" >"$T/m2"
check_status "a manifest URL without --base-url" 0 "$MMDB" model fetch abs --manifest "$T/m2"
check "... is fetched whole" cmp "$MMDB_CACHE/models/abs/small.txt" "$T/good/small.txt"
printf 'long range/small.txt 5001 %s\n' "$SMALL_SHA" >"$T/m3"
check_status "a size that does not match exits 1" 1 "$MMDB" model fetch long --manifest "$T/m3" --base-url "$G"
check_match "... naming both sizes" "$(cat "$T/.err")" "5000 bytes, expected 5001"
printf 'short range/small.txt 4000 %s\n' "$SMALL_SHA" >"$T/m4"
check_status "a larger file than announced exits 1" 1 "$MMDB" model fetch short --manifest "$T/m4" --base-url "$G"
check_eq "wrong sizes leave no file" "$(find "$MMDB_CACHE/models/long" "$MMDB_CACHE/models/short" -type f | wc -l | tr -d ' ')" 0
printf 'small range/small.txt 5000 %s\nsmall range/x.txt lots %s\n' "$SMALL_SHA" "$SMALL_SHA" >"$T/m5"
check_status "a bad manifest line exits 1" 1 "$MMDB" model fetch small --manifest "$T/m5" --base-url "$G"
check_match "... naming the file and line" "$(cat "$T/.err")" "m5:2: size"
printf 'small range/small.txt 5000\n' >"$T/m6"
check_status "a short manifest line exits 1" 1 "$MMDB" model fetch small --manifest "$T/m6"
check_match "... saying what a line holds" "$(cat "$T/.err")" "m6:1: want 4 fields"

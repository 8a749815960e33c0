#!/bin/sh
# mmdb vocab build / add / list on the real sample titles, inserted with
# mmdb sql --write: specials first, every title character known, recorded
# in the vocabs table, atomic and reproducible; train split preferred.
. "$(dirname "$0")/lib.sh"

TSV="$SAMPLE/multimodal_validate.tsv"
if [ ! -f "$TSV" ]; then
	skip "sample titles: $TSV is absent"
	exit 0
fi
# posts_sql FILE SPLIT: INSERT statements for the posts of a real TSV file.
posts_sql() {
	python3 - "$1" "$2" <<'PY'
import csv, sys
csv.field_size_limit(1 << 30)
q = lambda s: "'" + s.replace("'", "''") + "'"
print("BEGIN;")
with open(sys.argv[1], encoding="utf-8", newline="") as fh:
    for row in csv.DictReader(fh, delimiter="\t"):
        print("INSERT INTO posts(id, dataset_id, split, title) VALUES (%s, 1, %s, %s);"
              % (q(row["id"]), q(sys.argv[2]), q(row["title"])))
print("COMMIT;")
PY
}

check_status "vocab -h works" 0 "$MMDB" vocab -h
check_status "vocab build -h works" 0 "$MMDB" vocab build -h
check_status "vocab without a subcommand is a usage error" 2 "$MMDB" vocab
check_status "an unknown subcommand is a usage error" 2 "$MMDB" vocab frob
check_status "--size 6 is too small" 2 "$MMDB" vocab build --size 6
check_status "--size must be a number" 2 "$MMDB" vocab build --size 80x
check_status "--min-count 0 is refused" 2 "$MMDB" vocab build --min-count 0
check_status "building with no posts fails" 1 "$MMDB" vocab build
check_match "saying why" "$(cat "$T/.err")" "no titles"

"$MMDB" sql --write "INSERT INTO datasets(name) VALUES ('fakeddit')" >/dev/null
posts_sql "$TSV" validate >"$T/posts.sql"
check "real titles inserted" "$MMDB" sql --write <"$T/posts.sql"
check_eq "9996 posts" "$(q 'SELECT count(*) FROM posts')" "9996"

check_status "vocab build succeeds" 0 "$MMDB" vocab build
path=$(cat "$T/.out")
check_match "it names where it wrote (all splits, no train posts)" "$(cat "$T/.err")" "from 9996 titles \(all splits\)"
check_status "the file exists" 0 test -f "$path"
sha=$(sha256sum "$path" | cut -d' ' -f1)
check_eq "default path: <cache>/vocab/vocab-<sha8>.txt" "$path" "$(cd "$MMDB_CACHE" && pwd -P)/vocab/vocab-$(echo "$sha" | cut -c1-8).txt"
check_eq "specials first, ids 0..4" "$(head -5 "$path" | tr '\n' ' ')" "[PAD] [UNK] [CLS] [SEP] [MASK] "
lines=$(wc -l <"$path" | tr -d ' ')
check_eq "recorded in vocabs (path, sha256, size, source)" \
	"$(q "SELECT path || '|' || sha256 || '|' || size || '|' || source FROM vocabs")" "$path|$sha|$lines|built"
check_eq "no duplicate tokens" "$(sort "$path" | uniq -d | wc -l | tr -d ' ')" "0"
check_status "at most --size tokens (8000 by default)" 0 test "$lines" -le 8000
check_match "frequent words are whole tokens" "$(grep -x -e the -e trump -e photoshopped "$path" | tr '\n' ' ')" "the trump"
check_eq "words are normalised (no upper case)" "$(grep -c '[A-Z]' "$path" | tr -d ' ')" "5"
check_status "no temporary files left" 1 sh -c "ls '$MMDB_CACHE/vocab' | grep -v '^vocab-[0-9a-f]*\.txt\$'"

# Every title tokenizes without [UNK] (no word of them is over 100 characters).
python3 -c '
import csv, json, sys
csv.field_size_limit(1 << 30)
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", newline=""), delimiter="\t"):
    print(json.dumps(r["title"]))' "$TSV" >"$T/titles.json"
unk=$("$MMDB" tokenize --vocab "$path" --json --full <"$T/titles.json" | grep -c '"ids_full":\[\(.*,\)\?1[],]')
check_eq "no title has an [UNK] with the built vocab" "$unk" "0"
n=$("$MMDB" tokenize --vocab "$path" --full <"$T/titles.json" | wc -w | tr -d ' ')
m=$("$MMDB" tokenize --vocab "$SHARED/golden/vocab.txt" --full <"$T/titles.json" 2>/dev/null | wc -w | tr -d ' ')
[ -f "$SHARED/golden/vocab.txt" ] && check "8000 tokens split titles into at most 1.3x bert-base-uncased's pieces ($n vs $m)" \
	test "$((n * 10))" -le "$((m * 13))"

check_eq "building again gives the same file" "$("$MMDB" -q vocab build)" "$path"
check_eq "and no second row" "$(q 'SELECT count(*) FROM vocabs')" "1"

check_status "--size 60 --out FILE" 0 "$MMDB" vocab build --size 60 --out "$T/small.txt"
check_eq "exactly 60 tokens" "$(wc -l <"$T/small.txt" | tr -d ' ')" "60"
check_match "warns that characters were left out" "$(cat "$T/.err")" "characters do not fit in 60 tokens"
check_eq "recorded at its absolute path" "$(q "SELECT size || source FROM vocabs WHERE path = '$(cd "$T" && pwd -P)/small.txt'")" "60built"
check_status "the small vocab loads" 0 sh -c "echo 'hello world' | '$MMDB' tokenize --vocab '$T/small.txt' >/dev/null"
check_status "--min-count 100000: specials and characters only" 0 "$MMDB" vocab build --min-count 100000 --out "$T/chars.txt"
check_eq "no token longer than one character (## aside)" "$(python3 -c '
import sys
print(sum(len(l.rstrip("\n").removeprefix("##")) > 1 for l in list(open(sys.argv[1], encoding="utf-8"))[5:]))' "$T/chars.txt")" "0"
check_status "--out into a missing directory fails" 1 "$MMDB" vocab build --out "$T/no/such/dir/v.txt"
check_match "naming it" "$(cat "$T/.err")" "no/such/dir"

# With train posts, only their titles count.
"$MMDB" sql --write "INSERT INTO posts(id, dataset_id, split, title) VALUES
	('t1', 1, 'train', 'Zebras quietly zigzag'), ('t2', 1, 'train', 'zebras and Quokkas'),
	('t3', 1, 'train', NULL)" >/dev/null
check_status "build from the train split" 0 "$MMDB" vocab build --out "$T/train.txt"
check_match "says so" "$(cat "$T/.err")" "from 2 titles \(train splits\)"
check_eq "train words only" "$(sed '1,5d' "$T/train.txt" | grep -v '^##' | awk 'length($0) > 1' | tr '\n' ' ')" "zebras "

# vocab add / list
if [ -f "$SHARED/golden/vocab.txt" ]; then
	check_status "vocab add records a pretrained vocab" 0 "$MMDB" vocab add "$SHARED/golden/vocab.txt"
	id=$(cat "$T/.out")
	check_eq "as source 'file' with its size" "$(q "SELECT size || ' ' || source FROM vocabs WHERE id = $id")" "30522 file"
	check_eq "adding it again gives the same id" "$("$MMDB" vocab add "$SHARED/golden/vocab.txt")" "$id"
fi
check_status "vocab add refuses a file that is not a vocab" 1 "$MMDB" vocab add "$T/posts.sql"
check_match "naming it" "$(cat "$T/.err")" "posts.sql"
check_match "vocab list shows them" "$("$MMDB" vocab list)" "small.txt"
check_eq "vocab list --format csv: a line per vocab" "$("$MMDB" vocab list --format csv | tail -n +2 | wc -l | tr -d ' ')" "$(q 'SELECT count(*) FROM vocabs')"

# The same titles through mmdb ingest give the same vocab, byte for byte.
export MMDB_DB="$T/ingested.db"
check_status "mmdb ingest of the real file" 0 "$MMDB" -q ingest "$TSV"
check_status "vocab build on the ingested posts" 0 "$MMDB" -q vocab build --out "$T/ingested.txt"
check_eq "equals the vocab of the titles read by python's csv" \
	"$(sha256sum <"$T/ingested.txt" | cut -d' ' -f1)" "$sha"

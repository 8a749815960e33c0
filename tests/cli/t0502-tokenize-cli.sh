#!/bin/sh
# mmdb tokenize: plain and JSON input, output modes, vocab and input errors.
. "$(dirname "$0")/lib.sh"

V="$T/vocab.txt"
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n,\n!\ncafe\nun\n##aff\n##able\n' >"$V"

check_status "-h works" 0 "$MMDB" tokenize -h
check_match "-h describes --json" "$("$MMDB" tokenize -h)" "--json"
check_status "--vocab is required" 2 "$MMDB" tokenize </dev/null
check_status "--max-len must be a number" 2 "$MMDB" tokenize --vocab "$V" --max-len 8x </dev/null
check_status "--max-len 1 is too short" 2 "$MMDB" tokenize --vocab "$V" --max-len 1 </dev/null
check_status "an unknown option is a usage error" 2 "$MMDB" tokenize --vocab "$V" --frob </dev/null

out=$(printf 'Hello, World!\nunaffable\n' | "$MMDB" tokenize --vocab "$V" --max-len 8)
check_eq "plain: padded ids, one line a text" "$out" "2 5 7 6 8 3 0 0
2 10 11 12 3 0 0 0"
out=$(printf 'Hello, World!\n' | "$MMDB" tokenize --vocab "$V" --max-len 4)
check_eq "truncation keeps [SEP]" "$out" "2 5 7 3"
out=$(printf 'Café [MASK] xyz\n' | "$MMDB" tokenize --vocab "$V" --tokens)
check_eq "--tokens: accents stripped, literal [MASK], unknown word" "$out" "[CLS] cafe [MASK] [UNK] [SEP]"
printf 'Hello, World!\n\n' | "$MMDB" tokenize --vocab "$V" --full >"$T/full.out"
check_eq "--full: no specials, no padding" "$(sed -n 1p "$T/full.out")" "5 7 6 8"
check_eq "--full: an empty text gives an empty line" "$(wc -l <"$T/full.out" | tr -d ' '),$(sed -n 2p "$T/full.out")" "2,"
out=$(printf 'Héllo,世界 [CLS]\n' | "$MMDB" tokenize --words)
check_eq "--words needs no vocab" "$out" "hello , 世 界 [ cls ]"

out=$(printf '"Hello,\\nWorld!"\n  "caf\\u00e9\\t\\ud83d\\ude00"  \n' | "$MMDB" tokenize --vocab "$V" --json --max-len 6)
check_eq "--json: escapes, newline inside a text" "$out" '{"input_ids":[2,5,7,6,8,3],"attention_mask":[1,1,1,1,1,1]}
{"input_ids":[2,9,1,3,0,0],"attention_mask":[1,1,1,1,0,0]}'
out=$(printf '"a b"\n' | "$MMDB" tokenize --vocab "$V" --json --full --max-len 3)
check_eq "--json --full adds ids_full" "$out" '{"input_ids":[2,1,3],"attention_mask":[1,1,1],"ids_full":[1,1]}'
out=$(printf '"\\"hello\\" world"\n' | "$MMDB" tokenize --vocab "$V" --json --tokens)
check_eq "--json --tokens" "$out" '{"tokens":["[CLS]","[UNK]","hello","[UNK]","world","[SEP]"]}'

printf '"ok"\n"also ok"\nnot json\n' >"$T/bad.json"
check_status "bad JSON input fails" 1 "$MMDB" tokenize --vocab "$V" --json <"$T/bad.json"
check_match "naming the line" "$(cat "$T/.err")" "line 3: not a JSON string"
check_eq "lines before it were written" "$(wc -l <"$T/.out" | tr -d ' ')" "2"
printf '"unterminated\n' >"$T/bad.json"
check_status "an unterminated string fails" 1 "$MMDB" tokenize --vocab "$V" --json <"$T/bad.json"
check_match "saying so" "$(cat "$T/.err")" "line 1: unterminated"
printf '"\\ud800 x"\n' >"$T/bad.json"
check_status "a lone surrogate fails" 1 "$MMDB" tokenize --vocab "$V" --json <"$T/bad.json"
check_match "saying so" "$(cat "$T/.err")" "line 1: lone surrogate"

check_status "a missing vocab fails" 1 "$MMDB" tokenize --vocab "$T/nope.txt" </dev/null
check_match "naming the file" "$(cat "$T/.err")" "cannot open vocab '.*nope.txt'"
: >"$T/empty.txt"
check_status "an empty vocab fails" 1 "$MMDB" tokenize --vocab "$T/empty.txt" </dev/null
check_match "naming the file" "$(cat "$T/.err")" "vocab '.*empty.txt' is empty"
# Binary bytes of our own ($MMDB may be a wrapper script, as under make valgrind).
printf '[PAD]\n[UNK]\n\177ELF\002\001\001\000\000\000\n' >"$T/binary.txt"
check_status "a binary vocab fails" 1 "$MMDB" tokenize --vocab "$T/binary.txt" </dev/null
check_match "naming the file" "$(cat "$T/.err")" "vocab '.*binary.txt' is not a text file"
printf 'hello\nworld\n' >"$T/nounk.txt"
check_status "a vocab without [UNK] fails" 1 "$MMDB" tokenize --vocab "$T/nounk.txt" </dev/null
check_match "naming the file and the token" "$(cat "$T/.err")" "vocab '.*nounk.txt' has no \[PAD\]|\[UNK\]"

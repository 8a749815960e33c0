#!/bin/sh
# bench_tokenizer: titles per second on one core, mmdb's tokenizer (C,
# tok_encode to 80 ids + mask) against Hugging Face tokenizers'
# BertWordPieceTokenizer (Rust, encode_batch on one thread, truncation and
# padding to 80) from the same vocab, on the real sample titles repeated.
# Rates are per CPU second of the process (so per core, and fair on a
# shared, loaded machine); both sides run single-threaded.
#
#   BENCH_REPEAT=20   passes over the ~20k sample titles
set -u
: "${MMDB:?run through tests/bench/run.sh (make bench)}"
R=${BENCH_REPEAT:-20}
SAMPLE="$MMDB_SHARED/fakeddit-sample"
VOCAB="$MMDB_SHARED/golden/vocab.txt"
W=$(mktemp -d "${TMPDIR:-/tmp}/mmdb-bench-tok.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM

[ -f "$VOCAB" ] || { echo "bench_tokenizer: $VOCAB is absent (skipped)"; exit 0; }
[ -f "$MMDB_TOP/libmmdb.a" ] || { echo "bench_tokenizer: build first (make)"; exit 1; }

# Titles, NUL-separated, exactly as in the TSV files (RFC 4180 quoting).
python3 - "$SAMPLE" "$W/titles" "$R" <<'PY' || exit 1
import csv, sys
csv.field_size_limit(1 << 30)
n = 0
with open(sys.argv[2], "wb") as out:
    for f in ("multimodal_validate.tsv", "multimodal_test_public.tsv"):
        with open("%s/%s" % (sys.argv[1], f), encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                out.write(row["title"].encode() + b"\0")
                n += 1
print("titles: %d real Fakeddit titles, each side encodes them %s times" % (n, sys.argv[3]))
PY

cat >"$W/bench.c" <<'C'
#include "tokenizer.h"
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
int main(int argc, char **argv)
{
	struct tokenizer *t;
	FILE *f = fopen(argv[2], "rb");
	static char buf[1 << 24];
	size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0, n = 0, i;
	const char **s = malloc(sizeof(*s) * 100000);
	size_t *l = malloc(sizeof(*l) * 100000);
	int r, reps = atoi(argv[3]);
	int32_t ids[80];
	uint8_t mask[80];
	long tokens = 0;
	double t0, dt;
	if (!f || tok_load(&t, argv[1]))
		return 1;
	for (i = 0; i < len; n++) {
		s[n] = buf + i;
		l[n] = strlen(buf + i);
		i += l[n] + 1;
	}
	for (i = 0; i < n; i++) /* warm up */
		tokens += tok_encode(t, s[i], l[i], 80, ids, mask);
	tokens = 0;
	t0 = cpu_seconds();
	for (r = 0; r < reps; r++)
		for (i = 0; i < n; i++)
			tokens += tok_encode(t, s[i], l[i], 80, ids, mask);
	dt = cpu_seconds() - t0;
	printf("%.0f %.1f\n", (double)n * reps / dt, (double)tokens / ((double)n * reps));
	tok_free(t);
	return 0;
}
C
${CC:-cc} -O2 -I"$MMDB_TOP/src" -o "$W/bench" "$W/bench.c" "$MMDB_TOP/libmmdb.a" -lutf8proc -lm -lpthread || exit 1
set -- $("$W/bench" "$VOCAB" "$W/titles" "$R") || exit 1
mmdb_rate=$1
echo "mmdb tok_encode:                     $(printf '%10.0f' "$mmdb_rate") titles/s (one core; $2 tokens a title incl. [CLS] [SEP])"

hf=$(RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false python3 - "$VOCAB" "$W/titles" "$R" <<'PY'
import sys, time
try:
    from tokenizers import BertWordPieceTokenizer
except ImportError:
    print("none none"); sys.exit(0)
tok = BertWordPieceTokenizer(sys.argv[1], lowercase=True)
tok.enable_truncation(80)
tok.enable_padding(length=80)
titles = open(sys.argv[2], "rb").read().decode().split("\0")[:-1]
reps = int(sys.argv[3])
tok.encode_batch(titles)
t0 = time.process_time()
for _ in range(reps):
    tok.encode_batch(titles)
batch = len(titles) * reps / (time.process_time() - t0)
t0 = time.process_time()
for t in titles:
    tok.encode(t)
single = len(titles) / (time.process_time() - t0)
print("%.0f %.0f" % (batch, single))
PY
)
set -- $hf
if [ "$1" = none ]; then
	echo "Hugging Face tokenizers: not installed in .venv (pip install tokenizers): no ratio"
	exit 0
fi
echo "HF BertWordPieceTokenizer batch:     $(printf '%10.0f' "$1") titles/s (encode_batch, RAYON_NUM_THREADS=1)"
echo "HF BertWordPieceTokenizer encode():  $(printf '%10.0f' "$2") titles/s (one call a title, from Python)"
echo "ratio mmdb / HF batch: $(python3 -c "print('%.2fx' % ($mmdb_rate / $1))")   (target: >= 500000 titles/s per core)"

#!/bin/sh
# The batch loader alone (mmdb run --loader-only): batches/s of the full
# pipeline (tokenize, read, decode and resize JPEGs to 224x224, assemble
# batches of 32) with 1 worker and with N workers (N = cores), then reading
# the prep cache. Prints both sides and the ratio.
top=$(cd "$(dirname "$0")/../.." && pwd)
MMDB="$top/mmdb"
PY="$top/.venv/bin/python"
T=$(mktemp -d "${TMPDIR:-/tmp}/mmdb-bench-loader.XXXXXX")
trap 'rm -rf "$T"' EXIT
export MMDB_DB="$T/mmdb.db" MMDB_CACHE="$T/cache"
N=$(nproc)
POSTS=${BENCH_POSTS:-1024}

"$PY" "$top/examples/gen_fakeddit.py" --out "$T/data" --train "$POSTS" --validate 32 --test 32 \
	--image-width 320 --jobs "$N" >/dev/null || exit 1
"$MMDB" -q ingest "$T/data"/multimodal_*.tsv >/dev/null || exit 1
"$MMDB" -q images import "$T/data/images" >/dev/null || exit 1
"$MMDB" -q vocab build >/dev/null || exit 1

rate() { sed -n "s/^loader epoch $1: .*: \([0-9.]*\) batches\/s.*/\1/p"; }
args="--loader-only --image-size 224 --batch-size 32 --max-len 80"
one=$("$MMDB" -q run $args --workers 1 --no-prep-cache | rate 1)
many=$("$MMDB" -q run $args --workers "$N" --no-prep-cache | rate 1)
out=$("$MMDB" -q run $args --workers "$N" --prep-cache)
cached=$(printf '%s\n' "$out" | rate 2)
echo "loader, $POSTS posts of 320x240 JPEG -> 224x224, batch 32:"
echo "  1 worker:            $one batches/s"
echo "  $N workers:           $many batches/s   (ratio $(awk "BEGIN{printf \"%.2f\", $many / $one}")x)"
echo "  $N workers, prep cache: $cached batches/s (ratio to 1 worker decoding $(awk "BEGIN{printf \"%.2f\", $cached / $one}")x)"

#!/bin/sh
# make demo: the whole of mmdb offline in a few minutes on two CPU cores.
# Generates a synthetic Fakeddit-shaped dataset (examples/gen_fakeddit.py)
# whose label needs the title and the image together, ingests it, imports
# its images, builds a vocab, trains a text-only, an image-only and a fused
# model (small ones, from random initialisation), and compares them.
# Everything lands in demo/ (demo/mmdb.db, demo/cache, demo/data).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
MMDB="$top/mmdb"
PY="$top/.venv/bin/python"
[ -x "$PY" ] || PY=python3
DEMO="$top/demo"
DB="$DEMO/mmdb.db"
export MMDB_DB="$DB" MMDB_CACHE="$DEMO/cache"

rm -rf "$DEMO"
mkdir -p "$DEMO"
say() { printf '\n== %s\n' "$*"; }

say "generating a synthetic dataset (1,200 train, 300 validate, 300 test posts)"
"$PY" examples/gen_fakeddit.py --out "$DEMO/data" --train 1200 --validate 300 --test 300 \
	--image-px 64 --seed 7

say "ingesting posts"
"$MMDB" -q ingest "$DEMO/data"/multimodal_*.tsv
say "importing images"
"$MMDB" -q images import "$DEMO/data/images"
say "building a vocab from the titles"
"$MMDB" -q vocab build

# Small models from random initialisation; one seed for all three runs.
common="--text-model bert-tiny --image-model resnet-small --image-size 32 --max-len 16
	--batch-size 32 --epochs 6 --optimizer adamw --lr 1e-3 --min-lr 1e-5 --scheduler cosine
	--warmup 20 --early-stop 0 --dropout 0.1 --seed 7 --threads 1 --workers 2 --prep-cache --tag demo"

say "training a text-only run"
"$MMDB" run --name demo-text --modalities text $common
say "training an image-only run"
"$MMDB" run --name demo-image --modalities image $common
say "training a fused run (text and image, concatenated features)"
"$MMDB" run --name demo-fused --modalities text,image --fusion concat $common

say "mmdb runs"
"$MMDB" runs --tag demo

fused=$("$MMDB" sql --format csv "SELECT test_accuracy > (SELECT max(test_accuracy) FROM run_summary
	WHERE name IN ('demo-text', 'demo-image')) AS beats FROM run_summary WHERE name = 'demo-fused'" |
	sed -n 2p | tr -d '\r')
"$MMDB" sql "SELECT name, round(test_accuracy, 4) AS test_accuracy,
	round(train_samples_per_s, 1) AS samples_per_s,
	round((SELECT avg(loader_wait) FROM epochs e WHERE e.run_id = s.id AND e.split = 'train'), 4)
	AS loader_wait_share FROM run_summary s WHERE name LIKE 'demo-%' ORDER BY id"

cat <<EOF

The fused run $( [ "$fused" = 1 ] && echo "beats" || echo "does NOT beat") both single-modality runs on the test split.

Look around:
  ./mmdb --db demo/mmdb.db tui                       the dashboard
  ./mmdb --db demo/mmdb.db show demo-fused           one run in full
  ./mmdb --db demo/mmdb.db compare demo-text demo-fused
  ./mmdb --db demo/mmdb.db sql "SELECT * FROM run_summary"
  ./mmdb --db demo/mmdb.db sql < examples/queries.sql
EOF
[ "$fused" = 1 ]

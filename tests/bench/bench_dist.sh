#!/bin/sh
# Data-parallel training on the CPU: mmdb run with 2 ranks x 1 thread
# against 1 rank x 1 thread (scaling efficiency: 2-rank samples/s over twice
# the 1-rank samples/s; the batch is per rank), and against PyTorch's
# DistributedDataParallel from Python on the same text network, vocab,
# batch, length and threads (gloo over loopback both). Text only (bert-mini,
# 64 tokens, batch 16 a rank, AdamW). mmdb's figure is the train samples/s
# of its second epoch (the first warms up). Results go to
# tests/bench/results/dist-<date>.txt. BENCH_POSTS (512), BENCH_MODEL,
# BENCH_REPEAT (2): each side runs that many times, alternating, and its best
# counts (the machine is shared: the best run is the least disturbed one);
# the median of each side and every run's figure are printed as well.
# It also runs two independent 1-rank runs at once (no process group): their
# summed samples/s over twice one run's is what two processes get from this
# machine at all (caches, memory bandwidth, the loader threads), the ceiling
# any data-parallel engine's efficiency can reach here (within the
# machine's noise: it can read above 1).
top=$(cd "$(dirname "$0")/../.." && pwd)
MMDB=${MMDB:-$top/mmdb}
PY=${PY:-$top/.venv/bin/python}
posts=${BENCH_POSTS:-512}
repeat=${BENCH_REPEAT:-2}
model=${BENCH_MODEL:-bert-mini}
L=64 B=16
T=$(mktemp -d "${TMPDIR:-/tmp}/mmdb-bench-dist.XXXXXX")
trap 'rm -rf "$T"' EXIT
export MMDB_DB="$T/mmdb.db" MMDB_CACHE="$T/cache" OMP_NUM_THREADS=1
out="$top/tests/bench/results/dist-$(date +%Y-%m-%d).txt"

"$PY" "$top/examples/gen_fakeddit.py" --out "$T/data" --train "$posts" --validate 32 --test 32 \
	--image-px 32 --seed 3 >/dev/null &&
	"$MMDB" -q ingest "$T/data"/multimodal_*.tsv >/dev/null &&
	"$MMDB" -q vocab build >/dev/null || { echo "bench_dist: setup failed"; exit 1; }
vocab=$(sqlite3 "$MMDB_DB" "SELECT size FROM vocabs ORDER BY id DESC LIMIT 1")
args="--modalities text --text-model $model --max-len $L --batch-size $B --optimizer adamw
	--lr 1e-3 --threads 1 --workers 1 --epochs 2 --early-stop 0 --scheduler none"
sps() { sqlite3 "$MMDB_DB" "SELECT printf('%.3f', e.samples_per_s) FROM epochs e JOIN runs r
	ON r.id = e.run_id WHERE r.name = '$1' AND e.split = 'train' AND e.epoch = 2"; }

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 > a + 0) ? b : a }'; }
median() { echo $1 | tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END {
	printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk "BEGIN { printf \"%.3f\", $1 / ($2) }"; }
steps=$((posts / (2 * B)))
m1= m2= p1= p2s= p2= c2=
all_m1= all_m2= all_c2= all_p1= all_p2=
i=1
while [ "$i" -le "$repeat" ]; do
	"$MMDB" -q run --name "one$i" $args >/dev/null || { echo "bench_dist: 1-rank run failed"; exit 1; }
	"$MMDB" -q run --name "two$i" $args --nproc 2 >/dev/null || { echo "bench_dist: 2-rank run failed"; exit 1; }
	"$MMDB" -q run --name "pa$i" $args >/dev/null & pa=$!
	"$MMDB" -q run --name "pb$i" $args >/dev/null || { echo "bench_dist: parallel run failed"; exit 1; }
	wait "$pa" || { echo "bench_dist: parallel run failed"; exit 1; }
	a=$(sps "one$i") b=$(sps "two$i") c=$(awk "BEGIN { print $(sps "pa$i") + $(sps "pb$i") }")
	m1=$(best "$m1" "$a") m2=$(best "$m2" "$b") c2=$(best "$c2" "$c")
	all_m1="$all_m1 $a" all_m2="$all_m2 $b" all_c2="$all_c2 $c"
	r=$("$PY" "$top/tests/bench/bench_dist_ddp.py" 1 "$model" "$vocab" $L $B "$steps" 3 1) || exit 1
	p1=$(best "$p1" "${r%% *}") all_p1="$all_p1 ${r%% *}"
	r=$("$PY" "$top/tests/bench/bench_dist_ddp.py" 2 "$model" "$vocab" $L $B "$steps" 3 1) || exit 1
	[ "$(best "$p2s" "${r%% *}")" = "$p2s" ] || { p2s=${r%% *}; p2=$r; }
	all_p2="$all_p2 ${r%% *}"
	i=$((i + 1))
done
d1=$(median "$all_m1") d2=$(median "$all_m2") dc=$(median "$all_c2") q1=$(median "$all_p1") q2=$(median "$all_p2")
{
	echo "bench_dist $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(getconf _NPROCESSORS_ONLN) vCPUs ($(uname -m)), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "text $model, $L tokens, batch $B a rank, vocab $vocab, $posts train posts, 1 thread a rank, gloo over loopback, best of $repeat"
	echo "  mmdb 1 rank             $m1 samples/s"
	echo "  mmdb 2 ranks            $m2 samples/s"
	echo "  scaling efficiency      $(ratio "$m2" "2 * $m1")  (2 ranks / (2 x 1 rank))"
	echo "  2 x 1 rank at once      $c2 samples/s (two separate runs, no process group)"
	echo "  no-engine efficiency    $(ratio "$c2" "2 * $m1")  (2 runs at once / (2 x 1 rank): what 2 processes get with no collectives)"
	echo "  pytorch 1 process       $p1 samples/s"
	echo "  pytorch DDP 2 ranks     $p2"
	echo "  pytorch DDP efficiency  $(ratio "$p2s" "2 * $p1")"
	echo "  ratio mmdb/DDP, 2 ranks $(ratio "$m2" "$p2s")"
	echo "  medians of $repeat: mmdb $d1 -> $d2 (efficiency $(ratio "$d2" "2 * $d1"), no-engine $(ratio \
		"$dc" "2 * $d1")), DDP $q1 -> $q2 (efficiency $(ratio "$q2" "2 * $q1")), mmdb/DDP $(ratio "$d2" "$q2")"
	echo "  every run (samples/s): mmdb 1 rank$all_m1; 2 ranks$all_m2; 2 at once$all_c2;"
	echo "    DDP 1 process$all_p1; 2 ranks$all_p2"
} | tee -a "$out"

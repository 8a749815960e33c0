#!/bin/bash
# The GPU check and benchmark, in one call on the GPU machine (see README,
# "Training on a GPU"). Builds mmdb against the libtorch inside that
# machine's PyTorch (with CUDA), then:
#   1. mmdb env shows CUDA and the device;
#   2. a few fp32 training steps on CUDA match the same steps on the CPU;
#   3. a synthetic dataset of 20k+ posts (about 320 px JPEGs, as Fakeddit's)
#      is ingested and its images imported;
#   4. mmdb run --device cuda with bert-base + resnet50 at 224 px trains
#      with bf16 autocast: loss falls, predictions are written;
#   5. checkpoint, Ctrl-C and --resume work on CUDA; with 2 GPUs or more,
#      mmdb run --nproc 2 trains over NCCL;
#   6. the original recipe in Python (fp32) and a tuned Python version are
#      timed on the same card; the table goes to $OUT/gpu-<date>.txt.
# Each step goes on after a failure of an earlier one; the report says which
# passed. Usage (on the GPU machine, in the repository root):
#   OUT=/some/dir bash tests/gpu/run.sh
# Needs .gpudeps.tar.xz (tests/gpu/pack-deps.sh) when the machine lacks
# mmdb's C libraries. GPU_POSTS, GPU_BATCH, REF_STEPS tune the sizes.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
OUT=${OUT:-$top/tests/tmp/gpu-out}
mkdir -p "$OUT"
W=$(mktemp -d /tmp/mmdb-gpu.XXXXXX)
REPORT="$OUT/report.txt"
: >"$REPORT"
exec > >(tee -a "$OUT/log.txt") 2>&1
START=$(date +%s)
POSTS=${GPU_POSTS:-20000}
BATCH=${GPU_BATCH:-64}
REF_STEPS=${REF_STEPS:-30}
DEVICE=${GPU_DEVICE:-cuda}
PY=${PYTHON:-python3}
# Model sizes (a CPU dry run passes small ones), Python reference options.
TEXT=${GPU_TEXT:-bert-base}
IMAGE=${GPU_IMAGE:-resnet50}
SIZE=${GPU_SIZE:-224}
REF_ARGS=${REF_ARGS:-}
pass=0 failn=0

say() { echo "$*" | tee -a "$REPORT"; }
stamp() { echo "== [$(($(date +%s) - START))s] $*"; }
result() { if [ "$1" = 0 ]; then pass=$((pass + 1)); say "ok - $2"; else failn=$((failn + 1)); say "not ok - $2"; fi; }

stamp "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$OUT/gpu.txt"
GPU_NAME=$(head -1 "$OUT/gpu.txt" | cut -d, -f1)
$PY -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no cuda")'
TORCH_DIR=$($PY -c 'import torch, os; print(os.path.dirname(torch.__file__))')
TORCH_ABI=$($PY -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
TORCH_VER=$($PY -c 'import torch; print(torch.__version__)')
echo "torch dir $TORCH_DIR abi $TORCH_ABI"
NPROC=$(nproc)

stamp "build"
if [ -f .gpudeps.tar.xz ]; then tar -xJf .gpudeps.tar.xz; fi
DEPS=
[ -d .gpudeps ] && DEPS="DEPS_PREFIX=$top/.gpudeps"
command -v make >/dev/null || export PATH="$top/.gpudeps/bin:$PATH"
# CUDA's crt/ and nv/ headers (for c10d's NCCL header) when no toolkit is installed
CUDA=
[ -d "${CUDA_HOME:-/usr/local/cuda}/include/nv" ] || { [ -d .gpudeps/cuda/include/nv ] && CUDA="CUDA_HOME=$top/.gpudeps/cuda"; }
[ -n "${SKIP_BUILD:-}" ] || make -j"$NPROC" TORCH_DIR="$TORCH_DIR" TORCH_ABI="$TORCH_ABI" $DEPS $CUDA mmdb tests/gpu/parity tests/gpu/step_bench >"$OUT/build.txt" 2>&1
rc=$?
tail -5 "$OUT/build.txt"
result $rc "build against $TORCH_DIR ($TORCH_VER)"
[ $rc = 0 ] || { grep -m5 -E 'error|Error' "$OUT/build.txt"; }
grep 'without NCCL' "$OUT/build.txt"
nm -D --undefined-only libmmdb-torch.so 2>/dev/null | grep -q ProcessGroupNCCL
result $? "the wrapper is built with NCCL (ProcessGroupNCCL)"
# the carried libraries' own dependencies, whatever the link recorded
[ -d .gpudeps/lib ] && export LD_LIBRARY_PATH="$top/.gpudeps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export MMDB_DB="$W/mmdb.db" MMDB_CACHE="$W/cache"

stamp "env"
./mmdb env | tee "$OUT/env.txt"
grep -q '^cuda  *available' "$OUT/env.txt" && grep -qi 'h100\|h200\|nvidia' "$OUT/env.txt"
result $? "mmdb env reports CUDA and the device"

stamp "parity fp32 cpu vs cuda"
(cd "$W" && "$top/tests/gpu/parity" --a cpu --b "$DEVICE" --text bert-mini --image resnet18 --size 64 --steps 5 --tol 2e-3) | tee "$OUT/parity.txt"
result ${PIPESTATUS[0]} "fp32 steps on CUDA match the CPU (bert-mini + resnet18)"

stamp "synthetic data: $POSTS train posts"
VAL=$((POSTS / 10)); [ $VAL -gt 2000 ] && VAL=2000
$PY examples/gen_fakeddit.py --out "$W/data" --train "$POSTS" --validate "$VAL" --test "$VAL" \
	--image-width 320 --jobs "$NPROC" >"$OUT/gen.txt" 2>&1
result $? "generate $POSTS synthetic posts"
./mmdb -q ingest "$W"/data/*.tsv && ./mmdb -q images import "$W/data/images" && \
	VOCAB=$(./mmdb -q vocab build --size 8000 | tail -1)
result $? "ingest, import and vocab build"
./mmdb stats

stamp "full-size run: $TEXT + $IMAGE @$SIZE, bf16, batch $BATCH"
"$top/mmdb" run --name gpu-full --device "$DEVICE" --text-model "$TEXT" --image-model "$IMAGE" \
	--image-size "$SIZE" --batch-size "$BATCH" --epochs 2 --lr 3e-5 --workers "$NPROC" --amp \
	--tag gpu 2>&1 | tail -20
rc=$?
./mmdb sql "SELECT epoch, split, printf('%.4f', loss) AS loss, printf('%.4f', accuracy) AS acc, printf('%.1f', samples_per_s) AS samples_s, printf('%.3f', loader_wait) AS loader_wait, printf('%.1f', seconds) AS s FROM epochs WHERE run_id = (SELECT max(id) FROM runs) ORDER BY epoch, split" | tee "$OUT/full.txt"
result $rc "mmdb run on $DEVICE, $TEXT + $IMAGE @$SIZE, amp"
FULL_ID=$(./mmdb sql --format csv "SELECT max(id) FROM runs" | sed -n 2p | tr -d '\r')
L1=$(./mmdb sql --format csv "SELECT loss FROM epochs WHERE run_id=$FULL_ID AND split='train' ORDER BY epoch LIMIT 1" | sed -n 2p | tr -d '\r')
L2=$(./mmdb sql --format csv "SELECT loss FROM epochs WHERE run_id=$FULL_ID AND split='train' ORDER BY epoch DESC LIMIT 1" | sed -n 2p | tr -d '\r')
$PY -c "import sys; sys.exit(0 if float('$L2') < float('$L1') else 1)" 2>/dev/null
result $? "train loss falls ($L1 -> $L2)"
NP=$(./mmdb sql --format csv "SELECT count(*) FROM predictions WHERE run_id=$FULL_ID" | sed -n 2p | tr -d '\r')
NE=$(./mmdb sql --format csv "SELECT count(*) FROM posts WHERE split IN ('validate','test')" | sed -n 2p | tr -d '\r')
[ -n "$NP" ] && [ "$NP" = "$NE" ]
result $? "a prediction for every validate and test post ($NP of $NE)"
MMDB_SPS=$(./mmdb sql --format csv "SELECT max(samples_per_s) FROM epochs WHERE run_id=$FULL_ID AND split='train'" | sed -n 2p | tr -d '\r')
MMDB_WAIT=$(./mmdb sql --format csv "SELECT loader_wait FROM epochs WHERE run_id=$FULL_ID AND split='train' ORDER BY samples_per_s DESC LIMIT 1" | sed -n 2p | tr -d '\r')

stamp "checkpoint, interrupt and resume on CUDA"
./mmdb -q run --name gpu-resume --device "$DEVICE" --text-model bert-mini --image-model resnet18 \
	--image-size 112 --batch-size 64 --epochs 3 --lr 1e-4 --seed 3 --limit 4000 --workers "$NPROC" &
RP=$!
RID=
for i in $(seq 1 120); do
	sleep 1
	RID=$(./mmdb sql --format csv "SELECT id FROM runs WHERE name='gpu-resume' AND epochs_done >= 1" | sed -n 2p | tr -d '\r')
	[ -n "$RID" ] && break
done
kill -INT $RP 2>/dev/null
wait $RP
ST=$(./mmdb sql --format csv "SELECT status FROM runs WHERE name='gpu-resume'" | sed -n 2p | tr -d '\r')
echo "status after Ctrl-C: $ST"
./mmdb -q run --resume "${RID:-0}" --device "$DEVICE"
rc=$?
ST2=$(./mmdb sql --format csv "SELECT status || ' ' || epochs_done FROM runs WHERE name='gpu-resume'" | sed -n 2p | tr -d '\r')
NP2=$(./mmdb sql --format csv "SELECT count(*) FROM predictions p JOIN runs r ON r.id=p.run_id WHERE r.name='gpu-resume'" | sed -n 2p | tr -d '\r')
echo "after resume: $ST2, $NP2 predictions"
[ "$ST" = interrupted ] && [ $rc = 0 ] && case "$ST2" in completed*|early_stopped*) true ;; *) false ;; esac && [ "${NP2:-0}" -gt 0 ]
result $? "Ctrl-C marks interrupted; --resume completes on CUDA with predictions"

stamp "data-parallel on CUDA: 2 ranks over NCCL"
NGPU=$(awk '$1 == "cuda_devices" { print $2 }' "$OUT/env.txt")
if [ "${NGPU:-0}" -ge 2 ]; then
	./mmdb -q run --name gpu-nccl --device "$DEVICE" --nproc 2 --modalities text --text-model bert-mini \
		--batch-size 32 --epochs 1 --lr 1e-4 --seed 4 --limit 2000 --workers 2
	rc=$?
	DP=$(./mmdb sql --format csv "SELECT status || ' ' || world_size || ' ' || backend FROM runs WHERE name='gpu-nccl'" | sed -n 2p | tr -d '\r')
	echo "runs row: $DP"
	[ $rc = 0 ] && [ "$DP" = "completed 2 nccl" ]
	result $? "mmdb run --nproc 2 on CUDA completes over NCCL ($DP)"
else
	# NCCL refuses two ranks on one GPU
	say "skip - 2 ranks over NCCL need 2 GPUs (${NGPU:-0} here)"
fi

stamp "python reference: original recipe (fp32, batch 32)"
$PY tests/gpu/ref_bench.py --mode original --batch 32 --steps "$REF_STEPS" $REF_ARGS | tee "$OUT/ref_original.txt"
ORIG_SPS=$(sed -n 's/^samples_per_s: //p' "$OUT/ref_original.txt")
stamp "python reference: tuned (bf16, channels_last, cudnn.benchmark, fused Adam), batch $BATCH"
$PY tests/gpu/ref_bench.py --mode tuned --batch "$BATCH" --steps "$REF_STEPS" $REF_ARGS | tee "$OUT/ref_tuned.txt"
TUNED_SPS=$(sed -n 's/^samples_per_s: //p' "$OUT/ref_tuned.txt")

stamp "mmdb model step alone (random inputs from host memory), batch $BATCH"
tests/gpu/step_bench --device "$DEVICE" --text "$TEXT" --image "$IMAGE" --size "$SIZE" --batch "$BATCH" --steps "$REF_STEPS" --amp 1 --seed-recipe 1 | tee "$OUT/step_bench.txt"
STEP_SPS=$(sed -n 's/^samples_per_s: //p' "$OUT/step_bench.txt")

stamp "report"
DATE=$(date -u +%Y-%m-%d)
T="$OUT/gpu-$DATE.txt"
$PY - "$ORIG_SPS" "$TUNED_SPS" "$MMDB_SPS" "$MMDB_WAIT" >"$T.tail" <<'PYEOF'
import sys
def f(x):
    try: return float(x)
    except Exception: return float('nan')
o, t, m, w = (f(x) for x in sys.argv[1:5])
flops = 66e9   # training FLOPs per sample, bert-base (L=80) + resnet50 (224 px)
peak = 990e12  # dense bf16 peak, H100/H200 SXM
print(f"{'side':<34}{'samples/s':>12}")
print(f"{'python original recipe (fp32, b32)':<34}{o:>12.1f}")
print(f"{'python tuned (bf16 etc.)':<34}{t:>12.1f}")
print(f"{'mmdb run (end to end, bf16)':<34}{m:>12.1f}")
print(f"mmdb / original: {m / o:.2f}x   mmdb / tuned: {m / t:.2f}x")
print(f"mmdb loader wait share: {w:.3f}")
print(f"original_samples_per_s: {o:.1f}")
print(f"tuned_samples_per_s: {t:.1f}")
print(f"mmdb_samples_per_s: {m:.1f}")
print(f"mmdb_mfu: {m * flops / peak:.3f}")
PYEOF
{
	echo "# GPU benchmark, $DATE"
	echo "device: $GPU_NAME"
	echo "torch: $TORCH_VER; mmdb $(./mmdb --version 2>/dev/null | cut -d' ' -f2)"
	echo "model: bert-base (L=80) + resnet50 (224 px), max fusion, 6 classes"
	echo "python: random inputs already on the GPU (model step only), $REF_STEPS timed steps after 5 warm-up"
	echo "mmdb: mmdb run end to end on $POSTS synthetic posts (320 px JPEGs from the cache), batch $BATCH, best epoch's train samples/s"
	echo
	cat "$T.tail"
	echo "mmdb_model_step_samples_per_s: ${STEP_SPS:-nan}"
} >"$T"
rm -f "$T.tail"
cat "$T" | tee -a "$REPORT"
say "$pass passed, $failn failed"
say "seconds: $(($(date +%s) - START))"
rm -rf "$W"

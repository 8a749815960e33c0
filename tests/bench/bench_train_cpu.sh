#!/bin/sh
# Training samples/s on the CPU: mmdb (libtorch from C) against the same
# network in PyTorch eager (the venv's torch: the same libtorch underneath),
# same batch, same threads. BENCH_THREADS (default: all cores), BENCH_STEPS.
top=$(cd "$(dirname "$0")/../.." && pwd)
MMDB=${MMDB:-$top/mmdb}
PY=${PY:-$top/.venv/bin/python}
threads=${BENCH_THREADS:-$(nproc)}
steps=${BENCH_STEPS:-5}

bench() { # text image size batch warmup
	label="$1 + $2 @$3 px, batch $4"
	m=$("$MMDB" model bench --text "$1" --image "$2" --size "$3" --batch "$4" --steps "$steps" --warmup "$5" \
		--threads "$threads") || { echo "$label: mmdb failed"; return 1; }
	p=$("$PY" "$top/tests/bench/bench_train_cpu.py" "$1" "$2" "$3" "$4" "$steps" "$5" "$threads") ||
		{ echo "$label: python failed"; return 1; }
	ms=${m%% *}; ps=${p%% *}
	echo "train $label, $threads threads:"
	echo "  mmdb           $m"
	echo "  pytorch eager  $p"
	echo "  ratio mmdb/pytorch $(awk "BEGIN { printf \"%.3f\", $ms / $ps }")"
}

bench bert-tiny resnet18 112 16 2
bench bert-base resnet50 224 8 1

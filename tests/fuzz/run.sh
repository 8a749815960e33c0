#!/bin/sh
# Runs the libFuzzer targets built by `make fuzz-build`, each for
# $FUZZ_SECONDS seconds (default 60), one after the other; arguments name
# the targets (default: all). A target's corpus grows in
# tests/fuzz/build/corpus/<target>/ (kept between runs) from the seeds in
# tests/fuzz/corpus/<target>/; crashes, leaks and hangs are written to
# tests/fuzz/build/artifacts/<target>/ and the log to
# tests/fuzz/build/logs/<target>.log. Prints a line per target (runs,
# coverage, features, corpus, seconds) and exits 1 if any target failed.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export MMDB_SHARED="${MMDB_SHARED:-$top/../shared}"
secs=${FUZZ_SECONDS:-60}
build=tests/fuzz/build
targets=${*:-tsv safetensors image archive tokenizer tokenize_json}
failed=""

max_len() {
	case $1 in
	image|archive) echo 65536 ;;
	tsv) echo 4096 ;;
	*) echo 4096 ;;
	esac
}

for t in $targets; do
	bin=$build/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is not built (make fuzz-build)" >&2
		exit 1
	fi
	mkdir -p "$build/corpus/$t" "$build/artifacts/$t" "$build/logs"
	dict=
	[ -f "tests/fuzz/dict/$t.dict" ] && dict="-dict=tests/fuzz/dict/$t.dict"
	log=$build/logs/$t.log
	# -timeout: an input taking over 60 s is reported as a hang.
	"$bin" $dict -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=60 \
		-rss_limit_mb=3072 -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$t/" \
		"$build/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p')
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
	if [ $rc -eq 0 ]; then res=ok; else res="FAILED (exit $rc, see $log)"; failed="$failed $t"; fi
	printf '%-14s runs %-10s cov %-6s ft %-7s corpus %-12s %5ss  %s\n' \
		"$t" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${took:-?}" "$res"
	if [ $rc -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|invariant|Test unit written' "$log" | head -8 | sed 's/^/    /'
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed"
	exit 1
fi

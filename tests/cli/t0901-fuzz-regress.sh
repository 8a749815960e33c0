#!/bin/sh
# The fuzz targets' regression inputs (tests/fuzz/regress/<target>/: each
# once crashed a target or broke one of its invariants) and seed corpora
# (tests/fuzz/corpus/<target>/) replayed through the same target code built
# with gcc's address and undefined-behaviour sanitizers (make fuzz-replay).
# A bug that comes back aborts the replay.
. "$(dirname "$0")/lib.sh"

R="$MMDB_TOP/tests/fuzz/build-replay"
F="$MMDB_TOP/tests/fuzz"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# The sanitizer really is in the replay build.
"$R/replay_tsv" --selftest >"$T/self.out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -Eq 'heap-buffer-overflow|runtime error' "$T/self.out"; then
	ok "the replay build stops a heap overread"
else
	fail "the replay build stops a heap overread (exit $rc)"
	sed 's/^/    /' "$T/self.out" | head -10
fi

for t in tsv safetensors image archive tokenizer tokenize_json; do
	bin="$R/replay_$t"
	if [ ! -x "$bin" ]; then
		fail "$t: $bin is built (make fuzz-replay)"
		continue
	fi
	if [ -d "$F/regress/$t" ]; then
		n=$(ls "$F/regress/$t" | wc -l)
		check "$t: $n regression inputs replay clean" "$bin" "$F/regress/$t"
	fi
	n=$(ls "$F/corpus/$t" | wc -l)
	check "$t: $n seed inputs replay clean" "$bin" "$F/corpus/$t"
done

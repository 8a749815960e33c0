#!/bin/sh
# Runs every test: the cmocka unit binaries given as arguments, then each
# shell test tests/cli/t*.sh (and tests/tui/t*.sh) against ./mmdb. Prints a
# line per test file and ends with "N passed, N failed" counting test cases.
# TESTS=pattern runs only the files whose name contains pattern, SKIP_TESTS=
# "pattern..." leaves out those whose name contains any of them; MMDB=path
# tests another binary; MMDB_TEST_LOGS=dir keeps the logs there.
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export MMDB_TOP="$top"
export MMDB="${MMDB:-$top/mmdb}"
export MMDB_SHARED="${MMDB_SHARED:-$top/../shared}"
export PATH="$top/.venv/bin:$PATH"
log_dir="${MMDB_TEST_LOGS:-$top/tests/tmp/logs}"
passed=0 failed=0 skipped=0 failed_files=""

# A sanitizer build (make SANITIZE=address,undefined test): each report is
# written to a file under $san_dir and fails the test file that caused it,
# whatever the exit status the test looked at. Only libtorch's own leaks are
# suppressed (tests/sanitize/lsan.supp).
san_dir=
if grep -aqs -e __asan_init -e __ubsan_handle "$MMDB" ${1:+"$1"}; then
	[ -n "${MMDB_TEST_LOGS:-}" ] || log_dir="$log_dir-sanitizer"
	san_dir="$log_dir/sanitizer"
	rm -rf "$san_dir" "$san_dir.all" && mkdir -p "$san_dir"
	san_common="log_path=$san_dir/report:exitcode=86:print_stacktrace=1"
	export ASAN_OPTIONS="$san_common:detect_leaks=1:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export UBSAN_OPTIONS="$san_common:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	export LSAN_OPTIONS="suppressions=$top/tests/sanitize/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
	echo "sanitizer build: reports under $san_dir"
fi
# san_check NAME LOG: moves the reports written since the last call into LOG;
# fails (returns 1) when there were any. GCC's UBSan (a library apart from
# ASan's) ignores log_path and prints to stderr: its reports are caught by
# their exit status (86) and by "runtime error:" in the test's output.
san_check() {
	[ -n "$san_dir" ] || return 0
	if grep -q 'runtime error: ' "$2"; then
		echo "not ok - $1: UBSan report in the output" >>"$2"
		return 1
	fi
	set -- "$1" "$2" $(ls "$san_dir")
	[ $# -gt 2 ] || return 0
	for r in "$san_dir"/*; do
		{ echo "sanitizer report ($r):"; cat "$r"; } >>"$2"
		cat "$r" >>"$san_dir.all"
		rm -f "$r"
	done
	echo "not ok - $1: sanitizer report" >>"$2"
	return 1
}
# san_show LOG: the start of each sanitizer report in LOG.
san_show() {
	[ -n "$san_dir" ] && grep -A14 '^sanitizer report' "$1" | head -45
	return 0
}

mkdir -p "$log_dir"

match() {
	for skip in ${SKIP_TESTS:-}; do
		case "$1" in *"$skip"*) return 1 ;; esac
	done
	[ -z "${TESTS:-}" ] || case "$1" in *"$TESTS"*) return 0 ;; *) return 1 ;; esac
}

for bin in "$@"; do
	match "$bin" || continue
	name=$(basename "$bin")
	out="$log_dir/$name.log"
	# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)..."
	"$bin" >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	p=${p:-0}; f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
	san_check "$name" "$out" || { f=$((f + 1)); echo "ERROR: sanitizer report" >>"$out"; }
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed; log: $out)"
		sed -n '/\[  FAILED  \]\|ERROR\|error:/p' "$out" | head -20
		san_show "$out"
		failed_files="$failed_files $name"
	else
		echo "ok   $name ($p)"
	fi
done

for t in tests/cli/t*.sh tests/tui/t*.sh; do
	[ -f "$t" ] || continue
	match "$t" || continue
	name=$(basename "$t" .sh)
	out="$log_dir/$name.log"
	sh "$t" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$out"); f=$(grep -c '^not ok ' "$out"); s=$(grep -c '^skip ' "$out")
	if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$out"; fi
	san_check "$name" "$out" || f=$((f + 1))
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed; log: $out)"
		grep -A8 '^not ok ' "$out" | head -30
		san_show "$out"
		failed_files="$failed_files $name"
	else
		if [ "$s" -gt 0 ]; then echo "ok   $name ($p, $s skipped)"; else echo "ok   $name ($p)"; fi
	fi
done

[ -n "$failed_files" ] && echo "failed:$failed_files"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]

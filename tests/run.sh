#!/bin/sh
# Runs every test: the cmocka unit binaries given as arguments, then each
# shell test tests/cli/t*.sh (and tests/tui/t*.sh) against ./mmdb. Prints a
# line per test file and ends with "N passed, N failed" counting test cases.
# TESTS=pattern runs only the files whose name contains pattern.
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export MMDB_TOP="$top"
export MMDB="$top/mmdb"
export MMDB_SHARED="${MMDB_SHARED:-$top/../shared}"
export PATH="$top/.venv/bin:$PATH"
log_dir="$top/tests/tmp/logs"
mkdir -p "$log_dir"
passed=0 failed=0 skipped=0 failed_files=""

match() { [ -z "$TESTS" ] || case "$1" in *"$TESTS"*) return 0 ;; *) return 1 ;; esac; }

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
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed; log: $out)"
		sed -n '/\[  FAILED  \]\|ERROR\|error:/p' "$out" | head -20
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
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed; log: $out)"
		grep -A8 '^not ok ' "$out" | head -30
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

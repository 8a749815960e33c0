#!/bin/sh
# Memcheck over mmdb's C parts (make valgrind). Runs the unit binaries given
# after the build directory and the CLI and TUI tests that neither train nor
# load models, each process of theirs under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite
# with tests/valgrind/mmdb.supp for the libraries' own internals. Fails on
# any memcheck error or definite leak; each is printed with its stack.
# The build is one without libtorch (tests/valgrind/mt_stub.c): libtorch's
# start-up alone costs tens of seconds of CPU per process under valgrind.
# Usage: sh tests/valgrind/run.sh BUILD_DIR [UNIT_BINARY...]
# VG_TESTS=pattern keeps only the tests whose name contains it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
build=${1:?usage: run.sh BUILD_DIR [UNIT_BINARY...]}
shift
command -v valgrind >/dev/null || { echo "valgrind: not installed (make deps)" >&2; exit 1; }
[ -x "$build/mmdb" ] || { echo "valgrind: no $build/mmdb (make valgrind builds it)" >&2; exit 1; }

# Tests left out: they train, predict or load models throughout (need
# libtorch), or check how libtorch is loaded (t0605).
SKIP="t0601-model-list-inspect t0602-model-parity t0605-torch-lazy-load t0700-run-rows t0701-run-resume"
SKIP="$SKIP t0702-run-failures t0703-run-sample t1105-fault-kill-run t1106-fault-huge-inputs"
# The tests that train only at their end skip that part (end_without_torch).
export MMDB_TEST_NO_TORCH="make valgrind: built without libtorch"
# The time limits tests give mmdb, scaled for memcheck (tests/cli/lib.sh).
export MMDB_TEST_SLOW=4

# libjpeg-turbo's SIMD code reads as uninitialised to memcheck (its own
# buffers, then our pixels); its documented switch turns the SIMD off.
export JSIMD_FORCENONE=1

out="$top/tests/tmp/valgrind"
rm -rf "$out"
mkdir -p "$out/bin"
supp="$top/tests/valgrind/mmdb.supp"
# wrap NAME PROGRAM: $out/bin/NAME runs PROGRAM under memcheck, one log per
# process in $VG_LOG_DIR (set per test below).
wrap() {
	cat >"$out/bin/$1" <<WRAP
#!/bin/sh
exec valgrind -q --tool=memcheck --leak-check=full --show-leak-kinds=definite \\
	--errors-for-leak-kinds=definite --error-exitcode=87 --num-callers=30 \\
	--suppressions="$supp" --gen-suppressions=all \\
	--log-file="\$VG_LOG_DIR/vg.%p.log" "$2" "\$@"
WRAP
	chmod +x "$out/bin/$1"
}
wrap mmdb "$top/$build/mmdb"

match() { [ -z "${VG_TESTS:-}" ] || case "$1" in *"$VG_TESTS"*) return 0 ;; *) return 1 ;; esac; }

start=$(date +%s)
bad="" total=0
# run_one NAME [UNIT_WRAPPER]: a test file (through tests/run.sh) with its
# own log directory; any non-empty valgrind log is an error.
run_one() {
	name=$1; shift
	VG_LOG_DIR="$out/$name"
	mkdir -p "$VG_LOG_DIR"
	export VG_LOG_DIR
	t0=$(date +%s)
	if [ $# -gt 0 ]; then
		MMDB_TEST_LOGS="$out/logs" MMDB="$out/bin/mmdb" TESTS="$name" sh tests/run.sh "$@" >"$VG_LOG_DIR/run.txt" 2>&1
	else
		MMDB_TEST_LOGS="$out/logs" MMDB="$out/bin/mmdb" TESTS="$name" sh tests/run.sh >"$VG_LOG_DIR/run.txt" 2>&1
	fi
	rc=$?
	errs=$(find "$VG_LOG_DIR" -name 'vg.*.log' -size +0 | sort)
	total=$((total + 1))
	summary=$(tail -1 "$VG_LOG_DIR/run.txt")
	if [ -n "$errs" ] || [ $rc -ne 0 ]; then
		echo "FAIL $name ($summary; $(echo $errs | wc -w) process(es) with memcheck errors; $(($(date +%s) - t0))s)"
		[ $rc -ne 0 ] && grep -v '^ok ' "$VG_LOG_DIR/run.txt" | head -20
		for e in $errs; do echo "--- $e"; head -60 "$e"; done
		bad="$bad $name"
	else
		echo "ok   $name ($summary; $(($(date +%s) - t0))s)"
	fi
}

for bin in "$@"; do
	name=$(basename "$bin")
	match "$name" || continue
	wrap "$name" "$top/$bin"
	run_one "$name" "$out/bin/$name"
done
for t in tests/cli/t*.sh tests/tui/t*.sh; do
	name=$(basename "$t" .sh)
	match "$name" || continue
	case " $SKIP " in *" $name "*) continue ;; esac
	run_one "$name"
done

echo "valgrind: $total test files in $(($(date +%s) - start))s; left out (need libtorch): $SKIP test_mt"
if [ -n "$bad" ]; then
	echo "valgrind: failed:$bad"
	exit 1
fi
echo "valgrind: no memcheck errors, no definite leaks"

#!/bin/sh
# make bench: runs every tests/bench/bench_*.sh; each prints both sides and
# the ratio. BENCH=pattern runs only the matching ones. Timings never gate tests.
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export MMDB_TOP="$top" MMDB="$top/mmdb" MMDB_SHARED="${MMDB_SHARED:-$top/../shared}"
export PATH="$top/.venv/bin:$PATH"
for b in tests/bench/bench_*.sh; do
	[ -f "$b" ] || continue
	case "$b" in *"${BENCH:-}"*) ;; *) continue ;; esac
	echo "== $b"
	sh "$b" || echo "   ($b exited $?)"
done

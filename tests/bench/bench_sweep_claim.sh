#!/bin/sh
# bench_sweep_claim: how long a sweep worker takes to claim a trial when 8
# workers drain a 1,000-trial sweep at once (`mmdb sweep run --dry-claim`:
# each claim is one BEGIN IMMEDIATE transaction, then the trial is marked
# done without training, so the workers do nothing but contend for the
# database's write lock). Both sides in one run: mmdb's busy handler (short
# sleeps, 0.1 ms and up) against SQLite's own (sqlite3_busy_timeout: 1, 2,
# 5, 10, ... ms), selected by MMDB_BUSY_SQLITE=1. Reports the median, p95
# and max claim time, the wall time to drain, and double claims (a trial
# claimed by two workers: must be 0), for each side and their ratio.
#
#   BENCH_WORKERS=8  BENCH_TRIALS=1000 (10 x 10 x 10)  BENCH_RUNS=3
set -u
: "${MMDB:?run through tests/bench/run.sh (make bench)}"
N=${BENCH_WORKERS:-8}
RUNS=${BENCH_RUNS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/mmdb-bench-sweep.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
export MMDB_DB="$W/mmdb.db" MMDB_CACHE="$W/cache"
out="$MMDB_TOP/tests/bench/results/sweep-claim-$(date +%Y-%m-%d).txt"

v10() { awk -v s="$1" -v d="$2" 'BEGIN { for (i = 0; i < 10; i++) printf "%s%g", i ? "," : "", s + i * d }'; }
grid="--grid lr=$(v10 0.0001 0.0001) --grid dropout=$(v10 0 0.05) --grid batch-size=$(v10 8 8)"

# side NAME ENV RUN: one drain of a fresh sweep by N workers; prints a summary line.
side() {
	name=$1 envv=$2 run=$3
	"$MMDB" -q sweep create "s$run$name" $grid -- --epochs 1 || return 1
	i=0
	t0=$(date +%s.%N)
	while [ $i -lt "$N" ]; do
		env $envv "$MMDB" -q sweep run "s$run$name" --dry-claim >"$W/w$i" 2>"$W/e$i" &
		i=$((i + 1))
	done
	wait
	t1=$(date +%s.%N)
	cat "$W"/w[0-9]* >"$W/all"
	errs=$(cat "$W"/e[0-9]* | wc -l)
	left=$(sqlite3 "$MMDB_DB" "SELECT count(*) FROM sweep_trials t JOIN sweeps s ON s.id = t.sweep_id
		WHERE s.name = 's$run$name' AND t.status <> 'completed'")
	dbl=$(awk '{ print $2 }' "$W/all" | sort | uniq -d | wc -l)
	awk '{ print $3 }' "$W/all" | sort -g | awk -v name="$name" -v t0="$t0" -v t1="$t1" \
		-v errs="$errs" -v left="$left" -v dbl="$dbl" '
		{ ms[NR] = $1 }
		END {
			n = NR
			printf "%-7s claims %d  median %.3f ms  p95 %.3f ms  max %.1f ms  drain %.2f s  double claims %d  unclaimed %d  errors %d\n",
				name, n, ms[int((n + 1) / 2)], ms[int(n * 0.95)], ms[n], t1 - t0, dbl, left, errs
		}'
	rm -f "$W"/w[0-9]* "$W"/e[0-9]*
}

{
	echo "bench_sweep_claim: $N workers draining a 1,000-trial sweep (dry claims), $(nproc) CPUs,"
	echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -srm), SQLite $(sqlite3 --version | cut -d' ' -f1)"
	"$MMDB" -q init >/dev/null 2>&1 || true
	r=1
	while [ "$r" -le "$RUNS" ]; do
		side mmdb "MMDB_BUSY_SQLITE=0" $r
		side sqlite "MMDB_BUSY_SQLITE=1" $r
		r=$((r + 1))
	done
} | tee "$W/report"
# Medians over the runs of each side's median / p95 / max / drain, and the ratio.
awk '
	/^(mmdb|sqlite) / { s = $1; k = ++cnt[s]; med[s, k] = $5; p95[s, k] = $8; mx[s, k] = $11; dr[s, k] = $14; dbl[s] += $18 }
	function mid(a, s, n,   v, i, j, t) { for (i = 1; i <= n; i++) v[i] = a[s, i]
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return v[int((n + 1) / 2)] }
	END {
		n = cnt["mmdb"]
		printf "over %d runs (medians): claim median mmdb %.3f ms, sqlite %.3f ms (%.1fx); p95 %.3f vs %.3f ms (%.1fx); max %.1f vs %.1f ms; drain %.2f vs %.2f s (%.2fx); double claims %d and %d\n",
			n, mid(med, "mmdb", n), mid(med, "sqlite", n), mid(med, "sqlite", n) / mid(med, "mmdb", n),
			mid(p95, "mmdb", n), mid(p95, "sqlite", n), mid(p95, "sqlite", n) / mid(p95, "mmdb", n),
			mid(mx, "mmdb", n), mid(mx, "sqlite", n), mid(dr, "mmdb", n), mid(dr, "sqlite", n),
			mid(dr, "sqlite", n) / mid(dr, "mmdb", n), dbl["mmdb"], dbl["sqlite"]
	}' "$W/report" | tee -a "$W/report"
mkdir -p "$(dirname "$out")"
cp "$W/report" "$out"
echo "results: $out"

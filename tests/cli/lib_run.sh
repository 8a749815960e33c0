# lib_run.sh: helpers for the training-run tests (t07*). Source after lib.sh.
# setup_synthetic TRAIN VALIDATE TEST: a synthetic Fakeddit-shaped dataset
# (examples/gen_fakeddit.py) ingested, its images imported, a vocab built.
PY="$MMDB_TOP/.venv/bin/python"
[ -x "$PY" ] || PY=python3

setup_synthetic() {
	"$PY" "$MMDB_TOP/examples/gen_fakeddit.py" --out "$T/data" --train "$1" --validate "$2" \
		--test "$3" --image-px 32 --seed 3 >/dev/null || return 1
	"$MMDB" -q ingest "$T/data"/multimodal_*.tsv >/dev/null || return 1
	"$MMDB" -q images import "$T/data/images" >/dev/null || return 1
	"$MMDB" -q vocab build >/dev/null || return 1
}

# end_without_torch WHAT: where this mmdb cannot train (make valgrind's build
# has no libtorch: its runner sets MMDB_TEST_NO_TORCH), says WHAT is
# skipped and ends the test; the checks before it stand.
end_without_torch() {
	[ -n "${MMDB_TEST_NO_TORCH:-}" ] || return 0
	skip "$1 ($MMDB_TEST_NO_TORCH)"
	exit 0
}

# Tiny models on tiny inputs: a run over ~100 posts takes seconds.
TINY="--text-model bert-tiny --image-model resnet-small --image-size 32 --max-len 12
	--batch-size 16 --lr 1e-3 --optimizer adamw --threads 1 --workers 2 --seed 5"

# wait_for SQL SECONDS: polls until the query returns 1.
wait_for() {
	i=0
	while [ "$i" -lt $(($2 * 10)) ]; do
		[ "$(q "$1")" = 1 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# q SQL: the first value of the first row, exactly (multi-line expressions
# and text with commas are fine); empty for NULL or no row. Read with the
# sqlite3 shell (an mmdb process loads libtorch, which costs a second under
# load); through mmdb sql when sqlite3 is missing.
if command -v sqlite3 >/dev/null 2>&1; then
	q() { sqlite3 -batch -noheader -list "$MMDB_DB" ".timeout 5000" "$1" | head -1; }
else
	q() {
		"$MMDB" sql --format json "$1" | "$PY" -c 'import json, sys
r = json.load(sys.stdin)
v = next(iter(r[0].values())) if r else None
print("" if v is None else v)'
	}
fi

# rank_pid LAUNCHER RANK: the pid of that rank among the children of an
# `mmdb run --nproc` launcher (its RANK variable).
rank_pid() {
	for p in $(pgrep -P "$1"); do
		if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "RANK=$2"; then echo "$p"; return 0; fi
	done
	return 1
}

# signal_rank SIGNAL NAME RANK: starts a 2-rank run NAME (with $args), sends
# SIGNAL to RANK (or to the launcher: RANK "launcher") once epoch 2 is
# recorded and waits for the launcher; sets $victim (that rank's pid) and
# $secs (from the signal to the launcher's end).
signal_rank() {
	"$MMDB" -q run --name "$2" $args --nproc 2 >"$T/$2.out" 2>&1 &
	launcher=$!
	wait_for "SELECT count(*) >= 4 FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = '$2'" $((60 * SLOW))
	if [ "$3" = launcher ]; then victim=$launcher; else victim=$(rank_pid "$launcher" "$3"); fi
	[ -n "$victim" ] || { fail "rank $3 of $2 found"; kill "$launcher"; return 1; }
	t0=$(date +%s)
	kill "-$1" "$victim"
	i=0
	while kill -0 "$launcher" 2>/dev/null && [ $i -lt $((900 * SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
	secs=$(($(date +%s) - t0))
	kill -9 "$launcher" "$victim" 2>/dev/null
	wait "$launcher" 2>/dev/null
}

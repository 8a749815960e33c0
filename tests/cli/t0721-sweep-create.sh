#!/bin/sh
# mmdb sweep without training: create (grid, random by seed, bad input with
# nothing written), ls / show / rm and their formats, and the queue's order
# through --dry-claim (a dead worker's trial is crashed and claimed first;
# a live worker's trial is left alone).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check_status "sweep -h" 0 "$MMDB" sweep -h
for c in create run show ls rm; do
	check_status "sweep $c -h" 0 "$MMDB" sweep $c -h
done
check_status "sweep with no command" 2 "$MMDB" sweep
check_status "sweep frob" 2 "$MMDB" sweep frob
check_match "ls with no sweeps says how to make one" "$("$MMDB" sweep ls)" "no sweeps yet"

check_status "a grid" 0 "$MMDB" sweep create g --grid lr=1e-3,1e-2 --grid batch-size=8,16,32 \
	--grid 'modalities=text;text,image' --metric best_val_accuracy --prune median -- --epochs 2 --tag sw
check_eq "the sweep row" "$(q "SELECT method||'|'||metric||'|'||goal||'|'||prune||'|'||trials||'|'||
	run_args||'|'||(seed IS NULL) FROM sweeps WHERE name = 'g'")" \
	'grid|best_val_accuracy|max|median|12|["--epochs", "2", "--tag", "sw"]|1'
check_eq "12 trials, numbers as numbers, texts as strings" "$(q "SELECT count(*)||'|'||
	sum(json_type(params, '$.lr') = 'real')||'|'||sum(json_type(params, '$.\"batch-size\"') = 'integer')||'|'||
	sum(params ->> '$.modalities' = 'text,image')||'|'||min(idx)||'-'||max(idx)||'|'||
	sum(status = 'pending') FROM sweep_trials")" "12|12|12|6|1-12|12"
check_eq "trial 2 is the second combination" "$(q "SELECT params FROM sweep_trials WHERE idx = 2")" \
	'{"lr": 1e-3, "batch-size": 8, "modalities": "text,image"}'
check_status "a loss metric" 0 "$MMDB" -q sweep create gl --grid dropout=0.1,0.2 --metric best_val_loss
check_eq "is minimised" "$(q "SELECT goal FROM sweeps WHERE name = 'gl'")" min

# Bad input: a clear error, nothing written.
before=$(q "SELECT (SELECT count(*) FROM sweeps)||'|'||(SELECT count(*) FROM sweep_trials)||'|'||
	(SELECT group_concat(params) FROM sweep_trials)")
bad() { # bad WHAT STATUS MESSAGE-REGEX ARGS...
	what=$1 st=$2 re=$3; shift 3
	check_status "$what: exit $st" "$st" "$MMDB" sweep create "$@"
	check_match "$what: says so" "$(cat "$T/.err")" "$re"
}
bad "an unknown flag in --grid" 2 "'foo' is not a flag of 'mmdb run'" x --grid foo=1,2
bad "an unknown flag with dashes" 2 "'bogus' is not a flag" x --grid --bogus=1
bad "an empty grid" 2 "empty value" x --grid lr=
bad "an empty value in a grid" 2 "empty value" x --grid lr=1e-3,,1e-2
bad "no grid at all" 2 "nothing to sweep" x -- --epochs 2
bad "KEY without =" 2 "expected KEY=" x --grid lr
bad "a flag that takes no value" 2 "takes no value" x --grid amp=1,2
bad "a reserved flag" 2 "not a flag of 'mmdb run' that a sweep can set" x --grid resume=1,2
bad "a bad value" 2 "--lr.*abc" x --grid lr=1e-3,abc
bad "a value out of range" 2 "--dropout" x --grid dropout=0.1,5
bad "a bad fixed flag" 2 "'--bogus' after '--' is not a flag" x --grid lr=1e-3 -- --bogus
bad "a bad fixed value" 2 "--epochs" x --grid lr=1e-3 -- --epochs zero
bad "--name for the trials" 2 "cannot be given to the trials" x --grid lr=1e-3 -- --name n
bad "a key swept twice" 2 "swept twice" x --grid lr=1e-3 --random lr=1e-4:1e-2
bad "--random without HI" 2 "not LO:HI" x --random lr=1e-4
bad "--random LO above HI" 2 "above HI" x --random lr=1e-2:1e-4
bad "--random log from 0" 2 "LO > 0" x --random lr=0:1e-2:log
bad "--random unknown scale" 2 "unknown scale" x --random lr=1e-4:1e-2:ln
bad "--trials for a grid" 2 "for --random" x --grid lr=1e-3,1e-2 --trials 3
bad "an unknown metric" 2 "unknown metric 'f2'" x --grid lr=1e-3 --metric f2
bad "an unknown rule" 2 "unknown rule 'hyperband'" x --grid lr=1e-3 --prune hyperband
bad "no name" 2 "which name" --grid lr=1e-3
bad "a bad name" 2 "letters, digits" 'a b' --grid lr=1e-3
bad "two names" 2 "unexpected argument 'y'" x y --grid lr=1e-3
bad "a name that exists" 1 "sweep 'g' exists" g --grid lr=1e-5,1e-6
check_eq "nothing was written by any of them" "$(q "SELECT (SELECT count(*) FROM sweeps)||'|'||
	(SELECT count(*) FROM sweep_trials)||'|'||(SELECT group_concat(params) FROM sweep_trials)")" "$before"

# Random sampling: the same seed gives the same trials.
rnd="--random lr=1e-5:1e-1:log --random batch-size=8:64 --random dropout=0:0.5 --grid fusion=max,sum,gated --trials 20"
check_status "random, seed 42" 0 "$MMDB" -q sweep create r1 $rnd --seed 42
check_status "random, seed 42 again" 0 "$MMDB" -q sweep create r2 $rnd --seed 42
check_status "random, seed 43" 0 "$MMDB" -q sweep create r3 $rnd --seed 43
p() { q "SELECT group_concat(params, ';') FROM (SELECT params FROM sweep_trials t JOIN sweeps s ON
	s.id = t.sweep_id WHERE s.name = '$1' ORDER BY idx)"; }
check_eq "the same seed, the same trials" "$(p r2)" "$(p r1)"
if [ "$(p r3)" != "$(p r1)" ]; then ok "another seed, other trials"; else fail "another seed, other trials"; fi
check_eq "20 trials, seed kept" "$(q "SELECT trials||'|'||seed||'|'||method FROM sweeps WHERE name = 'r1'")" "20|42|random"
check_eq "every value within its range; whole batch sizes; a grid key takes its values" "$(q "SELECT
	count(*) FROM sweep_trials t JOIN sweeps s ON s.id = t.sweep_id WHERE s.name = 'r1' AND
	params ->> '$.lr' BETWEEN 1e-5 AND 1e-1 AND json_type(params, '$.\"batch-size\"') = 'integer' AND
	params ->> '$.\"batch-size\"' BETWEEN 8 AND 64 AND params ->> '$.dropout' BETWEEN 0 AND 0.5 AND
	params ->> '$.fusion' IN ('max', 'sum', 'gated')")" 20
check_eq "log-uniform: lr spread over the decades" "$(q "SELECT count(DISTINCT CAST(-log10(params ->> '$.lr') AS INT))
	>= 3 FROM sweep_trials t JOIN sweeps s ON s.id = t.sweep_id WHERE s.name = 'r1'")" 1
check_status "random without --seed" 0 "$MMDB" sweep create r4 --random lr=1e-5:1e-3 --trials 2
check_match "says the seed it drew" "$(cat "$T/.out")" "seed [0-9]+"
check_eq "and keeps it" "$(q "SELECT seed IS NOT NULL FROM sweeps WHERE name = 'r4'")" 1

# ls and show, every format.
check_match "ls: a row per sweep" "$("$MMDB" sweep ls | awk 'NR > 1 { print $1 }' | tr '\n' ' ')" "^g gl r1 r2 r3 r4 $"
check_eq "ls --format json" "$("$MMDB" sweep ls --format json | "$PY" -c '
import json, sys
d = {r["name"]: r for r in json.load(sys.stdin)}
print(len(d), d["g"]["trials"], d["g"]["pending"], d["g"]["running"], d["g"]["best"], d["r1"]["method"])')" \
	"6 12 12 0 None random"
check_match "ls --format csv" "$("$MMDB" sweep ls --format csv | head -1)" \
	"^name,method,metric,prune,trials,pending,running,done,pruned,failed,best,created_at"
check_status "ls --format xml" 2 "$MMDB" sweep ls --format xml
check_match "show before any trial ran" "$("$MMDB" sweep show g)" "no trial has a best_val_accuracy yet"
check_match "show lists the swept keys as columns" "$("$MMDB" sweep show g | grep '^trial')" \
	"^trial +status +best_val_accuracy +run +lr +batch-size +modalities +reason"
check_eq "show --format json" "$("$MMDB" sweep show g --format json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(d["name"], d["metric"], d["best"], len(d["trials"]), d["trials"][1]["params"], sorted(d["means"]), d["means"]["lr"][0]["trials"])')" \
	"g best_val_accuracy None 12 {'lr': 0.001, 'batch-size': 8, 'modalities': 'text,image'} ['batch-size', 'lr', 'modalities'] 6"
check_eq "show: a random number's means per quarter of the trials, a grid key's per value" "$("$MMDB" sweep show r1 --format json | "$PY" -c '
import json, sys
m = json.load(sys.stdin)["means"]
lr = m["lr"]
print(len(lr), sum(b["trials"] for b in lr), all(b["from"] <= b["to"] for b in lr),
      all(a["to"] <= b["from"] for a, b in zip(lr, lr[1:])), sorted(v["value"] for v in m["fusion"]))')" \
	"4 20 True True ['gated', 'max', 'sum']"
check_match "(the table says so)" "$("$MMDB" sweep show r1)" "^  lr \\(quarters of the trials by value\\): [0-9.e-]+\\.\\.[0-9.e-]+ - \\(0 of 5\\),"
check_status "show --format csv is refused" 2 "$MMDB" sweep show g --format csv
check_status "show of a missing sweep" 1 "$MMDB" sweep show nosuch
check_match "says so" "$(cat "$T/.err")" "no sweep 'nosuch'"
check_status "run of a missing sweep" 1 "$MMDB" sweep run nosuch
check_status "run --device gpu: a usage error" 2 "$MMDB" sweep run g --device gpu
check_status "run --threads -1: a usage error" 2 "$MMDB" sweep run g --threads -1
check_eq "nothing was claimed" "$(q "SELECT count(*) FROM sweep_trials WHERE status <> 'pending'")" 0

# The queue: a trial held by a live worker stays; one whose worker died is
# crashed, and is claimed first.
host=$(uname -n)
sh -c 'exit 0' &
dead=$!
wait $dead
sid=$(q "SELECT id FROM sweeps WHERE name = 'g'")
q "UPDATE sweep_trials SET status = 'running', worker = '$host:$$', claimed_at = unixepoch() WHERE sweep_id = $sid AND idx = 3" >/dev/null
q "UPDATE sweep_trials SET status = 'running', worker = '$host:$$', claimed_at = 1 WHERE sweep_id = $sid AND idx = 5" >/dev/null
q "UPDATE sweep_trials SET status = 'running', worker = '$host:$dead', claimed_at = unixepoch() WHERE sweep_id = $sid AND idx = 7" >/dev/null
check_match "show: the dead worker's trial is crashed" "$("$MMDB" sweep show g)" "7 +crashed"
check_match "and so is one whose pid lives but was silent for ages (a reused pid)" "$("$MMDB" sweep show g)" "5 +crashed"
check_eq "the live worker's trial is still running" "$(q "SELECT status FROM sweep_trials WHERE sweep_id = $sid AND idx = 3")" running
check_status "a dry worker claims 4 trials" 0 "$MMDB" sweep run g --dry-claim --max-trials 4
check_eq "the crashed trials first, then the lowest pending ones" "$(awk '{ printf "%s ", $2 }' "$T/.out")" "5 7 1 2 "
check_match "each claim's milliseconds" "$(cat "$T/.out")" "^claim 7 [0-9]+\\.[0-9]{3}$"
check_eq "claimed trials are done, by this worker" "$(q "SELECT count(*) FROM sweep_trials WHERE sweep_id = $sid AND
	status = 'completed' AND worker LIKE '$host:%' AND worker <> '$host:$$' AND finished_at >= claimed_at")" 4
check_status "rm refuses a sweep with a trial training" 1 "$MMDB" sweep rm g
check_match "saying so" "$(cat "$T/.err")" "1 trial training"
check_status "another dry worker drains the rest" 0 "$MMDB" sweep run g --dry-claim
check_eq "7 more claims" "$(wc -l <"$T/.out" | tr -d ' ')" 7
check_eq "only the live worker's trial is left" "$(q "SELECT group_concat(idx) FROM sweep_trials WHERE
	sweep_id = $sid AND status <> 'completed'")" 3
check_status "rm --force" 0 "$MMDB" sweep rm --force g
check_eq "the sweep and its trials are gone" "$(q "SELECT (SELECT count(*) FROM sweeps WHERE name = 'g')||'|'||
	(SELECT count(*) FROM sweep_trials WHERE sweep_id = $sid)")" "0|0"
check_status "rm of a missing sweep" 1 "$MMDB" sweep rm g
check_status "rm r2" 0 "$MMDB" sweep rm r2
check_eq "other sweeps are left" "$(q "SELECT group_concat(name) FROM (SELECT name FROM sweeps ORDER BY id)")" "gl,r1,r3,r4"
check_status "runs --sweep of a missing sweep" 1 "$MMDB" runs --sweep g

# A worker that cannot train (here no data; in a build without libtorch, no
# libtorch) puts its trial back and stops: the sweep is not burnt through.
check_status "a sweep over no data" 0 "$MMDB" -q sweep create nodata --grid lr=1e-3,1e-2 -- --epochs 1
check_status "its worker fails" 1 "$MMDB" -q sweep run nodata
check_match "saying why" "$(cat "$T/.err")" "trial 1 could not start \\(it is pending again\\)"
check_eq "both trials pending, no run made" "$(q "SELECT group_concat(t.status) || '|' ||
	(SELECT count(*) FROM runs) FROM sweep_trials t JOIN sweeps s ON s.id = t.sweep_id WHERE s.name = 'nodata'")" \
	"pending,pending|0"

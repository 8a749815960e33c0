#!/bin/sh
# kill -9 at random moments during mmdb run, 20 times (a seeded RNG picks a
# fraction of the stage's duration; the seed is printed for a replay). The
# killed run is resumed (and killed again); a finished one makes way for a
# new one. After each kill: the database intact, the run's rows whole (two
# epochs rows per epoch done), and the run either finished or left running
# by a dead process (that is: crashed, resumable). At the end every run is
# resumed to completion, with exactly the rows of an uninterrupted run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"
. "$(dirname "$0")/faults.sh"
KILLS=20

check "synthetic dataset" setup_synthetic 32 16 16
args="--epochs 2 --dropout 0.3 $TINY"
# The stage's duration: from the start, and from the moment the run's row
# says this process is running it (after loading libtorch and the data).
now() { date +%s.%N; }
since() { echo "$1 $(now)" | awk '{ printf "%.3f\n", $2 - $1 }'; }
# wait_running NAME PID: until the run's row names PID (60 s at most).
wait_running() {
	k=0
	while [ "$(q "SELECT pid FROM runs WHERE name = '$1'")" != "$2" ] && [ $k -lt 600 ]; do
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1; k=$((k + 1))
	done
}
t0=$(now)
"$MMDB" -q run --name ref $args >/dev/null 2>"$T/err" &
pid=$!
wait_running ref $pid
t1=$(now)
wait $pid
check_eq "an uninterrupted run" "$?" 0
D=$(since "$t0")
DT=$(since "$t1")
echo "# one run takes ${D}s, ${DT}s of it once running"
rand_init "$(date +%s)"

bad="" landed=0 j=1
i=0
while [ $i -lt $KILLS ]; do
	st=$(q "SELECT status FROM runs WHERE name = 'k$j'")
	case "$st" in
	completed) j=$((j + 1)); st="" ;;
	esac
	if [ -z "$st" ]; then
		"$MMDB" -q run --name "k$j" $args >/dev/null 2>&1 &
	else
		"$MMDB" -q run --resume "k$j" >/dev/null 2>&1 &
	fi
	pid=$!
	# Every other kill lands once the run is under way (its row names it).
	if [ $((i % 2)) = 0 ]; then rand_sleep "$D"; else wait_running "k$j" $pid && rand_sleep "$DT"; fi
	kill -9 $pid 2>/dev/null && landed=$((landed + 1))
	wait $pid 2>/dev/null
	i=$((i + 1))
	why=""
	[ "$(q "PRAGMA integrity_check")" = ok ] || why="$why integrity"
	st=$(q "SELECT status || ' ' || coalesce(pid, '') FROM runs WHERE name = 'k$j'")
	case "$st" in
	# (a resume marks the dead run crashed before it takes it over: a kill
	# in between leaves it crashed, which is as resumable)
	"" | completed* | crashed*) ;;
	running*)
		p=${st#running }
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null && why="$why pid-alive" ;;
	*) why="$why status:$st" ;;
	esac
	[ "$(q "SELECT count(*) FROM runs r WHERE name LIKE 'k%' AND (SELECT count(*) FROM epochs e
		WHERE e.run_id = r.id AND e.split IN ('train', 'validate')) <> 2 * r.epochs_done")" = 0 ] ||
		why="$why epochs-rows"
	[ -n "$why" ] && bad="$bad kill$i:$why"
done
check_eq "after each of $KILLS kills: database intact, rows whole, the run finished or crashed" "$bad" ""
echo "# $landed of $KILLS kills hit a running run; runs k1..k$j"
last=$(q "SELECT name FROM runs WHERE name LIKE 'k%' ORDER BY id DESC LIMIT 1")
check_match "mmdb runs shows the last killed run crashed (or finished)" \
	"$("$MMDB" runs --format csv | grep ",$last,")" ",$last,(crashed|completed),"

for r in $(q "SELECT group_concat(name, ' ') FROM runs WHERE name LIKE 'k%' AND status <> 'completed'"); do
	check_status "run $r resumed to the end" 0 "$MMDB" -q run --resume "$r"
done
check_eq "every run completed" "$(q "SELECT count(*) FROM runs WHERE status <> 'completed'")" 0
rows() { q "SELECT group_concat(r, ';') FROM (SELECT e.epoch||e.split||':'||printf('%.6f', e.loss)||','||
	coalesce(printf('%.6f', e.accuracy), '')||','||coalesce(printf('%.6f', e.f1_macro), '')||','||e.lr AS r
	FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = '$1' ORDER BY e.epoch, e.split)"; }
preds() { q "SELECT group_concat(post_id||pred, ';') FROM (SELECT * FROM predictions p JOIN runs r
	ON r.id = p.run_id WHERE r.name = '$1' ORDER BY post_id)"; }
whole=$(rows ref)
diff=""
for r in $(q "SELECT group_concat(name, ' ') FROM runs WHERE name LIKE 'k%'"); do
	[ "$(rows "$r")" = "$whole" ] || diff="$diff $r:rows"
	[ "$(preds "$r")" = "$(preds ref)" ] || diff="$diff $r:predictions"
done
check_eq "each killed-and-resumed run has the uninterrupted run's rows and predictions" "$diff" ""
check_eq "no half-written checkpoint left" "$(find "$MMDB_CACHE/runs" -name '*.tmp*' | wc -l | tr -d ' ')" 0

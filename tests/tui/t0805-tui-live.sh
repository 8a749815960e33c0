#!/bin/sh
# mmdb tui while another process trains: new epochs of a running run appear
# without a key press; the runs screen shows the live epoch; resizing keeps
# the screen usable (and says so below 80x24); a run deleted while shown
# takes the screen back to the runs.
. "$(dirname "$0")/lib-tui.sh"

fill_db
"$MMDB" sql --write "INSERT INTO runs(id, name, status, epochs, epochs_done, progress, fusion, lr, started_at)
  VALUES (100, 'live-run', 'running', 10, 0, 0.0, 'max', 1e-5, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))" >/dev/null

start_tui 100 30 --interval 0.2
check_screen "the running run shows its live epoch" "^ +100 run 0/10 0% +live-run"
keys Home Enter
check_screen "its run screen opens" "mmdb run 100  live-run  \[running, epoch 0 of 10\]"
check_screen "no epochs yet" "no epochs recorded yet"

# Another process records three epochs, as a training run does.
(
	for e in 1 2 3; do
		"$MMDB" sql --write "
		INSERT INTO epochs(run_id, epoch, split, loss, accuracy, f1) VALUES
		  (100, $e, 'train', 1.0 / $e, 0.5 + $e / 100.0, 0.5),
		  (100, $e, 'validate', 1.5 / $e, 0.4 + $e / 100.0, 0.4 + $e / 50.0);
		UPDATE runs SET epochs_done = $e, progress = $e / 10.0, best_epoch = $e, heartbeat_at = CAST(strftime('%s', 'now') AS REAL) WHERE id = 100;" >/dev/null
	done
) &
writer=$!
check_screen "epoch 1 appears without a key" "^ +1 +1.0000 +1.5000 " 15
check_screen "epoch 3 appears without a key" "^ +3 +0.3333 +0.5000 " 20
wait $writer
check_screen "the title follows the live epoch" "running, epoch 3 of 10"
check_screen "the best epoch line follows" "best epoch 3: val F1 0.4600"
# The dashboard holds no read transaction: a full checkpoint is not busy
# and empties the WAL while it keeps drawing.
check_eq "a checkpoint while the dashboard reads is not blocked (busy, log)" \
	"$("$MMDB" sql --write --format csv "PRAGMA wal_checkpoint(TRUNCATE)" | sed -n 2p | cut -d, -f1,2 | tr -d '\r')" "0,0"
keys 2
check_screen "the charts have the new points" "^ +1.500│"
keys q
check_screen "the runs screen shows the new epoch and progress" "^ +100 run 3/10 30% +live-run"
keys Home d
check_screen "a training run is not deleted from the dashboard" "run 100 is still training"
# While the runs screen is shown: the running run's next epoch, and an edit
# of a finished run (it follows within the full-reload period).
"$MMDB" sql --write "INSERT INTO epochs(run_id, epoch, split, loss, accuracy, f1) VALUES (100, 4, 'validate', 0.3, 0.5, 0.5);
  UPDATE runs SET epochs_done = 4, progress = 0.4 WHERE id = 100;
  UPDATE runs SET name = 'renamed-run' WHERE id = 1" >/dev/null
check_screen "the runs screen follows the running run without a key" "^ +100 run 4/10 40% +live-run" 10
check_screen "and an edit of a finished run" "^ +1 completed +renamed-run" 15

# Resize: 80x24 still draws the table; smaller says what it needs.
tm resize-window -t tui -x 80 -y 24
check_screen "80x24: the runs table" "^ +100 run 4/10 40% +live-"
check_eq "80x24: the pane is 80 columns" "$(tm display-message -p -t tui '#{pane_width}x#{pane_height}')" "80x24"
check_screen "80x24: the key hints on the last line" "^Enter open"
tm resize-window -t tui -x 60 -y 20
check_screen "60x20: says it needs 80x24" "needs at least 80x24; this terminal is 60x20"
tm resize-window -t tui -x 120 -y 40
check_screen "120x40: the wider table has the tags column" "TAGS"
check_screen "120x40: rows drawn again" "^ +100 run 4/10"

# A trainer silent for an hour: the run is shown as stale.
"$MMDB" sql --write "UPDATE runs SET heartbeat_at = CAST(strftime('%s', 'now') AS REAL) - 3600 WHERE id = 100" >/dev/null
check_screen "a silent trainer's run is shown as stale" "^ +100 stale 4/10 +live-run"

# A run deleted while its screen is shown.
keys Home Enter
check_screen "run 100 shown again" "mmdb run 100 "
"$MMDB" sql --write "DELETE FROM runs WHERE id = 100" >/dev/null
check_screen "a deleted run goes back to the runs, saying why" "run 100 no longer exists" 10
check_screen "the runs screen without it" "mmdb runs  6 of 6"

#!/bin/sh
# mmdb tui draws data safely: a title or run name holding escape sequences
# shows no raw escape (they are made visible), wide and combining characters
# keep the columns aligned; a missing, non-SQLite or non-mmdb database and a
# non-terminal are clear errors.
. "$(dirname "$0")/lib-tui.sh"

check_status "a missing database is an error" 1 "$MMDB" --db "$T/none.db" tui
check_match "naming the file" "$(cat "$T/.err")" "none.db.*no such file"
printf 'not a database, just some text that is long enough to look like a header....................' >"$T/junk.db"
check_status "a non-SQLite file is an error" 1 "$MMDB" --db "$T/junk.db" tui
check_match "saying so" "$(cat "$T/.err")" "junk.db"
"$MMDB" --db "$T/other.db" init >/dev/null
"$MMDB" --db "$T/other.db" sql --write "DROP VIEW prediction_posts; DROP VIEW run_summary; DROP VIEW epoch_settings; DROP TABLE predictions" >/dev/null
check_status "an SQLite database without mmdb's tables is an error" 1 "$MMDB" --db "$T/other.db" tui
check_match "saying it is not an mmdb database" "$(cat "$T/.err")" "not an mmdb database"

fill_db
check_status "no terminal is an error" 1 "$MMDB" tui </dev/null
check_match "saying so" "$(cat "$T/.err")" "must be a terminal"

# Hostile and wide text: ESC [2J (clear), OSC 2 (window title), BEL, SGR red,
# a C1 CSI byte; a run name in Japanese and one with a combining accent.
"$MMDB" sql --write "
UPDATE posts SET title = 'EVIL' || char(27) || '[2J' || char(27) || ']2;PWNED' || char(7) || char(27) || '[31mRED' || char(155) || '0mEND'
 WHERE id = (SELECT min(post_id) FROM predictions WHERE run_id = 6 AND split = 'validate');
UPDATE runs SET name = '日本語の実験' WHERE id = 6;
UPDATE runs SET name = 'cafe' || char(769) || '-run' WHERE id = 5;
UPDATE runs SET name = 'bell' || char(7) || char(27) || '[H' WHERE id = 2;" >/dev/null

start_tui 100 30
check_screen "the runs screen shows the wide name" "日本語の実験"
check_screen "a control character in a name is shown, not sent" "bell\^G\^\[\[H"
# Columns after the names line up: FUSION starts at the same cell on every row.
screen >"$T/pane"
cols=$(python3 - "$T/pane" <<'PY'
import sys, unicodedata
def width(s):
    w = 0
    for ch in s:
        if unicodedata.combining(ch): continue
        w += 2 if unicodedata.east_asian_width(ch) in 'WF' else 1
    return w
seen = set()
for line in open(sys.argv[1], encoding='utf-8'):
    for f in (' sum ', ' max ', ' mean ', ' concat ', ' gated '):
        i = line.find(f)
        if i > 0 and line.lstrip()[:1].isdigit():
            seen.add(width(line[:i]))
            break
print(' '.join(str(c) for c in sorted(seen)))
PY
)
check_match "wide and combining names keep the columns aligned" "$cols" "^[0-9]+$"
check_no_screen "no raw escape reached the pane" "$(printf '\033')"

keys Home p
check_screen "predictions open" "mmdb predictions  run 6 "
check_screen "the escape sequences in the title are made visible" "EVIL\^\[\[2J\^\[\]2;PWNED\^G\^\[\[31mRED\?0mEND"
check_screen "the rows below are still drawn (nothing cleared)" "^p[0-9]+ .*Post [0-9]+ about"
check_eq "the pane title was not changed" "$(tm display-message -p -t tui '#{pane_title}' | grep -c PWNED)" "0"
keys Enter
check_screen "post detail shows the title made visible" "^EVIL\^\[\[2J"
check_no_screen "no raw escape in the post detail" "$(printf '\033')"

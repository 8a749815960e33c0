# lib-tui.sh: helpers for driving 'mmdb tui' in a detached tmux session.
# Source after nothing else: it sources tests/cli/lib.sh. Each test gets
# its own tmux server (socket), killed on exit.
. "$(dirname "$0")/../cli/lib.sh"
TUI_DIR=$(cd "$(dirname "$0")" && pwd)
TMUX_SOCK="mmdb-test-$$"
trap 'tmux -L "$TMUX_SOCK" kill-server 2>/dev/null; rm -rf "$T"' EXIT
if ! command -v tmux >/dev/null 2>&1; then
	fail "tmux is not installed (make deps installs it)"
	exit 1
fi
if infocmp tmux-256color >/dev/null 2>&1; then TUI_TERM=tmux-256color; else TUI_TERM=screen; fi

tm() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }

# fill_db: a new database filled by fill.sql (sizes from its defaults).
fill_db() {
	"$MMDB" init >/dev/null && "$MMDB" sql --write <"$TUI_DIR/fill.sql" >/dev/null
}

# start_tui W H [ARGS...]: runs mmdb tui in a W x H session named tui and
# waits for its first screen. Its exit status lands in $T/tui.exit.
start_tui() {
	w=$1; h=$2; shift 2
	rm -f "$T/tui.exit"
	tm new-session -d -s tui -x "$w" -y "$h" \
		"env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=$TUI_TERM MMDB_DB='$MMDB_DB' MMDB_CACHE='$MMDB_CACHE' \
		 '$MMDB' tui $* 2>'$T/tui.err'; echo \$? >'$T/tui.exit'; sleep 60"
	wait_for 'mmdb (runs|run|compare|predictions|post) ' 30
}

screen() { tm capture-pane -p -t tui; }
keys() { tm send-keys -t tui "$@"; }
# type_text TEXT: literal text (no key names).
type_text() { tm send-keys -t tui -l "$1"; }

# wait_for REGEX [SECONDS]: until the pane matches (grep -E); 1 on timeout
# (SECONDS times $SLOW, from lib.sh).
wait_for() {
	n=$(( ${2:-15} * 10 * SLOW ))
	while [ "$n" -gt 0 ]; do
		screen >"$T/.pane" 2>/dev/null
		grep -Eq -- "$1" "$T/.pane" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# wait_gone REGEX [SECONDS]: until the pane no longer matches.
wait_gone() {
	n=$(( ${2:-15} * 10 * SLOW ))
	while [ "$n" -gt 0 ]; do
		screen >"$T/.pane" 2>/dev/null
		grep -Eq -- "$1" "$T/.pane" || return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# check_screen "what" REGEX [SECONDS]: passes when the pane shows REGEX.
check_screen() {
	if wait_for "$2" "${3:-15}"; then ok "$1"; else
		fail "$1"; echo "    wanted /$2/ in:"; sed 's/^/    | /' "$T/.pane"; fi
}

# check_no_screen "what" REGEX: passes when the pane (now) lacks REGEX.
check_no_screen() {
	screen >"$T/.pane"
	if grep -Eq -- "$2" "$T/.pane"; then
		fail "$1"; echo "    did not want /$2/ in:"; sed 's/^/    | /' "$T/.pane"; else ok "$1"; fi
}

# rows SQL: every row of a query as CSV lines without the header.
rows() { "$MMDB" sql --format csv "$1" | sed 1d | tr -d '\r'; }

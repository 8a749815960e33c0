# lib.sh: helpers for shell tests of the real binary. Source it first.
# Each check prints "ok - what" or "not ok - what" (plus details); run.sh
# counts them. A test gets a fresh temporary directory in $T with
# MMDB_DB=$T/mmdb.db and MMDB_CACHE=$T/cache.
set -u
: "${MMDB:?run through tests/run.sh (make test)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/mmdb-test.XXXXXX")
export MMDB_DB="$T/mmdb.db" MMDB_CACHE="$T/cache"
trap 'rm -rf "$T"' EXIT
SHARED="$MMDB_SHARED"
SAMPLE="$SHARED/fakeddit-sample"
GOLDEN="$SHARED/golden"

# SLOW: the factor for how long a test waits for mmdb, and for the time
# limits it gives mmdb where it must not reach them (a limit that is itself
# what a check is about keeps its relation to the others). make valgrind
# sets MMDB_TEST_SLOW: memcheck runs mmdb some 20 times slower.
SLOW=${MMDB_TEST_SLOW:-1}

ok() { echo "ok - $*"; }
fail() { echo "not ok - $*"; }
skip() { echo "skip - $*"; }

# check "what" command...: passes when the command exits 0.
check() {
	what=$1; shift
	if "$@" >"$T/.out" 2>&1; then ok "$what"; else fail "$what"; sed 's/^/    /' "$T/.out" | head -20; fi
}

# check_fails "what" STATUS command...: passes when the command exits STATUS.
check_status() {
	what=$1; want=$2; shift 2
	"$@" >"$T/.out" 2>"$T/.err"; got=$?
	if [ "$got" = "$want" ]; then ok "$what"; else
		fail "$what (exit $got, wanted $want)"; sed 's/^/    /' "$T/.out" "$T/.err" | head -20; fi
}

# check_eq "what" GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1"; echo "    got:  $2"; echo "    want: $3"; fi
}

# check_match "what" TEXT REGEX (grep -E)
check_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else
		fail "$1"; echo "    text: $(printf '%s' "$2" | head -c 400)"; echo "    wanted /$3/"; fi
}

# q SQL: one value from the test database.
q() { "$MMDB" sql --format csv "$1" | sed -n 2p | tr -d '\r'; }

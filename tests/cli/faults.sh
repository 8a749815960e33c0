# faults.sh: helpers for the fault tests (t11*). Source after lib.sh.

# A small file system for the "disk full" tests: small_fs DIR KB makes DIR
# a tmpfs of KB kibibytes when we may mount one (root); otherwise (or with
# MMDB_FAULT_FS=ulimit) every command run through `limited` gets a file
# size limit of KB (writes past it fail with EFBIG, SIGXFSZ ignored), an
# honest per-file limit. FS_KIND says which: tmpfs or ulimit.
# grow_fs KB gives the space back (remount bigger; or lift the limit).
FS_KIND=""
FS_DIR=""
FS_LIMIT=0
small_fs() {
	mkdir -p "$1"
	FS_DIR=$1
	if [ "${MMDB_FAULT_FS:-}" != ulimit ] && [ "$(id -u)" = 0 ] &&
		mount -t tmpfs -o "size=${2}k" mmdb-test "$1" 2>/dev/null; then
		FS_KIND=tmpfs
		# (lazily if busy: never leave a mount behind, nor delete through one)
		trap 'kill ${SERVER_PID:-} 2>/dev/null; umount "$FS_DIR" 2>/dev/null || umount -l "$FS_DIR"
			rm -rf "$T"' EXIT
	elif command -v prlimit >/dev/null 2>&1; then
		FS_KIND=ulimit
		FS_LIMIT=$(($2 * 1024))
	else
		return 1
	fi
}
grow_fs() {
	if [ "$FS_KIND" = tmpfs ]; then
		mount -o "remount,size=${1}k" "$FS_DIR"
	else
		FS_LIMIT=0
	fi
}
# limited CMD...: runs CMD under the size limit (ulimit kind) or as is.
limited() {
	if [ "$FS_KIND" = ulimit ] && [ "$FS_LIMIT" -gt 0 ]; then
		sh -c 'trap "" XFSZ; exec prlimit --fsize="$0" -- "$@"' "$FS_LIMIT" "$@"
	else
		"$@"
	fi
}
# The error a full disk (tmpfs) or the size limit (ulimit) gives.
full_error() {
	if [ "$FS_KIND" = tmpfs ]; then echo "No space left on device"; else echo "File too large"; fi
}

# A seeded RNG for the kill loops: rand_init SEED; rand_frac prints a number
# in [0, 1) and advances. The seed is printed so a failure can be replayed
# with MMDB_FAULT_SEED=SEED.
RAND_STATE=1
rand_init() {
	RAND_STATE=${MMDB_FAULT_SEED:-$1}
	echo "# seed $RAND_STATE (replay with MMDB_FAULT_SEED=$RAND_STATE)"
}
rand_frac() {
	RAND_STATE=$(((RAND_STATE * 1103515245 + 12345) % 2147483648))
	awk -v r="$RAND_STATE" 'BEGIN { printf "%.3f\n", r / 2147483648 }'
}
# rand_sleep MAX: sleeps a random fraction of MAX seconds.
rand_sleep() {
	sleep "$(awk -v f="$(rand_frac)" -v m="$1" 'BEGIN { printf "%.3f\n", f * m }')"
}

# hold_lock DB SECONDS: another process holds BEGIN EXCLUSIVE on DB for that
# long; returns once the lock is held (LOCK_PID is the holder).
hold_lock() {
	rm -f "$T/.locked"
	python3 - "$1" "$2" "$T/.locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[3], "w").close()
time.sleep(float(sys.argv[2]))
c.execute("ROLLBACK")
PY
	LOCK_PID=$!
	i=0
	while [ ! -f "$T/.locked" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	[ -f "$T/.locked" ]
}

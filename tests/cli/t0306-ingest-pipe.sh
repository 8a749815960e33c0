#!/bin/sh
# ingest reads a named pipe, stdin or a bash process substitution exactly
# once, as a stream: the records arrive as the writer writes them, and the
# ingests row gets the size and sha256 of the bytes that came through.
. "$(dirname "$0")/lib.sh"

VAL="$SAMPLE/multimodal_validate.tsv"
if [ ! -f "$VAL" ]; then
	skip "no sample files in $SAMPLE"
	exit 0
fi
q() { sqlite3 -batch "$MMDB_DB" ".timeout 30000" "$1"; }
fresh() { rm -f "$MMDB_DB" "$MMDB_DB-wal" "$MMDB_DB-shm"; "$MMDB" -q init >/dev/null; }
want_hash="$(sha256sum "$VAL" | cut -d' ' -f1) $(wc -c < "$VAL" | tr -d ' ')"

# finish PID: waits for a background mmdb (120 s at most, then kills it);
# its exit status, or 124 when it had to be killed.
finish() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}

# --- a named pipe ----------------------------------------------------------
fresh
mkfifo "$T/fifo"
cat "$VAL" > "$T/fifo" &
writer=$!
"$MMDB" -q ingest --split validate "$T/fifo" >"$T/out" 2>"$T/err" &
finish $!
check_eq "a named pipe: ingest exits 0 (a second open would hang or fail)" "$?" 0
wait $writer 2>/dev/null
check_eq "no error" "$(cat "$T/err")" ""
check_eq "every record" "$(q "SELECT count(*) FROM posts WHERE split = 'validate'")" 9996
check_eq "sha256 and size of the bytes read" "$(q "SELECT sha256 || ' ' || size FROM ingests")" "$want_hash"
check_eq "completed" "$(q "SELECT status FROM ingests")" completed

# --- streamed: records are written before the pipe's writer is done --------
# The writer sends the first 6000 lines, then waits until the database has
# posts (so mmdb must be ingesting while the input is still open), then the rest.
fresh
head -n 6000 "$VAL" > "$T/head.tsv"
tail -n +6001 "$VAL" > "$T/tail.tsv"
rm -f "$T/go"
(
	cat "$T/head.tsv"
	i=0
	while [ ! -f "$T/go" ] && [ $i -lt 1200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	cat "$T/tail.tsv"
) > "$T/fifo" &
writer=$!
"$MMDB" -q ingest --batch 100 --split validate "$T/fifo" >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ "$(q "SELECT count(*) FROM posts" 2>/dev/null || echo 0)" -lt 100 ] && [ $i -lt 1200 ] &&
	kill -0 $pid 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
n=$(q "SELECT count(*) FROM posts" 2>/dev/null || echo 0)
if [ "$n" -ge 100 ] && [ "$n" -lt 9996 ]; then ok "posts committed while the pipe is still open ($n)"
else fail "posts committed while the pipe is still open (got $n)"; fi
check_eq "the ingest shows as running meanwhile" "$(q "SELECT status FROM ingests")" running
touch "$T/go"
finish $pid
check_eq "then the ingest completes" "$?" 0
wait $writer 2>/dev/null
check_eq "every record, once" "$(q "SELECT count(*) || ' ' || count(DISTINCT id) FROM posts")" "9996 9996"
check_eq "sha256 of the whole stream" "$(q "SELECT sha256 || ' ' || size || ' ' || status FROM ingests")" "$want_hash completed"

# --- a compressed stream through a pipe, named so that it says its split ---
fresh
gzip -c "$VAL" > "$T/val.gz"
mkfifo "$T/multimodal_validate.tsv.gz"
cat "$T/val.gz" > "$T/multimodal_validate.tsv.gz" &
writer=$!
"$MMDB" -q ingest "$T/multimodal_validate.tsv.gz" >"$T/out" 2>"$T/err" &
finish $!
check_eq "a gzip stream through a named pipe" "$?" 0
wait $writer 2>/dev/null
check_eq "gzip pipe: every record" "$(q "SELECT count(*) FROM posts WHERE split = 'validate'")" 9996
check_eq "gzip pipe: sha256 of the compressed bytes" "$(q "SELECT sha256 || ' ' || size FROM ingests")" \
	"$(sha256sum "$T/val.gz" | cut -d' ' -f1) $(wc -c < "$T/val.gz" | tr -d ' ')"

# --- stdin ------------------------------------------------------------------
fresh
check_status "stdin ('-') from a pipe" 0 sh -c 'cat "$1" | "$MMDB" -q ingest --split validate -' sh "$VAL"
check_eq "stdin: every record" "$(q "SELECT count(*) FROM posts")" 9996
check_eq "stdin: sha256 and size" "$(q "SELECT sha256 || ' ' || size FROM ingests")" "$want_hash"
check_status "stdin again: nothing new" 0 sh -c '"$MMDB" -q ingest --split validate - < "$1"' sh "$VAL"
check_eq "stdin again: all unchanged" "$(q "SELECT records_ok || ' ' || records_unchanged FROM ingests WHERE id = 2")" "0 9996"

# --- bash process substitution (/dev/fd/N) -----------------------------------
if command -v bash >/dev/null; then
	fresh
	check_status "process substitution <(cat FILE)" 0 \
		bash -c '"$MMDB" -q ingest --split train <(cat "$1")' bash "$VAL"
	check_eq "process substitution: every record" "$(q "SELECT count(*) FROM posts WHERE split = 'train'")" 9996
	check_eq "process substitution: sha256 and size" "$(q "SELECT sha256 || ' ' || size FROM ingests")" "$want_hash"
	check_status "two at once" 0 \
		bash -c '"$MMDB" -q ingest --split train <(cat "$1") <(head -n 3 "$1")' bash "$VAL"
	check_eq "two at once: nothing new, two ingests" \
		"$(q "SELECT group_concat(records_ok || '/' || records_unchanged, ' ') FROM ingests WHERE id > 1")" "0/9996 0/2"
else
	skip "no bash for process substitution"
fi

# --- a pipe whose split is unknown is refused before it is opened ------------
fresh
mkfifo "$T/posts.tsv"
"$MMDB" -q ingest "$T/posts.tsv" >"$T/out" 2>"$T/err" &
finish $!
check_eq "a pipe without a split in its name or --split: usage error, not read" "$?" 2
check_match "saying so" "$(cat "$T/err")" "cannot tell the split of '.*posts.tsv'"

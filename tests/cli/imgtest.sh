# imgtest.sh: helpers for the images tests (source after lib.sh).
# start_server: runs tests/imgserver.py on a free port; sets B (base URL).
# add_posts ID URL [SPLIT] ...: queue posts; flush_posts writes them.
IMAGES="$SAMPLE/images"
start_server() {
	python3 "$MMDB_TOP/tests/imgserver.py" --root "$IMAGES" --port-file "$T/port" 2>"$T/server.log" &
	SERVER_PID=$!
	trap 'kill $SERVER_PID 2>/dev/null; rm -rf "$T"' EXIT
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	B="http://127.0.0.1:$(cat "$T/port")"
}
POSTS_SQL=""
add_post() {
	POSTS_SQL="$POSTS_SQL INSERT INTO posts(id, dataset_id, split, image_url) VALUES ('$1', 1, '${3:-train}', '$2');"
}
flush_posts() {
	"$MMDB" sql --write "INSERT OR IGNORE INTO datasets(id, name) VALUES (1, 'test'); $POSTS_SQL" >/dev/null
	POSTS_SQL=""
}
# Every object file's name is the sha256 of its bytes; prints the bad ones.
bad_objects() {
	find "$MMDB_CACHE/objects" -type f -exec sha256sum {} + | while read -r h f; do
		[ "$h" = "${f##*/}" ] || echo "$f"
	done
}
count_objects() { find "$MMDB_CACHE/objects" -type f | wc -l | tr -d ' '; }
count_tmp() { find "$MMDB_CACHE/tmp" -type f 2>/dev/null | wc -l | tr -d ' '; }
status_of() { q "SELECT status || ' ' || coalesce(reason, '') FROM images WHERE post_id = '$1'"; }
# Queries through the sqlite3 shell: mmdb's own start-up (libtorch) costs
# seconds on a loaded machine, and these tests ask many small questions.
# They wait for a writer's lock as mmdb does (while a fetch runs beside).
q() { sqlite3 -batch -cmd ".timeout 5000" "$MMDB_DB" "$1"; }

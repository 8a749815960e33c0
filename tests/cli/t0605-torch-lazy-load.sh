#!/bin/sh
# libtorch is loaded only by the commands that call into it: mmdb links no
# libtorch; the wrapper (libmmdb-torch.so) is opened on first use. Commands
# that never train run without it (and never map libtorch); those that need
# it fail with one line naming the file and why. The wrapper is found beside
# the binary, in ../lib/mmdb/ from it, or at $MMDB_TORCH_LIB.
. "$MMDB_TOP/tests/cli/lib.sh"
SO="$(dirname "$MMDB")/libmmdb-torch.so"
missing="$T/nowhere/libmmdb-torch.so"
# two posts, one per split file
H='author	clean_title	created_utc	domain	hasImage	id	image_url	linked_submission_id	num_comments	score	subreddit	title	upvote_ratio	2_way_label	3_way_label	6_way_label'
printf '%s\na	one	1551641244.0	i.redd.it	True	x1	https://i.redd.it/x1.jpg		2.0	5	pics	One	0.9	1	0	0\n' "$H" >"$T/multimodal_validate.tsv"
printf '%s\nb	two	1551641245.0	i.redd.it	True	x2	https://i.redd.it/x2.jpg		2.0	5	pics	Two	0.9	0	2	5\n' "$H" >"$T/multimodal_test_public.tsv"

check_eq "the mmdb binary links no libtorch" "$(ldd "$MMDB" | grep -c 'libtorch\|libc10')" 0

# which shared objects a command loads (ld.so's own report)
loaded() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -o 'file=[^ ]*' | sort -u; }
check_eq "mmdb init loads no libtorch" "$(loaded "$MMDB" init | grep -c 'libtorch\|mmdb-torch')" 0
check "mmdb ingest (sample validate)" "$MMDB" -q ingest "$T/multimodal_validate.tsv"
check_eq "mmdb stats loads no libtorch" "$(loaded "$MMDB" stats | grep -c 'libtorch\|mmdb-torch')" 0
check_match "mmdb model list loads the wrapper and libtorch" "$(loaded "$MMDB" model list)" \
	'libtorch_cpu'

# without the wrapper: the commands that do not train still work
export MMDB_TORCH_LIB="$missing"
check "ingest without the wrapper" "$MMDB" -q ingest "$T/multimodal_test_public.tsv"
check "stats without the wrapper" "$MMDB" stats
check_eq "sql without the wrapper" "$(q 'SELECT count(*) FROM posts')" 2
check "runs without the wrapper" "$MMDB" runs
if [ -f "$GOLDEN/vocab.txt" ]; then
	check_match "tokenize without the wrapper" "$(echo 'Hello, world' | "$MMDB" tokenize --vocab "$GOLDEN/vocab.txt")" \
		'^101 .* 102( 0)*$'
else
	skip "tokenize: no $GOLDEN/vocab.txt"
fi
check "model -h without the wrapper" "$MMDB" model -h

# ... and those that call into libtorch say why they cannot
for cmd in "model list" "model inspect x.safetensors" "predict --run 1 --title x" "run --epochs 1"; do
	# shellcheck disable=SC2086
	check_status "$cmd without the wrapper exits 1" 1 "$MMDB" $cmd
	check_eq "$cmd: one line" "$(wc -l <"$T/.err" | tr -d ' ')" 1
	check_match "$cmd: names the file and the loader's reason" "$(cat "$T/.err")" \
		"'$missing'.*No such file"
done
check_eq "run without the wrapper recorded no run" "$(q 'SELECT count(*) FROM runs')" 0
check_status "env without the wrapper exits 1" 1 "$MMDB" env
check_match "env still prints the rest" "$(cat "$T/.out")" 'sqlite +3\.'
check_match "env: libtorch not loaded" "$(cat "$T/.out")" 'libtorch +not loaded'
other=$(ldd "$MMDB" | awk '/libsqlite3/ { print $3 }')
MMDB_TORCH_LIB="$other" check_status "a library that is not the wrapper exits 1" 1 "$MMDB" model list
check_match "... naming what it lacks" "$(cat "$T/.err")" 'lacks mt_'

# found beside the binary, in ../lib/mmdb/, or where MMDB_TORCH_LIB says
MMDB_TORCH_LIB="$SO" check "MMDB_TORCH_LIB names the wrapper" "$MMDB" model list
unset MMDB_TORCH_LIB
mkdir -p "$T/inst/bin" "$T/inst/lib/mmdb"
cp "$MMDB" "$T/inst/bin/mmdb"
check_status "an installed mmdb without the wrapper exits 1" 1 "$T/inst/bin/mmdb" model list
check_match "... naming both places it looked" "$(cat "$T/.err")" \
	"neither '$T/inst/bin/libmmdb-torch.so' nor '$T/inst/bin/../lib/mmdb/libmmdb-torch.so' exists"
ln -s "$SO" "$T/inst/lib/mmdb/libmmdb-torch.so"
check_status "bin/mmdb finds lib/mmdb/libmmdb-torch.so" 0 "$T/inst/bin/mmdb" model list
check_match "... and lists the presets" "$(cat "$T/.out")" 'bert-base'
check_match "env with the wrapper shows libtorch's version" "$("$MMDB" env)" 'libtorch +2\.'

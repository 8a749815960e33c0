#!/bin/sh
# make install PREFIX=DIR puts bin/mmdb and lib/mmdb/libmmdb-torch.so under
# DIR (DESTDIR stages it); the installed tree works wherever it is moved,
# with no build tree beside it: its ranks (--nproc, torchrun) are the
# installed binary with the installed wrapper, and they train exactly as
# the build tree's mmdb does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check "synthetic dataset" setup_synthetic 96 32 32
end_without_torch "make install"
unset MMDB_TORCH_LIB
# make from inside `make test`: not the parent's jobserver or level
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$MMDB_TOP" "$@"; }
check_status "make install PREFIX=$T/prefix" 0 mk install PREFIX="$T/prefix"
check "bin/mmdb is executable" test -x "$T/prefix/bin/mmdb"
check "lib/mmdb/libmmdb-torch.so is there" test -f "$T/prefix/lib/mmdb/libmmdb-torch.so"
check_eq "the installed mmdb is the built one" "$(cmp "$T/prefix/bin/mmdb" "$MMDB" && echo same)" same
check_status "make install DESTDIR=$T/stage PREFIX=/opt/mmdb" 0 mk install DESTDIR="$T/stage" PREFIX=/opt/mmdb
check "... stages bin and lib under DESTDIR" test -x "$T/stage/opt/mmdb/bin/mmdb" -a \
	-f "$T/stage/opt/mmdb/lib/mmdb/libmmdb-torch.so"

# a node's copy of the installed tree, elsewhere
mv "$T/prefix" "$T/node"
I="$T/node/bin/mmdb"
args="--modalities text --text-model bert-tiny --max-len 12 --lr 1e-3 --optimizer adamw
	--threads 1 --workers 1 --seed 5 --epochs 2 --dropout 0 --text-dropout 0
	--class-weights none --batch-size 8"
check_status "./mmdb run --nproc 2 (build tree)" 0 "$MMDB" -q run --name built $args --nproc 2
# the installed run, slowed so that its ranks can be looked at while they train
MMDB_TEST_STEP_SLEEP_MS=200 "$I" -q run --name installed $args --nproc 2 >"$T/inst.out" 2>&1 &
launcher=$!
ranks= maps=
if wait_for "SELECT count(*) > 0 FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = 'installed'" 60; then
	for r in 0 1; do
		p=$(rank_pid "$launcher" "$r") || continue
		ranks="$ranks $(readlink "/proc/$p/exe")"
		maps="$maps $(grep -o '/[^ ]*libmmdb-torch\.so' "/proc/$p/maps" | sort -u)"
	done
fi
check_status "installed mmdb run --nproc 2" 0 wait "$launcher"
check_eq "both ranks are the installed binary" "$ranks" " $I $I"
check_eq "both ranks loaded the installed wrapper" "$maps" \
	" $T/node/lib/mmdb/libmmdb-torch.so $T/node/lib/mmdb/libmmdb-torch.so"
check_eq "one runs row, world_size 2, completed" \
	"$(q "SELECT count(*)||','||max(world_size)||','||max(status) FROM runs WHERE name = 'installed'")" "1,2,completed"
rows() { q "SELECT group_concat(r, ';') FROM (SELECT e.epoch||e.split||':'||printf('%.9f', e.loss)||','||
	coalesce(e.accuracy, '') AS r FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = '$1'
	ORDER BY e.epoch, e.split)"; }
check_match "epochs recorded" "$(rows installed)" "^1train:.*2validate:"
check_eq "same epoch rows as the build tree's mmdb" "$(rows installed)" "$(rows built)"

TORCHRUN="$MMDB_TOP/.venv/bin/torchrun"
if [ -x "$TORCHRUN" ]; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	check_status "torchrun --no-python launching the installed mmdb" 0 env OMP_NUM_THREADS=1 "$TORCHRUN" \
		--no-python --nproc-per-node 2 --master-addr 127.0.0.1 --master-port "$port" "$I" -q run --name tr $args
	check_eq "... same epoch rows again" "$(rows tr)" "$(rows built)"
else
	skip "torchrun: no torchrun in .venv"
fi

# the wrapper gone from the node: one line naming both places looked in
mv "$T/node/lib/mmdb/libmmdb-torch.so" "$T/away.so"
check_status "installed mmdb without its wrapper exits 1" 1 "$I" run --name none $args
check_match "... naming where it looked" "$(cat "$T/.err")" "nor '$T/node/bin/../lib/mmdb/libmmdb-torch.so' exists"
check_eq "... and recorded no run" "$(q "SELECT count(*) FROM runs WHERE name = 'none'")" 0

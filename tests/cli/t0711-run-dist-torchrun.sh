#!/bin/sh
# torchrun (from .venv) launching ./mmdb run with 2 ranks: the ranks join
# torchrun's store and train exactly as `mmdb run --nproc 2` does. Then
# srun's contract (each task started with SLURM_PROCID, SLURM_NTASKS,
# SLURM_LOCALID and the exported MASTER_ADDR/MASTER_PORT): the same again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

TORCHRUN="$MMDB_TOP/.venv/bin/torchrun"
check "synthetic dataset" setup_synthetic 96 32 32
end_without_torch "torchrun"
args="--modalities text --text-model bert-tiny --max-len 12 --lr 1e-3 --optimizer adamw
	--threads 1 --workers 1 --seed 5 --epochs 2 --dropout 0 --text-dropout 0
	--class-weights none --batch-size 8"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

check_status "mmdb run --nproc 2" 0 "$MMDB" -q run --name nproc $args --nproc 2
rows() { q "SELECT group_concat(r, ';') FROM (SELECT e.epoch||e.split||':'||printf('%.9f', e.loss)||','||
	coalesce(e.accuracy, '')||','||coalesce(printf('%.12f', e.f1), '') AS r
	FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = '$1' ORDER BY e.epoch, e.split)"; }
if [ -x "$TORCHRUN" ]; then
	check_status "torchrun --nproc-per-node 2 ./mmdb run" 0 env OMP_NUM_THREADS=1 "$TORCHRUN" --no-python \
		--nproc-per-node 2 --master-addr 127.0.0.1 --master-port "$port" "$MMDB" -q run --name torchrun $args
	check_eq "one runs row from torchrun's ranks, world_size 2, gloo" \
		"$(q "SELECT count(*)||','||max(world_size)||','||max(backend)||','||max(status) FROM runs WHERE name = 'torchrun'")" \
		"1,2,gloo,completed"
	check_match "epochs recorded" "$(rows torchrun)" "^1train:.*2validate:"
	check_eq "same epoch rows as --nproc 2" "$(rows torchrun)" "$(rows nproc)"
	check_eq "same predictions as --nproc 2" \
		"$(q "SELECT count(*)||'/'||sum(a.probs = b.probs) FROM predictions a JOIN predictions b
		ON a.post_id = b.post_id AND a.run_id = (SELECT id FROM runs WHERE name = 'nproc')
		AND b.run_id = (SELECT id FROM runs WHERE name = 'torchrun')")" "64/64"
else
	skip "torchrun: no torchrun in .venv"
fi

# srun: two tasks started as srun starts them (no RANK or WORLD_SIZE)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
srun_task() {
	env -u RANK -u WORLD_SIZE -u LOCAL_RANK SLURM_NTASKS=2 SLURM_PROCID="$1" SLURM_LOCALID="$1" \
		MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" OMP_NUM_THREADS=1 "$MMDB" -q run --name srun $args
}
srun_task 1 >"$T/srun1.out" 2>&1 &
task1=$!
check_status "an srun task 0" 0 srun_task 0
check_status "... and task 1" 0 wait "$task1"
check_eq "one runs row from the srun tasks, world_size 2, gloo" \
	"$(q "SELECT count(*)||','||max(world_size)||','||max(backend)||','||max(status) FROM runs WHERE name = 'srun'")" \
	"1,2,gloo,completed"
check_eq "same epoch rows as --nproc 2" "$(rows srun)" "$(rows nproc)"
check_status "srun without MASTER_ADDR exits 1" 1 env -u MASTER_ADDR SLURM_NTASKS=2 SLURM_PROCID=0 \
	"$MMDB" -q run --name nomaster $args
check_match "... saying to export it" "$(cat "$T/.err")" '^mmdb: \$MASTER_ADDR is not set: under srun'
check_eq "... and recorded no run" "$(q "SELECT count(*) FROM runs WHERE name = 'nomaster'")" 0

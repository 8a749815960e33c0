#!/bin/sh
# BatchNorm in data-parallel runs (image only, resnet-small, no dropout):
# with --sync-bn, 2 ranks x batch 8 normalise with the global batch's
# statistics and so match 1 process x batch 16 (train losses within 1e-4
# relative, same validate and test metrics); without it each rank
# normalises its own 8 posts and the losses differ.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_run.sh"

check "synthetic dataset" setup_synthetic 96 32 32
end_without_torch "synchronised BatchNorm"
args="--modalities image --image-model resnet-small --image-size 32 --lr 1e-3 --optimizer adamw
	--threads 1 --workers 1 --seed 5 --epochs 2 --dropout 0 --class-weights none --scheduler none"

check_status "one process, batch 16" 0 "$MMDB" -q run --name one $args --batch-size 16
check_status "two ranks, --sync-bn" 0 "$MMDB" -q run --name sync $args --batch-size 8 --nproc 2 --sync-bn
check_status "two ranks, BatchNorm per rank" 0 "$MMDB" -q run --name own $args --batch-size 8 --nproc 2

# diff A B SPLITS: the largest relative difference of the epoch losses.
diff() { q "SELECT max(abs(a.loss - b.loss) / abs(a.loss)) FROM epochs a JOIN epochs b
	ON a.epoch = b.epoch AND a.split = b.split
	WHERE a.run_id = (SELECT id FROM runs WHERE name = '$1')
	AND b.run_id = (SELECT id FROM runs WHERE name = '$2') AND a.split $3"; }
below() { awk -v d="$1" -v l="$2" 'BEGIN { print (d != "" && d < l) ? "yes" : "no" }'; }
d=$(diff one sync "= 'train'")
check_eq "--sync-bn: train losses within 1e-4 relative of one process ($d)" "$(below "$d" 1e-4)" yes
metrics() { q "SELECT group_concat(e.epoch||e.split||e.accuracy||printf('%.12f', e.f1_macro), ';')
	FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.name = '$1' AND e.split != 'train'"; }
check_eq "--sync-bn: same validate and test metrics" "$(metrics sync)" "$(metrics one)"
d=$(diff one own "= 'train'")
check_eq "per-rank BatchNorm: train losses differ by more than 1e-3 ($d)" "$(below "$d" 1e-3)" no
check_eq "sync_bn recorded in the config" "$(q "SELECT json_extract(config, '$.sync_bn') FROM runs WHERE name = 'sync'")" 1

#!/bin/sh
# model list (presets, parameter counts), model inspect (tensors, preset match), usage errors.
. "$(dirname "$0")/lib.sh"

out=$("$MMDB" model list)
check_status "model list exits 0" 0 "$MMDB" model list
# bert-base-uncased has 109,482,240 encoder+embedding parameters (pooler excluded);
# torchvision's resnet18 11,689,512 and resnet50 25,557,032
check_match "bert-base count" "$out" "bert-base +text +12 layers, hidden 768, 12 heads, FF 3072 +108891648"
check_match "resnet18 count" "$out" "resnet18 +image +basic 2-2-2-2, width 64 +11689512"
check_match "resnet50 count" "$out" "resnet50 +image +bottleneck 3-4-6-3, width 64 +25557032"
check_match "resnet-small listed" "$out" "resnet-small +image"
check_match "bert-tiny listed" "$out" "bert-tiny +text +2 layers, hidden 128, 2 heads, FF 512"
check_match "--vocab-size changes BERT counts" "$("$MMDB" model list --vocab-size 1000 --format csv)" "bert-tiny,text,\".*\",590592"
check_status "bad --vocab-size is a usage error" 2 "$MMDB" model list --vocab-size 12x
check_status "unknown subcommand is a usage error" 2 "$MMDB" model frobnicate
check_status "model -h exits 0" 0 "$MMDB" model -h
check_status "inspect without a file is a usage error" 2 "$MMDB" model inspect

# A file written by the test in torchvision's resnet18 naming
"$MMDB_TOP/.venv/bin/python" - "$T/r18.safetensors" "$T/bad.safetensors" <<'PY'
import sys, struct, json
import os; sys.path.insert(0, os.environ["MMDB_TOP"] + "/tests/torch")
import numpy as np, st
t = {"conv1.weight": np.zeros((64, 3, 7, 7), np.float32), "bn1.running_var": np.ones(64, np.float16)}
inp = 64
for li, n in enumerate([2, 2, 2, 2]):
    for b in range(n):
        t[f"layer{li+1}.{b}.conv1.weight"] = np.zeros((64 << li, inp, 3, 3), np.float32)
        inp = 64 << li
st.save(sys.argv[1], t, {"format": "pt"})
h = json.dumps({"w": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]}}).encode()
open(sys.argv[2], "wb").write(struct.pack("<Q", len(h)) + h + b"\0" * 16)
PY
out=$("$MMDB" model inspect "$T/r18.safetensors")
check_match "inspect lists a tensor" "$out" "conv1.weight +F32 +\[64, 3, 7, 7\] +37632"
check_match "inspect shows F16" "$out" "bn1.running_var +F16 +\[64\] +128"
check_match "inspect FILE --format csv (options after the file)" \
	"$("$MMDB" model inspect "$T/r18.safetensors" --format csv | tr -d '\r')" 'conv1.weight,F32,"\[64, 3, 7, 7\]",37632'
check_match "inspect totals" "$out" "10 tensors, .* parameters"
check_match "inspect metadata" "$out" "metadata format = pt"
check_match "inspect matches the preset" "$out" "preset: resnet18"
check_eq "inspect json is one array" "$("$MMDB" model inspect --format json "$T/r18.safetensors" | head -c 2)" '[{'
check_status "inspect of a hostile file fails" 1 "$MMDB" model inspect "$T/bad.safetensors"
check_match "naming the file and the tensor" "$(cat "$T/.err")" "bad.safetensors: tensor 'w'.*past the end"
check_status "inspect of a missing file fails" 1 "$MMDB" model inspect "$T/none.safetensors"
check_match "naming the file" "$(cat "$T/.err")" "none.safetensors"

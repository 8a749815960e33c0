#!/bin/sh
# mmdb's BERT and ResNet against the PyTorch references (tests/torch/*.py).
. "$(dirname "$0")/lib.sh"

PY="$MMDB_TOP/.venv/bin/python"
"$PY" "$MMDB_TOP/tests/torch/parity_bert.py" "$MMDB" "$T" 2>&1 || echo "not ok - parity_bert.py failed"
"$PY" "$MMDB_TOP/tests/torch/parity_resnet.py" "$MMDB" "$T" functional 2>&1 || echo "not ok - parity_resnet.py functional failed"

# torchvision does not import beside the venv's torch 2.13.0 from PyPI: `make deps`
# installs Debian's python3-torchvision (0.14, with its torch 1.13) for
# /usr/bin/python3. Another python that has it (e.g. a torch 2.14.1 +
# torchvision 0.29.1 venv): $MMDB_TORCHVISION_PYTHON.
TVPY=${MMDB_TORCHVISION_PYTHON:-}
if [ -z "$TVPY" ]; then
	for p in "$PY" /usr/bin/python3; do
		if "$p" -c 'import torchvision' 2>/dev/null; then TVPY=$p; break; fi
	done
fi
if [ -n "$TVPY" ]; then
	"$TVPY" "$MMDB_TOP/tests/torch/parity_resnet.py" "$MMDB" "$T" torchvision 2>&1 || echo "not ok - parity_resnet.py torchvision failed"
else
	skip "ResNet vs torchvision: no python with torchvision (set MMDB_TORCHVISION_PYTHON)"
fi

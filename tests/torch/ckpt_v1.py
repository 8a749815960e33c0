"""Rewrites an mmdb checkpoint as one written before train accuracy was
counted: its train state (the 'extra' bytes) in version 1's layout, the same
fields without the trailing correct count. For the resume-compatibility test.

    python ckpt_v1.py CHECKPOINT
"""
import struct
import sys

import torch

V1_SIZE = 128  # offsetof(struct train_state, correct)

path = sys.argv[1]
m = torch.jit.load(path)
extra = bytes(m.extra.tolist())
magic, version = struct.unpack_from("<II", extra)
if magic != 0x6D6D6462 or version != 2 or len(extra) != V1_SIZE + 8:
    sys.exit(f"{path}: not a version 2 train state ({len(extra)} bytes, version {version})")
v1 = bytearray(extra[:V1_SIZE])
struct.pack_into("<I", v1, 4, 1)
m.extra = torch.tensor(list(v1), dtype=torch.uint8)
torch.jit.save(m, path)

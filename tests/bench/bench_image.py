#!/usr/bin/env python3
"""Pillow's side of bench_image.sh: the original recipe's image path on one thread.

usage: bench_image.py SIZE SECONDS FILE...

Loads the files into memory, then per file: Image.open, convert("RGB"),
resize((SIZE, SIZE), BILINEAR) (antialiased when reducing), pass after pass
for at least SECONDS of this thread's CPU time. Prints "<images per CPU
second> <passes>".
"""
import io
import sys
import time

from PIL import Image


def main():
    size, seconds = int(sys.argv[1]), float(sys.argv[2])
    data = [open(p, "rb").read() for p in sys.argv[3:]]
    for d in data:  # warm-up pass
        Image.open(io.BytesIO(d)).convert("RGB").resize((size, size), Image.BILINEAR)
    done = passes = 0
    t0 = time.thread_time()
    while True:
        for d in data:
            Image.open(io.BytesIO(d)).convert("RGB").resize((size, size), Image.BILINEAR)
        done += len(data)
        passes += 1
        dt = time.thread_time() - t0
        if dt >= seconds:
            break
    print(f"{done / dt:.1f} {passes}")


if __name__ == "__main__":
    main()

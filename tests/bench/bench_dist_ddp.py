"""PyTorch's DistributedDataParallel on the text network of `mmdb run
--modalities text` (bench_train_cpu.py's BERT, [CLS] -> dropout -> Linear),
gloo over loopback, AdamW, a fixed synthetic batch per rank. Prints the
global training samples/s measured on rank 0 between two barriers.
usage: bench_dist_ddp.py WORLD TEXT VOCAB MAX_LEN BATCH STEPS WARMUP THREADS"""
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train_cpu import BERT, Bert  # noqa: E402


class TextNet(nn.Module):
    def __init__(self, text, vocab, C, p):
        super().__init__()
        layers, h, heads, ff = BERT[text]
        self.bert = Bert(vocab, layers, h, heads, ff)
        self.drop, self.head = nn.Dropout(p), nn.Linear(h, C)

    def forward(self, ids, mask):
        return self.head(self.drop(self.bert(ids, mask)))


def rank_main(rank, world, port, text, vocab, L, B, steps, warmup, threads, out):
    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    torch.manual_seed(1)
    C = 6
    net = TextNet(text, vocab, C, 0.3)
    model = nn.parallel.DistributedDataParallel(net) if world > 1 else net
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(100 + rank)
    ids = torch.randint(0, vocab, (B, L), dtype=torch.int32, generator=g)
    mask = torch.ones(B, L, dtype=torch.uint8)
    labels = torch.arange(B, dtype=torch.int32) % C
    model.train()
    for i in range(warmup + steps):
        if i == warmup:
            dist.barrier()
            t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(ids.long(), mask.bool()), labels.long())
        loss.backward()
        opt.step()
        loss.item()
    dist.barrier()
    dt = time.perf_counter() - t0
    if rank == 0:
        out.put(f"{world * steps * B / dt:.3f} samples/s ({world} x {steps} steps of {B} in {dt:.2f} s, "
                f"{threads} threads each)")
    dist.destroy_process_group()


def main():
    world, text = int(sys.argv[1]), sys.argv[2]
    vocab, L, B, steps, warmup, threads = (int(a) for a in sys.argv[3:9])
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=rank_main, args=(r, world, port, text, vocab, L, B, steps, warmup, threads, q))
             for r in range(world)]
    for p in procs:
        p.start()
    res = q.get()
    for p in procs:
        p.join()
    print(res)


if __name__ == "__main__":
    main()

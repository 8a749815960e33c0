"""The fine-tuning `mmdb model bench --text DIR` times, in transformers +
PyTorch eager: BertModel.from_pretrained(DIR) (train mode, its dropout),
[CLS] -> dropout -> Linear(H, 6), Adam, cross-entropy, on the same fixed
synthetic batch (ids from the same generator, every token attended).
Prints training samples/s.
usage: bench_hf_train.py DIR BATCH MAX_LEN STEPS WARMUP THREADS"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import BertModel

d, B, L, steps, warmup, threads = sys.argv[1], *map(int, sys.argv[2:7])
torch.set_num_threads(threads)
torch.manual_seed(1)
bert = BertModel.from_pretrained(d, add_pooling_layer=False)
bert.train()
C = 6
head = nn.Linear(bert.config.hidden_size, C)
drop = nn.Dropout(0.1)
params = list(bert.parameters()) + list(head.parameters())
opt = torch.optim.Adam(params, lr=1e-5)

# the ids mmdb model bench makes: r = r * 1103515245 + 12345 (mod 2^32), (r >> 8) % vocab
V = bert.config.vocab_size
r, ids = 1, []
for _ in range(B * L):
    r = (r * 1103515245 + 12345) & 0xFFFFFFFF
    ids.append((r >> 8) % V)
ids = torch.tensor(ids).view(B, L)
mask = torch.ones(B, L, dtype=torch.long)
tt = torch.zeros_like(ids)
labels = torch.arange(B) % C

t0, c0 = time.perf_counter(), time.process_time()
for i in range(warmup + steps):
    if i == warmup:
        t0, c0 = time.perf_counter(), time.process_time()
    cls = bert(input_ids=ids, attention_mask=mask, token_type_ids=tt).last_hidden_state[:, 0]
    loss = F.cross_entropy(head(drop(cls)), labels)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
dt, dc = time.perf_counter() - t0, time.process_time() - c0
print(f"{steps * B / dt:.3f} samples/s ({steps} steps of {B} in {dt:.2f} s, {dc:.2f} CPU s, {torch.get_num_threads()} threads, "
      f"loss {loss.item():.4f}, attention {bert.config._attn_implementation})")

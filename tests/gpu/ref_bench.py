#!/usr/bin/env python3
"""Training throughput of the original BERT + ResNet50 max-fusion recipe in
PyTorch, as published (fp32) and with the usual speed-ups (bf16 autocast,
channels_last, cudnn.benchmark, TF32, fused Adam). Random weights (no
downloads), random inputs already on the device: this measures the model
step alone, the most favourable case for the Python side.

    ref_bench.py --mode original|tuned [--device cuda] [--batch 32] [--steps 30]
    ref_bench.py --tiny ...   (small BERT/ResNet18 at 64 px: a CPU dry run)
Prints one line: samples_per_s: X
"""
import argparse
import time

import torch
import torch.nn as nn
import torchvision
from transformers import BertConfig, BertModel


class Original(nn.Module):
    """The published recipe: [CLS] -> (dropout, unused) -> Linear(768, C);
    ResNet50's 1000 ImageNet logits -> dropout -> Linear(1000, C); max."""

    def __init__(self, bert_cfg, resnet, classes):
        super().__init__()
        self.bert = BertModel(bert_cfg, add_pooling_layer=False)
        self.text_drop = nn.Dropout(0.3)
        self.text_fc = nn.Linear(bert_cfg.hidden_size, classes)
        self.resnet = resnet
        self.img_drop = nn.Dropout(0.3)
        self.img_fc = nn.Linear(1000, classes)

    def forward(self, ids, mask, pixels):
        cls = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0]  # B x H
        _ = self.text_drop(cls)  # computed and not used, as in the original
        t = self.text_fc(cls)  # B x C
        i = self.img_fc(self.img_drop(self.resnet(pixels)))  # B x C
        return torch.maximum(t, i)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["original", "tuned"], default="original")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--max-len", type=int, default=80)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--tiny", action="store_true")
    a = ap.parse_args()
    dev = torch.device(a.device)
    torch.manual_seed(0)
    C = 6
    if a.tiny:
        cfg = BertConfig(vocab_size=30522, hidden_size=128, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=512)
        resnet = torchvision.models.resnet18(weights=None)
        a.size = min(a.size, 64)
    else:
        cfg = BertConfig()  # bert-base-uncased architecture
        resnet = torchvision.models.resnet50(weights=None)
    tuned = a.mode == "tuned"
    # The published recipe predates fused attention in transformers: eager
    # attention there, scaled_dot_product_attention in the tuned version.
    cfg._attn_implementation = "sdpa" if tuned else "eager"
    if tuned and dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    model = Original(cfg, resnet, C).to(dev)
    if tuned:
        model.resnet = model.resnet.to(memory_format=torch.channels_last)
    model.train()
    fused = tuned and dev.type == "cuda"
    opt = torch.optim.Adam(model.parameters(), lr=1e-5, fused=fused or None)
    weights = torch.ones(C, device=dev)
    lossf = nn.CrossEntropyLoss(weight=weights)

    B, L, S = a.batch, a.max_len, a.size
    ids = torch.randint(1000, 30000, (B, L), device=dev)
    mask = torch.ones(B, L, dtype=torch.long, device=dev)
    mask[:, L // 2:] = torch.randint(0, 2, (B, L - L // 2), device=dev)
    pixels = torch.randn(B, 3, S, S, device=dev)
    if tuned:
        pixels = pixels.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, C, (B,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        if tuned and dev.type == "cuda":
            with torch.autocast("cuda", dtype=torch.bfloat16):
                out = model(ids, mask, pixels)
            loss = lossf(out.float(), labels)
        else:
            loss = lossf(model(ids, mask, pixels), labels)
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    loss.item()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    print(f"mode: {a.mode} device: {dev} batch: {B} steps: {a.steps} seconds: {dt:.3f} loss: {loss.item():.4f}")
    print(f"samples_per_s: {B * a.steps / dt:.2f}")


if __name__ == "__main__":
    main()

"""The network of `mmdb model bench` in PyTorch eager: BERT (post-LN, erf
GELU, SDPA with the padding mask) + torchvision-layout ResNet, pooled
features -> dropout -> Linear heads, max fusion, Adam, cross-entropy.
Prints training samples/s on a fixed synthetic batch.
usage: bench_train_cpu.py TEXT IMAGE SIZE BATCH STEPS WARMUP THREADS [MAX_LEN]"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BERT = {"bert-base": (12, 768, 12, 3072), "bert-medium": (8, 512, 8, 2048), "bert-small": (4, 512, 8, 2048),
        "bert-mini": (4, 256, 4, 1024), "bert-tiny": (2, 128, 2, 512)}
RESNET = {"resnet18": (False, [2, 2, 2, 2], 64), "resnet34": (False, [3, 4, 6, 3], 64),
          "resnet50": (True, [3, 4, 6, 3], 64), "resnet-small": (False, [1, 1, 1, 1], 16)}


class Layer(nn.Module):
    def __init__(self, h, heads, ff, p):
        super().__init__()
        self.heads, self.p = heads, p
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.inter, self.out = nn.Linear(h, ff), nn.Linear(ff, h)

    def forward(self, x, mask):  # x (B, L, H), mask (B, 1, 1, L) bool
        B, L, H = x.shape
        q, k, v = (f(x).view(B, L, self.heads, -1).transpose(1, 2) for f in (self.q, self.k, self.v))
        p = self.p if self.training else 0.0
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p).transpose(1, 2).reshape(B, L, H)
        a = self.ln1(F.dropout(self.o(a), p, self.training) + x)
        return self.ln2(F.dropout(self.out(F.gelu(self.inter(a))), p, self.training) + a)


class Bert(nn.Module):
    def __init__(self, vocab, layers, h, heads, ff, p=0.1):
        super().__init__()
        self.word, self.pos, self.tok_type = nn.Embedding(vocab, h), nn.Embedding(512, h), nn.Embedding(2, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.layers = nn.ModuleList(Layer(h, heads, ff, p) for _ in range(layers))
        self.p = p

    def forward(self, ids, mask):
        L = ids.shape[1]
        x = self.word(ids) + self.pos(torch.arange(L))[None] + self.tok_type.weight[0]
        x = F.dropout(self.ln(x), self.p, self.training)
        m = mask.bool().clone()
        m[:, 0] = True
        m = m[:, None, None, :]
        for lay in self.layers:
            x = lay(x, m)
        return x[:, 0]


class Block(nn.Module):
    def __init__(self, inp, planes, stride, bottleneck):
        super().__init__()
        exp = 4 if bottleneck else 1
        if bottleneck:
            self.convs = nn.ModuleList([nn.Conv2d(inp, planes, 1, bias=False),
                                        nn.Conv2d(planes, planes, 3, stride, 1, bias=False),
                                        nn.Conv2d(planes, planes * exp, 1, bias=False)])
            self.bns = nn.ModuleList([nn.BatchNorm2d(planes), nn.BatchNorm2d(planes), nn.BatchNorm2d(planes * exp)])
        else:
            self.convs = nn.ModuleList([nn.Conv2d(inp, planes, 3, stride, 1, bias=False),
                                        nn.Conv2d(planes, planes, 3, 1, 1, bias=False)])
            self.bns = nn.ModuleList([nn.BatchNorm2d(planes), nn.BatchNorm2d(planes)])
        self.down = None
        if stride != 1 or inp != planes * exp:
            self.down = nn.Sequential(nn.Conv2d(inp, planes * exp, 1, stride, bias=False), nn.BatchNorm2d(planes * exp))

    def forward(self, x):
        idt = self.down(x) if self.down is not None else x
        y = x
        for i, (c, b) in enumerate(zip(self.convs, self.bns)):
            y = b(c(y))
            if i < len(self.convs) - 1:
                y = F.relu(y, inplace=True)
        return F.relu(y + idt, inplace=True)


class ResNet(nn.Module):
    def __init__(self, bottleneck, blocks, w):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, w, 7, 2, 3, bias=False), nn.BatchNorm2d(w)
        layers, inp = [], w
        for li, n in enumerate(blocks):
            for bi in range(n):
                layers.append(Block(inp, w << li, 2 if bi == 0 and li > 0 else 1, bottleneck))
                inp = (w << li) * (4 if bottleneck else 1)
        self.blocks = nn.Sequential(*layers)
        self.features = inp

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x)), inplace=True), 3, 2, 1)
        return F.adaptive_avg_pool2d(self.blocks(x), 1).flatten(1)


class Net(nn.Module):
    def __init__(self, text, image, C, vocab, p):
        super().__init__()
        layers, h, heads, ff = BERT[text]
        self.bert = Bert(vocab, layers, h, heads, ff)
        self.resnet = ResNet(*RESNET[image])
        self.drop_t, self.drop_i = nn.Dropout(p), nn.Dropout(p)
        self.head_t, self.head_i = nn.Linear(h, C), nn.Linear(self.resnet.features, C)

    def forward(self, ids, mask, x):
        return torch.maximum(self.head_t(self.drop_t(self.bert(ids, mask))),
                             self.head_i(self.drop_i(self.resnet(x))))


def main():
    text, image = sys.argv[1], sys.argv[2]
    S, B, steps, warmup, threads = (int(a) for a in sys.argv[3:8])
    L = int(sys.argv[8]) if len(sys.argv) > 8 else 64
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    C, vocab = 6, 30522
    net = Net(text, image, C, vocab, 0.1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-5)
    ids = torch.randint(0, vocab, (B, L), dtype=torch.int32)
    mask = torch.ones(B, L, dtype=torch.uint8)
    px = torch.randint(0, 256, (B, S, S, 3), dtype=torch.uint8)
    labels = torch.arange(B, dtype=torch.int32) % C
    mean = torch.tensor([0.485, 0.456, 0.406]) * 255
    inv = 1 / (torch.tensor([0.229, 0.224, 0.225]) * 255)
    net.train()
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        # the same conversions mmdb does per step
        x = ((px.float() - mean) * inv).permute(0, 3, 1, 2).contiguous()
        opt.zero_grad()
        loss = F.cross_entropy(net(ids.long(), mask.bool(), x), labels.long())
        loss.backward()
        opt.step()
        lv = loss.item()
    dt = time.perf_counter() - t0
    print(f"{steps * B / dt:.3f} samples/s ({steps} steps of {B} in {dt:.2f} s, {torch.get_num_threads()} threads, "
          f"loss {lv:.4f})")


if __name__ == "__main__":
    main()

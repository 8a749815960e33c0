"""mmdb's BERT encoder against Hugging Face transformers' BertModel and
against torch.nn.TransformerEncoderLayer, on random weights: the [CLS]
output must agree within 1e-4 (fp32, CPU, eval).
usage: parity_bert.py MMDB TMPDIR"""
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

TOL = 1e-4
mmdb, tmp = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
torch.set_num_threads(2)
try:
    from transformers import BertConfig, BertModel
except ImportError:
    BertModel = None
    print("skip - transformers is not installed in this python (make deps installs it)")

PRESETS = {"bert-tiny": (2, 128, 2, 512), "bert-mini": (4, 256, 4, 1024)}
failed = 0


def report(what, diff):
    global failed
    ok = diff < TOL
    failed += not ok
    print(f"{'ok' if ok else 'not ok'} - {what}: max |diff| {diff:.2e} (tolerance {TOL:g})")


def run_mmdb(preset, weights, ids, mask):
    inp, out = os.path.join(tmp, "in.safetensors"), os.path.join(tmp, "out.safetensors")
    st.save(inp, {"input_ids": ids.numpy().astype(np.int32), "attention_mask": mask.numpy().astype(np.uint8)})
    r = subprocess.run([mmdb, "model", "forward", "--text", preset, "--weights", weights,
                        "--inputs", inp, "--out", out], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"not ok - mmdb model forward {preset}: {r.stderr.strip()}")
        sys.exit(1)
    return torch.from_numpy(st.load(out)["features"].copy()), r.stderr


def random_state(layers, hidden, heads, ff, vocab):
    """A bert-base-uncased-like state dict with every tensor random."""
    g = torch.Generator().manual_seed(1)
    s = {}

    def rnd(*shape, mean=0.0, std=0.05):
        return torch.randn(*shape, generator=g) * std + mean

    s["embeddings.word_embeddings.weight"] = rnd(vocab, hidden, std=0.5)
    s["embeddings.position_embeddings.weight"] = rnd(512, hidden, std=0.5)
    s["embeddings.token_type_embeddings.weight"] = rnd(2, hidden, std=0.5)
    s["embeddings.LayerNorm.weight"] = rnd(hidden, mean=1.0, std=0.1)
    s["embeddings.LayerNorm.bias"] = rnd(hidden, std=0.1)
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for n in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            s[p + n + ".weight"] = rnd(hidden, hidden)
            s[p + n + ".bias"] = rnd(hidden)
        s[p + "intermediate.dense.weight"] = rnd(ff, hidden)
        s[p + "intermediate.dense.bias"] = rnd(ff)
        s[p + "output.dense.weight"] = rnd(hidden, ff)
        s[p + "output.dense.bias"] = rnd(hidden)
        for n in ("attention.output.LayerNorm", "output.LayerNorm"):
            s[p + n + ".weight"] = rnd(hidden, mean=1.0, std=0.1)
            s[p + n + ".bias"] = rnd(hidden, std=0.1)
    s["pooler.dense.weight"] = rnd(hidden, hidden)
    s["pooler.dense.bias"] = rnd(hidden)
    return s


def encoder_layers_reference(s, layers, hidden, heads, ff, ids, mask):
    """The same network from torch.nn.TransformerEncoderLayer."""
    emb = (s["embeddings.word_embeddings.weight"][ids] + s["embeddings.position_embeddings.weight"][: ids.shape[1]]
           + s["embeddings.token_type_embeddings.weight"][0])
    x = torch.nn.functional.layer_norm(emb, (hidden,), s["embeddings.LayerNorm.weight"],
                                       s["embeddings.LayerNorm.bias"], 1e-12)
    for i in range(layers):
        p = f"encoder.layer.{i}."
        lay = torch.nn.TransformerEncoderLayer(hidden, heads, ff, dropout=0.0, activation="gelu",
                                               layer_norm_eps=1e-12, batch_first=True, norm_first=False).eval()
        with torch.no_grad():
            q, k, v = (p + "attention.self." + n for n in ("query", "key", "value"))
            lay.self_attn.in_proj_weight.copy_(torch.cat([s[q + ".weight"], s[k + ".weight"], s[v + ".weight"]]))
            lay.self_attn.in_proj_bias.copy_(torch.cat([s[q + ".bias"], s[k + ".bias"], s[v + ".bias"]]))
            lay.self_attn.out_proj.weight.copy_(s[p + "attention.output.dense.weight"])
            lay.self_attn.out_proj.bias.copy_(s[p + "attention.output.dense.bias"])
            lay.norm1.weight.copy_(s[p + "attention.output.LayerNorm.weight"])
            lay.norm1.bias.copy_(s[p + "attention.output.LayerNorm.bias"])
            lay.linear1.weight.copy_(s[p + "intermediate.dense.weight"])
            lay.linear1.bias.copy_(s[p + "intermediate.dense.bias"])
            lay.linear2.weight.copy_(s[p + "output.dense.weight"])
            lay.linear2.bias.copy_(s[p + "output.dense.bias"])
            lay.norm2.weight.copy_(s[p + "output.LayerNorm.weight"])
            lay.norm2.bias.copy_(s[p + "output.LayerNorm.bias"])
            x = lay(x, src_key_padding_mask=~mask.bool())
    return x[:, 0]


vocab = 1000
B, L = 4, 24
for preset, (layers, hidden, heads, ff) in PRESETS.items():
    s = random_state(layers, hidden, heads, ff, vocab)
    ids = torch.randint(0, vocab, (B, L))
    lens = torch.tensor([L, 13, 5, 1])
    mask = (torch.arange(L)[None, :] < lens[:, None]).long()
    ids = ids * mask  # padding id 0 as the tokenizer writes it
    # bert-tiny in Hugging Face's BertForSequenceClassification names (bert. prefix,
    # a cls head to ignore); bert-mini in the old TF-port names (gamma/beta)
    if preset == "bert-tiny":
        named = {"bert." + k: v for k, v in s.items()}
        named["classifier.weight"] = torch.zeros(2, hidden)
    else:
        named = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
                 for k, v in s.items()}
        named["cls.predictions.bias"] = torch.zeros(vocab)
    weights = os.path.join(tmp, preset + ".safetensors")
    st.save(weights, named, {"format": "pt"})
    got, rep = run_mmdb(preset, weights, ids, mask)
    expect_unexpected = "classifier.weight" if preset == "bert-tiny" else None
    if "missing (0)" not in rep or (expect_unexpected and expect_unexpected not in rep) or \
            (not expect_unexpected and "unexpected (0)" not in rep):
        print(f"not ok - {preset}: load report unexpected:\n{rep}")
        failed += 1
    else:
        print(f"ok - {preset}: weights load with no missing key ({'classifier listed as unexpected' if expect_unexpected else 'gamma/beta renamed'})")
    with torch.no_grad():
        ref2 = encoder_layers_reference(s, layers, hidden, heads, ff, ids, mask)
    report(f"{preset} [CLS] vs torch.nn.TransformerEncoderLayer", (got - ref2).abs().max().item())
    if BertModel is not None:
        cfg = BertConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                         intermediate_size=ff, hidden_act="gelu", layer_norm_eps=1e-12, max_position_embeddings=512,
                         type_vocab_size=2)
        hf = BertModel(cfg).eval()
        missing, unexpected = hf.load_state_dict(s, strict=False)
        assert not missing and not unexpected, (missing, unexpected)
        with torch.no_grad():
            ref = hf(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state[:, 0]
        report(f"{preset} [CLS] vs transformers BertModel", (got - ref).abs().max().item())
sys.exit(1 if failed else 0)

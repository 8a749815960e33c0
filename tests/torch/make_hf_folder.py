"""Writes a small Hugging Face BERT folder with random weights (numpy only):
config.json, tokenizer_config.json, vocab.txt (a copy of VOCAB) and
model.safetensors, for the tests of hostile and mismatched folders.
usage: make_hf_folder.py OUT VOCAB [LAYERS HIDDEN HEADS FF]"""
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

out, vocab = sys.argv[1], sys.argv[2]
layers, hidden, heads, ff = (int(x) for x in (sys.argv[3:7] or (2, 32, 2, 64)))
os.makedirs(out, exist_ok=True)
shutil.copy(vocab, os.path.join(out, "vocab.txt"))
n_vocab = sum(1 for _ in open(vocab, encoding="utf-8"))
cfg = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": n_vocab, "hidden_size": hidden,
       "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": ff,
       "max_position_embeddings": 128, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
       "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "position_embedding_type": "absolute",
       "pad_token_id": 0}
json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer", "model_max_length": 128},
          open(os.path.join(out, "tokenizer_config.json"), "w"))
g = np.random.default_rng(1)


def rnd(*shape, mean=0.0):
    return (g.standard_normal(shape) * 0.02 + mean).astype(np.float32)


s = {"embeddings.word_embeddings.weight": rnd(n_vocab, hidden),
     "embeddings.position_embeddings.weight": rnd(128, hidden),
     "embeddings.token_type_embeddings.weight": rnd(2, hidden),
     "embeddings.LayerNorm.weight": rnd(hidden, mean=1.0), "embeddings.LayerNorm.bias": rnd(hidden)}
for i in range(layers):
    p = f"encoder.layer.{i}."
    for n in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
        s[p + n + ".weight"], s[p + n + ".bias"] = rnd(hidden, hidden), rnd(hidden)
    s[p + "intermediate.dense.weight"], s[p + "intermediate.dense.bias"] = rnd(ff, hidden), rnd(ff)
    s[p + "output.dense.weight"], s[p + "output.dense.bias"] = rnd(hidden, ff), rnd(hidden)
    for n in ("attention.output.LayerNorm", "output.LayerNorm"):
        s[p + n + ".weight"], s[p + n + ".bias"] = rnd(hidden, mean=1.0), rnd(hidden)
s["pooler.dense.weight"], s["pooler.dense.bias"] = rnd(hidden, hidden), rnd(hidden)
st.save(os.path.join(out, "model.safetensors"), s, {"format": "pt"})

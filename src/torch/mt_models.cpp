// mt_models.cpp: the networks of mmdb: a BERT encoder named as Hugging Face
// names bert-base-uncased, a ResNet named as torchvision names it, and the
// heads and fusions on top. Shapes: B batch, L tokens, H hidden, C classes,
// S image side, F image features.
#include "mt_net.h"

#include <ATen/ops/scaled_dot_product_attention.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include <cstring>
#include <stdexcept>

namespace nn = torch::nn;
using torch::Tensor;

const mt_bert_preset mt_bert_presets[] = {
	{"bert-base", 12, 768, 12, 3072},
	{"bert-medium", 8, 512, 8, 2048},
	{"bert-small", 4, 512, 8, 2048},
	{"bert-mini", 4, 256, 4, 1024},
	{"bert-tiny", 2, 128, 2, 512},
};
const int mt_n_bert_presets = sizeof mt_bert_presets / sizeof mt_bert_presets[0];

const mt_resnet_preset mt_resnet_presets[] = {
	{"resnet18", 0, {2, 2, 2, 2}, 64},
	{"resnet34", 0, {3, 4, 6, 3}, 64},
	{"resnet50", 1, {3, 4, 6, 3}, 64},
	{"resnet-small", 0, {1, 1, 1, 1}, 16},
};
const int mt_n_resnet_presets = sizeof mt_resnet_presets / sizeof mt_resnet_presets[0];

const mt_bert_preset *mt_find_bert(const char *name)
{
	for (int i = 0; name && i < mt_n_bert_presets; i++)
		if (!strcmp(name, mt_bert_presets[i].name))
			return &mt_bert_presets[i];
	return nullptr;
}

const mt_resnet_preset *mt_find_resnet(const char *name)
{
	for (int i = 0; name && i < mt_n_resnet_presets; i++)
		if (!strcmp(name, mt_resnet_presets[i].name))
			return &mt_resnet_presets[i];
	return nullptr;
}

// A named empty module: gives parameters their dotted Hugging Face path.
static std::shared_ptr<nn::Module> sub(nn::Module &parent, const std::string &name)
{
	return parent.register_module(name, std::make_shared<nn::Module>());
}

static nn::Linear bert_linear(nn::Module &parent, const std::string &name, int in, int out)
{
	auto l = parent.register_module(name, nn::Linear(in, out));
	torch::NoGradGuard g;
	l->weight.normal_(0.0, 0.02);
	l->bias.zero_();
	return l;
}

static nn::LayerNorm bert_ln(nn::Module &parent, int hidden, double eps)
{
	return parent.register_module("LayerNorm", nn::LayerNorm(nn::LayerNormOptions({hidden}).eps(eps)));
}

mt_bert_shape mt_preset_shape(const mt_bert_preset &p)
{
	mt_bert_shape s{};
	s.layers = p.layers;
	s.hidden = p.hidden;
	s.heads = p.heads;
	s.ff = p.ff;
	s.max_positions = 512;
	s.type_vocab = 2;
	s.layer_norm_eps = 1e-12;
	s.act = MT_ACT_GELU;
	return s;
}

void mt_check_bert_shape(const mt_bert_shape &s)
{
	auto bad = [](const char *what, long v) {
		throw std::runtime_error(std::string("text model: ") + what + " " + std::to_string(v) + " is out of range");
	};
	if (s.layers < 1 || s.layers > 128)
		bad("layers", s.layers);
	if (s.hidden < 1 || s.hidden > 16384)
		bad("hidden size", s.hidden);
	if (s.heads < 1 || s.heads > 1024 || s.hidden % s.heads)
		bad("attention heads", s.heads);
	if (s.ff < 1 || s.ff > 65536)
		bad("intermediate size", s.ff);
	if (s.max_positions < 1 || s.max_positions > 65536)
		bad("position embeddings", s.max_positions);
	if (s.type_vocab < 1 || s.type_vocab > 1024)
		bad("token types", s.type_vocab);
	if (!(s.layer_norm_eps > 0 && s.layer_norm_eps < 1))
		throw std::runtime_error("text model: layer_norm_eps must be in (0, 1)");
	if (s.act < MT_ACT_GELU || s.act > MT_ACT_SILU)
		bad("activation", s.act);
}

MtBert::MtBert(int vocab, const mt_bert_shape &p, double dropout)
	: hidden(p.hidden), heads(p.heads), positions(p.max_positions), act(p.act), p_drop(dropout)
{
	mt_check_bert_shape(p);
	const double eps = p.layer_norm_eps;
	auto emb = sub(*this, "embeddings");
	word = emb->register_module("word_embeddings", nn::Embedding(vocab, p.hidden));
	position = emb->register_module("position_embeddings", nn::Embedding(p.max_positions, p.hidden));
	token_type = emb->register_module("token_type_embeddings", nn::Embedding(p.type_vocab, p.hidden));
	{
		torch::NoGradGuard g;
		word->weight.normal_(0.0, 0.02);
		position->weight.normal_(0.0, 0.02);
		token_type->weight.normal_(0.0, 0.02);
	}
	emb_ln = bert_ln(*emb, p.hidden, eps);
	auto enc = sub(*this, "encoder");
	auto list = enc->register_module("layer", nn::ModuleList());
	for (int i = 0; i < p.layers; i++) {
		auto lay = std::make_shared<nn::Module>();
		list->push_back(lay);
		Layer L;
		auto att = sub(*lay, "attention");
		auto self = sub(*att, "self");
		L.q = bert_linear(*self, "query", p.hidden, p.hidden);
		L.k = bert_linear(*self, "key", p.hidden, p.hidden);
		L.v = bert_linear(*self, "value", p.hidden, p.hidden);
		auto aout = sub(*att, "output");
		L.attn_out = bert_linear(*aout, "dense", p.hidden, p.hidden);
		L.attn_ln = bert_ln(*aout, p.hidden, eps);
		auto inter = sub(*lay, "intermediate");
		L.inter = bert_linear(*inter, "dense", p.hidden, p.ff);
		auto out = sub(*lay, "output");
		L.out = bert_linear(*out, "dense", p.ff, p.hidden);
		L.out_ln = bert_ln(*out, p.hidden, eps);
		layers.push_back(L);
	}
}

Tensor MtBert::forward(const Tensor &ids, const Tensor &mask)
{
	const int64_t B = ids.size(0), L = ids.size(1), D = hidden / heads;
	const double p = is_training() ? p_drop : 0.0;
	if (L > positions)
		throw std::runtime_error("sequence length " + std::to_string(L) + " exceeds the model's " +
					 std::to_string(positions) + " positions");
	auto pos = torch::arange(L, ids.options());
	// (B, L, H): word + position + token type 0
	auto x = word->forward(ids) + position->forward(pos).unsqueeze(0) + token_type->weight[0];
	x = torch::dropout(emb_ln->forward(x), p, is_training());
	// (B, 1, 1, L) true = attend; position 0 always attends so that no row
	// is fully masked (it is [CLS] and a token in every real batch).
	auto keep = mask.to(torch::kBool).clone();
	keep.select(1, 0).fill_(true);
	auto amask = keep.view({B, 1, 1, L});
	for (auto &lay : layers) {
		// (B, heads, L, D)
		auto q = lay.q->forward(x).view({B, L, heads, D}).transpose(1, 2);
		auto k = lay.k->forward(x).view({B, L, heads, D}).transpose(1, 2);
		auto v = lay.v->forward(x).view({B, L, heads, D}).transpose(1, 2);
		auto ctx = at::scaled_dot_product_attention(q, k, v, amask, p, false);
		ctx = ctx.transpose(1, 2).reshape({B, L, hidden});
		auto a = lay.attn_ln->forward(torch::dropout(lay.attn_out->forward(ctx), p, is_training()) + x);
		auto h = lay.inter->forward(a);  // (B, L, FF)
		switch (act) {
		case MT_ACT_GELU_TANH: h = torch::gelu(h, "tanh"); break;
		case MT_ACT_RELU: h = torch::relu(h); break;
		case MT_ACT_SILU: h = torch::silu(h); break;
		default: h = torch::gelu(h); break;  // erf GELU
		}
		x = lay.out_ln->forward(torch::dropout(lay.out->forward(h), p, is_training()) + a);
	}
	return x;
}

static nn::Conv2d conv(nn::Module &parent, const std::string &name, int in, int out, int k, int stride, int pad)
{
	auto c = parent.register_module(name, nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false)));
	torch::NoGradGuard g;
	nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
	return c;
}

static nn::BatchNorm2d bn(nn::Module &parent, const std::string &name, int ch)
{
	return parent.register_module(name, nn::BatchNorm2d(ch));
}

MtResNet::MtResNet(const mt_resnet_preset &p, int fc_out)
{
	const int exp = p.bottleneck ? 4 : 1;
	int in = p.width;
	conv1 = conv(*this, "conv1", 3, in, 7, 2, 3);
	bn1 = bn(*this, "bn1", in);
	for (int li = 0; li < 4; li++) {
		auto list = register_module("layer" + std::to_string(li + 1), nn::ModuleList());
		const int planes = p.width << li;
		for (int bi = 0; bi < p.blocks[li]; bi++) {
			const int stride = (bi == 0 && li > 0) ? 2 : 1;
			auto m = std::make_shared<nn::Module>();
			list->push_back(m);
			Block b;
			if (p.bottleneck) {
				// torchvision v1.5: the stride sits on the 3x3
				b.conv1 = conv(*m, "conv1", in, planes, 1, 1, 0);
				b.bn1 = bn(*m, "bn1", planes);
				b.conv2 = conv(*m, "conv2", planes, planes, 3, stride, 1);
				b.bn2 = bn(*m, "bn2", planes);
				b.conv3 = conv(*m, "conv3", planes, planes * exp, 1, 1, 0);
				b.bn3 = bn(*m, "bn3", planes * exp);
			} else {
				b.conv1 = conv(*m, "conv1", in, planes, 3, stride, 1);
				b.bn1 = bn(*m, "bn1", planes);
				b.conv2 = conv(*m, "conv2", planes, planes, 3, 1, 1);
				b.bn2 = bn(*m, "bn2", planes);
			}
			if (stride != 1 || in != planes * exp) {
				b.downsample = m->register_module("downsample", nn::Sequential());
				auto c = nn::Conv2d(nn::Conv2dOptions(in, planes * exp, 1).stride(stride).bias(false));
				{
					torch::NoGradGuard g;
					nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
				}
				b.downsample->push_back(c);
				b.downsample->push_back(nn::BatchNorm2d(planes * exp));
			}
			in = planes * exp;
			blocks.push_back(b);
		}
	}
	features = in;
	if (fc_out > 0)
		fc = register_module("fc", nn::Linear(in, fc_out));
}

Tensor MtResNet::forward(const Tensor &input)
{
	// (B, 3, S, S) -> (B, w, S/4, S/4)
	// BatchNorm as the module's own, or through bn_hook (synchronised BatchNorm)
	auto norm = [this](nn::BatchNorm2d &m, const Tensor &t) {
		return bn_hook && is_training() ? bn_hook(*m, t) : m->forward(t);
	};
	auto x = (norm(bn1, conv1->forward(input))).relu_();
	x = torch::max_pool2d(x, 3, 2, 1);
	for (auto &b : blocks) {
		Tensor idt = x;
		if (b.downsample) {
			auto ds_bn = b.downsample[1]->as<nn::BatchNorm2d>();
			idt = bn_hook && is_training() ? bn_hook(*ds_bn, b.downsample[0]->as<nn::Conv2d>()->forward(x))
						       : b.downsample->forward(x);
		}
		auto y = (norm(b.bn1, b.conv1->forward(x))).relu_();
		y = norm(b.bn2, b.conv2->forward(y));
		if (b.conv3) {
			y = (y).relu_();
			y = norm(b.bn3, b.conv3->forward(y));
		}
		x = (y + idt).relu_();
	}
	// (B, F)
	x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
	return fc ? fc->forward(x) : x;
}

MtNet::MtNet(const mt_config &cfg)
	: modalities(cfg.modalities), fusion(cfg.fusion), seed_recipe(cfg.seed_recipe), num_classes(cfg.num_classes)
{
	if (num_classes < 2)
		throw std::runtime_error("num_classes must be at least 2");
	if (!(modalities & (MT_TEXT | MT_IMAGE)) || (modalities & ~(MT_TEXT | MT_IMAGE)))
		throw std::runtime_error("modalities must be text, image or both");
	if (fusion < MT_FUSION_MAX || fusion > MT_FUSION_GATED)
		throw std::runtime_error("unknown fusion " + std::to_string(fusion));
	if (seed_recipe && modalities == (MT_TEXT | MT_IMAGE) && fusion == MT_FUSION_CONCAT)
		throw std::runtime_error("the seed recipe fuses logits: concat fusion does not apply");
	if (cfg.dropout < 0 || cfg.dropout >= 1)
		throw std::runtime_error("dropout must be in [0, 1)");
	if (modalities & MT_TEXT) {
		mt_bert_shape shape = cfg.text_shape;
		if (shape.layers <= 0) {
			auto p = mt_find_bert(cfg.text_model);
			if (!p)
				throw std::runtime_error(std::string("unknown text model '") + (cfg.text_model ? cfg.text_model : "") + "'");
			shape = mt_preset_shape(*p);
		}
		if (cfg.vocab_size < 1)
			throw std::runtime_error("vocab_size must be positive");
		bert = register_module("bert", std::make_shared<MtBert>(cfg.vocab_size, shape,
			cfg.text_dropout_set ? cfg.text_dropout : 0.1));
		text_dim = shape.hidden;
		// The seed recipe computed the text dropout and did not use it.
		text_drop = register_module("text_drop", nn::Dropout(seed_recipe ? 0.0 : cfg.dropout));
	}
	if (modalities & MT_IMAGE) {
		auto p = mt_find_resnet(cfg.image_model);
		if (!p)
			throw std::runtime_error(std::string("unknown image model '") + (cfg.image_model ? cfg.image_model : "") + "'");
		// The seed recipe classifies ResNet's 1000 ImageNet logits.
		resnet = register_module("resnet", std::make_shared<MtResNet>(*p, seed_recipe ? 1000 : 0));
		image_dim = seed_recipe ? 1000 : resnet->features;
		image_drop = register_module("image_drop", nn::Dropout(cfg.dropout));
	}
	const int C = num_classes;
	if (modalities == (MT_TEXT | MT_IMAGE) && fusion == MT_FUSION_CONCAT) {
		const int in = text_dim + image_dim, hid = 512;
		fusion_mlp = register_module("fusion", nn::Sequential(nn::Linear(in, hid), nn::ReLU(),
			nn::Dropout(cfg.dropout), nn::Linear(hid, C)));
		return;
	}
	if (text_dim)
		text_head = register_module("text_head", nn::Linear(text_dim, C));
	if (image_dim)
		image_head = register_module("image_head", nn::Linear(image_dim, C));
	if (modalities == (MT_TEXT | MT_IMAGE) && fusion == MT_FUSION_GATED)
		gate = register_parameter("gate", torch::zeros({C}));
}

Tensor MtNet::text_features(const Tensor &ids, const Tensor &mask)
{
	return bert->forward(ids, mask).select(1, 0);  // [CLS] (B, H)
}

Tensor MtNet::image_features(const Tensor &x)
{
	return resnet->forward(x);  // (B, F) or (B, 1000) for the seed recipe
}

Tensor MtNet::forward(const Tensor &ids, const Tensor &mask, const Tensor &x)
{
	Tensor t, im;
	if (bert)
		t = text_drop->forward(text_features(ids, mask));
	if (resnet)
		im = image_drop->forward(image_features(x));
	if (!bert)
		return image_head->forward(im);
	if (!resnet)
		return text_head->forward(t);
	if (fusion_mlp) {
		// (B, H + F) -> (B, C); autocast may give the halves different dtypes
		auto cat = torch::cat({t.to(im.scalar_type()), im}, 1);
		return fusion_mlp->forward(cat);
	}
	auto lt = text_head->forward(t), li = image_head->forward(im);  // (B, C) each
	li = li.to(lt.scalar_type());
	switch (fusion) {
	case MT_FUSION_SUM:
		return lt + li;
	case MT_FUSION_MEAN:
		return (lt + li) * 0.5;
	case MT_FUSION_GATED: {
		auto g = torch::sigmoid(gate).to(lt.scalar_type());  // (C)
		return g * lt + (1 - g) * li;
	}
	default:
		return torch::maximum(lt, li);
	}
}

extern "C" int mt_preset_get(const char *name, struct mt_preset_info *out)
{
	memset(out, 0, sizeof *out);
	if (auto b = mt_find_bert(name)) {
		out->kind = MT_TEXT;
		out->layers = b->layers;
		out->hidden = b->hidden;
		out->heads = b->heads;
		out->ff = b->ff;
		return 0;
	}
	if (auto r = mt_find_resnet(name)) {
		out->kind = MT_IMAGE;
		out->bottleneck = r->bottleneck;
		memcpy(out->blocks, r->blocks, sizeof out->blocks);
		out->width = r->width;
		return 0;
	}
	mt_set_error(std::string("unknown preset '") + (name ? name : "") + "'");
	return -1;
}

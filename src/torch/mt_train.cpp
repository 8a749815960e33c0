// mt_train.cpp: the model handle of mt.h: building a network and its
// optimizer from a config, training and evaluation steps on C batches,
// safetensors weights (Hugging Face / torchvision names) and checkpoints.
// Shapes: B batch, L tokens, S image side, C classes.
#include "mt_net.h"

extern "C" {
#include "safetensors.h"
}

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/ops/_fused_adam.h>
#include <ATen/ops/_fused_adamw.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <stdexcept>
#include <unistd.h>

using torch::Tensor;

struct mt_model {
	mt_config cfg;
	std::string text_model, image_model, device_name;
	std::vector<float> class_weights;
	torch::Device device{torch::kCPU};
	bool cuda = false;
	std::shared_ptr<MtNet> net;
	std::unique_ptr<torch::optim::Optimizer> opt;
	std::vector<Tensor> trainable;
	Tensor ce_weight;  // (C) on the device, or undefined
	Tensor px_mean, px_inv;  // (3) ImageNet mean * 255 and 1 / (std * 255), on the device
	std::shared_ptr<MtStepHooks> hooks;  // data-parallel training (mt_dist.cpp), or null
};

std::shared_ptr<MtNet> mt_model_net(mt_model *m)
{
	return m->net;
}

std::vector<Tensor> mt_model_trainable(mt_model *m)
{
	return m->trainable;
}

torch::Device mt_model_device(mt_model *m)
{
	return m->device;
}

void mt_model_set_hooks(mt_model *m, std::shared_ptr<MtStepHooks> h)
{
	m->hooks = std::move(h);
}

static void fail(const std::string &msg)
{
	throw std::runtime_error(msg);
}

// ImageNet normalisation, as torchvision's transforms apply it.
static const float img_mean[3] = {0.485f, 0.456f, 0.406f};
static const float img_std[3] = {0.229f, 0.224f, 0.225f};

// bf16 autocast for the forward pass on CUDA (a no-op elsewhere).
struct Autocast {
	bool on;
	explicit Autocast(bool enable) : on(enable)
	{
		if (!on)
			return;
		at::autocast::set_autocast_enabled(at::kCUDA, true);
		at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
		at::autocast::increment_nesting();
	}
	~Autocast()
	{
		if (!on)
			return;
		if (at::autocast::decrement_nesting() == 0)
			at::autocast::clear_cache();
		at::autocast::set_autocast_enabled(at::kCUDA, false);
	}
};

// Adam (L2 weight decay) or AdamW (decoupled) stepping every parameter of a
// group in one fused kernel. The state is that of torch::optim::Adam/AdamW,
// so saving and loading checkpoints stay as they are.
template <class Base, class State, class Options>
struct FusedAdam : Base {
	bool decoupled;
	FusedAdam(std::vector<Tensor> params, Options o, bool decoupled_wd)
		: Base(std::move(params), o), decoupled(decoupled_wd)
	{
	}
	Tensor step(torch::optim::Optimizer::LossClosure closure = nullptr) override
	{
		torch::NoGradGuard ng;
		Tensor loss;
		if (closure) {
			torch::AutoGradMode on(true);
			loss = closure();
		}
		for (auto &group : this->param_groups()) {
			auto &o = static_cast<Options &>(group.options());
			std::vector<Tensor> p, g, m, v, steps;
			for (auto &param : group.params()) {
				if (!param.grad().defined())
					continue;
				void *key = param.unsafeGetTensorImpl();
				auto it = this->state_.find(key);
				if (it == this->state_.end()) {
					auto st = std::make_unique<State>();
					st->step(0);
					st->exp_avg(torch::zeros_like(param, at::MemoryFormat::Preserve));
					st->exp_avg_sq(torch::zeros_like(param, at::MemoryFormat::Preserve));
					it = this->state_.emplace(key, std::move(st)).first;
				}
				auto &st = static_cast<State &>(*it->second);
				st.step(st.step() + 1);
				p.push_back(param);
				g.push_back(param.grad());
				m.push_back(st.exp_avg());
				v.push_back(st.exp_avg_sq());
				// (): the step count the kernel's bias correction reads
				steps.push_back(torch::full({}, (double)st.step(),
					torch::TensorOptions().dtype(torch::kFloat32).device(param.device())));
			}
			if (p.empty())
				continue;
			const double b1 = std::get<0>(o.betas()), b2 = std::get<1>(o.betas());
			if (decoupled)
				at::_fused_adamw_(p, g, m, v, {}, steps, o.lr(), b1, b2, o.weight_decay(), o.eps(),
						  false, false);
			else
				at::_fused_adam_(p, g, m, v, {}, steps, o.lr(), b1, b2, o.weight_decay(), o.eps(),
						 false, false);
		}
		return loss;
	}
};

static void build_optimizer(mt_model *m)
{
	const mt_config &c = m->cfg;
	m->trainable.clear();
	for (auto &p : m->net->parameters())
		if (p.requires_grad())
			m->trainable.push_back(p);
	// Fused on the CPU too: fine-tuning all-MiniLM-L6-v2 (batch 32, 32 tokens,
	// 1 thread) took 4.2 CPU s for 4 steps against 5.2 with torch::optim::Adam.
	const bool fused = c.fused_optimizer >= 0;
	if (fused && (c.optimizer == MT_ADAM || c.optimizer == MT_ADAMW)) {
		using namespace torch::optim;
		if (c.optimizer == MT_ADAM)
			m->opt.reset(new FusedAdam<Adam, AdamParamState, AdamOptions>(m->trainable,
				AdamOptions(c.lr).weight_decay(c.weight_decay), false));
		else
			m->opt.reset(new FusedAdam<AdamW, AdamWParamState, AdamWOptions>(m->trainable,
				AdamWOptions(c.lr).weight_decay(c.weight_decay), true));
		return;
	}
	switch (c.optimizer) {
	case MT_ADAM:
		m->opt.reset(new torch::optim::Adam(m->trainable,
			torch::optim::AdamOptions(c.lr).weight_decay(c.weight_decay)));
		break;
	case MT_ADAMW:
		m->opt.reset(new torch::optim::AdamW(m->trainable,
			torch::optim::AdamWOptions(c.lr).weight_decay(c.weight_decay)));
		break;
	case MT_SGD:
		m->opt.reset(new torch::optim::SGD(m->trainable,
			torch::optim::SGDOptions(c.lr).momentum(c.momentum).weight_decay(c.weight_decay)));
		break;
	default:
		fail("unknown optimizer " + std::to_string(c.optimizer));
	}
}

static void freeze(torch::nn::Module *mod)
{
	if (!mod)
		return;
	for (auto &p : mod->parameters())
		p.set_requires_grad(false);
}

// The longest sequence the text model takes: its position embeddings.
static int text_positions(const mt_config &c)
{
	return c.text_shape.layers > 0 ? c.text_shape.max_positions : 512;
}

extern "C" int mt_model_new(const struct mt_config *cfg, mt_model **out)
{
	MT_TRY
	*out = nullptr;
	std::unique_ptr<mt_model> m(new mt_model());
	m->cfg = *cfg;
	if (cfg->text_model)
		m->text_model = cfg->text_model;
	if (cfg->image_model)
		m->image_model = cfg->image_model;
	m->device_name = cfg->device ? cfg->device : "cpu";
	m->cfg.text_model = m->text_model.c_str();
	m->cfg.image_model = m->image_model.c_str();
	m->cfg.device = m->device_name.c_str();
	if (cfg->class_weights) {
		m->class_weights.assign(cfg->class_weights, cfg->class_weights + cfg->num_classes);
		m->cfg.class_weights = m->class_weights.data();
	}
	if ((cfg->modalities & MT_TEXT) && (cfg->max_len < 1 || cfg->max_len > text_positions(*cfg)))
		fail("max_len must be in 1.." + std::to_string(text_positions(*cfg)));
	if ((cfg->modalities & MT_IMAGE) && (cfg->image_size < 32 || cfg->image_size > 4096))
		fail("image_size must be in 32..4096");
	if (!(cfg->lr > 0))
		fail("learning rate must be positive");

	m->device = torch::Device(m->device_name);
	if (m->device.is_cuda()) {
		if (!torch::cuda::is_available())
			fail("device '" + m->device_name + "': CUDA is not available (libtorch " +
			     std::string(TORCH_VERSION) + " sees no CUDA device)");
		if (m->device.has_index() && m->device.index() >= (int)torch::cuda::device_count())
			fail("device '" + m->device_name + "': no such CUDA device");
		m->cuda = true;
		auto &ctx = at::globalContext();
		ctx.setBenchmarkCuDNN(true);
		// TF32 matmuls and convolutions unless MMDB_TF32=0 (exact fp32,
		// e.g. to compare CUDA with the CPU step for step).
		const char *tf32 = getenv("MMDB_TF32");
		bool allow = !(tf32 && !strcmp(tf32, "0"));
		ctx.setAllowTF32CuBLAS(allow);
		ctx.setAllowTF32CuDNN(allow);
	} else if (!m->device.is_cpu()) {
		fail("device '" + m->device_name + "': only cpu and cuda are supported");
	}
	if (cfg->amp && !m->cuda)
		m->cfg.amp = 0;  // bf16 autocast is for CUDA only

	torch::manual_seed(cfg->seed);
	m->net = std::make_shared<MtNet>(m->cfg);
	if (cfg->freeze & MT_FREEZE_TEXT)
		freeze(m->net->bert.get());
	if (cfg->freeze & MT_FREEZE_IMAGE)
		freeze(m->net->resnet.get());
	m->net->to(m->device);
	if (m->cuda && m->net->resnet) {
		// channels_last convolution weights (cuDNN's fast NHWC kernels)
		torch::NoGradGuard g;
		for (auto &p : m->net->resnet->parameters())
			if (p.dim() == 4)
				p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
	}
	if (cfg->class_weights) {
		m->ce_weight = torch::from_blob(m->class_weights.data(), {cfg->num_classes}, torch::kFloat32)
			.clone().to(m->device);
	}
	{
		// made once: a tensor built from host values is a blocking copy on CUDA
		auto mean = torch::tensor({img_mean[0], img_mean[1], img_mean[2]}) * 255.0;
		auto inv = 1.0 / (torch::tensor({img_std[0], img_std[1], img_std[2]}) * 255.0);
		m->px_mean = mean.to(m->device);
		m->px_inv = inv.to(m->device);
	}
	build_optimizer(m.get());
	*out = m.release();
	return 0;
	MT_CATCH(-1)
}

extern "C" void mt_model_free(mt_model *m)
{
	try {
		delete m;
	} catch (...) {
	}
}

extern "C" int mt_model_params(mt_model *m, int64_t *total, int64_t *trainable)
{
	MT_TRY
	int64_t t = 0, tr = 0;
	for (auto &p : m->net->parameters()) {
		t += p.numel();
		if (p.requires_grad())
			tr += p.numel();
	}
	if (total)
		*total = t;
	if (trainable)
		*trainable = tr;
	return 0;
	MT_CATCH(-1)
}

// Host tensor -> device; on CUDA via pinned memory and a non-blocking copy.
static Tensor to_device(mt_model *m, const Tensor &host)
{
	if (!m->cuda)
		return host;
	auto pinned = torch::empty(host.sizes(), host.options().pinned_memory(true));
	pinned.copy_(host);
	return pinned.to(m->device, /*non_blocking=*/true);
}

struct Inputs {
	Tensor ids, mask, x, labels;
};

static Inputs make_inputs(mt_model *m, const struct mt_batch *b, bool need_labels)
{
	const mt_config &c = m->cfg;
	Inputs in;
	if (!b || b->n < 1)
		fail("empty batch");
	const int64_t B = b->n;
	if (c.modalities & MT_TEXT) {
		if (!b->input_ids || !b->attention_mask)
			fail("batch has no text");
		if (b->max_len < 1 || b->max_len > text_positions(c))
			fail("batch max_len " + std::to_string(b->max_len) + " outside 1.." +
			     std::to_string(text_positions(c)));
		const int64_t L = b->max_len;
		for (int64_t i = 0; i < B * L; i++)
			if (b->input_ids[i] < 0 || b->input_ids[i] >= c.vocab_size)
				fail("token id " + std::to_string(b->input_ids[i]) + " outside the vocabulary of " +
				     std::to_string(c.vocab_size));
		auto ids = torch::from_blob(const_cast<int32_t *>(b->input_ids), {B, L}, torch::kInt32);
		auto mask = torch::from_blob(const_cast<uint8_t *>(b->attention_mask), {B, L}, torch::kUInt8);
		in.ids = m->cuda ? to_device(m, ids).to(torch::kInt64) : ids.to(torch::kInt64);
		in.mask = m->cuda ? to_device(m, mask).to(torch::kBool) : mask.to(torch::kBool);
	}
	if (c.modalities & MT_IMAGE) {
		if (!b->pixels)
			fail("batch has no pixels");
		if (b->image_size < 32 || b->image_size > 4096)
			fail("batch image_size " + std::to_string(b->image_size) + " outside 32..4096");
		const int64_t S = b->image_size;
		// (B, S, S, 3) uint8 -> (B, 3, S, S) float, normalised on the device
		auto px = torch::from_blob(const_cast<uint8_t *>(b->pixels), {B, S, S, 3}, torch::kUInt8);
		auto dev = m->cuda ? to_device(m, px) : px;
		auto x = (dev.to(torch::kFloat32) - m->px_mean) * m->px_inv;
		x = x.permute({0, 3, 1, 2});
		in.x = m->cuda ? x.contiguous(at::MemoryFormat::ChannelsLast) : x.contiguous();
	}
	if (need_labels) {
		if (!b->labels)
			fail("batch has no labels");
		for (int64_t i = 0; i < B; i++)
			if (b->labels[i] < 0 || b->labels[i] >= c.num_classes)
				fail("label " + std::to_string(b->labels[i]) + " outside 0.." +
				     std::to_string(c.num_classes - 1));
		auto lab = torch::from_blob(const_cast<int32_t *>(b->labels), {B}, torch::kInt32);
		in.labels = m->cuda ? to_device(m, lab).to(torch::kInt64) : lab.to(torch::kInt64);
	}
	return in;
}

static Tensor loss_of(mt_model *m, const Tensor &logits, const Tensor &labels)
{
	namespace F = torch::nn::functional;
	auto opts = F::CrossEntropyFuncOptions();
	if (m->ce_weight.defined())
		opts.weight(m->ce_weight);
	return F::cross_entropy(logits.to(torch::kFloat32), labels, opts);
}

extern "C" int mt_train_step_acc(mt_model *m, const struct mt_batch *b, float *loss, int *correct)
{
	MT_TRY
	auto in = make_inputs(m, b, true);
	m->net->train();
	m->opt->zero_grad();
	if (m->hooks)
		m->hooks->before_forward();
	Tensor logits;
	{
		Autocast ac(m->cfg.amp != 0);
		logits = m->net->forward(in.ids, in.mask, in.x);  // (B, C)
	}
	auto l = loss_of(m, logits, in.labels);
	if (m->hooks)
		m->hooks->before_backward(l);
	l.backward();  // with hooks: gradients averaged over the ranks when it returns
	if (m->cfg.grad_clip > 0)
		torch::nn::utils::clip_grad_norm_(m->trainable, m->cfg.grad_clip);
	m->opt->step();
	float v = l.item<float>();
	if (loss)
		*loss = v;
	if (correct)  // (B,) argmax == label, summed; no grad needed
		*correct = (int)logits.detach().argmax(1).eq(in.labels).sum().item<int64_t>();
	return 0;
	MT_CATCH(-1)
}

extern "C" int mt_train_step(mt_model *m, const struct mt_batch *b, float *loss)
{
	return mt_train_step_acc(m, b, loss, nullptr);
}

extern "C" int mt_eval_batch(mt_model *m, const struct mt_batch *b, float *probs, float *loss)
{
	MT_TRY
	auto in = make_inputs(m, b, loss != nullptr && b && b->labels);
	torch::NoGradGuard ng;
	m->net->eval();
	Tensor logits;
	{
		Autocast ac(m->cfg.amp != 0);
		logits = m->net->forward(in.ids, in.mask, in.x);
	}
	logits = logits.to(torch::kFloat32);
	if (probs) {
		auto p = torch::softmax(logits, 1).cpu().contiguous();
		memcpy(probs, p.data_ptr<float>(), sizeof(float) * p.numel());
	}
	if (loss)
		*loss = in.labels.defined() ? loss_of(m, logits, in.labels).item<float>() : 0.0f;
	return 0;
	MT_CATCH(-1)
}

extern "C" int mt_forward_features(mt_model *m, const struct mt_batch *b, int part, float *out, size_t n, int *dim)
{
	MT_TRY
	if (part == MT_PART_TEXT && !m->net->bert)
		fail("the model has no text part");
	if (part == MT_PART_IMAGE && !m->net->resnet)
		fail("the model has no image part");
	if (part != MT_PART_TEXT && part != MT_PART_IMAGE)
		fail("features come from the text or the image part");
	auto in = make_inputs(m, b, false);
	torch::NoGradGuard ng;
	m->net->eval();
	Tensor f;
	{
		Autocast ac(m->cfg.amp != 0);
		f = part == MT_PART_TEXT ? m->net->text_features(in.ids, in.mask) : m->net->image_features(in.x);
	}
	f = f.to(torch::kFloat32).cpu().contiguous();  // (B, H) or (B, F)
	if ((size_t)f.numel() > n)
		fail("feature buffer too small: " + std::to_string(f.numel()) + " floats needed");
	memcpy(out, f.data_ptr<float>(), sizeof(float) * f.numel());
	if (dim)
		*dim = (int)f.size(1);
	return 0;
	MT_CATCH(-1)
}

extern "C" int mt_set_lr(mt_model *m, double lr)
{
	MT_TRY
	if (!(lr >= 0))
		fail("learning rate must not be negative");
	for (auto &g : m->opt->param_groups())
		g.options().set_lr(lr);
	m->cfg.lr = lr;
	return 0;
	MT_CATCH(-1)
}

extern "C" double mt_get_lr(mt_model *m)
{
	try {
		return m->opt->param_groups().at(0).options().get_lr();
	} catch (const std::exception &e) {
		mt_set_error(e.what());
		return -1.0;
	}
}

// ---- weights in safetensors ----

static torch::ScalarType st_to_torch(int dt)
{
	switch (dt) {
	case ST_F64: return torch::kFloat64;
	case ST_F32: return torch::kFloat32;
	case ST_F16: return torch::kFloat16;
	case ST_BF16: return torch::kBFloat16;
	case ST_I64: return torch::kInt64;
	case ST_I32: return torch::kInt32;
	case ST_I16: return torch::kInt16;
	case ST_I8: return torch::kInt8;
	case ST_U8: return torch::kUInt8;
	case ST_BOOL: return torch::kBool;
	}
	fail("unsupported dtype");
	return torch::kFloat32;
}

static int torch_to_st(torch::ScalarType t)
{
	switch (t) {
	case torch::kFloat64: return ST_F64;
	case torch::kFloat32: return ST_F32;
	case torch::kFloat16: return ST_F16;
	case torch::kBFloat16: return ST_BF16;
	case torch::kInt64: return ST_I64;
	case torch::kInt32: return ST_I32;
	case torch::kUInt8: return ST_U8;
	case torch::kBool: return ST_BOOL;
	default: break;
	}
	fail("cannot store a tensor of that dtype");
	return -1;
}

static bool starts(const std::string &s, const char *p)
{
	return s.compare(0, strlen(p), p) == 0;
}

static bool ends(const std::string &s, const char *p)
{
	size_t n = strlen(p);
	return s.size() >= n && s.compare(s.size() - n, n, p) == 0;
}

// Every parameter and buffer by its full name.
static std::map<std::string, Tensor> named_state(torch::nn::Module &net)
{
	std::map<std::string, Tensor> out;
	for (auto &p : net.named_parameters())
		out[p.key()] = p.value();
	for (auto &b : net.named_buffers())
		out[b.key()] = b.value();
	return out;
}

// The model's name for a file's tensor name, or "" when it is to be ignored.
static std::string map_name(std::string k, int part)
{
	if (part == MT_PART_TEXT) {
		if (starts(k, "bert."))
			k = k.substr(5);
		if (starts(k, "cls.") || starts(k, "pooler.") || ends(k, "position_ids"))
			return "";
		if (ends(k, "LayerNorm.gamma"))
			k = k.substr(0, k.size() - 5) + "weight";
		else if (ends(k, "LayerNorm.beta"))
			k = k.substr(0, k.size() - 4) + "bias";
		return "bert." + k;
	}
	if (part == MT_PART_IMAGE) {
		if (starts(k, "resnet."))
			k = k.substr(7);
		return "resnet." + k;
	}
	if (ends(k, "position_ids") || starts(k, "bert.pooler.") || starts(k, "cls."))
		return "";
	if (ends(k, "LayerNorm.gamma"))
		k = k.substr(0, k.size() - 5) + "weight";
	else if (ends(k, "LayerNorm.beta"))
		k = k.substr(0, k.size() - 4) + "bias";
	return k;
}

static std::string shape_str(c10::IntArrayRef s)
{
	std::string r = "[";
	for (size_t i = 0; i < s.size(); i++)
		r += (i ? ", " : "") + std::to_string(s[i]);
	return r + "]";
}

static void add_list(std::string &r, const char *what, const std::vector<std::string> &v)
{
	r += std::string(what) + " (" + std::to_string(v.size()) + ")";
	for (size_t i = 0; i < v.size(); i++)
		r += (i ? ", " : ": ") + v[i];
	r += "\n";
}

extern "C" int mt_model_load_weights(mt_model *m, const char *path, int part, char *report, size_t report_n)
{
	struct st_file *f = nullptr;
	MT_TRY
	char err[512];
	if (part == MT_PART_TEXT && !m->net->bert)
		fail("the model has no text part to load weights into");
	if (part == MT_PART_IMAGE && !m->net->resnet)
		fail("the model has no image part to load weights into");
	if (st_open(path, &f, err, sizeof err) < 0)
		fail(err);
	auto state = named_state(*m->net);
	const char *scope = part == MT_PART_TEXT ? "bert." : part == MT_PART_IMAGE ? "resnet." : "";
	std::vector<std::string> unexpected, missing;
	std::map<std::string, bool> done;
	torch::NoGradGuard ng;
	// Every tensor's shape and dtype checked before the first is copied: a
	// file that does not fit leaves the model as it was, not half-loaded.
	std::vector<std::pair<size_t, Tensor *>> plan;
	for (size_t i = 0; i < f->n; i++) {
		const st_tensor &t = f->t[i];
		std::string k = map_name(t.name, part);
		if (k.empty())
			continue;
		auto it = state.find(k);
		if (it == state.end()) {
			unexpected.push_back(t.name);
			continue;
		}
		Tensor &dst = it->second;
		std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
		if (c10::IntArrayRef(shape) != dst.sizes())
			fail(std::string(path) + ": tensor '" + t.name + "' has shape " + shape_str(shape) +
			     ", the model's '" + k + "' " + shape_str(dst.sizes()));
		st_to_torch(t.dtype);  // throws for a dtype it cannot take
		if (done.count(k))
			fail(std::string(path) + ": two tensors for the model's '" + k + "'");
		done[k] = true;
		plan.emplace_back(i, &dst);
	}
	for (auto &p : plan) {
		const st_tensor &t = f->t[p.first];
		std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
		// copied out first: the file's data need not be aligned
		auto src = torch::empty(shape, torch::TensorOptions().dtype(st_to_torch(t.dtype)));
		memcpy(src.data_ptr(), st_data(f, &t), t.nbytes);
		p.second->copy_(src.to(p.second->scalar_type()));
	}
	for (auto &kv : state)
		if (starts(kv.first, scope) && !done.count(kv.first) && !ends(kv.first, "num_batches_tracked"))
			missing.push_back(kv.first);
	st_close(f);
	f = nullptr;
	if (report && report_n) {
		std::string r = "loaded " + std::to_string(done.size()) + " tensors from " + path + "\n";
		add_list(r, "missing", missing);
		add_list(r, "unexpected", unexpected);
		snprintf(report, report_n, "%s", r.c_str());
	}
	return 0;
	} catch (const std::exception &e) {
		st_close(f);
		mt_set_error(e.what());
		return -1;
	}
}

extern "C" int mt_model_save_weights(mt_model *m, const char *path)
{
	MT_TRY
	auto state = named_state(*m->net);
	std::vector<Tensor> host;
	std::vector<std::vector<int64_t>> shapes;
	std::vector<st_out> outs;
	host.reserve(state.size());
	shapes.reserve(state.size());
	for (auto &kv : state) {
		auto t = kv.second.detach().cpu().contiguous();
		host.push_back(t);
		shapes.emplace_back(t.sizes().begin(), t.sizes().end());
		st_out o;
		o.name = kv.first.c_str();
		o.dtype = torch_to_st(t.scalar_type());
		o.ndim = (int)t.dim();
		o.shape = shapes.back().data();
		o.data = t.data_ptr();
		outs.push_back(o);
	}
	const char *meta[] = {"format", "pt", "writer", "mmdb"};
	char err[512];
	if (st_write(path, outs.data(), outs.size(), meta, 2, err, sizeof err) < 0)
		fail(err);
	return 0;
	MT_CATCH(-1)
}

// ---- checkpoints ----

static Tensor bytes_tensor(const void *p, size_t n)
{
	auto t = torch::empty({(int64_t)n}, torch::kUInt8);
	if (n)
		memcpy(t.data_ptr(), p, n);
	return t;
}

// Parameters and buffers in a fixed order, with their names joined by '\n'.
static std::vector<std::pair<std::string, Tensor>> ordered_state(torch::nn::Module &net, std::string &names)
{
	std::vector<std::pair<std::string, Tensor>> v;
	for (auto &p : net.named_parameters())
		v.emplace_back(p.key(), p.value());
	for (auto &b : net.named_buffers())
		v.emplace_back(b.key(), b.value());
	names.clear();
	for (auto &e : v)
		names += e.first + "\n";
	return v;
}

extern "C" int mt_checkpoint_save(mt_model *m, const char *path, const void *extra, size_t extra_len)
{
	std::string tmp;
	int fd = -1, werr = 0;
	MT_TRY
	torch::serialize::OutputArchive ar;
	std::string names;
	auto state = ordered_state(*m->net, names);
	ar.write("names", bytes_tensor(names.data(), names.size()));
	for (size_t i = 0; i < state.size(); i++)
		ar.write("w" + std::to_string(i), state[i].second.detach().cpu());
	torch::serialize::OutputArchive opt;
	m->opt->save(opt);
	ar.write("optimizer", opt);
	{
		auto gen = at::detail::getDefaultCPUGenerator();
		std::lock_guard<std::mutex> lock(gen.mutex());
		ar.write("rng_cpu", gen.get_state());
	}
	if (m->cuda) {
		auto gen = at::globalContext().defaultGenerator(m->device);
		std::lock_guard<std::mutex> lock(gen.mutex());
		ar.write("rng_cuda", gen.get_state());
	}
	ar.write("extra", bytes_tensor(extra, extra_len));
	tmp = std::string(path) + ".tmp" + std::to_string(getpid());
	fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail(std::string("cannot create '") + tmp + "': " + strerror(errno));
	// The archive writer must never see a short write: it would throw from
	// its destructor (std::terminate). Failures are remembered instead and
	// the whole file thrown away below.
	ar.save_to([&](const void *buf, size_t n) -> size_t {
		const char *p = (const char *)buf;
		size_t left = n;
		while (left && !werr) {
			ssize_t r = write(fd, p, left);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				werr = r < 0 ? errno : EIO;
				break;
			}
			p += r;
			left -= (size_t)r;
		}
		return n;
	});
	if (!werr && fsync(fd) != 0)
		werr = errno;
	if (close(fd) != 0 && !werr)
		werr = errno;
	fd = -1;
	if (werr)
		fail(strerror(werr));
	if (rename(tmp.c_str(), path) != 0)
		fail(std::string("cannot rename '") + tmp + "' to '" + path + "': " + strerror(errno));
	return 0;
	} catch (const std::exception &e) {
		if (fd >= 0)
			close(fd);
		if (!tmp.empty())
			unlink(tmp.c_str());
		mt_set_error(std::string(path) + ": " + e.what());
		return -1;
	}
}

extern "C" int mt_checkpoint_load(mt_model *m, const char *path, void **extra, size_t *extra_len)
{
	MT_TRY
	if (extra)
		*extra = nullptr;
	if (extra_len)
		*extra_len = 0;
	if (access(path, R_OK) != 0)
		fail(std::string("cannot read checkpoint '") + path + "': " + strerror(errno));
	torch::serialize::InputArchive ar;
	ar.load_from(std::string(path), m->device);
	std::string names;
	auto state = ordered_state(*m->net, names);
	Tensor saved_names;
	ar.read("names", saved_names);
	saved_names = saved_names.cpu();
	std::string got((const char *)saved_names.data_ptr(), saved_names.numel());
	if (got != names)
		fail(std::string(path) + ": the checkpoint is of a different model");
	{
		torch::NoGradGuard ng;
		for (size_t i = 0; i < state.size(); i++) {
			Tensor t;
			ar.read("w" + std::to_string(i), t);
			state[i].second.copy_(t);
		}
	}
	torch::serialize::InputArchive opt;
	ar.read("optimizer", opt);
	m->opt->load(opt);
	{
		Tensor st;
		ar.read("rng_cpu", st);
		auto gen = at::detail::getDefaultCPUGenerator();
		std::lock_guard<std::mutex> lock(gen.mutex());
		gen.set_state(st.cpu());
	}
	if (m->cuda) {
		Tensor st;
		if (ar.try_read("rng_cuda", st)) {
			auto gen = at::globalContext().defaultGenerator(m->device);
			std::lock_guard<std::mutex> lock(gen.mutex());
			gen.set_state(st.cpu());
		}
	}
	Tensor ex;
	ar.read("extra", ex);
	ex = ex.cpu();
	if (extra && ex.numel() > 0) {
		*extra = malloc(ex.numel());
		if (!*extra)
			fail("out of memory");
		memcpy(*extra, ex.data_ptr(), ex.numel());
		if (extra_len)
			*extra_len = ex.numel();
	}
	m->cfg.lr = mt_get_lr(m);
	return 0;
	} catch (const std::exception &e) {
		mt_set_error(std::string(path) + ": " + e.what());
		return -1;
	}
}

// ---- presets ----

extern "C" const char *mt_preset_name(int i, int *kind)
{
	if (i >= 0 && i < mt_n_bert_presets) {
		if (kind)
			*kind = MT_TEXT;
		return mt_bert_presets[i].name;
	}
	i -= mt_n_bert_presets;
	if (i >= 0 && i < mt_n_resnet_presets) {
		if (kind)
			*kind = MT_IMAGE;
		return mt_resnet_presets[i].name;
	}
	return nullptr;
}

extern "C" int mt_preset_params(const char *name, int vocab_size, int64_t *count)
{
	MT_TRY
	std::shared_ptr<torch::nn::Module> mod;
	if (auto b = mt_find_bert(name)) {
		if (vocab_size < 1)
			fail("vocab_size must be positive");
		mod = std::make_shared<MtBert>(vocab_size, mt_preset_shape(*b), 0.1);
	} else if (auto r = mt_find_resnet(name)) {
		mod = std::make_shared<MtResNet>(*r, 1000);
	} else {
		fail(std::string("unknown preset '") + (name ? name : "") + "'");
	}
	int64_t n = 0;
	for (auto &p : mod->parameters())
		n += p.numel();
	*count = n;
	return 0;
	MT_CATCH(-1)
}

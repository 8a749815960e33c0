// mt_dist.cpp: data-parallel training through c10d, PyTorch's distributed
// engine, as it ships inside libtorch: TCPStore for the rendezvous,
// ProcessGroupGloo (CPU) or ProcessGroupNCCL (CUDA) for collectives, and
// the DDP Reducer, which averages gradients in buckets by all-reduce while
// backward still runs. Nothing here is home-made communication.
//
// Gloo's headers: the wheel ships c10d's headers but not gloo's, so these
// build against the system's (Debian's libgloo-dev). Only what c10d's own
// headers declare is used: ProcessGroupGloo's constructor, its Options and
// createDeviceForHostname, all compiled inside libtorch_cpu. ProcessGroupGloo
// and its Options hold gloo objects only through shared_ptr, and nothing
// here calls an inline gloo function or reads a gloo type's fields, so a
// gloo header of another version cannot change a layout this file relies on.
#include "mt_net.h"

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/util/Logging.h>
#include <torch/cuda.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef MMDB_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstring>
#include <stdexcept>

using torch::Tensor;
using c10::intrusive_ptr;

// DDP's defaults: 25 MiB buckets, the first one 1 MiB so that the first
// all-reduce starts early in backward.
static const int64_t kBucketBytes = 25 * 1024 * 1024;
static const int64_t kFirstBucketBytes = 1024 * 1024;

struct mt_dist {
	int rank = 0, world = 1;
	std::string backend;
	torch::Device device{torch::kCPU};
	std::chrono::milliseconds timeout{300000};
	intrusive_ptr<c10d::Store> store;
	intrusive_ptr<c10d::ProcessGroup> ctrl;  // gloo, CPU: the C side's small collectives
	intrusive_ptr<c10d::ProcessGroup> grad;  // gradients, buffers, BatchNorm statistics
};

static void fail(const std::string &msg)
{
	throw std::runtime_error(msg);
}

// A process group over one backend, its store under its own prefix.
static intrusive_ptr<c10d::ProcessGroup> make_group(mt_dist *d, const std::string &name,
						     const std::string &backend)
{
	auto store = c10::make_intrusive<c10d::PrefixStore>(name, d->store);
	auto pg = c10::make_intrusive<c10d::ProcessGroup>(store, d->rank, d->world);
	if (backend == "gloo") {
		auto o = c10d::ProcessGroupGloo::Options::create(d->timeout);
		// The address every rank binds and announces: this host's name
		// resolved, as torch.distributed does, or loopback (GLOO_SOCKET_IFNAME
		// and MMDB_DIST_HOST pick another).
		const char *ifname = getenv("GLOO_SOCKET_IFNAME");
		const char *host = getenv("MMDB_DIST_HOST");
		if (ifname && *ifname)
			o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
		else if (host && *host)
			o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
		else
			o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
		o->threads = 1;
		auto be = c10::make_intrusive<c10d::ProcessGroupGloo>(store, d->rank, d->world, o);
		pg->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
		pg->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, be);
		// as torch.distributed's gloo: CUDA tensors too (MMDB_DIST_BACKEND=gloo)
		if (d->device.is_cuda())
			pg->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::GLOO, be);
		return pg;
	}
#ifdef MMDB_WITH_NCCL
	if (backend == "nccl") {
		auto o = c10d::ProcessGroupNCCL::Options::create();
		o->timeout = d->timeout;
		auto be = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, d->rank, d->world, o);
		pg->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
		pg->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL, be);
		return pg;
	}
#endif
	fail("backend '" + backend + "' is not in this build (gloo" +
#ifdef MMDB_WITH_NCCL
	     ", nccl" +
#endif
	     std::string(")"));
	return pg;
}

extern "C" int mt_dist_new(const struct mt_dist_opts *o, mt_dist **out)
{
	MT_TRY
	*out = nullptr;
	std::unique_ptr<mt_dist> d(new mt_dist());
	if (o->world_size < 1 || o->rank < 0 || o->rank >= o->world_size)
		fail("rank " + std::to_string(o->rank) + " outside a world of " + std::to_string(o->world_size));
	if (o->master_port < 1 || o->master_port > 65535)
		fail("master port " + std::to_string(o->master_port) + " outside 1..65535");
	d->rank = o->rank;
	d->world = o->world_size;
	d->backend = o->backend ? o->backend : "gloo";
	d->device = torch::Device(o->device ? o->device : "cpu");
	if (o->timeout > 0)
		d->timeout = std::chrono::milliseconds((int64_t)(o->timeout * 1000));
	// A rank on cuda:N makes N its current device, as torch.cuda.set_device
	// before init_process_group: otherwise every rank also opens a CUDA
	// context on device 0 (pinned copies, NCCL's setup).
	if (d->device.is_cuda() && d->device.has_index() && torch::cuda::is_available()) {
		if (d->device.index() >= (int)torch::cuda::device_count())
			fail("device '" + d->device.str() + "': no such CUDA device (" +
			     std::to_string(torch::cuda::device_count()) + " here)");
		c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->setDevice(d->device);
	}
	c10d::TCPStoreOptions so;
	so.port = (uint16_t)o->master_port;
	so.isServer = o->rank == 0 && !o->agent_store;
	so.numWorkers = (size_t)o->world_size;
	so.waitWorkers = true;
	so.timeout = d->timeout;
	if (o->rank == 0 && o->listen_fd >= 0)
		so.masterListenFd = o->listen_fd;
	d->store = c10::make_intrusive<c10d::TCPStore>(o->master_addr ? o->master_addr : "127.0.0.1", so);
	d->ctrl = make_group(d.get(), "mmdb/ctrl/", "gloo");
	d->grad = make_group(d.get(), "mmdb/grad/", d->backend);
	*out = d.release();
	return 0;
	MT_CATCH(-1)
}

extern "C" void mt_dist_free(mt_dist *d)
{
	if (!d)
		return;
	// As destroy_process_group: NCCL's communicators are shut down (their
	// work flushed, or aborted after a failure) before the group goes.
	try {
		if (d->grad && d->backend == "nccl")
			d->grad->shutdown();
	} catch (...) {
	}
	try {
		delete d;
	} catch (...) {
	}
}

extern "C" const char *mt_dist_backend(mt_dist *d)
{
	return d->backend.c_str();
}

// All-reduce (sum) that autograd sees: the result's gradient flows back to
// x all-reduced too, since every rank's loss depends on every rank's x.
static Tensor allreduce_sum_autograd(const Tensor &x, const intrusive_ptr<c10d::ProcessGroup> &pg)
{
	std::vector<Tensor> v{x.detach().clone()};
	pg->allreduce(v)->wait();
	if (!x.requires_grad())
		return v[0];
	Tensor xs = x * 1;  // a node of its own for the hook
	xs.register_hook([pg](Tensor g) {
		std::vector<Tensor> gv{g.contiguous().clone()};
		pg->allreduce(gv)->wait();
		return gv[0];
	});
	return xs + (v[0] - xs.detach());  // value: the sum; gradient: to xs
}

// BatchNorm over the global batch: per-channel count, sum and sum of
// squares all-reduced (differentiably), then normalised as BatchNorm2d
// does in training, running statistics updated with the global unbiased
// variance. x (B, Ch, H, W).
static Tensor sync_batch_norm(torch::nn::BatchNorm2dImpl &bn, const Tensor &x,
			      intrusive_ptr<c10d::ProcessGroup> pg)
{
	auto xf = x.to(torch::kFloat32);
	const int64_t ch = x.size(1);
	auto n_local = torch::full({1}, (double)(x.numel() / ch), xf.options());
	auto stats = torch::cat({xf.sum({0, 2, 3}), (xf * xf).sum({0, 2, 3}), n_local});  // (2Ch+1)
	stats = allreduce_sum_autograd(stats, pg);
	auto n = stats[2 * ch].detach();
	auto mean = stats.slice(0, 0, ch) / n;
	auto var = (stats.slice(0, ch, 2 * ch) / n - mean * mean).clamp_min(0);
	{
		torch::NoGradGuard ng;
		const double mom = bn.options.momentum().value_or(0.1);
		auto unbiased = var.detach() * (n / (n - 1).clamp_min(1));
		bn.running_mean.mul_(1 - mom).add_(mean.detach() * mom);
		bn.running_var.mul_(1 - mom).add_(unbiased * mom);
		bn.num_batches_tracked.add_(1);
	}
	auto shape = std::vector<int64_t>{1, ch, 1, 1};
	auto y = (xf - mean.view(shape)) * torch::rsqrt(var.view(shape) + bn.options.eps());
	if (bn.options.affine())
		y = y * bn.weight.view(shape) + bn.bias.view(shape);
	return y.to(x.scalar_type());
}

// The DDP step: rank 0's buffers before each forward, the Reducer's
// bookkeeping around it; the Reducer's autograd hooks do the all-reduce.
struct DdpHooks : MtStepHooks {
	intrusive_ptr<c10d::ProcessGroup> pg;
	std::shared_ptr<c10d::Reducer> reducer;
	std::vector<Tensor> buffers;
	void before_forward() override
	{
		// after the first step: buckets in the order gradients became ready
		reducer->rebuild_buckets();
		if (!buffers.empty()) {
			torch::NoGradGuard ng;
			broadcast_coalesced(pg, buffers);
		}
		reducer->prepare_for_forward();
	}
	void before_backward(const Tensor &loss) override
	{
		reducer->prepare_for_backward({});
	}
	static void broadcast_coalesced(const intrusive_ptr<c10d::ProcessGroup> &pg, std::vector<Tensor> &ts)
	{
		std::vector<Tensor> flat;
		for (auto &t : ts)
			flat.push_back(t.detach().to(torch::kFloat64).reshape({-1}));
		std::vector<Tensor> v{torch::cat(flat)};
		c10d::BroadcastOptions bo;
		bo.rootRank = 0;
		pg->broadcast(v, bo)->wait();
		int64_t off = 0;
		for (auto &t : ts) {
			auto n = t.numel();
			t.copy_(v[0].slice(0, off, off + n).view(t.sizes()).to(t.scalar_type()));
			off += n;
		}
	}
};

extern "C" int mt_dist_attach(mt_dist *d, mt_model *m, int sync_bn)
{
	MT_TRY
	auto net = mt_model_net(m);
	mt_model_set_hooks(m, nullptr);
	if (net->resnet)
		net->resnet->bn_hook = nullptr;
	// Every replica starts from rank 0's weights and buffers.
	{
		torch::NoGradGuard ng;
		std::vector<Tensor> all;
		for (auto &p : net->parameters())
			all.push_back(p);
		for (auto &b : net->buffers())
			all.push_back(b);
		if (!all.empty())
			DdpHooks::broadcast_coalesced(d->grad, all);
	}
	auto params = mt_model_trainable(m);
	if (params.empty())
		return 0;  // nothing trains: nothing to average
	std::vector<bool> sparse(params.size(), false);
	// As DistributedDataParallel: buckets in reverse parameter order (the
	// last layers' gradients are ready first), the first one small.
	auto assign = c10d::compute_bucket_assignment_by_size(
		params, {(size_t)kFirstBucketBytes, (size_t)kBucketBytes}, sparse);
	auto buckets = std::get<0>(assign);
	std::vector<int64_t> limits(std::get<1>(assign).begin(), std::get<1>(assign).end());
	std::reverse(buckets.begin(), buckets.end());
	std::reverse(limits.begin(), limits.end());
	auto h = std::make_shared<DdpHooks>();
	h->pg = d->grad;
	h->reducer = std::make_shared<c10d::Reducer>(params, buckets, d->grad, sparse,
		kBucketBytes, /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false,
		std::unordered_map<size_t, std::string>(), kFirstBucketBytes,
		/*skip_all_reduce_unused_params=*/false, /*use_python_reducer=*/false, limits);
	// BatchNorm buffers (running statistics) follow rank 0, as DDP's
	// broadcast_buffers; synchronised BatchNorm keeps them equal itself.
	if (!sync_bn)
		for (auto &b : net->named_buffers())
			if (b.value().is_floating_point() || b.value().dtype() == torch::kInt64)
				h->buffers.push_back(b.value());
	if (sync_bn && net->resnet) {
		auto pg = d->grad;
		net->resnet->bn_hook = [pg](torch::nn::BatchNorm2dImpl &bn, const Tensor &x) {
			return sync_batch_norm(bn, x, pg);
		};
	}
	mt_model_set_hooks(m, h);
	return 0;
	MT_CATCH(-1)
}

static c10d::ReduceOp reduce_op(int op)
{
	switch (op) {
	case MT_SUM: return c10d::ReduceOp::SUM;
	case MT_MIN: return c10d::ReduceOp::MIN;
	case MT_MAX: return c10d::ReduceOp::MAX;
	}
	fail("unknown reduction " + std::to_string(op));
	return c10d::ReduceOp::SUM;
}

extern "C" int mt_dist_allreduce(mt_dist *d, double *v, size_t n, int op)
{
	MT_TRY
	if (!n)
		return 0;
	std::vector<Tensor> t{torch::from_blob(v, {(int64_t)n}, torch::kFloat64).clone()};
	c10d::AllreduceOptions o;
	o.reduceOp = reduce_op(op);
	d->ctrl->allreduce(t, o)->wait();
	memcpy(v, t[0].data_ptr(), n * sizeof(double));
	return 0;
	MT_CATCH(-1)
}

extern "C" int mt_dist_allgather(mt_dist *d, const void *in, size_t n, void *out)
{
	MT_TRY
	auto src = torch::from_blob(const_cast<void *>(in), {(int64_t)n}, torch::kUInt8).clone();
	std::vector<Tensor> in_v{src};
	std::vector<std::vector<Tensor>> out_v(1);
	for (int r = 0; r < d->world; r++)
		out_v[0].push_back(torch::empty({(int64_t)n}, torch::kUInt8));
	d->ctrl->allgather(out_v, in_v)->wait();
	for (int r = 0; r < d->world; r++)
		memcpy((char *)out + n * (size_t)r, out_v[0][r].data_ptr(), n);
	return 0;
	MT_CATCH(-1)
}

extern "C" int mt_dist_broadcast(mt_dist *d, void *buf, size_t n, int root)
{
	MT_TRY
	std::vector<Tensor> t{torch::from_blob(buf, {(int64_t)n}, torch::kUInt8).clone()};
	c10d::BroadcastOptions o;
	o.rootRank = root;
	d->ctrl->broadcast(t, o)->wait();
	memcpy(buf, t[0].data_ptr(), n);
	return 0;
	MT_CATCH(-1)
}

extern "C" int mt_dist_barrier(mt_dist *d)
{
	MT_TRY
	// an all-reduce rather than barrier(): gloo's barrier guesses a device
	double x = 0;
	std::vector<Tensor> t{torch::from_blob(&x, {1}, torch::kFloat64).clone()};
	d->ctrl->allreduce(t)->wait();
	return 0;
	MT_CATCH(-1)
}

// A roll call's answers; shared with the thread that asks the store, which
// may outlive the call (a stopped store host never answers its socket).
struct Rollcall {
	std::mutex mu;
	std::condition_variable cv;
	bool done = false;
	std::vector<char> here;
	std::string error;
};

static void rollcall_ask(std::shared_ptr<Rollcall> rc, intrusive_ptr<c10d::Store> store, int rank,
			 int world, std::chrono::milliseconds wait)
{
	using namespace std::chrono;
	const std::string key = "mmdb/rollcall/";
	std::vector<char> here(world, 0);
	std::string error;
	auto until = steady_clock::now() + wait;
	/* A silent rank is what the roll call is for: c10d's warning lines for
	 * each socket that times out meanwhile say nothing the answer does not. */
	int log_level = FLAGS_caffe2_log_level;
	FLAGS_caffe2_log_level = std::max(log_level, 2); /* errors only */
	here[rank] = 1;
	try {
		store->setTimeout(wait);
		store->set(key + std::to_string(rank), std::vector<uint8_t>{1});
		for (int r = 0; r < world; r++) {
			if (here[r])
				continue;
			auto left = duration_cast<milliseconds>(until - steady_clock::now());
			try {
				store->wait({key + std::to_string(r)}, std::max(left, milliseconds(1)));
				here[r] = 1;
			} catch (const c10::DistStoreError &) {
				// not heard from in time
			}
		}
	} catch (const std::exception &e) {
		error = e.what();
	}
	FLAGS_caffe2_log_level = log_level;
	std::lock_guard<std::mutex> lk(rc->mu);
	rc->here = here;
	rc->error = error;
	rc->done = true;
	rc->cv.notify_all();
}

extern "C" int mt_dist_rollcall(mt_dist *d, double wait_s, char *here)
{
	for (int r = 0; r < d->world; r++)
		here[r] = r == d->rank;
	MT_TRY
	auto wait = std::chrono::milliseconds((int64_t)(wait_s * 1000));
	auto rc = std::make_shared<Rollcall>();
	std::thread(rollcall_ask, rc, d->store, d->rank, d->world, wait).detach();
	std::unique_lock<std::mutex> lk(rc->mu);
	if (!rc->cv.wait_for(lk, wait + std::chrono::seconds(2), [&] { return rc->done; }))
		fail("the store at rank 0's host does not answer");
	if (!rc->error.empty())
		fail(rc->error);
	for (int r = 0; r < d->world; r++)
		here[r] = rc->here[r];
	return 0;
	MT_CATCH(-1)
}

// mt_core.cpp: error handling and device queries of the libtorch wrapper.
#include "mt.h"

#include <torch/cuda.h>
#include <torch/utils.h>
#include <ATen/Context.h>
#include <torch/version.h>

#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <string>

static thread_local std::string last_error;

const char *mt_last_error(void)
{
	return last_error.c_str();
}

// torch's own errors (c10::Error) carry their C++ backtrace after the
// message: the user gets the message alone, one line where it was one.
void mt_set_error(const std::string &msg)
{
	auto bt = msg.find("\nException raised from ");
	last_error = bt == std::string::npos ? msg : msg.substr(0, bt);
}

// Linked directly, the wrapper is always loaded (mmdb's own mt_load, in
// src/mtload.c, opens this library).
int mt_load(void)
{
	return 0;
}

const char *mt_torch_version(void)
{
	return TORCH_VERSION;
}

int mt_cuda_available(void)
{
	try {
		return torch::cuda::is_available() ? 1 : 0;
	} catch (const std::exception &e) {
		mt_set_error(e.what());
		return 0;
	}
}

int mt_cuda_device_count(void)
{
	try {
		return (int)torch::cuda::device_count();
	} catch (const std::exception &e) {
		mt_set_error(e.what());
		return 0;
	}
}

int mt_get_num_threads(void)
{
	return torch::get_num_threads();
}

int mt_set_num_threads(int n)
{
	try {
		torch::set_num_threads(n);
		return 0;
	} catch (const std::exception &e) {
		mt_set_error(e.what());
		return -1;
	}
}

int mt_manual_seed(uint64_t seed)
{
	try {
		torch::manual_seed(seed);
		return 0;
	} catch (const std::exception &e) {
		mt_set_error(e.what());
		return -1;
	}
}

// The CUDA driver's cuDeviceGetName, looked up at run time: the same code
// serves CPU-only and CUDA builds of libtorch, and needs no CUDA headers.
typedef int (*cu_init_fn)(unsigned);
typedef int (*cu_device_get_fn)(int *, int);
typedef int (*cu_device_get_name_fn)(char *, int, int);

static bool driver_device_name(int index, char *buf, size_t n)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return false;
	auto init = (cu_init_fn)dlsym(h, "cuInit");
	auto get = (cu_device_get_fn)dlsym(h, "cuDeviceGet");
	auto name = (cu_device_get_name_fn)dlsym(h, "cuDeviceGetName");
	int dev = 0;
	char tmp[256];
	bool ok = init && get && name && init(0) == 0 && get(&dev, index) == 0 &&
		name(tmp, (int)sizeof tmp, dev) == 0;
	if (ok)
		snprintf(buf, n, "%s", tmp);
	dlclose(h);
	return ok;
}

int mt_cuda_device_name(int index, char *buf, size_t n)
{
	try {
		if (index < 0 || index >= (int)torch::cuda::device_count()) {
			last_error = "no CUDA device " + std::to_string(index);
			return -1;
		}
		if (!driver_device_name(index, buf, n))
			snprintf(buf, n, "cuda:%d", index);  // no driver library to ask
		return 0;
	} catch (const std::exception &e) {
		mt_set_error(e.what());
		return -1;
	}
}

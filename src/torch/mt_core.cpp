// mt_core.cpp: error handling and device queries of the libtorch wrapper.
#include "mt.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cstring>
#include <string>

static thread_local std::string last_error;

const char *mt_last_error(void)
{
	return last_error.c_str();
}

void mt_set_error(const std::string &msg)
{
	last_error = msg;
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
		last_error = e.what();
		return 0;
	}
}

int mt_cuda_device_count(void)
{
	try {
		return (int)torch::cuda::device_count();
	} catch (const std::exception &e) {
		last_error = e.what();
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
		last_error = e.what();
		return -1;
	}
}

int mt_manual_seed(uint64_t seed)
{
	try {
		torch::manual_seed(seed);
		return 0;
	} catch (const std::exception &e) {
		last_error = e.what();
		return -1;
	}
}

int mt_cuda_device_name(int index, char *buf, size_t n)
{
	try {
		if (index < 0 || index >= (int)torch::cuda::device_count()) {
			last_error = "no CUDA device " + std::to_string(index);
			return -1;
		}
		// The device name needs the CUDA runtime; without it say which index.
		auto name = std::string("cuda:") + std::to_string(index);
		snprintf(buf, n, "%s", name.c_str());
		return 0;
	} catch (const std::exception &e) {
		last_error = e.what();
		return -1;
	}
}

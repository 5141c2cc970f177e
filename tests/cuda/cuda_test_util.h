#pragma once
// Device helpers for the CUDA kernel tests. Every test starts with SCOUT_REQUIRE_GPU(): CI
// builds these tests and they skip there; scripts/gpu-check.sh runs them on a lent GPU.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/reference_helpers.h"

namespace scout::test {

inline bool have_gpu() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

#define SCOUT_REQUIRE_GPU() \
  if (!::scout::test::have_gpu()) GTEST_SKIP() << "no CUDA device"

inline void cuda_ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// Synchronizes and fails on any pending asynchronous error.
inline void sync() { cuda_ok(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

// A device array of n T's.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t n) : n_(n) { cuda_ok(cudaMalloc(reinterpret_cast<void**>(&p_), (n ? n : 1) * sizeof(T)), "cudaMalloc"); }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    cuda_ok(cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  std::vector<T> download() const {
    std::vector<T> h(n_);
    sync();
    cuda_ok(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost), "download");
    return h;
  }
  // All bytes 0xff: NaN for floats, -1 for ints: anything a kernel fails to write shows.
  void poison() { cuda_ok(cudaMemset(p_, 0xff, n_ * sizeof(T)), "poison"); }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

inline int64_t count_nonfinite(const std::vector<float>& v) {
  int64_t n = 0;
  for (float x : v) n += !std::isfinite(x);
  return n;
}

}  // namespace scout::test

#pragma once
// Helpers for the .cu files only (never included by host-only code).
#include <cuda_runtime.h>

#include <string>

#include "engine/util/error.h"

namespace scout::cuda::detail {

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

// Throws scout::Error when the last launch (or an earlier asynchronous error) failed.
inline void check_launch(const char* what) {
  if (const cudaError_t err = cudaGetLastError(); err != cudaSuccess)
    throw Error(std::string(what) + ": CUDA launch failed: " + cudaGetErrorString(err));
}

inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw Error(std::string(what) + ": " + cudaGetErrorString(err));
}

inline unsigned grid_dim(int64_t n, const char* what) {
  if (n <= 0 || n > 0x7fffffff) throw Error(std::string(what) + ": grid dimension out of range");
  return unsigned(n);
}

inline bool aligned(const void* p, uintptr_t a) { return reinterpret_cast<uintptr_t>(p) % a == 0; }

}  // namespace scout::cuda::detail

#if defined(__CUDACC__)
namespace scout::cuda::detail {

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

}  // namespace scout::cuda::detail
#endif

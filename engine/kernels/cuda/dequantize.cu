// One thread per output element: simple, coalesced on the output, and the clear device-side
// counterpart of the CPU reference. Fast fused kernels (GEMV/GEMM, MoE) build on the same
// per-element decoders.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <string>

#include "engine/kernels/cuda/dequantize_cuda.h"
#include "engine/quant/blocks.h"
#include "engine/util/error.h"

namespace scout::cuda {
namespace {

using quant::GgmlType;

__device__ __forceinline__ float half_bits(uint16_t h) { return __half2float(__ushort_as_half(h)); }

__device__ float decode_q8_0(const void* src, int64_t i) {
  const auto* b = static_cast<const quant::BlockQ8_0*>(src) + i / 32;
  return half_bits(b->d) * float(b->qs[i % 32]);
}

__device__ float decode_q4_0(const void* src, int64_t i) {
  const auto* b = static_cast<const quant::BlockQ4_0*>(src) + i / 32;
  const int j = int(i % 32);
  const int q = j < 16 ? (b->qs[j] & 0xF) : (b->qs[j - 16] >> 4);
  return float(q - 8) * half_bits(b->d);
}

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K block (ggml's packing).
__device__ void scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

__device__ float decode_q4_k(const void* src, int64_t i) {
  const auto* b = static_cast<const quant::BlockQ4_K*>(src) + i / 256;
  const int j = int(i % 256), group = j / 64, l = j % 64;
  const int sub = 2 * group + (l >= 32);
  uint8_t sc, m;
  scale_min_k4(sub, b->scales, &sc, &m);
  const uint8_t byte = b->qs[group * 32 + l % 32];
  const int q = l < 32 ? (byte & 0xF) : (byte >> 4);
  const float d1 = half_bits(b->d) * float(sc), m1 = half_bits(b->dmin) * float(m);
  return d1 * float(q) - m1;
}

__device__ float decode_q6_k(const void* src, int64_t i) {
  const auto* b = static_cast<const quant::BlockQ6_K*>(src) + i / 256;
  const int j = int(i % 256), half = j / 128, l = j % 128, group = l / 32, idx = l % 32;
  const uint8_t* ql = b->ql + half * 64;
  const uint8_t* qh = b->qh + half * 32;
  const int8_t* sc = b->scales + half * 8;
  const int low = group == 0 ? (ql[idx] & 0xF) : group == 1 ? (ql[idx + 32] & 0xF)
                : group == 2 ? (ql[idx] >> 4) : (ql[idx + 32] >> 4);
  const int q = (low | (((qh[idx] >> (2 * group)) & 3) << 4)) - 32;
  return half_bits(b->d) * float(sc[idx / 16 + 2 * group]) * float(q);
}

__device__ float decode_f16(const void* src, int64_t i) { return half_bits(static_cast<const uint16_t*>(src)[i]); }

__device__ float decode_bf16(const void* src, int64_t i) {
  return __uint_as_float(uint32_t(static_cast<const uint16_t*>(src)[i]) << 16);
}

template <float (*Decode)(const void*, int64_t)>
__global__ void dequantize_kernel(const void* src, float* dst, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = Decode(src, i);
}

template <float (*Decode)(const void*, int64_t)>
void launch(const void* src, float* dst, int64_t n, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const int64_t blocks = std::min<int64_t>((n + kThreads - 1) / kThreads, 65535);
  dequantize_kernel<Decode><<<unsigned(blocks), kThreads, 0, stream>>>(src, dst, n);
}

}  // namespace

bool can_dequantize(GgmlType t) {
  switch (t) {
    case GgmlType::Q8_0: case GgmlType::Q4_0: case GgmlType::Q4_K: case GgmlType::Q6_K:
    case GgmlType::F16: case GgmlType::BF16:
      return true;
    default:
      return false;
  }
}

void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n, void* stream_ptr) {
  if (!can_dequantize(t)) throw Error("CUDA dequantize: type " + quant::type_label(t) + " not implemented");
  quant::require_whole_blocks(t, n, "CUDA dequantize");
  if (n == 0) return;
  auto stream = static_cast<cudaStream_t>(stream_ptr);
  switch (t) {
    case GgmlType::Q8_0: launch<decode_q8_0>(src, dst, n, stream); break;
    case GgmlType::Q4_0: launch<decode_q4_0>(src, dst, n, stream); break;
    case GgmlType::Q4_K: launch<decode_q4_k>(src, dst, n, stream); break;
    case GgmlType::Q6_K: launch<decode_q6_k>(src, dst, n, stream); break;
    case GgmlType::F16: launch<decode_f16>(src, dst, n, stream); break;
    case GgmlType::BF16: launch<decode_bf16>(src, dst, n, stream); break;
    default: break;
  }
  if (const cudaError_t err = cudaGetLastError(); err != cudaSuccess)
    throw Error(std::string("CUDA dequantize launch failed: ") + cudaGetErrorString(err));
}

}  // namespace scout::cuda

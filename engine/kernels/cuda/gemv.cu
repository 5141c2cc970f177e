// Dequantizing GEMV for decode: see matmul_kernels.cuh for the work split. The per-lane work
// (gemv_lane) is host/device code that the CPU tests run in an emulated launch; this file adds
// only the warp reduction and the store.
#include <cuda_runtime.h>

#include "engine/kernels/cuda/cuda_util.cuh"
#include "engine/kernels/cuda/matmul_launch.cuh"

namespace scout::cuda::detail {
namespace {

using quant::GgmlType;
using namespace hd;

template <GgmlType T, bool kPair>
__global__ void __launch_bounds__(kGemvWarps * 32) gemv_kernel(const MatmulArgs a) {
  GemvTokens tk;
  if (!gemv_tokens(a, int(blockIdx.y), int(blockIdx.z), tk)) return;
  const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  const int64_t row0 = (int64_t(blockIdx.x) * kGemvWarps + warp) * kGemvRowsPerWarp;
  if (row0 >= a.n_rows) return;  // whole warps only: no block-wide barrier follows

  float acc[2][kGemvRowsPerWarp][kGemvTokens];
#pragma unroll
  for (int p = 0; p < 2; ++p)
#pragma unroll
    for (int r = 0; r < kGemvRowsPerWarp; ++r)
#pragma unroll
      for (int t = 0; t < kGemvTokens; ++t) acc[p][r][t] = 0.0f;
  gemv_lane<T, kPair>(a, tk, row0, lane, acc);

#pragma unroll
  for (int r = 0; r < kGemvRowsPerWarp; ++r) {
    const int64_t row = row0 + r;
#pragma unroll
    for (int t = 0; t < kGemvTokens; ++t) {
      if (t >= tk.n) break;  // uniform across the warp
      const float g = warp_sum(acc[0][r][t]);
      const float u = kPair ? warp_sum(acc[1][r][t]) : 0.0f;
      if (lane == 0 && row < a.n_rows && tk.x_off[t] >= 0)
        a.y[int64_t(tk.dst[t]) * a.ldy + row] = kPair ? silu_mul(g, u) : g;
    }
  }
}

template <GgmlType T>
void launch_typed(bool pair, const MatmulArgs& a, dim3 grid, cudaStream_t s) {
  if (pair)
    gemv_kernel<T, true><<<grid, kGemvWarps * 32, 0, s>>>(a);
  else
    gemv_kernel<T, false><<<grid, kGemvWarps * 32, 0, s>>>(a);
}

}  // namespace

void launch_gemv(GgmlType type, bool pair, const MatmulArgs& a, int64_t max_group_rows, int64_t group_slices,
                 cudaStream_t s) {
  const dim3 grid(grid_dim((a.n_rows + kGemvRowsPerBlock - 1) / kGemvRowsPerBlock, "gemv"), grid_dim(group_slices, "gemv"), grid_dim((max_group_rows + kGemvTokens - 1) / kGemvTokens, "gemv"));
  if (grid.y > 65535 || grid.z > 65535) throw Error("gemv: too many groups or rows per group");
  switch (type) {
    case GgmlType::F32: launch_typed<GgmlType::F32>(pair, a, grid, s); break;
    case GgmlType::F16: launch_typed<GgmlType::F16>(pair, a, grid, s); break;
    case GgmlType::BF16: launch_typed<GgmlType::BF16>(pair, a, grid, s); break;
    case GgmlType::Q8_0: launch_typed<GgmlType::Q8_0>(pair, a, grid, s); break;
    case GgmlType::Q4_K: launch_typed<GgmlType::Q4_K>(pair, a, grid, s); break;
    case GgmlType::Q6_K: launch_typed<GgmlType::Q6_K>(pair, a, grid, s); break;
    default: throw Error("gemv: type " + quant::type_label(type) + " not supported");
  }
  check_launch("gemv");
}

}  // namespace scout::cuda::detail

// Tiled GEMM for prefill: y[dst(i)] = W_g . (scale(i) * x[src(i)]) over tiles of kGemmBM
// sorted rows x kGemmBN weight rows. Per kGemmBK-column step, every thread dequantizes weight
// units (hd::decode_unit) into shared memory as F16 (BF16 for BF16 weights), rounds its part of
// the activation tile to the same type, and the 4 warps multiply with wmma 16x16x16 fragments
// into F32 accumulators. The epilogue stages the accumulators through shared memory, applies
// SwiGLU for gate/up pairs and scatters rows to dst. No software pipelining yet: correct first.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <type_traits>

#include "engine/kernels/cuda/cuda_util.cuh"
#include "engine/kernels/cuda/matmul_launch.cuh"

namespace scout::cuda::detail {
namespace {

using quant::GgmlType;
using namespace hd;
namespace wmma = nvcuda::wmma;

constexpr int kLd = kGemmBK + 8;   // tile row stride in elements (16-byte multiple, skews banks)
constexpr int kLdc = kGemmBN + 4;  // accumulator staging stride in floats

template <class MT>
__device__ __forceinline__ MT to_mma(float v);
template <>
__device__ __forceinline__ __half to_mma<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 to_mma<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

template <GgmlType T, bool kPair>
__global__ void __launch_bounds__(kGemmThreads) gemm_kernel(const MatmulArgs a) {
  using MT = std::conditional_t<T == GgmlType::BF16, __nv_bfloat16, __half>;
  constexpr int P = kPair ? 2 : 1;
  constexpr int kTileBytes = (1 + P) * kGemmBN * kLd * int(sizeof(MT));
  constexpr int kOutBytes = P * kGemmBM * kLdc * int(sizeof(float));
  __shared__ __align__(128) unsigned char smem[kTileBytes > kOutBytes ? kTileBytes : kOutBytes];
  MT* xs = reinterpret_cast<MT*>(smem);                   // [kGemmBM][kLd]
  MT* ws = xs + kGemmBM * kLd;                            // [P][kGemmBN][kLd]
  float* cs = reinterpret_cast<float*>(smem);             // [P][kGemmBM][kLdc], after the K loop

  const int tid = int(threadIdx.x), warp = tid / 32;
  const int64_t i0 = int64_t(blockIdx.y) * kGemmBM;
  const int64_t n0 = int64_t(blockIdx.x) * kGemmBN;
  const int g = find_group(a, i0);
  if (g < 0) return;
  int64_t gbeg, gend;
  group_rows(a, g, gbeg, gend);
  const uint8_t* w1 = a.w + uint64_t(g) * a.group_stride;
  const uint8_t* w2 = kPair ? a.w2 + uint64_t(g) * a.group_stride : nullptr;

  // This thread's activation row and half-row of every X tile.
  const int xr = tid >> 1, xc = (tid & 1) * (kGemmBK / 2);
  const int64_t xi = i0 + xr;
  const int32_t xsrc = xi < gend ? row_src(a, xi) : -1;
  const float xscale = xsrc >= 0 ? row_scale(a, xi) : 0.0f;
  const bool scaled = a.scale != nullptr;
  const float* xrow = xsrc >= 0 ? a.x + int64_t(xsrc) * a.ldx : nullptr;

  const int wr0 = (warp >> 1) * 32, wc0 = (warp & 1) * 32;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[P][2][2];
#pragma unroll
  for (int p = 0; p < P; ++p)
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[p][i][j], 0.0f);

  for (int64_t k0 = 0; k0 < a.n_cols; k0 += kGemmBK) {
    // Activations: 32 floats of row xr, rounded to the MMA type (zeros for padding and past K).
#pragma unroll
    for (int c = 0; c < kGemmBK / 2; c += kUnit) {
      float v[kUnit];
      const int64_t k = k0 + xc + c;
      if (xrow && k < a.n_cols) {
        load_x8(xrow + k, xscale, scaled, v);
      } else {
#pragma unroll
        for (int e = 0; e < kUnit; ++e) v[e] = 0.0f;
      }
#pragma unroll
      for (int e = 0; e < kUnit; ++e) xs[xr * kLd + xc + c + e] = to_mma<MT>(v[e]);
    }
    // Weights: kGemmBN rows x kGemmBK / 8 units, 4 units per thread per matrix.
#pragma unroll
    for (int j = 0; j < kGemmBN * (kGemmBK / kUnit) / kGemmThreads; ++j) {
      const int q = tid + kGemmThreads * j;
      const int r = q / (kGemmBK / kUnit), cu = q % (kGemmBK / kUnit);
      const int64_t row = n0 + r, k = k0 + kUnit * cu;
#pragma unroll
      for (int p = 0; p < P; ++p) {
        float v[kUnit];
        if (row < a.n_rows && k < a.n_cols) {
          decode_unit<T>((p == 0 ? w1 : w2) + uint64_t(row) * a.row_bytes, k / kUnit, v);
        } else {
#pragma unroll
          for (int e = 0; e < kUnit; ++e) v[e] = 0.0f;
        }
        MT* dst = ws + (p * kGemmBN + r) * kLd + kUnit * cu;
#pragma unroll
        for (int e = 0; e < kUnit; ++e) dst[e] = to_mma<MT>(v[e]);
      }
    }
    __syncthreads();

#pragma unroll
    for (int kk = 0; kk < kGemmBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, MT, wmma::row_major> fa[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) wmma::load_matrix_sync(fa[i], xs + (wr0 + 16 * i) * kLd + kk, kLd);
#pragma unroll
      for (int p = 0; p < P; ++p) {
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          // W is [n][k] row-major: as the K x N operand it is column-major with stride kLd.
          wmma::fragment<wmma::matrix_b, 16, 16, 16, MT, wmma::col_major> fb;
          wmma::load_matrix_sync(fb, ws + (p * kGemmBN + wc0 + 16 * j) * kLd + kk, kLd);
#pragma unroll
          for (int i = 0; i < 2; ++i) wmma::mma_sync(acc[p][i][j], fa[i], fb, acc[p][i][j]);
        }
      }
    }
    __syncthreads();
  }

  // Epilogue: accumulators -> shared (the tiles are dead now) -> activation -> scattered rows.
#pragma unroll
  for (int p = 0; p < P; ++p)
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 2; ++j)
        wmma::store_matrix_sync(cs + (p * kGemmBM + wr0 + 16 * i) * kLdc + wc0 + 16 * j, acc[p][i][j], kLdc,
                                wmma::mem_row_major);
  __syncthreads();
  for (int e = tid; e < kGemmBM * kGemmBN; e += kGemmThreads) {
    const int r = e / kGemmBN, c = e % kGemmBN;
    const int64_t i = i0 + r, col = n0 + c;
    if (i >= gend || col >= a.n_rows || row_src(a, i) < 0) continue;
    const float v0 = cs[r * kLdc + c];
    const float v = kPair ? silu_mul(v0, cs[(kGemmBM + r) * kLdc + c]) : v0;
    a.y[int64_t(row_dst(a, i)) * a.ldy + col] = v;
  }
}

template <GgmlType T>
void launch_typed(bool pair, const MatmulArgs& a, dim3 grid, cudaStream_t s) {
  if (pair)
    gemm_kernel<T, true><<<grid, kGemmThreads, 0, s>>>(a);
  else
    gemm_kernel<T, false><<<grid, kGemmThreads, 0, s>>>(a);
}

}  // namespace

bool gemm_supports(GgmlType type) {
  return type == GgmlType::F16 || type == GgmlType::BF16 || type == GgmlType::Q8_0 || type == GgmlType::Q4_K ||
         type == GgmlType::Q6_K;
}

void launch_gemm(GgmlType type, bool pair, const MatmulArgs& a, int64_t max_rows, cudaStream_t s) {
  const dim3 grid(grid_dim((a.n_rows + kGemmBN - 1) / kGemmBN, "gemm"), grid_dim((max_rows + kGemmBM - 1) / kGemmBM, "gemm"));
  if (grid.y > 65535) throw Error("gemm: too many rows");
  switch (type) {
    case GgmlType::F16: launch_typed<GgmlType::F16>(pair, a, grid, s); break;
    case GgmlType::BF16: launch_typed<GgmlType::BF16>(pair, a, grid, s); break;
    case GgmlType::Q8_0: launch_typed<GgmlType::Q8_0>(pair, a, grid, s); break;
    case GgmlType::Q4_K: launch_typed<GgmlType::Q4_K>(pair, a, grid, s); break;
    case GgmlType::Q6_K: launch_typed<GgmlType::Q6_K>(pair, a, grid, s); break;
    default: throw Error("gemm: type " + quant::type_label(type) + " not supported (use the GEMV)");
  }
  check_launch("gemm");
}

}  // namespace scout::cuda::detail

// RMSNorm and the fused RoPE + QK-norm + temperature + KV-cache store (norm_rope_cuda.h).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <string>

#include "engine/kernels/cuda/cuda_util.cuh"
#include "engine/kernels/cuda/norm_rope_cuda.h"
#include "engine/kernels/cuda/shared_math.cuh"

namespace scout::cuda {

using detail::as_stream;
using detail::check_launch;

namespace {

constexpr int kNormThreads = 256;
constexpr int kQkThreads = 128;
constexpr int kMaxPairs = 128;  // head_dim <= 256

__global__ void __launch_bounds__(kNormThreads)
    rms_norm_kernel(const float* x, const float* w, float* out, int64_t n, float eps) {
  __shared__ double partial[kNormThreads / 32];
  __shared__ float inv;
  const float* xr = x + int64_t(blockIdx.x) * n;
  float* orow = out + int64_t(blockIdx.x) * n;
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kNormThreads) s += double(xr[i]) * double(xr[i]);
  s = detail::warp_sum(s);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = s;
  __syncthreads();
  if (threadIdx.x == 0) {
    double t = 0.0;
    for (int i = 0; i < kNormThreads / 32; ++i) t += partial[i];
    inv = hd::rms_inv_scale(t, n, eps);
  }
  __syncthreads();
  const float scale = inv;
  for (int64_t i = threadIdx.x; i < n; i += kNormThreads)
    orow[i] = w ? hd::fmul(hd::fmul(xr[i], scale), w[i]) : hd::fmul(xr[i], scale);
}

// One block per token; warp per head (Q heads, then K heads); lane per adjacent pair.
__global__ void __launch_bounds__(kQkThreads)
    qk_kernel(const QkParams p, const AttnSeq* seqs, int32_t max_n_q, float* q, float* k, const float* v) {
  __shared__ float cs[kMaxPairs], sn[kMaxPairs];
  const AttnSeq sq = seqs[blockIdx.x / max_n_q];
  const int qi = int(blockIdx.x % max_n_q);
  if (qi >= sq.n_q) return;
  const int64_t t = int64_t(sq.q_first) + qi, pos = int64_t(sq.pos0) + qi;
  const int hd_ = p.head_dim, n_pairs = hd_ / 2, rot_pairs = p.n_rot / 2;
  const int64_t q_dim = int64_t(p.n_head) * hd_, kv_dim = int64_t(p.n_head_kv) * hd_;
  const int tid = int(threadIdx.x), warp = tid / 32, lane = tid % 32;

  if (p.rope) {
    for (int i = tid; i < rot_pairs; i += kQkThreads) {
      const float a = hd::rope_angle(pos, i, p.theta_scale, p.freq_scale, p.freq_factors ? p.freq_factors[i] : 1.0f);
      cs[i] = cosf(a);
      sn[i] = sinf(a);
    }
  }
  __syncthreads();
  const float temp = (!p.rope && p.temp_floor > 0) ? hd::attn_temperature(pos, p.temp_floor, p.temp_scale) : 1.0f;

  for (int hh = warp; hh < p.n_head + p.n_head_kv; hh += kQkThreads / 32) {
    const bool is_q = hh < p.n_head;
    float* x = is_q ? q + t * q_dim + int64_t(hh) * hd_ : k + t * kv_dim + int64_t(hh - p.n_head) * hd_;
    float y[kMaxPairs / 32][2];
    double ss = 0.0;
#pragma unroll
    for (int j = 0; j < kMaxPairs / 32; ++j) {
      const int i = lane + 32 * j;
      if (i >= n_pairs) break;
      float y0 = x[2 * i], y1 = x[2 * i + 1];
      if (p.rope) {
        if (i < rot_pairs) hd::rope_rotate(x[2 * i], x[2 * i + 1], cs[i], sn[i], y0, y1);
      } else if (is_q && p.temp_floor > 0) {
        y0 = hd::fmul(y0, temp);
        y1 = hd::fmul(y1, temp);
      }
      y[j][0] = y0;
      y[j][1] = y1;
      ss += double(y0) * double(y0) + double(y1) * double(y1);
    }
    const bool norm = p.qk_norm && p.rope;  // llama4 norms Q/K on RoPE layers only
    float inv = 1.0f;
    if (norm) inv = hd::rms_inv_scale(detail::warp_sum(ss), hd_, p.eps);
#pragma unroll
    for (int j = 0; j < kMaxPairs / 32; ++j) {
      const int i = lane + 32 * j;
      if (i >= n_pairs) break;
      const float y0 = norm ? hd::fmul(y[j][0], inv) : y[j][0];
      const float y1 = norm ? hd::fmul(y[j][1], inv) : y[j][1];
      x[2 * i] = y0;
      x[2 * i + 1] = y1;
      if (!is_q) {
        const int64_t off = pos * kv_dim + int64_t(hh - p.n_head) * hd_ + 2 * i;
        sq.k[off] = hd::f32_to_f16_bits(y0);
        sq.k[off + 1] = hd::f32_to_f16_bits(y1);
      }
    }
  }
  for (int64_t e = tid; e < kv_dim; e += kQkThreads) sq.v[pos * kv_dim + e] = hd::f32_to_f16_bits(v[t * kv_dim + e]);
}

}  // namespace

void rms_norm(const float* d_x, const float* d_weight, float* d_out, int64_t rows, int64_t n, float eps,
              void* stream) {
  if (rows <= 0 || n <= 0) return;
  if (rows > 0x7fffffff) throw Error("rms_norm: too many rows");
  rms_norm_kernel<<<unsigned(rows), kNormThreads, 0, as_stream(stream)>>>(d_x, d_weight, d_out, n, eps);
  check_launch("rms_norm");
}

float rope_theta_scale(float base, int64_t n_rot) { return std::pow(base, -2.0f / float(n_rot)); }

void qk_rope_norm_store(const QkParams& p, const AttnSeq* d_seqs, int32_t n_seqs, int32_t max_n_q, float* d_q,
                        float* d_k, const float* d_v, void* stream) {
  if (p.head_dim <= 0 || p.head_dim % 2 != 0 || p.head_dim > 2 * kMaxPairs)
    throw Error("qk_rope_norm_store: head_dim must be even and at most 256");
  if (p.n_rot < 0 || p.n_rot > p.head_dim || p.n_rot % 2 != 0) throw Error("qk_rope_norm_store: bad n_rot");
  if (p.n_head <= 0 || p.n_head_kv <= 0) throw Error("qk_rope_norm_store: bad head counts");
  if (n_seqs <= 0 || max_n_q <= 0) return;
  if (int64_t(n_seqs) * max_n_q > 0x7fffffff) throw Error("qk_rope_norm_store: batch too large");
  qk_kernel<<<unsigned(int64_t(n_seqs) * max_n_q), kQkThreads, 0, as_stream(stream)>>>(p, d_seqs, max_n_q, d_q, d_k,
                                                                                        d_v);
  check_launch("qk_rope_norm_store");
}

}  // namespace scout::cuda

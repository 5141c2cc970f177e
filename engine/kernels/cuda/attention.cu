// Attention kernels (attention_cuda.h). The mask, window, split ranges and online-softmax
// steps are hd:: functions (shared_math.cuh) that the CPU tests check against the reference.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <algorithm>
#include <string>

#include "engine/kernels/cuda/attention_cuda.h"
#include "engine/kernels/cuda/cuda_util.cuh"
#include "engine/kernels/cuda/shared_math.cuh"

namespace scout::cuda {

using detail::as_stream;
using detail::check_launch;

namespace {

namespace wmma = nvcuda::wmma;

constexpr int kTile = 64;      // queries per prefill block; keys per tile (both kernels)
constexpr int kThreads = 128;  // 4 warps
constexpr int kMaxGroup = 8;   // query heads per KV head (decode)

__device__ __forceinline__ uint4 load16_or_zero(const uint16_t* p, bool ok) {
  return ok ? *reinterpret_cast<const uint4*>(p) : make_uint4(0, 0, 0, 0);
}

// ------------------------------------------------------------------ prefill (flash-style)

template <int HD>
struct PrefillLayout {
  static constexpr int kLdq = HD + 8;     // halves: Q, K, V rows
  static constexpr int kLds = kTile + 4;  // floats: scores
  static constexpr int kLdp = kTile + 8;  // halves: probabilities
  static constexpr int kLdo = HD + 4;     // floats: output accumulator
  static constexpr int kQ = 0;
  static constexpr int kK = kQ + kTile * kLdq * 2;
  static constexpr int kV = kK + kTile * kLdq * 2;
  static constexpr int kS = kV + kTile * kLdq * 2;
  static constexpr int kP = kS + kTile * kLds * 4;
  static constexpr int kO = kP + kTile * kLdp * 2;
  static constexpr int kM = kO + kTile * kLdo * 4;
  static constexpr int kL = kM + kTile * 4;
  static constexpr int kA = kL + kTile * 4;
  static constexpr int kBytes = kA + kTile * 4;
  // wmma pointers must be 32-byte aligned: every region (and every 16-row step) is.
  static_assert(kK % 32 == 0 && kV % 32 == 0 && kS % 32 == 0 && kP % 32 == 0 && kO % 32 == 0 && kM % 32 == 0);
};

template <int HD>
__global__ void __launch_bounds__(kThreads)
    attn_prefill_kernel(const AttnShape sh, const AttnSeq* seqs, int32_t tiles_per_seq, const float* q, float* out) {
  using L = PrefillLayout<HD>;
  extern __shared__ __align__(128) unsigned char smem[];
  __half* qs = reinterpret_cast<__half*>(smem + L::kQ);
  __half* ks = reinterpret_cast<__half*>(smem + L::kK);
  __half* vs = reinterpret_cast<__half*>(smem + L::kV);
  float* ss = reinterpret_cast<float*>(smem + L::kS);
  __half* ps = reinterpret_cast<__half*>(smem + L::kP);
  float* os = reinterpret_cast<float*>(smem + L::kO);
  float* m_s = reinterpret_cast<float*>(smem + L::kM);
  float* l_s = reinterpret_cast<float*>(smem + L::kL);
  float* a_s = reinterpret_cast<float*>(smem + L::kA);

  const AttnSeq sq = seqs[blockIdx.x / tiles_per_seq];
  const int qi0 = int(blockIdx.x % tiles_per_seq) * kTile;
  if (qi0 >= sq.n_q) return;
  const int nq = min(kTile, sq.n_q - qi0);
  const int h = int(blockIdx.y), g = h / (sh.n_head / sh.n_head_kv);
  const int64_t q_dim = int64_t(sh.n_head) * HD, kv_dim = int64_t(sh.n_head_kv) * HD;
  const int64_t p_first = int64_t(sq.pos0) + qi0;
  const int64_t kbeg = hd::window_start(p_first, sh.chunk), kend = p_first + nq;
  const int tid = int(threadIdx.x), warp = tid / 32, lane = tid % 32;
  constexpr int kVec = HD / 8;  // 8-element vectors per row

  // Q tile (F32 -> F16), zero rows past nq; O = 0, m = -inf, l = 0.
  for (int e = tid; e < kTile * kVec; e += kThreads) {
    const int r = e / kVec, c = (e % kVec) * 8;
    float v[8];
    if (r < nq) {
      hd::load_x8_plain(q + (int64_t(sq.q_first) + qi0 + r) * q_dim + int64_t(h) * HD + c, v);
    } else {
#pragma unroll
      for (int i = 0; i < 8; ++i) v[i] = 0.0f;
    }
#pragma unroll
    for (int i = 0; i < 8; ++i) qs[r * L::kLdq + c + i] = __float2half_rn(v[i]);
  }
  for (int e = tid; e < kTile * L::kLdo; e += kThreads) os[e] = 0.0f;
  if (tid < kTile) {
    m_s[tid] = hd::kNegInf;
    l_s[tid] = 0.0f;
  }

  for (int64_t t0 = kbeg; t0 < kend; t0 += kTile) {
    const int nk = kend - t0 < kTile ? int(kend - t0) : kTile;
    __syncthreads();  // previous tile's K/V (and the initial stores) done with
    for (int e = tid; e < kTile * kVec; e += kThreads) {
      const int j = e / kVec, c = (e % kVec) * 8;
      const int64_t off = (t0 + j) * kv_dim + int64_t(g) * HD + c;
      *reinterpret_cast<uint4*>(ks + j * L::kLdq + c) = load16_or_zero(sq.k + off, j < nk);
      *reinterpret_cast<uint4*>(vs + j * L::kLdq + c) = load16_or_zero(sq.v + off, j < nk);
    }
    __syncthreads();

    // S = Q K^T for this warp's 16 query rows.
    const int r0 = 16 * warp;
#pragma unroll
    for (int j = 0; j < kTile / 16; ++j) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.0f);
#pragma unroll
      for (int kk = 0; kk < HD; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb;
        wmma::load_matrix_sync(fa, qs + r0 * L::kLdq + kk, L::kLdq);
        wmma::load_matrix_sync(fb, ks + (16 * j) * L::kLdq + kk, L::kLdq);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(ss + r0 * L::kLds + 16 * j, acc, L::kLds, wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax: two lanes per row, 32 keys each.
    {
      const int r = r0 + lane / 2, half = lane & 1;
      const int64_t qpos = p_first + r;
      const bool row_ok = r < nq;
      const float m_old = m_s[r];
      float* srow = ss + r * L::kLds + 32 * half;
      float mx = hd::kNegInf;
      for (int jj = 0; jj < 32; ++jj) {
        const int j = 32 * half + jj;
        const bool vis = row_ok && j < nk && hd::key_visible(qpos, t0 + j, sh.chunk);
        const float s = vis ? srow[jj] * sh.scale : hd::kNegInf;
        srow[jj] = s;
        mx = fmaxf(mx, s);
      }
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      const float m_new = fmaxf(m_old, mx);
      const float alpha = hd::softmax_rescale(m_old, m_new);
      float sum = 0.0f;
      __half* prow = ps + r * L::kLdp + 32 * half;
      for (int jj = 0; jj < 32; ++jj) {
        const float p = hd::softmax_prob(srow[jj], m_new);
        prow[jj] = __float2half_rn(p);
        sum += p;
      }
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      __syncwarp();
      if (half == 0) {
        m_s[r] = m_new;
        l_s[r] = l_s[r] * alpha + sum;
        a_s[r] = alpha;
      }
    }
    __syncwarp();
    for (int e = lane; e < 16 * HD; e += 32) {
      const int r = r0 + e / HD, c = e % HD;
      os[r * L::kLdo + c] *= a_s[r];
    }
    __syncwarp();

    // O += P V for this warp's rows.
#pragma unroll
    for (int jd = 0; jd < HD / 16; ++jd) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, os + r0 * L::kLdo + 16 * jd, L::kLdo, wmma::mem_row_major);
#pragma unroll
      for (int kk = 0; kk < kTile; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> fb;
        wmma::load_matrix_sync(fa, ps + r0 * L::kLdp + kk, L::kLdp);
        wmma::load_matrix_sync(fb, vs + kk * L::kLdq + 16 * jd, L::kLdq);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(os + r0 * L::kLdo + 16 * jd, acc, L::kLdo, wmma::mem_row_major);
    }
  }
  __syncthreads();
  for (int e = tid; e < nq * HD; e += kThreads) {
    const int r = e / HD, c = e % HD;
    out[(int64_t(sq.q_first) + qi0 + r) * q_dim + int64_t(h) * HD + c] = os[r * L::kLdo + c] / l_s[r];
  }
}

// ------------------------------------------------------------------ decode (split-K)

template <int HD>
__global__ void __launch_bounds__(kThreads)
    attn_decode_kernel(const AttnShape sh, const AttnSeq* seqs, int32_t max_n_q, int32_t n_split, const float* q,
                       float* work) {
  constexpr int kHalf2 = HD / 2 + 1;  // K row stride in 4-byte words, padded: conflict-free column reads
  __shared__ float qs[kMaxGroup][HD];
  __shared__ uint32_t ks[kTile][kHalf2];
  __shared__ __align__(16) __half vs[kTile][HD];
  __shared__ float ps[kMaxGroup][kTile];
  __shared__ float m_s[kMaxGroup], l_s[kMaxGroup], a_s[kMaxGroup];

  const AttnSeq sq = seqs[blockIdx.x / max_n_q];
  const int qi = int(blockIdx.x % max_n_q);
  if (qi >= sq.n_q) return;
  const int g = int(blockIdx.y), split = int(blockIdx.z);
  const int G = sh.n_head / sh.n_head_kv;
  const int64_t q_dim = int64_t(sh.n_head) * HD, kv_dim = int64_t(sh.n_head_kv) * HD;
  const int64_t row = int64_t(sq.q_first) + qi, pos = int64_t(sq.pos0) + qi;
  int64_t kb, ke;
  hd::split_range(hd::window_start(pos, sh.chunk), pos + 1, n_split, split, kTile, kb, ke);
  const int tid = int(threadIdx.x), warp = tid / 32, lane = tid % 32;

  for (int e = tid; e < G * HD; e += kThreads) {
    const int hh = e / HD, c = e % HD;
    qs[hh][c] = q[row * q_dim + int64_t(g * G + hh) * HD + c];
  }
  if (tid < G) {
    m_s[tid] = hd::kNegInf;
    l_s[tid] = 0.0f;
  }
  float o[kMaxGroup];
#pragma unroll
  for (int hh = 0; hh < kMaxGroup; ++hh) o[hh] = 0.0f;

  constexpr int kVec = HD / 8;
  for (int64_t t0 = kb; t0 < ke; t0 += kTile) {
    const int nk = ke - t0 < kTile ? int(ke - t0) : kTile;
    __syncthreads();
    for (int e = tid; e < kTile * kVec; e += kThreads) {
      const int j = e / kVec, c = (e % kVec) * 8;
      const int64_t off = (t0 + j) * kv_dim + int64_t(g) * HD + c;
      const uint4 kv = load16_or_zero(sq.k + off, j < nk);
      ks[j][c / 2 + 0] = kv.x;
      ks[j][c / 2 + 1] = kv.y;
      ks[j][c / 2 + 2] = kv.z;
      ks[j][c / 2 + 3] = kv.w;
      *reinterpret_cast<uint4*>(&vs[j][c]) = load16_or_zero(sq.v + off, j < nk);
    }
    __syncthreads();
    for (int e = tid; e < G * kTile; e += kThreads) {
      const int hh = e / kTile, j = e % kTile;
      float s = hd::kNegInf;
      if (j < nk) {
        float acc = 0.0f;
#pragma unroll 8
        for (int c2 = 0; c2 < HD / 2; ++c2) {
          const float2 kf = __half22float2(*reinterpret_cast<const __half2*>(&ks[j][c2]));
          acc += qs[hh][2 * c2] * kf.x + qs[hh][2 * c2 + 1] * kf.y;
        }
        s = acc * sh.scale;
      }
      ps[hh][j] = s;
    }
    __syncthreads();
    for (int hh = warp; hh < G; hh += kThreads / 32) {
      const float m_old = m_s[hh];
      const float s0 = ps[hh][lane], s1 = ps[hh][lane + 32];
      const float m_new = fmaxf(m_old, detail::warp_max(fmaxf(s0, s1)));
      const float alpha = hd::softmax_rescale(m_old, m_new);
      const float p0 = hd::softmax_prob(s0, m_new), p1 = hd::softmax_prob(s1, m_new);
      ps[hh][lane] = p0;
      ps[hh][lane + 32] = p1;
      const float sum = detail::warp_sum(p0 + p1);
      if (lane == 0) {
        m_s[hh] = m_new;
        l_s[hh] = l_s[hh] * alpha + sum;
        a_s[hh] = alpha;
      }
    }
    __syncthreads();
    if (tid < HD) {
#pragma unroll
      for (int hh = 0; hh < kMaxGroup; ++hh) {
        if (hh >= G) break;
        float acc = o[hh] * a_s[hh];
        for (int j = 0; j < nk; ++j) acc += ps[hh][j] * __half2float(vs[j][tid]);
        o[hh] = acc;
      }
    }
  }
  __syncthreads();
  if (tid < HD) {
#pragma unroll
    for (int hh = 0; hh < kMaxGroup; ++hh) {
      if (hh >= G) break;
      float* part = work + ((row * sh.n_head + g * G + hh) * n_split + split) * (HD + 2);
      part[tid] = o[hh];
      if (tid == 0) {
        part[HD] = m_s[hh];
        part[HD + 1] = l_s[hh];
      }
    }
  }
}

// out = sum_s c_s o_s / sum_s c_s l_s with c_s = e^(m_s - max m): hd::softmax_merge, in split order.
template <int HD>
__global__ void attn_decode_merge_kernel(const AttnShape sh, const AttnSeq* seqs, int32_t max_n_q, int32_t n_split,
                                         const float* work, float* out) {
  const AttnSeq sq = seqs[blockIdx.x / max_n_q];
  const int qi = int(blockIdx.x % max_n_q);
  if (qi >= sq.n_q) return;
  const int h = int(blockIdx.y), c = int(threadIdx.x);
  const int64_t row = int64_t(sq.q_first) + qi;
  hd::SoftmaxState st;
  float acc = 0.0f;
  for (int s = 0; s < n_split; ++s) {
    const float* part = work + ((row * sh.n_head + h) * n_split + s) * (HD + 2);
    hd::SoftmaxState b;
    b.m = part[HD];
    b.l = part[HD + 1];
    float ca, cb;
    hd::softmax_merge(st, b, st, ca, cb);
    acc = acc * ca + part[c] * cb;
  }
  out[row * int64_t(sh.n_head) * HD + int64_t(h) * HD + c] = acc / st.l;
}

void check_shape(const AttnShape& sh, int32_t n_seqs, int32_t max_n_q, const char* what) {
  if (sh.head_dim != 64 && sh.head_dim != 128) throw Error(std::string(what) + ": head_dim must be 64 or 128");
  if (sh.n_head <= 0 || sh.n_head_kv <= 0 || sh.n_head % sh.n_head_kv != 0)
    throw Error(std::string(what) + ": n_head must be a positive multiple of n_head_kv");
  if (sh.chunk < 0) throw Error(std::string(what) + ": negative chunk");
  if (n_seqs < 0 || max_n_q < 0) throw Error(std::string(what) + ": negative batch");
  if (int64_t(n_seqs) * max_n_q > 0x7fffffff) throw Error(std::string(what) + ": batch too large");
}

}  // namespace

void attention_prefill(const AttnShape& sh, const AttnSeq* d_seqs, int32_t n_seqs, int32_t max_n_q, const float* d_q,
                       float* d_out, void* stream) {
  check_shape(sh, n_seqs, max_n_q, "attention_prefill");
  if (n_seqs == 0 || max_n_q == 0) return;
  const int32_t tiles = (max_n_q + kTile - 1) / kTile;
  const dim3 grid(unsigned(int64_t(n_seqs) * tiles), unsigned(sh.n_head));
  const cudaStream_t s = as_stream(stream);
  if (sh.head_dim == 128) {
    constexpr int bytes = PrefillLayout<128>::kBytes;
    detail::check(cudaFuncSetAttribute(attn_prefill_kernel<128>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes),
                  "attention_prefill: shared memory");
    attn_prefill_kernel<128><<<grid, kThreads, bytes, s>>>(sh, d_seqs, tiles, d_q, d_out);
  } else {
    constexpr int bytes = PrefillLayout<64>::kBytes;
    detail::check(cudaFuncSetAttribute(attn_prefill_kernel<64>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes),
                  "attention_prefill: shared memory");
    attn_prefill_kernel<64><<<grid, kThreads, bytes, s>>>(sh, d_seqs, tiles, d_q, d_out);
  }
  check_launch("attention_prefill");
}

int32_t attention_decode_splits(int64_t max_kv) {
  return int32_t(std::clamp<int64_t>((max_kv + 255) / 256, 1, 32));
}

int64_t attention_decode_workspace_floats(const AttnShape& sh, int64_t n_tokens, int32_t n_split) {
  return n_tokens * sh.n_head * n_split * (int64_t(sh.head_dim) + 2);
}

void attention_decode(const AttnShape& sh, const AttnSeq* d_seqs, int32_t n_seqs, int32_t max_n_q, int32_t n_split,
                      const float* d_q, float* d_work, float* d_out, void* stream) {
  check_shape(sh, n_seqs, max_n_q, "attention_decode");
  if (sh.n_head / sh.n_head_kv > kMaxGroup) throw Error("attention_decode: more than 8 query heads per KV head");
  if (n_split < 1 || n_split > 65535) throw Error("attention_decode: n_split out of range");
  if (n_seqs == 0 || max_n_q == 0) return;
  const unsigned rows = unsigned(int64_t(n_seqs) * max_n_q);
  const cudaStream_t s = as_stream(stream);
  const dim3 grid(rows, unsigned(sh.n_head_kv), unsigned(n_split));
  if (sh.head_dim == 128) {
    attn_decode_kernel<128><<<grid, kThreads, 0, s>>>(sh, d_seqs, max_n_q, n_split, d_q, d_work);
    check_launch("attention_decode");
    attn_decode_merge_kernel<128><<<dim3(rows, unsigned(sh.n_head)), 128, 0, s>>>(sh, d_seqs, max_n_q, n_split, d_work,
                                                                                 d_out);
  } else {
    attn_decode_kernel<64><<<grid, kThreads, 0, s>>>(sh, d_seqs, max_n_q, n_split, d_q, d_work);
    check_launch("attention_decode");
    attn_decode_merge_kernel<64><<<dim3(rows, unsigned(sh.n_head)), 64, 0, s>>>(sh, d_seqs, max_n_q, n_split, d_work,
                                                                               d_out);
  }
  check_launch("attention_decode merge");
}

}  // namespace scout::cuda

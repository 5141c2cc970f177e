#pragma once
// The per-element math of the CUDA kernels, written once for host and device.
//
// Every function here is `SCOUT_HD`: __host__ __device__ under nvcc, plain `inline` under g++.
// The kernels in engine/kernels/cuda/*.cu call these functions, and the CPU test
// tests/engine/cuda_shared_math_test.cpp (built in every configuration, CUDA or not) runs the
// very same source on the host against the CPU references (engine/quant/dequantize.h,
// engine/model/layers.h, engine/model/arch.h): block decoders exhaustively where the input
// space allows, RoPE angles, masks, online-softmax updates, routing and the MoE row layout.
// That is what CI proves without a GPU; the device kernels themselves run only on a lent GPU.
//
// Rounding: device code contracts a * b + c into one FMA unless told otherwise, while the CPU
// references round every product (see engine/quant/dequantize.cpp). fmul/fadd/fsub below use
// the _rn intrinsics on the device, which are never contracted, so a decoder gives the same
// bits on both sides. Only the transcendental functions (expf, sinf, cosf, log) differ, by
// the libraries' few-ulp error bounds; tests on the GPU compare those with tolerances.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/quant/types.h"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#define SCOUT_HD __host__ __device__ __forceinline__
#define SCOUT_UNROLL _Pragma("unroll")
#else
#define SCOUT_HD inline
#define SCOUT_UNROLL
#endif

namespace scout::cuda::hd {

inline constexpr float kNegInf = -INFINITY;

// ------------------------------------------------------------------ bits and rounding

SCOUT_HD float as_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

SCOUT_HD uint32_t as_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}

// Products and sums rounded one at a time (never fused), as the CPU references compute them.
SCOUT_HD float fmul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
SCOUT_HD float fadd(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
SCOUT_HD float fsub(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
SCOUT_HD float fdiv(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
SCOUT_HD float fsqrt(float a) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}
SCOUT_HD float fexp(float a) {
#if defined(__CUDA_ARCH__)
  return expf(a);
#else
  return std::exp(a);
#endif
}

// ------------------------------------------------------------------ half and bfloat16

// IEEE half bits -> float by bit manipulation, exactly as scout::fp16_to_fp32 (NaN payload
// kept, quiet bit set). The host always uses it; the device uses the conversion instruction,
// which is exact too (the GPU tests check every one of the 65536 inputs).
SCOUT_HD float f16_bits_to_f32_portable(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0x1fu) return as_float(sign | 0x7f800000u | (mant << 13) | (mant ? 0x00400000u : 0u));
  if (exp == 0) {
    if (mant == 0) return as_float(sign);
    const float v = float(mant) * 5.9604644775390625e-8f;  // mant * 2^-24, exact
    return sign ? -v : v;
  }
  return as_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

SCOUT_HD float f16_to_f32(uint16_t h) {
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(h));
#else
  return f16_bits_to_f32_portable(h);
#endif
}

SCOUT_HD float bf16_to_f32(uint16_t h) { return as_float(uint32_t(h) << 16); }

// float -> half bits, round to nearest even (scout::fp32_to_fp16's algorithm). The device
// uses __float2half_rn, which rounds the same way.
SCOUT_HD uint16_t f32_to_f16_bits_portable(float f) {
  uint32_t x = as_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return uint16_t(sign | 0x7c00u | (x > 0x7f800000u ? 0x200u : 0u));
  if (x >= 0x477ff000u) return uint16_t(sign | 0x7c00u);
  if (x < 0x38800000u) {
    if (x < 0x33000000u) return uint16_t(sign);
    const uint32_t e = x >> 23;
    const uint32_t m = (x & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) ++q;
    return uint16_t(sign | q);
  }
  uint32_t r = x - 0x38000000u;
  const uint32_t rem = r & 0x1fffu;
  r >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
  return uint16_t(sign | r);
}

SCOUT_HD uint16_t f32_to_f16_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __half_as_ushort(__float2half_rn(f));
#else
  return f32_to_f16_bits_portable(f);
#endif
}

// float -> bfloat16 bits, round to nearest even, NaN kept quiet (scout::fp32_to_bf16).
SCOUT_HD uint16_t f32_to_bf16_bits(float f) {
  uint32_t u = as_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 64u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

// ------------------------------------------------------------------ loads

// Little-endian loads from block bytes. Device: one load of the named width, so the pointer
// must be aligned to it (ld64_a2 needs only 2 bytes). Host: memcpy.
SCOUT_HD uint32_t ld8(const uint8_t* p) { return *p; }
SCOUT_HD uint16_t ld16(const uint8_t* p) {
#if defined(__CUDA_ARCH__)
  return *reinterpret_cast<const uint16_t*>(p);
#else
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
#endif
}
SCOUT_HD uint32_t ld32(const uint8_t* p) {
#if defined(__CUDA_ARCH__)
  return *reinterpret_cast<const uint32_t*>(p);
#else
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
#endif
}
SCOUT_HD uint64_t ld64(const uint8_t* p) {
#if defined(__CUDA_ARCH__)
  return *reinterpret_cast<const uint64_t*>(p);
#else
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
#endif
}
// 8 bytes at a 2-byte-aligned address (Q8_0 and Q6_K blocks are 34 and 210 bytes long).
SCOUT_HD uint64_t ld64_a2(const uint8_t* p) {
  return uint64_t(ld16(p)) | (uint64_t(ld16(p + 2)) << 16) | (uint64_t(ld16(p + 4)) << 32) |
         (uint64_t(ld16(p + 6)) << 48);
}
// 16 bytes (16-byte aligned on the device).
struct U128 {
  uint32_t w[4];
};
SCOUT_HD U128 ld128(const uint8_t* p) {
  U128 r;
#if defined(__CUDA_ARCH__)
  const uint4 v = *reinterpret_cast<const uint4*>(p);
  r.w[0] = v.x;
  r.w[1] = v.y;
  r.w[2] = v.z;
  r.w[3] = v.w;
#else
  std::memcpy(r.w, p, 16);
#endif
  return r;
}

// Eight consecutive floats (16-byte aligned on the device).
SCOUT_HD void load_x8_plain(const float* p, float* out) {
#if defined(__CUDA_ARCH__)
  const float4 a = *reinterpret_cast<const float4*>(p), b = *reinterpret_cast<const float4*>(p + 4);
  out[0] = a.x; out[1] = a.y; out[2] = a.z; out[3] = a.w;
  out[4] = b.x; out[5] = b.y; out[6] = b.z; out[7] = b.w;
#else
  std::memcpy(out, p, 8 * sizeof(float));
#endif
}

// ------------------------------------------------------------------ block decoders
//
// Every kernel reads weights in "units": the 8 consecutive elements [8u, 8u + 8) of a row,
// for every type. decode_unit<T>(row, u, out) writes their values, bit-identical to
// quant::dequantize_row (same float operations in the same order, none fused).
//
// Alignment the device loads need (checked by the host wrappers): Q4_K, F16, BF16 and F32
// rows start at 16-byte boundaries; Q8_0 and Q6_K rows at 2-byte ones.

// Byte i (0..11) of a Q4_K/Q5_K scale array held as three little-endian words.
SCOUT_HD uint32_t scale_byte(uint32_t w0, uint32_t w1, uint32_t w2, int i) {
  const uint32_t w = i < 4 ? w0 : (i < 8 ? w1 : w2);
  return (w >> ((i & 3) * 8)) & 0xffu;
}

// The 6-bit scale and min of sub-block j (0..7): quant::unpack_scale_min_k4 on words.
SCOUT_HD void unpack_scale_min_k4(int j, uint32_t w0, uint32_t w1, uint32_t w2, uint32_t& sc, uint32_t& m) {
  if (j < 4) {
    sc = scale_byte(w0, w1, w2, j) & 63u;
    m = scale_byte(w0, w1, w2, j + 4) & 63u;
  } else {
    sc = (scale_byte(w0, w1, w2, j + 4) & 0xfu) | ((scale_byte(w0, w1, w2, j - 4) >> 6) << 4);
    m = (scale_byte(w0, w1, w2, j + 4) >> 4) | ((scale_byte(w0, w1, w2, j) >> 6) << 4);
  }
}

inline constexpr int kUnit = 8;  // elements per unit

// Q8_0: 34-byte blocks of 32; x = qs * d.
SCOUT_HD void decode_unit_q8_0(const uint8_t* row, int64_t u, float* out) {
  const uint8_t* b = row + (u >> 2) * 34;
  const float d = f16_to_f32(ld16(b));
  const uint64_t q = ld64_a2(b + 2 + 8 * (u & 3));
  for (int i = 0; i < 8; ++i) out[i] = fmul(float(int8_t(uint8_t(q >> (8 * i)))), d);
}

// Q4_K: 144-byte blocks of 256 = 4 groups of 64; group g's bytes qs[32g..32g+31] hold
// sub-block 2g in their low nibbles and 2g+1 in their high ones. x = (d*sc)*q - (dmin*m).
SCOUT_HD void decode_unit_q4_k(const uint8_t* row, int64_t u, float* out) {
  const uint8_t* b = row + (u >> 5) * 144;
  const int j0 = int(u & 31) * 8;
  const int g = j0 >> 6, l0 = j0 & 63, hi = l0 >= 32 ? 1 : 0;
  const float d = f16_to_f32(ld16(b)), dmin = f16_to_f32(ld16(b + 2));
  uint32_t sc, m;
  unpack_scale_min_k4(2 * g + hi, ld32(b + 4), ld32(b + 8), ld32(b + 12), sc, m);
  const float d1 = fmul(d, float(sc)), m1 = fmul(dmin, float(m));
  const uint64_t q = ld64(b + 16 + 32 * g + (l0 & 31));
  for (int i = 0; i < 8; ++i) {
    const uint32_t nib = uint32_t(q >> (8 * i + 4 * hi)) & 0xfu;
    out[i] = fsub(fmul(d1, float(nib)), m1);
  }
}

// Q6_K: 210-byte blocks of 256 = 2 halves of 128. Element l + 32k of a half (l < 32, k < 4)
// has its low nibble in ql[64h + l + 32(k&1)] (low nibble for k < 2, high for k >= 2), its top
// two bits in bits 2k..2k+1 of qh[32h + l], and scale scales[8h + l/16 + 2k]. x = (d*sc)*(q-32).
SCOUT_HD void decode_unit_q6_k(const uint8_t* row, int64_t u, float* out) {
  const uint8_t* b = row + (u >> 5) * 210;
  const int j0 = int(u & 31) * 8;
  const int half = j0 >> 7, l = j0 & 127, k = l >> 5, lo = l & 31;
  const uint64_t ql = ld64_a2(b + 64 * half + lo + 32 * (k & 1));
  const uint64_t qh = ld64_a2(b + 128 + 32 * half + lo);
  const int sc = int(int8_t(uint8_t(ld8(b + 192 + 8 * half + (lo >> 4) + 2 * k))));
  const float dsc = fmul(f16_to_f32(ld16(b + 208)), float(sc));
  const int shift = k >= 2 ? 4 : 0;
  for (int i = 0; i < 8; ++i) {
    const int low = int(uint32_t(ql >> (8 * i + shift)) & 0xfu);
    const int high = int(uint32_t(qh >> (8 * i + 2 * k)) & 3u);
    out[i] = fmul(dsc, float((low | (high << 4)) - 32));
  }
}

SCOUT_HD void decode_unit_f16(const uint8_t* row, int64_t u, float* out) {
  const U128 v = ld128(row + 16 * u);
  for (int i = 0; i < 4; ++i) {
    out[2 * i] = f16_to_f32(uint16_t(v.w[i] & 0xffffu));
    out[2 * i + 1] = f16_to_f32(uint16_t(v.w[i] >> 16));
  }
}

SCOUT_HD void decode_unit_bf16(const uint8_t* row, int64_t u, float* out) {
  const U128 v = ld128(row + 16 * u);
  for (int i = 0; i < 4; ++i) {
    out[2 * i] = as_float(v.w[i] << 16);
    out[2 * i + 1] = as_float(v.w[i] & 0xffff0000u);
  }
}

SCOUT_HD void decode_unit_f32(const uint8_t* row, int64_t u, float* out) {
  const U128 a = ld128(row + 32 * u), b = ld128(row + 32 * u + 16);
  for (int i = 0; i < 4; ++i) {
    out[i] = as_float(a.w[i]);
    out[4 + i] = as_float(b.w[i]);
  }
}

// The types the matmul kernels read.
constexpr bool unit_decodable(quant::GgmlType t) {
  using T = quant::GgmlType;
  return t == T::F32 || t == T::F16 || t == T::BF16 || t == T::Q8_0 || t == T::Q4_K || t == T::Q6_K;
}

template <quant::GgmlType T>
SCOUT_HD void decode_unit(const uint8_t* row, int64_t u, float* out) {
  using G = quant::GgmlType;
  if constexpr (T == G::Q8_0) decode_unit_q8_0(row, u, out);
  else if constexpr (T == G::Q4_K) decode_unit_q4_k(row, u, out);
  else if constexpr (T == G::Q6_K) decode_unit_q6_k(row, u, out);
  else if constexpr (T == G::F16) decode_unit_f16(row, u, out);
  else if constexpr (T == G::BF16) decode_unit_bf16(row, u, out);
  else if constexpr (T == G::F32) decode_unit_f32(row, u, out);
  else static_assert(T == G::F32, "decode_unit: type not supported");
}

// ------------------------------------------------------------------ norms, activations

// RMSNorm's 1 / sqrt(mean(x^2) + eps) from the double sum of squares, as model::rms_norm.
SCOUT_HD float rms_inv_scale(double sum_sq, int64_t n, float eps) {
  const float mean = float(sum_sq / double(n));
  return fdiv(1.0f, fsqrt(fadd(mean, eps)));
}

// silu(g) * u = g / (1 + e^-g) * u (model::swiglu); sigmoid(x) (the llama4 routing weight).
SCOUT_HD float silu_mul(float g, float u) { return fmul(fdiv(g, fadd(1.0f, fexp(-g))), u); }
SCOUT_HD float sigmoid(float x) { return fdiv(1.0f, fadd(1.0f, fexp(-x))); }

// ------------------------------------------------------------------ RoPE

// theta_i = pos * theta_scale^i built by repeated float multiplication (model::Rope), so the
// angles round as llama.cpp's do; theta_scale = base^(-2/n_rot) is computed on the host.
SCOUT_HD float rope_theta(int64_t pos, int i, float theta_scale) {
  float theta = float(pos);
  for (int j = 0; j < i; ++j) theta = fmul(theta, theta_scale);
  return theta;
}

// The angle of pair i: freq_scale * (theta_i / factor_i) (factor 1 without rope_freqs).
SCOUT_HD float rope_angle(int64_t pos, int i, float theta_scale, float freq_scale, float factor) {
  return fmul(freq_scale, fdiv(rope_theta(pos, i, theta_scale), factor));
}

// Rotation of the adjacent pair (x0, x1) by the angle with cosine c and sine s.
SCOUT_HD void rope_rotate(float x0, float x1, float c, float s, float& y0, float& y1) {
  y0 = fsub(fmul(x0, c), fmul(x1, s));
  y1 = fadd(fmul(x0, s), fmul(x1, c));
}

// llama4's NoPE-layer query scale: log(floor((pos + 1) / floor_scale) + 1) * scale + 1.
SCOUT_HD float attn_temperature(int64_t pos, int64_t floor_scale, float scale) {
  return float(log(floor(double(pos + 1) / double(floor_scale)) + 1.0) * double(scale) + 1.0);
}

// ------------------------------------------------------------------ attention masks, softmax

// First key a query at `pos` sees: the start of its chunk (chunked layers) or 0 (global).
SCOUT_HD int64_t window_start(int64_t pos, int64_t chunk) { return chunk > 0 ? pos / chunk * chunk : 0; }

// Llama 4's mask: key q is visible from query p when q <= p and, on chunked layers,
// floor(q / chunk) == floor(p / chunk).
SCOUT_HD bool key_visible(int64_t q_pos, int64_t k_pos, int64_t chunk) {
  return k_pos <= q_pos && k_pos >= window_start(q_pos, chunk);
}

// Online softmax. A row's state is its running max m and sum l of e^(s - m); a new block of
// scores with max m_blk moves the max to m_new = max(m, m_blk), and the old sum and output
// are multiplied by softmax_rescale(m, m_new). Masked scores are -inf and contribute 0; a row
// that has seen only masked scores keeps m = -inf, l = 0 (no NaN from -inf - -inf).
SCOUT_HD float softmax_rescale(float m_old, float m_new) {
  return m_new == kNegInf ? 1.0f : fexp(m_old - m_new);
}
SCOUT_HD float softmax_prob(float s, float m) { return s == kNegInf ? 0.0f : fexp(s - m); }

struct SoftmaxState {
  float m = kNegInf;
  float l = 0.0f;
};

// Folds n scores s[0..n) into the state; writes their probabilities relative to the new max
// into p and returns the factor the previous output must be multiplied by.
SCOUT_HD float softmax_update(SoftmaxState& st, const float* s, int n, float* p) {
  float m_blk = kNegInf;
  for (int j = 0; j < n; ++j) m_blk = s[j] > m_blk ? s[j] : m_blk;
  const float m_new = st.m > m_blk ? st.m : m_blk;
  const float alpha = softmax_rescale(st.m, m_new);
  float sum = 0.0f;
  for (int j = 0; j < n; ++j) {
    p[j] = softmax_prob(s[j], m_new);
    sum += p[j];
  }
  st.l = st.l * alpha + sum;
  st.m = m_new;
  return alpha;
}

// Merging two partial results (split-K decode): the factors each side's sum and output are
// multiplied by. Either side may be empty (m = -inf, l = 0).
SCOUT_HD void softmax_merge(SoftmaxState a, SoftmaxState b, SoftmaxState& out, float& ca, float& cb) {
  const float m = a.m > b.m ? a.m : b.m;
  ca = softmax_rescale(a.m, m);
  cb = softmax_rescale(b.m, m);
  out.m = m;
  out.l = a.l * ca + b.l * cb;
}

// Split-K decode: the keys [kbeg, kend) of one query are cut into n_split ranges of a whole
// number of `tile` keys each; split s gets [b, e) (empty, b == e, when the range is short).
SCOUT_HD void split_range(int64_t kbeg, int64_t kend, int n_split, int s, int64_t tile, int64_t& b, int64_t& e) {
  const int64_t len = kend > kbeg ? kend - kbeg : 0;
  int64_t per = (len + n_split - 1) / n_split;
  per = (per + tile - 1) / tile * tile;
  b = kbeg + per * s;
  e = b + per < kend ? b + per : kend;
  if (b > e) b = e;
}

// ------------------------------------------------------------------ MoE routing

inline constexpr int kMaxTopK = 8;

// The k (<= kMaxTopK) largest logits, in descending order, ties to the lower index:
// model::top_k_experts. Insertion into a sorted list while scanning indices upwards keeps an
// equal later logit behind the earlier one.
SCOUT_HD void top_k(const float* logits, int n, int k, int* idx) {
  float val[kMaxTopK];
  int have = 0;
  for (int e = 0; e < n; ++e) {
    const float v = logits[e];
    if (have == k && !(v > val[k - 1])) continue;
    int pos = have < k ? have : k - 1;
    while (pos > 0 && v > val[pos - 1]) {
      val[pos] = val[pos - 1];
      idx[pos] = idx[pos - 1];
      --pos;
    }
    val[pos] = v;
    idx[pos] = e;
    if (have < k) ++have;
  }
}

SCOUT_HD int32_t align_up(int32_t x, int32_t a) { return (x + a - 1) / a * a; }

// Row layout of the grouped expert matmuls: expert e owns sorted rows
// [begin[e], begin[e + 1]), its count rounded up to `align` (the GEMM tile height).
SCOUT_HD void moe_offsets(const int32_t* counts, int n_expert, int32_t align, int32_t* begin) {
  begin[0] = 0;
  for (int e = 0; e < n_expert; ++e) begin[e + 1] = begin[e] + align_up(counts[e], align);
}

// Rows the sorted layout may need: every entry plus the worst-case padding.
SCOUT_HD int64_t moe_rows_capacity(int64_t n_entries, int64_t n_expert, int32_t align) {
  return n_entries + n_expert * int64_t(align - 1);
}

// Places expert e's entries (entry = token * k + slot, in entry order, so the layout is
// deterministic) at its rows: the token as the activation row, its routing weight as the
// input scale and token * (k + 1) + slot as the output row (the slot buffer has k + 1 rows
// per token, the last for the shared expert). Padding rows get src = dst = -1, scale 0.
SCOUT_HD void moe_place_expert(int e, const uint8_t* entry_expert, const float* entry_weight, int32_t n_entries,
                               int32_t k, const int32_t* begin, int32_t* row_src, float* row_scale, int32_t* row_dst) {
  int32_t r = begin[e];
  for (int32_t i = 0; i < n_entries; ++i) {
    if (entry_expert[i] != e) continue;
    const int32_t t = i / k, slot = i % k;
    row_src[r] = t;
    row_scale[r] = entry_weight[i];
    row_dst[r] = t * (k + 1) + slot;
    ++r;
  }
  for (; r < begin[e + 1]; ++r) {
    row_src[r] = -1;
    row_scale[r] = 0.0f;
    row_dst[r] = -1;
  }
}

}  // namespace scout::cuda::hd

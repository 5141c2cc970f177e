#include "engine/quant/quantize.h"

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>

#include "engine/quant/blocks.h"
#include "engine/util/error.h"
#include "engine/util/half.h"

// Byte-exact agreement with ggml needs every product rounded on its own, as ggml's reference
// build computes it: no contraction of `a * b + c` into an FMA (GCC does that by default once
// FMA is enabled, e.g. -march=native), or a scale can land an ulp away and flip a level.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace scout::quant {
namespace {

using T = GgmlType;
using QuantFn = void (*)(const float* src, uint8_t* dst, int64_t n_elems);

constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: "all zero" threshold

// ---------------------------------------------------------------- rounding helpers

// ggml's nearest_int: adding 1.5 * 2^23 leaves round(f) (to nearest, ties to even) in the
// low mantissa bits. Valid for |f| <= 2^22 - 1; like ggml's, garbage (but defined) beyond.
inline int nearest_int(float f) {
  const float biased = f + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &biased, sizeof(bits));
  return (bits & 0x007fffff) - 0x00400000;
}

// C's float -> integer conversion (truncation toward zero), which ggml applies through casts
// such as (int8_t)(x + 8.5f). Out-of-range input (only from non-finite data) yields INT_MIN,
// as x86's cvttss2si does, instead of undefined behaviour.
inline int trunc_to_int(float f) {
  if (!(f > -2147483648.f && f < 2147483648.f)) return INT_MIN;
  return static_cast<int>(f);
}

// The element of largest magnitude, with its sign; the first one on ties (ggml's `amax < |v|`).
float signed_absmax(const float* x, int n) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

struct MinMax {
  float min = FLT_MAX;
  float max = -FLT_MAX;
};

MinMax min_max(const float* x, int n) {
  MinMax r;
  for (int j = 0; j < n; ++j) {
    if (x[j] < r.min) r.min = x[j];
    if (x[j] > r.max) r.max = x[j];
  }
  return r;
}

// ---------------------------------------------------------------- block loop

template <class Block>
void store_block(const Block& b, uint8_t* dst, int64_t i) {
  std::memcpy(dst + i * static_cast<int64_t>(sizeof(Block)), &b, sizeof(Block));
}

// Runs a per-block quantizer over a row. Blocks start zeroed so every byte is defined.
template <class Block, void (*QuantBlock)(const float*, Block&)>
void quant_blocks(const float* src, uint8_t* dst, int64_t n_elems) {
  const int64_t n_blocks = n_elems / Block::kElems;
  for (int64_t i = 0; i < n_blocks; ++i) {
    Block b{};
    QuantBlock(src + i * Block::kElems, b);
    store_block(b, dst, i);
  }
}

// ---------------------------------------------------------------- plain float types

void quant_f32(const float* src, uint8_t* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void quant_f16(const float* src, uint8_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = fp32_to_fp16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

void quant_bf16(const float* src, uint8_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = fp32_to_bf16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

// ---------------------------------------------------------------- 32-element blocks

// ggml's `MIN(top, (int8_t)(v))`: truncate, wrap to int8 as the cast does, cap at `top`.
inline uint8_t capped_int8_level(float v, int top) {
  return static_cast<uint8_t>(
      std::min(top, static_cast<int>(static_cast<int8_t>(trunc_to_int(v)))));
}

// Symmetric 4-bit: the largest-magnitude element maps to level 0 (-8 after the offset).
void quant_q4_0(const float* x, BlockQ4_0& y) {
  const float max = signed_absmax(x, kQK4_0);
  const float d = max / -8;
  const float id = d ? 1.0f / d : 0.0f;
  y.d = fp32_to_fp16(d);
  constexpr int kHalf = kQK4_0 / 2;
  for (int j = 0; j < kHalf; ++j) {
    const uint8_t xi0 = capped_int8_level(x[j] * id + 8.5f, 15);
    const uint8_t xi1 = capped_int8_level(x[j + kHalf] * id + 8.5f, 15);
    y.qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
  }
}

void quant_q4_1(const float* x, BlockQ4_1& y) {
  const MinMax mm = min_max(x, kQK4_1);
  const float d = (mm.max - mm.min) / ((1 << 4) - 1);
  const float id = d ? 1.0f / d : 0.0f;
  y.d = fp32_to_fp16(d);
  y.m = fp32_to_fp16(mm.min);
  constexpr int kHalf = kQK4_1 / 2;
  for (int j = 0; j < kHalf; ++j) {
    const uint8_t xi0 = capped_int8_level((x[j] - mm.min) * id + 0.5f, 15);
    const uint8_t xi1 = capped_int8_level((x[j + kHalf] - mm.min) * id + 0.5f, 15);
    y.qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
  }
}

// Splits 32 five-bit levels into nibbles (element j low, j+16 high) and the 32-bit qh mask.
void pack_q5(const uint8_t* levels, uint8_t* qs, uint8_t* qh_bytes) {
  constexpr int kHalf = 16;
  uint32_t qh = 0;
  for (int j = 0; j < kHalf; ++j) {
    const uint8_t xi0 = levels[j];
    const uint8_t xi1 = levels[j + kHalf];
    qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
    qh |= ((xi0 & 0x10u) >> 4) << j;
    qh |= ((xi1 & 0x10u) >> 4) << (j + kHalf);
  }
  std::memcpy(qh_bytes, &qh, sizeof(qh));
}

void quant_q5_0(const float* x, BlockQ5_0& y) {
  const float max = signed_absmax(x, kQK5_0);
  const float d = max / -16;
  const float id = d ? 1.0f / d : 0.0f;
  y.d = fp32_to_fp16(d);
  uint8_t levels[kQK5_0];
  for (int j = 0; j < kQK5_0; ++j) levels[j] = capped_int8_level(x[j] * id + 16.5f, 31);
  pack_q5(levels, y.qs, y.qh);
}

void quant_q5_1(const float* x, BlockQ5_1& y) {
  const MinMax mm = min_max(x, kQK5_1);
  const float d = (mm.max - mm.min) / ((1 << 5) - 1);
  const float id = d ? 1.0f / d : 0.0f;
  y.d = fp32_to_fp16(d);
  y.m = fp32_to_fp16(mm.min);
  uint8_t levels[kQK5_1];
  // ggml casts straight to uint8_t here (no cap): the top level is 31 for finite input.
  for (int j = 0; j < kQK5_1; ++j)
    levels[j] = static_cast<uint8_t>(trunc_to_int((x[j] - mm.min) * id + 0.5f));
  pack_q5(levels, y.qs, y.qh);
}

// Q8_0's and Q8_1's scale: amax / 127, ggml's MAX() fold over |x|.
float q8_scale(const float* x, int n) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;
  }
  return amax / ((1 << 7) - 1);
}

// roundf (half away from zero), then C's conversion to int8_t.
inline int8_t round_to_int8(float v) { return static_cast<int8_t>(trunc_to_int(std::round(v))); }

void quant_q8_0(const float* x, BlockQ8_0& y) {
  const float d = q8_scale(x, kQK8_0);
  const float id = d ? 1.0f / d : 0.0f;
  y.d = fp32_to_fp16(d);
  for (int j = 0; j < kQK8_0; ++j) y.qs[j] = round_to_int8(x[j] * id);
}

void quant_q8_1(const float* x, BlockQ8_1& y) {
  const float d = q8_scale(x, kQK8_1);
  const float id = d ? 1.0f / d : 0.0f;
  y.d = fp32_to_fp16(d);
  int sum = 0;
  for (int j = 0; j < kQK8_1; ++j) {
    y.qs[j] = round_to_int8(x[j] * id);
    sum += y.qs[j];
  }
  y.s = fp32_to_fp16(sum * d);
}

// ---------------------------------------------------------------- Q8_K

void quant_q8_k(const float* x, BlockQ8_K& y) {
  const float max = signed_absmax(x, kQK_K);
  if (max == 0.0f) return;  // ggml zeroes d and qs (and leaves bsums unset; ours stay 0)
  // ggml uses -127 (not -128) so that the largest element maps to exactly -127.
  const float iscale = -127.f / max;
  for (int j = 0; j < kQK_K; ++j)
    y.qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
  for (int j = 0; j < kQK_K / 16; ++j) {
    int sum = 0;
    for (int i = 0; i < 16; ++i) sum += y.qs[16 * j + i];
    y.bsums[j] = static_cast<int16_t>(sum);
  }
  y.d = 1 / iscale;
}

// ---------------------------------------------------------------- Q4_K / Q5_K

// The knobs of ggml's make_qkx2_quants search (use_mad = false for Q4_K and Q5_K).
struct QkxSearch {
  int nmax;      // top level
  float rmin;    // first scale tweak
  float rdelta;  // tweak step
  int nstep;     // tweaks tried: nstep + 1
};

// L[i] = clamp(nearest_int(iscale * (x[i] - min)), 0, nmax).
void affine_levels(const float* x, int n, float iscale, float min, int nmax, uint8_t* L) {
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
  }
}

// sum w * (scale * L + min - x)^2, in ggml's operation order.
float weighted_sq_error(const float* x, const float* w, const uint8_t* L, int n, float scale,
                        float min) {
  float err = 0;
  for (int i = 0; i < n; ++i) {
    float diff = scale * L[i] + min - x[i];
    diff = diff * diff;
    err += w[i] * diff;
  }
  return err;
}

struct LevelSums {
  float l = 0, l2 = 0, xl = 0;  // sum w*l, sum w*l*l, sum w*l*x
};

LevelSums level_sums(const float* x, const float* w, const uint8_t* L, int n) {
  LevelSums s;
  for (int i = 0; i < n; ++i) {
    const int l = L[i];
    s.l += w[i] * l;
    s.l2 += w[i] * l * l;
    s.xl += w[i] * l * x[i];
  }
  return s;
}

// ggml's make_qkx2_quants: fits x ~ scale * L - the_min with L in 0..nmax, the_min >= 0.
// Starts from the min/max grid, then tries nstep+1 grids (rmin + rdelta*is + nmax) / range,
// each followed by a weighted least-squares refit of scale and min; keeps the lowest weighted
// squared error. As in ggml, `min` is updated by an accepted refit and later grids use it.
// n <= 32 (K-quant sub-blocks).
float make_qkx2_quants(int n, const float* x, const float* w, const QkxSearch& p, uint8_t* L,
                       float& the_min) {
  float min = x[0], max = x[0];
  float sum_w = w[0], sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(L, L + n, uint8_t{0});
    the_min = -min;
    return 0.f;
  }
  float iscale = p.nmax / (max - min);
  float scale = 1 / iscale;
  affine_levels(x, n, iscale, min, p.nmax, L);
  float best_error = weighted_sq_error(x, w, L, n, scale, min);
  uint8_t Laux[32];
  for (int is = 0; is <= p.nstep; ++is) {
    iscale = (p.rmin + p.rdelta * is + p.nmax) / (max - min);
    affine_levels(x, n, iscale, min, p.nmax, Laux);
    const LevelSums s = level_sums(x, w, Laux, n);
    const float D = sum_w * s.l2 - s.l * s.l;
    if (!(D > 0)) continue;
    float this_scale = (sum_w * s.xl - sum_x * s.l) / D;
    float this_min = (s.l2 * sum_x - s.l * s.xl) / D;
    if (this_min > 0) {
      this_min = 0;
      this_scale = s.xl / s.l2;
    }
    const float cur_error = weighted_sq_error(x, w, Laux, n, this_scale, this_min);
    if (cur_error < best_error) {
      std::copy(Laux, Laux + n, L);
      best_error = cur_error;
      scale = this_scale;
      min = this_min;
    }
  }
  the_min = -min;
  return scale;
}

// Weights of the Q4_K/Q5_K sub-block fit: the sub-block's RMS plus |x|.
void k4_weights(const float* x, float* w) {
  float sum_x2 = 0;
  for (int l = 0; l < 32; ++l) sum_x2 += x[l] * x[l];
  const float av_x = std::sqrt(sum_x2 / 32);
  for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(x[l]);
}

// 6-bit sub-block scales and mins relative to the largest of each, packed as
// unpack_scale_min_k4 reads them. The uint8_t truncation of nearest_int is ggml's.
void pack_scales_k4(const float* scales, const float* mins, float max_scale, float max_min,
                    uint8_t* out) {
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < 8; ++j) {
    const uint8_t ls =
        std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
    if (j < 4) {
      out[j] = ls;
      out[j + 4] = lm;
    } else {
      out[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      out[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      out[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
}

// Recomputes each element's level against the stored (rounded) scales. Sub-blocks whose
// effective scale is 0 keep the levels of the fit, as in ggml.
void requantize_k4(const float* x, const uint8_t* packed, uint16_t d16, uint16_t dmin16, int nmax,
                   uint8_t* L) {
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    unpack_scale_min_k4(j, packed, sc, m);
    const float d = fp16_to_fp32(d16) * sc;
    if (!d) continue;
    const float dm = fp16_to_fp32(dmin16) * m;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

// The common part of Q4_K and Q5_K: fit 8 sub-blocks, store d, dmin and packed scales,
// and leave every element's final level (0..nmax) in L.
void fit_k4_superblock(const float* x, const QkxSearch& p, uint8_t* L, uint8_t* packed, uint16_t& d,
                       uint16_t& dmin) {
  float scales[8], mins[8];
  float max_scale = 0, max_min = 0;  // scales and mins are >= 0 by construction
  for (int j = 0; j < 8; ++j) {
    float w[32];
    k4_weights(x + 32 * j, w);
    scales[j] = make_qkx2_quants(32, x + 32 * j, w, p, L + 32 * j, mins[j]);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  pack_scales_k4(scales, mins, max_scale, max_min, packed);
  d = fp32_to_fp16(max_scale / 63.f);
  dmin = fp32_to_fp16(max_min / 63.f);
  requantize_k4(x, packed, d, dmin, p.nmax, L);
}

void quant_q4_k(const float* x, BlockQ4_K& y) {
  uint8_t L[kQK_K];
  fit_k4_superblock(x, QkxSearch{15, -1.f, 0.1f, 20}, L, y.scales, y.d, y.dmin);
  for (int g = 0; g < kQK_K / 64; ++g)
    for (int l = 0; l < 32; ++l)
      y.qs[32 * g + l] = static_cast<uint8_t>(L[64 * g + l] | (L[64 * g + l + 32] << 4));
}

void quant_q5_k(const float* x, BlockQ5_K& y) {
  uint8_t L[kQK_K];
  fit_k4_superblock(x, QkxSearch{31, -0.5f, 0.1f, 15}, L, y.scales, y.d, y.dmin);
  for (int g = 0; g < kQK_K / 64; ++g) {
    const uint8_t m1 = static_cast<uint8_t>(1u << (2 * g));
    const uint8_t m2 = static_cast<uint8_t>(1u << (2 * g + 1));
    for (int j = 0; j < 32; ++j) {
      int l1 = L[64 * g + j];
      int l2 = L[64 * g + j + 32];
      if (l1 > 15) {
        l1 -= 16;
        y.qh[j] |= m1;
      }
      if (l2 > 15) {
        l2 -= 16;
        y.qh[j] |= m2;
      }
      y.qs[32 * g + j] = static_cast<uint8_t>(l1 | (l2 << 4));
    }
  }
}

// ---------------------------------------------------------------- Q6_K

// Symmetric level of x at iscale, clamped to -nmax..nmax-1.
inline int symmetric_level(float iscale, float x, int nmax) {
  return std::max(-nmax, std::min(nmax - 1, nearest_int(iscale * x)));
}

struct QxSums {
  float lx = 0, l2 = 0;  // sum w*x*l, sum w*l*l
};

// The sums of make_qx_quants with rmse_type 1 (weights w = x^2, no importance matrix).
QxSums qx_sums(const float* x, int n, float iscale, int nmax) {
  QxSums s;
  for (int i = 0; i < n; ++i) {
    const int l = symmetric_level(iscale, x[i], nmax);
    const float w = x[i] * x[i];
    s.lx += w * x[i] * l;
    s.l2 += w * l * l;
  }
  return s;
}

void qx_levels(const float* x, int n, float iscale, int nmax, int8_t* L) {
  for (int i = 0; i < n; ++i)
    L[i] = static_cast<int8_t>(symmetric_level(iscale, x[i], nmax) + nmax);
}

// ggml's make_qx_quants(n, nmax, x, L, rmse_type = 1, qw = NULL): levels l + nmax in
// 0..2*nmax-1 around the grid -nmax/max, then 18 grids -(nmax + 0.1*is)/max, keeping the one
// that maximises (sum w*x*l)^2 / sum w*l*l. Returns the least-squares scale.
float make_qx_quants(int n, int nmax, const float* x, int8_t* L) {
  const float max = signed_absmax(x, n);
  if (std::fabs(max) < kGroupMaxEps) {
    std::fill(L, L + n, int8_t{0});
    return 0.f;
  }
  float iscale = static_cast<float>(-nmax) / max;
  qx_levels(x, n, iscale, nmax, L);
  QxSums s = qx_sums(x, n, iscale, nmax);
  float scale = s.l2 ? s.lx / s.l2 : 0.0f;
  float best = scale * s.lx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    s = qx_sums(x, n, iscale, nmax);
    if (s.l2 > 0 && s.lx * s.lx > best * s.l2) {
      qx_levels(x, n, iscale, nmax, L);
      scale = s.lx / s.l2;
      best = scale * s.lx;
    }
  }
  return scale;
}

// Packs 256 six-bit levels: per 128-element half, low nibbles of elements l and l+64 share
// ql[l], of l+32 and l+96 share ql[l+32]; their top two bits fill qh[l] from bit 0 up.
void pack_q6(const int8_t* L, BlockQ6_K& y) {
  for (int half = 0; half < 2; ++half) {
    const int8_t* Lh = L + 128 * half;
    uint8_t* ql = y.ql + 64 * half;
    uint8_t* qh = y.qh + 32 * half;
    for (int l = 0; l < 32; ++l) {
      ql[l] = static_cast<uint8_t>((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                   ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
    }
  }
}

void quant_q6_k(const float* x, BlockQ6_K& y) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  float max_scale = 0, max_abs_scale = 0;
  for (int ib = 0; ib < kQK_K / 16; ++ib) {
    scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
    if (std::fabs(scales[ib]) > max_abs_scale) {
      max_abs_scale = std::fabs(scales[ib]);
      max_scale = scales[ib];
    }
  }
  if (max_abs_scale < kGroupMaxEps) return;  // all-zero block (y starts zeroed, d = +0)
  const float iscale = -128.f / max_scale;
  y.d = fp32_to_fp16(1 / iscale);
  for (int ib = 0; ib < kQK_K / 16; ++ib)
    y.scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
  for (int j = 0; j < kQK_K / 16; ++j) {
    const float d = fp16_to_fp32(y.d) * y.scales[j];
    if (!d) continue;  // keep make_qx_quants' levels, as ggml does
    for (int ii = 0; ii < 16; ++ii) {
      const int l = std::max(-32, std::min(31, nearest_int(x[16 * j + ii] / d)));
      L[16 * j + ii] = static_cast<int8_t>(l + 32);
    }
  }
  pack_q6(L, y);
}

// ---------------------------------------------------------------- dispatch

struct QuantEntry {
  GgmlType type;
  QuantFn fn;
};

constexpr QuantEntry kQuantizers[] = {
    {T::F32, quant_f32},
    {T::F16, quant_f16},
    {T::BF16, quant_bf16},
    {T::Q4_0, quant_blocks<BlockQ4_0, quant_q4_0>},
    {T::Q4_1, quant_blocks<BlockQ4_1, quant_q4_1>},
    {T::Q5_0, quant_blocks<BlockQ5_0, quant_q5_0>},
    {T::Q5_1, quant_blocks<BlockQ5_1, quant_q5_1>},
    {T::Q8_0, quant_blocks<BlockQ8_0, quant_q8_0>},
    {T::Q8_1, quant_blocks<BlockQ8_1, quant_q8_1>},
    {T::Q4_K, quant_blocks<BlockQ4_K, quant_q4_k>},
    {T::Q5_K, quant_blocks<BlockQ5_K, quant_q5_k>},
    {T::Q6_K, quant_blocks<BlockQ6_K, quant_q6_k>},
    {T::Q8_K, quant_blocks<BlockQ8_K, quant_q8_k>},
};

QuantFn find_quantizer(GgmlType t) {
  for (const auto& e : kQuantizers)
    if (e.type == t) return e.fn;
  return nullptr;
}


}  // namespace

bool can_quantize(GgmlType t) { return find_quantizer(t) != nullptr; }

void quantize_row(GgmlType t, const float* src, void* dst, int64_t n) {
  const QuantFn fn = find_quantizer(t);
  if (!fn) throw Error("quantize_row: no quantizer for " + type_label(t));
  require_whole_blocks(t, n, "quantize_row");
  fn(src, static_cast<uint8_t*>(dst), n);
}

}  // namespace scout::quant

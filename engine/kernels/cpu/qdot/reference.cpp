// The scalar reference dot products: ggml's ggml_vec_dot_*_generic, step for step, for the
// 32-element block types; for the K-quants ggml's integer work with one float step per
// superblock (see KAccumulator).
//
// Integer sums are exact, so only the float part has to be pinned: which products are
// formed (e.g. `sumi * dx * dy` for Q4_0 but `sumi * (dx * dy)` for Q8_0), and the order of
// the additions. The float types follow kernels::cpu::dot instead (8 lanes of FMA, see qdot.h).
#include <cmath>
#include <cstring>

#include "engine/kernels/cpu/qdot/internal.h"
#include "engine/quant/blocks.h"
#include "engine/util/half.h"

// Each product and sum rounds on its own, as in ggml's reference build: no FMA contraction
// (the float types' fused steps are explicit std::fma calls).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace scout::kernels::cpu::qdot::detail {
namespace {

using namespace scout::quant;

// Blocks are copied out: rows in a GGUF file need not be aligned for their half fields.
template <class Block>
Block block_at(const void* row, int64_t i) {
  Block b;
  std::memcpy(&b, static_cast<const uint8_t*>(row) + i * int64_t(sizeof(Block)), sizeof(Block));
  return b;
}

float h2f(uint16_t h) { return fp16_to_fp32(h); }

// Bit 4 of the 5-bit quant of element j (0..31) of a Q5_0/Q5_1 block.
int q5_high(uint32_t qh, int j) { return int((qh >> j) & 1u) << 4; }

float dot_q4_0(const void* w, const void* a, int64_t n) {
  float sumf = 0;
  for (int64_t ib = 0; ib < n / kQK4_0; ++ib) {
    const auto x = block_at<BlockQ4_0>(w, ib);
    const auto y = block_at<BlockQ8_0>(a, ib);
    int sumi = 0;
    for (int j = 0; j < 16; ++j) {
      sumi += ((x.qs[j] & 0x0F) - 8) * y.qs[j];
      sumi += ((x.qs[j] >> 4) - 8) * y.qs[j + 16];
    }
    sumf += sumi * h2f(x.d) * h2f(y.d);
  }
  return sumf;
}

float dot_q4_1(const void* w, const void* a, int64_t n) {
  float sumf = 0;
  for (int64_t ib = 0; ib < n / kQK4_1; ++ib) {
    const auto x = block_at<BlockQ4_1>(w, ib);
    const auto y = block_at<BlockQ8_1>(a, ib);
    int sumi = 0;
    for (int j = 0; j < 16; ++j) sumi += (x.qs[j] & 0x0F) * y.qs[j] + (x.qs[j] >> 4) * y.qs[j + 16];
    sumf += (h2f(x.d) * h2f(y.d)) * sumi + h2f(x.m) * h2f(y.s);
  }
  return sumf;
}

float dot_q5_0(const void* w, const void* a, int64_t n) {
  float sumf = 0;
  for (int64_t ib = 0; ib < n / kQK5_0; ++ib) {
    const auto x = block_at<BlockQ5_0>(w, ib);
    const auto y = block_at<BlockQ8_0>(a, ib);
    uint32_t qh;
    std::memcpy(&qh, x.qh, 4);
    int sumi = 0;
    for (int j = 0; j < 16; ++j) {
      sumi += (((x.qs[j] & 0x0F) | q5_high(qh, j)) - 16) * y.qs[j];
      sumi += (((x.qs[j] >> 4) | q5_high(qh, j + 16)) - 16) * y.qs[j + 16];
    }
    sumf += (h2f(x.d) * h2f(y.d)) * sumi;
  }
  return sumf;
}

float dot_q5_1(const void* w, const void* a, int64_t n) {
  float sumf = 0;
  for (int64_t ib = 0; ib < n / kQK5_1; ++ib) {
    const auto x = block_at<BlockQ5_1>(w, ib);
    const auto y = block_at<BlockQ8_1>(a, ib);
    uint32_t qh;
    std::memcpy(&qh, x.qh, 4);
    int sumi = 0;
    for (int j = 0; j < 16; ++j) {
      sumi += ((x.qs[j] & 0x0F) | q5_high(qh, j)) * y.qs[j];
      sumi += ((x.qs[j] >> 4) | q5_high(qh, j + 16)) * y.qs[j + 16];
    }
    sumf += (h2f(x.d) * h2f(y.d)) * sumi + h2f(x.m) * h2f(y.s);
  }
  return sumf;
}

float dot_q8_0(const void* w, const void* a, int64_t n) {
  float sumf = 0;
  for (int64_t ib = 0; ib < n / kQK8_0; ++ib) {
    const auto x = block_at<BlockQ8_0>(w, ib);
    const auto y = block_at<BlockQ8_0>(a, ib);
    int sumi = 0;
    for (int j = 0; j < 32; ++j) sumi += x.qs[j] * y.qs[j];
    sumf += sumi * (h2f(x.d) * h2f(y.d));
  }
  return sumf;
}

// The K-quants' float steps, one per superblock: its whole integer sum (every sub-block's
// part times its scale, exact in int32) times d, added to one float accumulator; the
// Q4_K/Q5_K min term goes to a second accumulator, as in ggml. ggml's generic C code keeps 8
// lanes (element index % 8) instead, and its x86 SIMD code one vector of partial sums: the
// three differ in the last bits. One sum per superblock is what lets the SIMD kernels add
// the integers in any order (natural byte order for GEMV, tiled for GEMM) and still give
// the same bits as this reference and each other.
struct KAccumulator {
  float sum = 0;   // d-scaled superblock sums
  float sumf = 0;  // minus the dmin-scaled min terms

  float total() const { return sumf + sum; }
};

// sum over the superblock of scale(i) * (q8[i] * v[i]); ggml forms each product in int16
// (aux16), which cannot overflow for |v| <= 64.
template <class ScaleOf>
int32_t k_superblock_sum(const int8_t* v, const int8_t* q8, ScaleOf scale_of) {
  int32_t total = 0;
  for (int i = 0; i < kQK_K; ++i) total += scale_of(i) * int16_t(q8[i] * v[i]);
  return total;
}

// Q4_K and Q5_K share everything but the fifth bit.
template <class Block, bool kFifthBit>
float dot_q45_k(const void* w, const void* a, int64_t n) {
  KAccumulator acc;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto x = block_at<Block>(w, i);
    const auto y = block_at<BlockQ8_K>(a, i);
    int8_t v[kQK_K];
    for (int g = 0; g < 4; ++g)
      for (int l = 0; l < 32; ++l) {
        int lo = x.qs[32 * g + l] & 0xF, hi = x.qs[32 * g + l] >> 4;
        if constexpr (kFifthBit) {
          lo += (x.qh[l] >> (2 * g)) & 1 ? 16 : 0;
          hi += (x.qh[l] >> (2 * g + 1)) & 1 ? 16 : 0;
        }
        v[64 * g + l] = int8_t(lo);
        v[64 * g + 32 + l] = int8_t(hi);
      }
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; ++j) unpack_scale_min_k4(j, x.scales, sc[j], m[j]);
    int sumi = 0;
    for (int j = 0; j < 16; ++j) sumi += y.bsums[j] * m[j / 2];
    const int32_t total = k_superblock_sum(v, y.qs, [&](int e) { return int32_t(sc[e / 32]); });
    const float d = h2f(x.d) * y.d;
    acc.sum += d * float(total);
    const float dmin = h2f(x.dmin) * y.d;
    acc.sumf -= dmin * sumi;
  }
  return acc.total();
}

float dot_q6_k(const void* w, const void* a, int64_t n) {
  KAccumulator acc;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const auto x = block_at<BlockQ6_K>(w, i);
    const auto y = block_at<BlockQ8_K>(a, i);
    int8_t v[kQK_K];
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x.ql + 64 * half;
      const uint8_t* qh = x.qh + 32 * half;
      int8_t* out = v + 128 * half;
      for (int l = 0; l < 32; ++l) {
        out[l] = int8_t(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        out[l + 32] = int8_t(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        out[l + 64] = int8_t(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        out[l + 96] = int8_t(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    const int32_t total = k_superblock_sum(v, y.qs, [&](int e) { return int32_t(x.scales[e / 16]); });
    const float d = h2f(x.d) * y.d;
    acc.sum += d * float(total);
  }
  return acc.total();
}

// Weight element i of a float-typed row.
float float_at(GgmlType t, const void* row, int64_t i) {
  const uint8_t* p = static_cast<const uint8_t*>(row);
  if (t == GgmlType::F32) {
    float f;
    std::memcpy(&f, p + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p + 2 * i, 2);
  return t == GgmlType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
}

}  // namespace

float dot_float_ref(GgmlType t, const void* w, const float* x, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  const int64_t n8 = n - n % 8;
  for (int64_t i = 0; i < n8; i += 8)
    for (int j = 0; j < 8; ++j) lane[j] = std::fma(float_at(t, w, i + j), x[i + j], lane[j]);
  float sum = combine_lanes(lane);
  for (int64_t i = n8; i < n; ++i) sum = std::fma(float_at(t, w, i), x[i], sum);
  return sum;
}

float dot_ref(GgmlType t, const void* w, const void* a, int64_t n) {
  switch (t) {
    case GgmlType::Q4_0: return dot_q4_0(w, a, n);
    case GgmlType::Q4_1: return dot_q4_1(w, a, n);
    case GgmlType::Q5_0: return dot_q5_0(w, a, n);
    case GgmlType::Q5_1: return dot_q5_1(w, a, n);
    case GgmlType::Q8_0: return dot_q8_0(w, a, n);
    case GgmlType::Q4_K: return dot_q45_k<BlockQ4_K, false>(w, a, n);
    case GgmlType::Q5_K: return dot_q45_k<BlockQ5_K, true>(w, a, n);
    case GgmlType::Q6_K: return dot_q6_k(w, a, n);
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16: return dot_float_ref(t, w, static_cast<const float*>(a), n);
    default: return 0.0f;  // callers check supported() first
  }
}

}  // namespace scout::kernels::cpu::qdot::detail

#include "engine/quant/dequantize.h"

#include <cstring>
#include <string>

#include "engine/quant/blocks.h"
#include "engine/util/error.h"
#include "engine/util/half.h"
#include "engine/util/half_row.h"

// ggml's reference results are plain multiplies and adds, each rounded. A compiler allowed to
// contract `a * b - c` into one FMA (GCC's default once FMA is enabled, e.g. -march=native)
// would round once instead and drift from ggml by an ulp, so contraction is off in this file.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace scout::quant {
namespace {

using T = GgmlType;
using DequantFn = void (*)(const uint8_t* src, float* dst, int64_t n_elems);

// Blocks are copied out rather than cast in place: GGUF data need not be aligned for the
// block's half/float fields.
template <class Block>
Block load_block(const uint8_t* src, int64_t i) {
  Block b;
  std::memcpy(&b, src + i * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
  return b;
}

// Runs a per-block dequantizer over every block of a row.
template <class Block, void (*DequantBlock)(const Block&, float*)>
void dequant_blocks(const uint8_t* src, float* dst, int64_t n_elems) {
  const int64_t n_blocks = n_elems / Block::kElems;
  for (int64_t i = 0; i < n_blocks; ++i)
    DequantBlock(load_block<Block>(src, i), dst + i * Block::kElems);
}

// ---- plain float types ----

void dequant_f32(const uint8_t* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequant_f16(const uint8_t* src, float* dst, int64_t n) { fp16_to_fp32_row(src, dst, n); }

void dequant_bf16(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    dst[i] = bf16_to_fp32(h);
  }
}

// ---- 32-element blocks ----

void dequant_q4_0(const BlockQ4_0& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  constexpr int kHalf = kQK4_0 / 2;
  for (int j = 0; j < kHalf; ++j) {
    const int x0 = (b.qs[j] & 0x0F) - 8;
    const int x1 = (b.qs[j] >> 4) - 8;
    y[j] = x0 * d;
    y[j + kHalf] = x1 * d;
  }
}

void dequant_q4_1(const BlockQ4_1& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  const float m = fp16_to_fp32(b.m);
  constexpr int kHalf = kQK4_1 / 2;
  for (int j = 0; j < kHalf; ++j) {
    const int x0 = b.qs[j] & 0x0F;
    const int x1 = b.qs[j] >> 4;
    y[j] = x0 * d + m;
    y[j + kHalf] = x1 * d + m;
  }
}

// Bit 4 of the 5-bit quants of elements j and j+16, from the 32-bit high-bit mask.
inline int q5_high_bit(uint32_t qh, int element) {
  return static_cast<int>((qh >> element) & 1u) << 4;
}

void dequant_q5_0(const BlockQ5_0& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  uint32_t qh;
  std::memcpy(&qh, b.qh, sizeof(qh));
  constexpr int kHalf = kQK5_0 / 2;
  for (int j = 0; j < kHalf; ++j) {
    const int x0 = ((b.qs[j] & 0x0F) | q5_high_bit(qh, j)) - 16;
    const int x1 = ((b.qs[j] >> 4) | q5_high_bit(qh, j + kHalf)) - 16;
    y[j] = x0 * d;
    y[j + kHalf] = x1 * d;
  }
}

void dequant_q5_1(const BlockQ5_1& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  const float m = fp16_to_fp32(b.m);
  uint32_t qh;
  std::memcpy(&qh, b.qh, sizeof(qh));
  constexpr int kHalf = kQK5_1 / 2;
  for (int j = 0; j < kHalf; ++j) {
    const int x0 = (b.qs[j] & 0x0F) | q5_high_bit(qh, j);
    const int x1 = (b.qs[j] >> 4) | q5_high_bit(qh, j + kHalf);
    y[j] = x0 * d + m;
    y[j + kHalf] = x1 * d + m;
  }
}

void dequant_q8_0(const BlockQ8_0& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  for (int j = 0; j < kQK8_0; ++j) y[j] = b.qs[j] * d;
}

// ---- K-quants (256-element super-blocks) ----

// One 64-element group of Q4_K/Q5_K: sub-blocks 2g (low nibbles) and 2g+1 (high nibbles).
// `high_bit(l, odd)` adds 16 for Q5_K's fifth bit (always 0 for Q4_K). ggml computes
// d * sc and dmin * m first and then `d1 * q - m1`, so we do too.
template <class HighBit>
void dequant_k4_group(const uint8_t* scales, int g, float d, float dmin, const uint8_t* qs,
                      HighBit high_bit, float* y) {
  uint8_t sc, m;
  unpack_scale_min_k4(2 * g, scales, sc, m);
  const float d1 = d * sc;
  const float m1 = dmin * m;
  unpack_scale_min_k4(2 * g + 1, scales, sc, m);
  const float d2 = d * sc;
  const float m2 = dmin * m;
  for (int l = 0; l < 32; ++l) y[l] = d1 * ((qs[l] & 0xF) + high_bit(l, 0)) - m1;
  for (int l = 0; l < 32; ++l) y[32 + l] = d2 * ((qs[l] >> 4) + high_bit(l, 1)) - m2;
}

void dequant_q4_k(const BlockQ4_K& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  const float dmin = fp16_to_fp32(b.dmin);
  const auto no_high_bit = [](int, int) { return 0; };
  for (int g = 0; g < kQK_K / 64; ++g)
    dequant_k4_group(b.scales, g, d, dmin, b.qs + 32 * g, no_high_bit, y + 64 * g);
}

void dequant_q5_k(const BlockQ5_K& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  const float dmin = fp16_to_fp32(b.dmin);
  for (int g = 0; g < kQK_K / 64; ++g) {
    // Sub-block s keeps its fifth bits in bit s of qh[0..31].
    const auto high_bit = [&b, g](int l, int odd) {
      return (b.qh[l] >> (2 * g + odd)) & 1 ? 16 : 0;
    };
    dequant_k4_group(b.scales, g, d, dmin, b.qs + 32 * g, high_bit, y + 64 * g);
  }
}

// Q6_K: each 128-element half uses 64 bytes of ql and 32 of qh. Element l + 32*k of a half has
// its low nibble in ql[l + 32*(k&1)] (low nibble for k<2, high for k>=2) and its top two bits
// in bits 2k..2k+1 of qh[l]; its scale is scales[8*half + l/16 + 2k].
void dequant_q6_k(const BlockQ6_K& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  for (int half = 0; half < 2; ++half) {
    const uint8_t* ql = b.ql + 64 * half;
    const uint8_t* qh = b.qh + 32 * half;
    const int8_t* sc = b.scales + 8 * half;
    float* out = y + 128 * half;
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      for (int k = 0; k < 4; ++k) {
        const int low = k < 2 ? (ql[l + 32 * k] & 0xF) : (ql[l + 32 * (k - 2)] >> 4);
        const int q = (low | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
        out[l + 32 * k] = d * sc[is + 2 * k] * q;
      }
    }
  }
}

void dequant_q8_k(const BlockQ8_K& b, float* y) {
  for (int j = 0; j < kQK_K; ++j) y[j] = b.d * b.qs[j];
}

struct DequantEntry {
  GgmlType type;
  DequantFn fn;
};

constexpr DequantEntry kDequantizers[] = {
    {T::F32, dequant_f32},
    {T::F16, dequant_f16},
    {T::BF16, dequant_bf16},
    {T::Q4_0, dequant_blocks<BlockQ4_0, dequant_q4_0>},
    {T::Q4_1, dequant_blocks<BlockQ4_1, dequant_q4_1>},
    {T::Q5_0, dequant_blocks<BlockQ5_0, dequant_q5_0>},
    {T::Q5_1, dequant_blocks<BlockQ5_1, dequant_q5_1>},
    {T::Q8_0, dequant_blocks<BlockQ8_0, dequant_q8_0>},
    {T::Q4_K, dequant_blocks<BlockQ4_K, dequant_q4_k>},
    {T::Q5_K, dequant_blocks<BlockQ5_K, dequant_q5_k>},
    {T::Q6_K, dequant_blocks<BlockQ6_K, dequant_q6_k>},
    {T::Q8_K, dequant_blocks<BlockQ8_K, dequant_q8_k>},
};

DequantFn find_dequantizer(GgmlType t) {
  for (const auto& e : kDequantizers)
    if (e.type == t) return e.fn;
  return nullptr;
}


}  // namespace

bool can_dequantize(GgmlType t) { return find_dequantizer(t) != nullptr; }

void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n) {
  const DequantFn fn = find_dequantizer(t);
  if (!fn) throw Error("dequantize_row: no dequantizer for " + type_label(t));
  require_whole_blocks(t, n, "dequantize_row");
  fn(static_cast<const uint8_t*>(src), dst, n);
}

}  // namespace scout::quant

#pragma once
// ggml's quantized block layouts, byte for byte as ggml-common.h defines them, so that GGUF
// tensor data can be read in place. Halves (ggml_half) are kept as their raw uint16_t bits;
// multi-byte fields are little-endian, as in GGUF, so a little-endian host is required.
#include <bit>
#include <cstdint>
#include <type_traits>

namespace scout::quant {

static_assert(std::endian::native == std::endian::little,
              "GGUF block fields are little-endian; big-endian hosts are not supported");

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK_K = 256;       // super-block size of the K-quants
inline constexpr int kKScaleSize = 12;  // 8 six-bit scales + 8 six-bit mins, packed

// 4-bit, symmetric: x = d * (q - 8). Element j in the low nibble of qs[j], element j+16 high.
struct BlockQ4_0 {
  static constexpr int kElems = kQK4_0;
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};

// 4-bit with offset: x = d * q + m.
struct BlockQ4_1 {
  static constexpr int kElems = kQK4_1;
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK4_1 / 2];
};

// 5-bit, symmetric: x = d * (q - 16); bit 4 of element j is bit j of the 32-bit qh.
struct BlockQ5_0 {
  static constexpr int kElems = kQK5_0;
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK5_0 / 2];
};

// 5-bit with offset: x = d * q + m.
struct BlockQ5_1 {
  static constexpr int kElems = kQK5_1;
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};

// 8-bit, symmetric: x = d * q.
struct BlockQ8_0 {
  static constexpr int kElems = kQK8_0;
  uint16_t d;
  int8_t qs[kQK8_0];
};

// 8-bit with s = d * sum(qs) precomputed (activation side of the Q4_1/Q5_1 dot products).
struct BlockQ8_1 {
  static constexpr int kElems = kQK8_1;
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK8_1];
};

// 4-bit K-quant: 8 sub-blocks of 32, x = d * sc * q - dmin * m, with 6-bit sc/m.
// qs: 4 groups of 32 bytes; group g holds sub-block 2g in low nibbles and 2g+1 in high ones.
struct BlockQ4_K {
  static constexpr int kElems = kQK_K;
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};

// 5-bit K-quant: as Q4_K plus one high bit per element; sub-block s uses bit s of qh[l].
struct BlockQ5_K {
  static constexpr int kElems = kQK_K;
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};

// 6-bit K-quant: 16 sub-blocks of 16, x = d * scales[s] * (q - 32), with 8-bit signed scales.
struct BlockQ6_K {
  static constexpr int kElems = kQK_K;
  uint8_t ql[kQK_K / 2];  // low 4 bits
  uint8_t qh[kQK_K / 4];  // high 2 bits
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

// 8-bit K-quant (activations): a float scale and per-16 sums of the quants.
struct BlockQ8_K {
  static constexpr int kElems = kQK_K;
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

// Sizes must equal ggml's type_size (engine/quant/types.cpp has the same numbers).
static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(std::is_trivially_copyable_v<BlockQ4_K> && std::is_trivially_copyable_v<BlockQ8_K>);

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block. Bytes 0-3 hold scales
// 0-3 (low 6 bits), bytes 4-7 mins 0-3; sub-blocks 4-7 keep their low 4 bits in bytes 8-11
// (scale low nibble, min high nibble) and their top 2 bits in the spare bits 6-7 of bytes 0-7.
inline void unpack_scale_min_k4(int j, const uint8_t* scales, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = scales[j] & 63;
    m = scales[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

}  // namespace scout::quant

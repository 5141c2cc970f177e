#pragma once
// Shared internals of the qdot kernels: the reference dots, the kernel-ready activation
// layouts, and the per-ISA entry points. Not for use outside engine/kernels/cpu/qdot.
#include <cstdint>

#include "engine/kernels/cpu/qdot/qdot.h"

namespace scout::kernels::cpu::qdot::detail {

using quant::GgmlType;

// kernels::cpu::dot's combination of its 8 lanes.
inline float combine_lanes(const float* l) {
  return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

// ggml's scalar reference dot of one weight row with one activation row (ggml layout).
float dot_ref(GgmlType weight, const void* w, const void* a, int64_t n_cols);
float dot_float_ref(GgmlType weight, const void* w, const float* x, int64_t n_cols);

enum class Family { Float, Block, KQuant };
Family family_of(GgmlType weight);

// ---------------------------------------------------------------- packed activations
//
// The SIMD kernels read activations repacked once per qgemm call (cost O(tokens x cols),
// nothing next to the weights). Values are ggml's, only their place and form changes.
//
// K-quants: the reference sums each superblock's products into 8 lanes by element index % 8
// (the "class"). To get those sums from maddubs/madd (which add neighbours), each 64-element
// chunk is stored as 16 quads; a quad holds 4 elements of one class, two from each of the
// two sub-blocks ("A" and "B") the chunk covers, so maddubs makes per-sub-block pair sums and
// madd applies the two sub-block scales and adds them, all inside one class. See
// kquad_element for the exact order, which the weight decoders reproduce with one pshufb and
// one 16-bit unpack.
struct alignas(32) PackedK {
  int8_t q[256];       // class-quad order; Q6_K: stored as a + 128 (unsigned operand)
  int16_t bsum2[8];    // bsums[2i] + bsums[2i+1]: the sum of sub-block i (Q4_K/Q5_K mins)
  float d;
};

// 32-element block types: 8 blocks per chunk, values in ggml order.
struct alignas(32) PackedB {
  int8_t q[256];
  float d[8];          // fp16 scale as float
  float s[8];          // Q8_1's fp16 d * sum(q) as float
  int32_t qsum[8];     // sum of the block's quants (offset corrections of Q4_0/Q5_0/Q8_0)
};

inline constexpr int kQuadChunk = 64;  // elements per K chunk (4 per superblock)

// Superblock element stored at byte o (0..63) of K chunk `chunk` (0..3) for weight type t.
int kquad_element(GgmlType t, int chunk, int o);

uint64_t packed_row_bytes(GgmlType weight, int64_t n_cols);
// Repacks one ggml activation row (Q8_K / Q8_0 / Q8_1) for `weight`'s kernels.
void pack_activation_row(GgmlType weight, const void* act, int64_t n_cols, uint8_t* out);

// ---------------------------------------------------------------- tiles

inline constexpr int kTileRows = 8;     // weight rows decoded together
inline constexpr int kTileTokens = 32;  // tokens that reuse each decoded weight chunk

struct TileJob {
  GgmlType type;
  const uint8_t* w;       // first row of the tile
  uint64_t row_bytes;
  int64_t n_cols;
  int n_rows;             // 1..kTileRows
  const uint8_t* act;     // first token: packed row, or floats for the float types
  uint64_t act_stride;    // bytes per token
  int n_tokens;           // 1..kTileTokens
  float* y;               // y[t * y_stride + r]
  int64_t y_stride;
};
using TileFn = void (*)(const TileJob&);
using QuantRowFn = void (*)(const float* x, void* out, int64_t n);  // one activation row

// One token against rows [r0, r1) of w: y[r] for those rows; act is the ggml activation row
// (not packed). Used when a call has a single token (gemv_avx2.cpp).
using GemvFn = void (*)(const MatrixView& w, const uint8_t* act, int64_t r0, int64_t r1, float* y);
GemvFn gemv_fn_avx2(GgmlType weight);
// The same with 256-bit AVX-512 VNNI for the K-quants (Avx512 path only); the AVX2 kernel for
// the other types.
GemvFn gemv_fn_vnni(GgmlType weight);
// 2 to few_tokens_max(weight) tokens the GEMV way (each row read once, decoded once for all
// tokens): act rows act_bytes apart in their ggml layout, y[t * w.n_rows + r] for rows
// [r0, r1). nullptr where the type has none (Avx512 path only; Q4_K and Q6_K today).
using FewTokensFn = void (*)(const MatrixView& w, const uint8_t* act, uint64_t act_bytes, int n_tokens, int64_t r0,
                             int64_t r1, float* y);
FewTokensFn few_tokens_fn_vnni(GgmlType weight);
// Where the few-token kernel beats the tiles and the VNNI GEMM ([5120 -> 8192], one thread):
// Q4_K up to 10 tokens (5-7 tokens 28-32% faster than the tiles, 8 and 10 tokens 23% and 7%
// faster than the GEMM, 12 tokens 9% slower); Q6_K up to 8 (2 tokens 2.8x, 4 and 6 tokens
// 1.6x and 1.4x faster than the tiles, 8 tokens 6% faster than the GEMM, 10 tokens 7%
// slower). 0 where the type has no few-token kernel.
int few_tokens_max(GgmlType weight);

// Many tokens on AVX-512 VNNI with tokens in the vector lanes (gemm_vnni.cpp). act: the
// ggml activation rows (not packed), act_bytes apart. Call only where the CPU has the
// Avx512 path and vnni_gemm_supports(type, n_cols).
bool vnni_gemm_supports(GgmlType weight, int64_t n_cols);
void vnni_gemm(const MatrixView& w, const uint8_t* act, uint64_t act_bytes, int64_t n_tokens, float* y);

// nullptr when the path has no kernel for the type (or was not compiled).
TileFn tile_fn_avx2(GgmlType weight);
TileFn tile_fn_avx512(GgmlType weight);
QuantRowFn quant_fn_avx2(GgmlType act_type);
QuantRowFn quant_fn_avx512(GgmlType act_type);

}  // namespace scout::kernels::cpu::qdot::detail

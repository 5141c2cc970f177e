#pragma once
// Fast CPU products of ggml-quantized weight matrices with quantized activations.
//
// The arithmetic is ggml's: the activations are quantized to the weight type's vec_dot_type
// (Q8_K for Q4_K/Q5_K/Q6_K, Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1) by the reference
// quantizers of engine/quant (byte-exact with ggml's quantize_row_*_ref), and each output is
// a dot product of one weight row with one activation row.
//
// Numerics: every path (the scalar reference, AVX2, AVX-512 VNNI) gives the same bits. For
// the 32-element block types they are ggml's scalar reference vec_dot's
// (ggml_vec_dot_*_generic): integer block sums, then the float scale products and additions
// in ggml's order. For the K-quants the integer work is ggml's, and the float part is one
// step per superblock (d times the superblock's whole integer sum, into one accumulator; the
// min term into a second), where ggml's generic code keeps 8 lanes: a last-bits difference,
// and what lets the one-token kernel (gemv_avx2.cpp) read weights in their natural order.
// Integer sums are exact in any order, so the SIMD paths only rearrange integer work; the
// float operations of each output element are the reference's, one by one. Hence results
// depend neither on the CPU (which path ran), nor on the number of tokens, nor on tiling or
// threads (batch invariance).
// F32/F16/BF16 weights are dotted with float activations in the order of
// kernels::cpu::dot (8 interleaved lanes of fused multiply-adds), so they give the reference
// matmul's bits.
//
// Preconditions of the SIMD paths: Q8_0/Q8_1 activation quants lie in [-127, 127], and each
// Q8_K block's bsums are the sums of its 16-quant groups; the quantizers always produce both.
// Other inputs are the caller's business.
#include <cstdint>
#include <optional>

#include "engine/quant/types.h"

namespace scout::kernels::cpu::qdot {

// Instruction-set paths. Reference is portable C++; Avx2 needs AVX2+FMA+F16C; Avx512 needs
// AVX-512 F/BW/VL/DQ and VNNI (Ice Lake, Sapphire Rapids, Zen 4 and later).
enum class Isa { Reference, Avx2, Avx512 };

const char* isa_name(Isa isa);
bool isa_available(Isa isa);  // the CPU (and the build) can run it
Isa best_isa();               // fastest available, chosen once at first use

// A row-major matrix of n_rows rows of n_cols elements, each row row_bytes bytes of ggml
// blocks (same fields as kernels::cpu::WeightView).
struct MatrixView {
  quant::GgmlType type = quant::GgmlType::F32;
  const uint8_t* data = nullptr;
  int64_t n_cols = 0;
  int64_t n_rows = 0;
  uint64_t row_bytes = 0;
};

// Weight types these kernels compute: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K,
// Q5_K, Q6_K.
bool supported(quant::GgmlType weight);

// ggml's vec_dot_type of a weight type (F32 for the float types: activations stay float).
// nullopt when the type is not supported.
std::optional<quant::GgmlType> vec_dot_type(quant::GgmlType weight);

// Bytes of one activation row of n_cols elements prepared for `weight`.
uint64_t activation_row_bytes(quant::GgmlType weight, int64_t n_cols);

// Quantizes n_tokens rows of n_cols floats (row-major x) to vec_dot_type(weight), one row
// after another at out (n_tokens * activation_row_bytes bytes; float types are copied).
// Byte-exact with quant::quantize_row whatever `isa` is. Throws scout::Error for unsupported
// types or an n_cols that is not a whole number of blocks.
void quantize_activations(quant::GgmlType weight, const float* x, int64_t n_tokens, int64_t n_cols,
                          void* out);
void quantize_activations(Isa isa, quant::GgmlType weight, const float* x, int64_t n_tokens,
                          int64_t n_cols, void* out);

// One dot product exactly as ggml's scalar reference computes it: weight row w (n_cols
// elements of `weight`) with activation row a (vec_dot_type(weight), or floats).
float vec_dot_ref(quant::GgmlType weight, const void* w, const void* a, int64_t n_cols);

// y[t * w.n_rows + r] = vec_dot(row r of w, activation row t) for t < n_tokens, r < n_rows.
// act holds n_tokens activation rows from quantize_activations (or floats for F32/F16/BF16).
// Work is split over the current TBB arena; the result does not depend on how.
// Throws scout::Error for unsupported types or a non-whole number of blocks.
void qgemm(const MatrixView& w, const void* act, int64_t n_tokens, float* y);
// The same on a chosen path (tests, benchmarks). Throws when the path is not available.
void qgemm(Isa isa, const MatrixView& w, const void* act, int64_t n_tokens, float* y);

// quantize_activations + qgemm, with a scratch buffer of its own: the drop-in shape of
// kernels::cpu::matmul (x is [n_tokens x n_cols] floats).
void matmul_quantized(const MatrixView& w, const float* x, int64_t n_tokens, float* y);

}  // namespace scout::kernels::cpu::qdot

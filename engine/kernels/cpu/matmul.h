#pragma once
// Reference CPU matrix products on weights in their stored ggml type.
//
// The weight matrix stays as the model file stores it (F32, F16, BF16, Q4_0 ... Q8_K): each
// row is dequantized on the fly (engine/quant/dequantize.h) and dotted with float activations.
// This is the interface fast kernels will implement; the reference stays as their oracle.
//
// Determinism contract (what every implementation behind this interface must keep): each
// output element is one `dot` of a dequantized weight row with one activation row, summed in
// a fixed order that depends only on the row length. Rows run in parallel, but no element's
// arithmetic depends on the thread count, on how rows are split, or on how many tokens are in
// the batch, so batching sequences together can never change a result.
#include <cstdint>

#include "engine/quant/types.h"

namespace scout::kernels::cpu {

// A row-major matrix of `n_rows` rows of `n_cols` elements, each row `row_bytes` bytes of
// ggml blocks (ggml order: dims[0] = n_cols is the fastest-varying dimension).
struct WeightView {
  quant::GgmlType type = quant::GgmlType::F32;
  const uint8_t* data = nullptr;
  int64_t n_cols = 0;
  int64_t n_rows = 0;
  uint64_t row_bytes = 0;

  bool empty() const { return data == nullptr; }
  const uint8_t* row(int64_t r) const { return data + uint64_t(r) * row_bytes; }
  // Rows [first, first + count) as a matrix of their own (e.g. one expert of a 3-D tensor).
  WeightView rows(int64_t first, int64_t count) const;
};

// Builds a view; throws scout::Error when the type cannot be dequantized or n_cols is not a
// whole number of blocks.
WeightView make_weight_view(quant::GgmlType type, const void* data, int64_t n_cols, int64_t n_rows);

// Sum of a[i] * b[i] in the fixed order described above: 8 interleaved partial sums (element
// i goes to lane i % 8, lane = fma(a[i], b[i], lane): one rounding per step) over the largest
// multiple of 8, combined pairwise as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then the tail
// fused into the sum in index order. FMA because every SIMD CPU the fast kernels target has
// it, and it halves their float work (mul + add was issue-bound).
float dot(const float* a, const float* b, int64_t n);

// y[t * w.n_rows + r] = (row r of w) . (token t of x), x [n_tokens x n_cols] row-major, y
// [n_tokens x n_rows] row-major. Dispatches to the fast kernels (engine/kernels/cpu/qdot):
// - F32/F16/BF16 weights: exactly matmul_reference's bits;
// - quantized weights: ggml's reference vec_dot of the weight row with the activation row
//   quantized to the weight type's vec_dot_type (Q8_K / Q8_0 / Q8_1), as llama.cpp computes;
//   AVX2, AVX-512 and scalar paths give identical bits.
// Either way each element's arithmetic is independent of batch size, tiling, threads and CPU.
void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y);

// Which path matmul takes for quantized weights. Fast (the default) quantizes activations as
// llama.cpp does; Reference dots exactly dequantized rows with F32 activations, for comparing
// against full-F32 computations. Process-wide; the environment variable
// SCOUT_MATMUL=reference sets it at start-up.
enum class MatmulPath { Fast, Reference };
void set_matmul_path(MatmulPath p);
MatmulPath matmul_path();

// The plain oracle: each weight row dequantized once per call and dotted with float
// activations by `dot`; rows split over the current TBB arena's threads.
void matmul_reference(const WeightView& w, const float* x, int64_t n_tokens, float* y);

// Dequantizes row r of w into out (w.n_cols floats): embedding lookups.
void get_row(const WeightView& w, int64_t r, float* out);

}  // namespace scout::kernels::cpu

#pragma once
// Reference (scalar) quantization of one float row into ggml blocks.
//
// Follows ggml's quantize_row_*_ref algorithms (what llama-quantize runs when it has no
// importance matrix) step for step, including the float operation order, nearest_int's
// round-half-to-even and the truncating casts, so that the bytes match ggml's. Inputs are
// expected to be finite; NaN/inf give defined but meaningless blocks (as in ggml).
#include <cstdint>

#include "engine/quant/types.h"

namespace scout::quant {

// True when quantize_row supports `t`: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1,
// Q4_K, Q5_K, Q6_K, Q8_K.
bool can_quantize(GgmlType t);

// Quantizes n floats from src into n / block_size blocks at dst (row_bytes(t, n) bytes; no
// alignment needed). Throws scout::Error when `t` is not supported or n is negative or not a
// multiple of the type's block size.
void quantize_row(GgmlType t, const float* src, void* dst, int64_t n);

}  // namespace scout::quant

#pragma once
// Reference (scalar) dequantization of one row of ggml blocks to float.
//
// Bit-exact with ggml's dequantize_row_* reference functions, in the same order of float
// operations (and without fused multiply-add, which ggml's x86 reference build does not use
// either). This is the oracle that optimized kernels are tested against, so it stays simple.
#include <cstdint>

#include "engine/quant/types.h"

namespace scout::quant {

// True when dequantize_row supports `t`.
bool can_dequantize(GgmlType t);

// Dequantizes n elements (n / block_size blocks starting at src) into dst.
// src needs no particular alignment. Throws scout::Error when `t` is not supported or
// n is negative or not a multiple of the type's block size.
void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n);

}  // namespace scout::quant

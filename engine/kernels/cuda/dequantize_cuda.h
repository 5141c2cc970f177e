#pragma once
// Device dequantization of ggml blocks to float (CUDA). The CPU reference
// (engine/quant/dequantize.h) is the oracle: scripts/gpu-check.sh compares them on a lent GPU.
// Compiled only when SCOUT_CUDA is ON; nothing in the CPU build includes this header.
#include <cstdint>

#include "engine/quant/types.h"

namespace scout::cuda {

bool can_dequantize(quant::GgmlType t);
// d_src and d_dst are device pointers; n elements (a multiple of the block size).
// Asynchronous on `stream` (nullptr = default stream). Throws scout::Error on launch failure.
void dequantize_row(quant::GgmlType t, const void* d_src, float* d_dst, int64_t n, void* stream);

}  // namespace scout::cuda

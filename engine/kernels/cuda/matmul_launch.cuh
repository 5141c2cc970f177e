#pragma once
// Launchers shared by matmul.cu (dispatch), gemv.cu and gemm.cu. Internal.
#include <cuda_runtime.h>

#include "engine/kernels/cuda/matmul_kernels.cuh"
#include "engine/quant/types.h"

namespace scout::cuda::detail {

// grid: ceil(n_rows / kGemvRowsPerBlock) x group slices x ceil(max_group_rows / kGemvTokens);
// group slices = n_groups, or max_active_groups when a.compact_groups.
void launch_gemv(quant::GgmlType type, bool pair, const hd::MatmulArgs& a, int64_t max_group_rows,
                 int64_t group_slices, cudaStream_t s);

// grid: ceil(n_rows / kGemmBN) x ceil(max_rows / kGemmBM); max_rows bounds the sorted rows.
void launch_gemm(quant::GgmlType type, bool pair, const hd::MatmulArgs& a, int64_t max_rows, cudaStream_t s);

bool gemm_supports(quant::GgmlType type);

}  // namespace scout::cuda::detail

// cuBLAS for dense F16/BF16 products: cublasGemmEx with F32 accumulation and output.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "engine/kernels/cuda/cuda_util.cuh"
#include "engine/kernels/cuda/matmul_cuda.h"

namespace scout::cuda {
namespace {

void check_cublas(cublasStatus_t st, const char* what) {
  if (st != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string(what) + ": cuBLAS error " + std::to_string(int(st)) + " (" +
                cublasGetStatusString(st) + ")");
}

}  // namespace

Cublas::Cublas() {
  cublasHandle_t h = nullptr;
  check_cublas(cublasCreate(&h), "cublasCreate");
  handle_ = h;
}

Cublas::~Cublas() {
  if (handle_) cublasDestroy(static_cast<cublasHandle_t>(handle_));
}

void cublas_gemm(Cublas& cublas, quant::GgmlType ab_type, const uint16_t* w, const uint16_t* x, int64_t m,
                 int64_t n, int64_t k, float* y, void* stream) {
  if (ab_type != quant::GgmlType::F16 && ab_type != quant::GgmlType::BF16)
    throw Error("cublas_gemm: operands must be F16 or BF16");
  if (m <= 0 || n <= 0) return;
  if (m > 0x7fffffff || n > 0x7fffffff || k > 0x7fffffff) throw Error("cublas_gemm: dimensions too large");
  auto h = static_cast<cublasHandle_t>(cublas.handle());
  check_cublas(cublasSetStream(h, detail::as_stream(stream)), "cublasSetStream");
  const cudaDataType_t t = ab_type == quant::GgmlType::F16 ? CUDA_R_16F : CUDA_R_16BF;
  const float alpha = 1.0f, beta = 0.0f;
  // Row-major y[m x n] = x[m x k] . w[n x k]^T is column-major y^T[n x m] = w^T' . x^T:
  // w as stored is column-major k x n (lda = k), transposed; x is column-major k x m (ldb = k).
  check_cublas(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, int(n), int(m), int(k), &alpha, w, t, int(k), x, t,
                            int(k), &beta, y, CUDA_R_32F, int(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

void cublas_matmul(Cublas& cublas, const DeviceMatrix& w, const float* x, int64_t n_tokens, uint16_t* x_work,
                   float* y, void* stream) {
  if (w.type != quant::GgmlType::F16 && w.type != quant::GgmlType::BF16)
    throw Error("cublas_matmul: weights must be F16 or BF16, not " + quant::type_label(w.type));
  if (w.row_bytes != uint64_t(w.n_cols) * 2) throw Error("cublas_matmul: rows must be packed");
  if (n_tokens <= 0) return;
  if (w.type == quant::GgmlType::F16)
    convert_to_f16(x, x_work, n_tokens * w.n_cols, stream);
  else
    convert_to_bf16(x, x_work, n_tokens * w.n_cols, stream);
  cublas_gemm(cublas, w.type, static_cast<const uint16_t*>(w.data), x_work, n_tokens, w.n_rows, w.n_cols, y, stream);
}

}  // namespace scout::cuda

#pragma once
// Matrix products on weights in their stored ggml type (CUDA): the device counterparts of
// engine/kernels/cpu/matmul.h, which is their oracle (tests/cuda/matmul_cuda_test.cpp).
//
//   GEMV  (decode, up to 8 activation rows per launch chunk): each weight unit is decoded once
//         (shared_math.cuh's decode_unit, bit-identical to quant::dequantize_row) and dotted
//         with F32 activations in F32. Also the accurate path for F32 weights (the router).
//   GEMM  (prefill): weight tiles dequantized to F16 in shared memory (BF16 for BF16 weights),
//         activations rounded to the same type, tensor cores (wmma 16x16x16) with F32
//         accumulation. Simple, unpipelined 64x64x64 tiles: correct first.
//   cuBLAS (dense F16/BF16 weights): cublasGemmEx on activations converted to the weight type.
//
// Both kernels also run "grouped": rows sorted by expert, each group multiplied by its own
// matrix, activations gathered and scaled on load and outputs scattered on store (RowMap);
// the SwiGLU form computes silu(gate x) * (up x) in the epilogue (fused MoE gate/up).
//
// All pointers are device pointers; every call is asynchronous on `stream` (nullptr: the
// default stream) and throws scout::Error on bad arguments or a failed launch. Compiled only
// with SCOUT_CUDA=ON; nothing in the CPU build includes this header.
#include <cstdint>

#include "engine/quant/types.h"

namespace scout::cuda {

// A weight matrix in device memory: n_rows rows of n_cols elements, row r at
// data + r * row_bytes (ggml layout, as uploaded from the GGUF file).
struct DeviceMatrix {
  quant::GgmlType type = quant::GgmlType::F32;
  const void* data = nullptr;
  int64_t n_cols = 0;
  int64_t n_rows = 0;
  uint64_t row_bytes = 0;

  // Rows [first, first + count) (e.g. one expert of a stacked 3-D tensor).
  DeviceMatrix rows(int64_t first, int64_t count) const;
};

// F32, F16, BF16, Q8_0, Q4_K, Q6_K.
bool can_matmul(quant::GgmlType t);

// Checks the type, the block size and the alignment the kernels' vector loads need (Q4_K,
// F16, BF16, F32: 16-byte aligned data and rows; Q8_0, Q6_K: 2-byte).
DeviceMatrix make_device_matrix(quant::GgmlType type, const void* d_data, int64_t n_cols, int64_t n_rows);

enum class MatmulKernel { Auto, Gemv, Gemm };

// How the sorted rows of a grouped product find their group, activations and outputs.
// Device arrays; a null array means the identity (see hd::MatmulArgs).
struct RowMap {
  const int32_t* group_begin = nullptr;  // [n_groups + 1]; null: one group of m rows
  int32_t n_groups = 1;
  int32_t m = 0;               // rows when group_begin is null; else the most rows the groups can hold
  int32_t max_group_rows = 0;  // the most rows one group can have (GEMV grid); 0: m
  const int32_t* src = nullptr;  // activation row of sorted row i; -1: padding (skipped)
  const float* scale = nullptr;  // input scale of row i (MoE routing weight)
  const int32_t* dst = nullptr;  // output row of row i
  int32_t max_active_groups = 0;  // > 0: at most this many groups hold rows (GEMV launches only those)
};

// Matrix g of a grouped product: w.rows(0, w.n_rows) shifted by g * group_stride bytes.
struct GroupedMatrix {
  DeviceMatrix w;
  uint64_t group_stride = 0;
};

// y[dst(i)][r] = dot(row r of matrix g, scale(i) * x[src(i)]) for each sorted row i of group g.
// x rows are ldx floats apart, y rows ldy; x and y 16-byte aligned, ldx a multiple of 4.
// Gemm needs groups padded to kGemmRowAlign rows (padding rows: src = -1).
void grouped_matmul(const GroupedMatrix& w, const RowMap& rows, const float* x, int64_t ldx, float* y, int64_t ldy,
                    MatmulKernel kernel, void* stream);

// y[dst(i)][r] = silu(gate_g x_i) * (up_g x_i), x_i = scale(i) * x[src(i)]: the fused MoE
// gate/up projection. gate and up must share type and shape.
void grouped_swiglu(const GroupedMatrix& gate, const GroupedMatrix& up, const RowMap& rows, const float* x,
                    int64_t ldx, float* y, int64_t ldy, MatmulKernel kernel, void* stream);

// Rows per group the grouped GEMM needs (MoE sorting aligns to it).
inline constexpr int32_t kGemmRowAlign = 64;

// y[t * w.n_rows + r] = dot(row r of w, x + t * w.n_cols) for t < n_tokens: kernels/cpu's
// matmul. Auto: GEMV for n_tokens <= 8 or F32 weights, else GEMM.
void matmul(const DeviceMatrix& w, const float* x, int64_t n_tokens, float* y, void* stream,
            MatmulKernel kernel = MatmulKernel::Auto);

// silu(x) * u elementwise over n floats (for gate/up pairs of different types).
void swiglu_elementwise(const float* gate, const float* up, float* out, int64_t n, void* stream);

// Dequantizes a whole matrix into row-major F32 with hd::decode_unit: bit-identical to
// quant::dequantize_row (the GPU test checks it), and the device-side check of the decoders.
void dequantize_to_f32(const DeviceMatrix& w, float* d_out, void* stream);
// Dequantizes a whole matrix into row-major F16 (n_rows x n_cols) or BF16 bits.
void dequantize_to_f16(const DeviceMatrix& w, uint16_t* d_out, void* stream);
void dequantize_to_bf16(const DeviceMatrix& w, uint16_t* d_out, void* stream);
// Rounds n floats to F16 / BF16 bits.
void convert_to_f16(const float* x, uint16_t* out, int64_t n, void* stream);
void convert_to_bf16(const float* x, uint16_t* out, int64_t n, void* stream);

// A cuBLAS handle (created on construction, destroyed with the object).
class Cublas {
 public:
  Cublas();
  ~Cublas();
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;
  void* handle() const { return handle_; }

 private:
  void* handle_ = nullptr;
};

// y [m x n] = x [m x k] . w [n x k]^T, all row-major; x and w both F16 or both BF16 bits
// (ab_type), F32 accumulation and output: cublasGemmEx.
void cublas_gemm(Cublas& cublas, quant::GgmlType ab_type, const uint16_t* w, const uint16_t* x, int64_t m,
                 int64_t n, int64_t k, float* y, void* stream);

// matmul() for dense F16/BF16 weights through cuBLAS: x is first rounded to the weight type
// into x_work (n_tokens * w.n_cols elements).
void cublas_matmul(Cublas& cublas, const DeviceMatrix& w, const float* x, int64_t n_tokens, uint16_t* x_work,
                   float* y, void* stream);

}  // namespace scout::cuda

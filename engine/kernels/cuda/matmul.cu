// Host side of the matmul API (matmul_cuda.h): argument checks, kernel choice, and the small
// elementwise kernels (SwiGLU, dequantize-to-F16, F32 -> F16/BF16).
#include <cuda_runtime.h>

#include <string>

#include "engine/kernels/cuda/cuda_util.cuh"
#include "engine/kernels/cuda/matmul_cuda.h"
#include "engine/kernels/cuda/matmul_launch.cuh"

namespace scout::cuda {

using detail::as_stream;
using detail::check_launch;
using quant::GgmlType;

namespace {

bool needs_16_byte_rows(GgmlType t) {
  return t == GgmlType::Q4_K || t == GgmlType::F16 || t == GgmlType::BF16 || t == GgmlType::F32;
}

void check_matrix(const DeviceMatrix& w, const char* what) {
  if (!can_matmul(w.type)) throw Error(std::string(what) + ": weight type " + quant::type_label(w.type) + " not supported");
  if (!w.data) throw Error(std::string(what) + ": null weight pointer");
  if (w.n_cols % hd::kUnit != 0) throw Error(std::string(what) + ": row length must be a multiple of 8");
  const uintptr_t al = needs_16_byte_rows(w.type) ? 16 : 2;
  if (!detail::aligned(w.data, al) || w.row_bytes % al != 0)
    throw Error(std::string(what) + ": weight rows must be " + std::to_string(al) + "-byte aligned");
}

void check_activations(const float* x, int64_t ldx, const float* y, const char* what) {
  if (!x || !y) throw Error(std::string(what) + ": null activation or output pointer");
  if (!detail::aligned(x, 16) || ldx % 4 != 0)
    throw Error(std::string(what) + ": activations must be 16-byte aligned with a row stride divisible by 4");
}

hd::MatmulArgs make_args(const GroupedMatrix& w, const GroupedMatrix* w2, const RowMap& rows, const float* x,
                         int64_t ldx, float* y, int64_t ldy) {
  hd::MatmulArgs a;
  a.w = static_cast<const uint8_t*>(w.w.data);
  a.w2 = w2 ? static_cast<const uint8_t*>(w2->w.data) : nullptr;
  a.group_stride = w.group_stride;
  a.row_bytes = w.w.row_bytes;
  a.n_rows = w.w.n_rows;
  a.n_cols = w.w.n_cols;
  a.x = x;
  a.ldx = ldx;
  a.y = y;
  a.ldy = ldy;
  a.group_begin = rows.group_begin;
  a.n_groups = rows.group_begin ? rows.n_groups : 1;
  a.m = rows.m;
  a.src = rows.src;
  a.scale = rows.scale;
  a.dst = rows.dst;
  return a;
}

void run(const GroupedMatrix& w, const GroupedMatrix* w2, const RowMap& rows, const float* x, int64_t ldx, float* y,
         int64_t ldy, MatmulKernel kernel, void* stream, const char* what) {
  check_matrix(w.w, what);
  if (w2) {
    check_matrix(w2->w, what);
    if (w2->w.type != w.w.type || w2->w.n_rows != w.w.n_rows || w2->w.n_cols != w.w.n_cols ||
        w2->w.row_bytes != w.w.row_bytes || w2->group_stride != w.group_stride)
      throw Error(std::string(what) + ": gate and up must have the same type and shape");
  }
  check_activations(x, ldx, y, what);
  if (rows.m <= 0 || w.w.n_rows == 0) return;
  if (rows.group_begin && rows.n_groups <= 0) throw Error(std::string(what) + ": no groups");
  const int64_t max_group_rows = rows.max_group_rows > 0 ? rows.max_group_rows : rows.m;
  if (kernel == MatmulKernel::Auto)
    kernel = (max_group_rows <= hd::kGemvTokens || w.w.type == GgmlType::F32 || !detail::gemm_supports(w.w.type))
                 ? MatmulKernel::Gemv
                 : MatmulKernel::Gemm;
  hd::MatmulArgs a = make_args(w, w2, rows, x, ldx, y, ldy);
  int64_t slices = a.n_groups;
  if (rows.group_begin && rows.max_active_groups > 0 && rows.max_active_groups < a.n_groups) {
    a.compact_groups = true;
    slices = rows.max_active_groups;
  }
  if (kernel == MatmulKernel::Gemv)
    detail::launch_gemv(w.w.type, w2 != nullptr, a, max_group_rows, slices, as_stream(stream));
  else
    detail::launch_gemm(w.w.type, w2 != nullptr, a, rows.m, as_stream(stream));
}

__global__ void swiglu_kernel(const float* g, const float* u, float* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = hd::silu_mul(g[i], u[i]);
}

// kOut: 0 = F32, 1 = F16 bits, 2 = BF16 bits.
template <GgmlType T, int kOut, class O>
__global__ void dequant_kernel(const uint8_t* w, uint64_t row_bytes, int64_t n_rows, int64_t n_cols, O* out) {
  const int64_t units = n_cols / hd::kUnit, total = n_rows * units;
  for (int64_t q = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; q < total; q += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = q / units, u = q % units;
    float v[hd::kUnit];
    hd::decode_unit<T>(w + uint64_t(r) * row_bytes, u, v);
    O* o = out + r * n_cols + u * hd::kUnit;
#pragma unroll
    for (int e = 0; e < hd::kUnit; ++e) {
      if constexpr (kOut == 0) o[e] = v[e];
      else if constexpr (kOut == 1) o[e] = hd::f32_to_f16_bits(v[e]);
      else o[e] = hd::f32_to_bf16_bits(v[e]);
    }
  }
}

template <bool kBf16>
__global__ void convert_kernel(const float* x, uint16_t* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = kBf16 ? hd::f32_to_bf16_bits(x[i]) : hd::f32_to_f16_bits(x[i]);
}

unsigned elementwise_blocks(int64_t n) { return unsigned(std::min<int64_t>((n + 255) / 256, 4096)); }

template <int kOut, class O>
void dequantize_rows(const DeviceMatrix& w, O* out, void* stream) {
  check_matrix(w, "dequantize");
  const int64_t n = w.n_rows * (w.n_cols / hd::kUnit);
  if (n == 0) return;
  const unsigned blocks = elementwise_blocks(n);
  const auto* d = static_cast<const uint8_t*>(w.data);
  const cudaStream_t s = as_stream(stream);
  switch (w.type) {
    case GgmlType::F32: dequant_kernel<GgmlType::F32, kOut, O><<<blocks, 256, 0, s>>>(d, w.row_bytes, w.n_rows, w.n_cols, out); break;
    case GgmlType::F16: dequant_kernel<GgmlType::F16, kOut, O><<<blocks, 256, 0, s>>>(d, w.row_bytes, w.n_rows, w.n_cols, out); break;
    case GgmlType::BF16: dequant_kernel<GgmlType::BF16, kOut, O><<<blocks, 256, 0, s>>>(d, w.row_bytes, w.n_rows, w.n_cols, out); break;
    case GgmlType::Q8_0: dequant_kernel<GgmlType::Q8_0, kOut, O><<<blocks, 256, 0, s>>>(d, w.row_bytes, w.n_rows, w.n_cols, out); break;
    case GgmlType::Q4_K: dequant_kernel<GgmlType::Q4_K, kOut, O><<<blocks, 256, 0, s>>>(d, w.row_bytes, w.n_rows, w.n_cols, out); break;
    case GgmlType::Q6_K: dequant_kernel<GgmlType::Q6_K, kOut, O><<<blocks, 256, 0, s>>>(d, w.row_bytes, w.n_rows, w.n_cols, out); break;
    default: break;
  }
  check_launch("dequantize");
}

}  // namespace

bool can_matmul(GgmlType t) { return hd::unit_decodable(t); }

DeviceMatrix DeviceMatrix::rows(int64_t first, int64_t count) const {
  if (first < 0 || count < 0 || first + count > n_rows)
    throw Error("DeviceMatrix::rows: rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                ") outside a matrix of " + std::to_string(n_rows));
  DeviceMatrix m = *this;
  m.data = static_cast<const uint8_t*>(data) + uint64_t(first) * row_bytes;
  m.n_rows = count;
  return m;
}

DeviceMatrix make_device_matrix(GgmlType type, const void* d_data, int64_t n_cols, int64_t n_rows) {
  const auto bytes = quant::row_bytes(type, n_cols);
  if (!bytes)
    throw Error("a row of " + std::to_string(n_cols) + " elements is not a whole number of " +
                quant::type_label(type) + " blocks");
  DeviceMatrix m;
  m.type = type;
  m.data = d_data;
  m.n_cols = n_cols;
  m.n_rows = n_rows;
  m.row_bytes = *bytes;
  check_matrix(m, "make_device_matrix");
  return m;
}

void grouped_matmul(const GroupedMatrix& w, const RowMap& rows, const float* x, int64_t ldx, float* y, int64_t ldy,
                    MatmulKernel kernel, void* stream) {
  run(w, nullptr, rows, x, ldx, y, ldy, kernel, stream, "grouped_matmul");
}

void grouped_swiglu(const GroupedMatrix& gate, const GroupedMatrix& up, const RowMap& rows, const float* x,
                    int64_t ldx, float* y, int64_t ldy, MatmulKernel kernel, void* stream) {
  run(gate, &up, rows, x, ldx, y, ldy, kernel, stream, "grouped_swiglu");
}

void matmul(const DeviceMatrix& w, const float* x, int64_t n_tokens, float* y, void* stream, MatmulKernel kernel) {
  if (n_tokens <= 0) return;
  if (n_tokens > 0x7fffffff) throw Error("matmul: too many tokens");
  RowMap rows;
  rows.m = int32_t(n_tokens);
  run(GroupedMatrix{w, 0}, nullptr, rows, x, w.n_cols, y, w.n_rows, kernel, stream, "matmul");
}

void swiglu_elementwise(const float* gate, const float* up, float* out, int64_t n, void* stream) {
  if (n <= 0) return;
  swiglu_kernel<<<elementwise_blocks(n), 256, 0, as_stream(stream)>>>(gate, up, out, n);
  check_launch("swiglu_elementwise");
}

void dequantize_to_f32(const DeviceMatrix& w, float* d_out, void* stream) { dequantize_rows<0>(w, d_out, stream); }
void dequantize_to_f16(const DeviceMatrix& w, uint16_t* d_out, void* stream) { dequantize_rows<1>(w, d_out, stream); }
void dequantize_to_bf16(const DeviceMatrix& w, uint16_t* d_out, void* stream) { dequantize_rows<2>(w, d_out, stream); }

void convert_to_f16(const float* x, uint16_t* out, int64_t n, void* stream) {
  if (n <= 0) return;
  convert_kernel<false><<<elementwise_blocks(n), 256, 0, as_stream(stream)>>>(x, out, n);
  check_launch("convert_to_f16");
}

void convert_to_bf16(const float* x, uint16_t* out, int64_t n, void* stream) {
  if (n <= 0) return;
  convert_kernel<true><<<elementwise_blocks(n), 256, 0, as_stream(stream)>>>(x, out, n);
  check_launch("convert_to_bf16");
}

}  // namespace scout::cuda

#include "engine/kernels/cpu/matmul.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/kernels/cpu/qdot/qdot.h"
#include "engine/quant/dequantize.h"
#include "engine/util/cpu_features.h"
#include "engine/util/error.h"

namespace scout::kernels::cpu {
namespace {

// Rows dequantized together: their floats stay in L1/L2 while every token is dotted with them.
constexpr int64_t kRowBlock = 8;

// F32 rows can be read in place when suitably aligned (GGUF aligns tensor data to 32 bytes);
// every other type goes through dequantize_row.
bool reads_in_place(const WeightView& w) {
  return w.type == quant::GgmlType::F32 && reinterpret_cast<uintptr_t>(w.data) % alignof(float) == 0 &&
         w.row_bytes % sizeof(float) == 0;
}

}  // namespace

WeightView WeightView::rows(int64_t first, int64_t count) const {
  if (first < 0 || count < 0 || first + count > n_rows)
    throw Error("WeightView::rows: rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                ") outside a matrix of " + std::to_string(n_rows));
  WeightView v = *this;
  v.data = row(first);
  v.n_rows = count;
  return v;
}

WeightView make_weight_view(quant::GgmlType type, const void* data, int64_t n_cols, int64_t n_rows) {
  if (!quant::can_dequantize(type))
    throw Error("tensor type " + quant::type_label(type) + " is not supported by the CPU kernels");
  const auto bytes = quant::row_bytes(type, n_cols);
  if (!bytes)
    throw Error("a row of " + std::to_string(n_cols) + " elements is not a whole number of " +
                quant::type_label(type) + " blocks");
  WeightView v;
  v.type = type;
  v.data = static_cast<const uint8_t*>(data);
  v.n_cols = n_cols;
  v.n_rows = n_rows;
  v.row_bytes = *bytes;
  return v;
}

namespace {
// The lanes of `dot`. Each step is one fused multiply-add (std::fma: one rounding), so the
// result is the same whether the compiler emits vfmadd (the FMA-targeted copy below) or
// calls the C library's fma; only the speed differs.
[[gnu::always_inline]] inline float dot_lanes(const float* a, const float* b, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  const int64_t n8 = n - n % 8;
  for (int64_t i = 0; i < n8; i += 8)
    for (int j = 0; j < 8; ++j) lane[j] = std::fma(a[i + j], b[i + j], lane[j]);
  float sum = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
  for (int64_t i = n8; i < n; ++i) sum = std::fma(a[i], b[i], sum);
  return sum;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) float dot_fma_hw(const float* a, const float* b, int64_t n) {
  return dot_lanes(a, b, n);
}
#endif
}  // namespace

float dot(const float* a, const float* b, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (cpu_has_avx2_fma_f16c()) return dot_fma_hw(a, b, n);
#endif
  return dot_lanes(a, b, n);
}

void get_row(const WeightView& w, int64_t r, float* out) {
  if (r < 0 || r >= w.n_rows)
    throw Error("row " + std::to_string(r) + " outside a matrix of " + std::to_string(w.n_rows) + " rows");
  quant::dequantize_row(w.type, w.row(r), out, w.n_cols);
}

namespace {
std::atomic<MatmulPath>& path_setting() {
  static std::atomic<MatmulPath> path{[] {
    const char* env = std::getenv("SCOUT_MATMUL");
    return env && std::string(env) == "reference" ? MatmulPath::Reference : MatmulPath::Fast;
  }()};
  return path;
}
}  // namespace

void set_matmul_path(MatmulPath p) { path_setting().store(p); }
MatmulPath matmul_path() { return path_setting().load(); }

void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y) {
  if (n_tokens <= 0 || w.n_rows == 0) return;
  if (matmul_path() == MatmulPath::Fast && qdot::supported(w.type)) {
    qdot::matmul_quantized({w.type, w.data, w.n_cols, w.n_rows, w.row_bytes}, x, n_tokens, y);
    return;
  }
  matmul_reference(w, x, n_tokens, y);
}

void matmul_reference(const WeightView& w, const float* x, int64_t n_tokens, float* y) {
  if (n_tokens <= 0 || w.n_rows == 0) return;
  const int64_t k = w.n_cols, n_rows = w.n_rows;
  const bool in_place = reads_in_place(w);
  const int64_t n_blocks = (n_rows + kRowBlock - 1) / kRowBlock;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n_blocks), [&](const tbb::blocked_range<int64_t>& range) {
    std::vector<float> rows(in_place ? 0 : size_t(kRowBlock * k));
    const float* row_ptr[kRowBlock];
    for (int64_t b = range.begin(); b != range.end(); ++b) {
      const int64_t r0 = b * kRowBlock, nr = std::min(kRowBlock, n_rows - r0);
      for (int64_t i = 0; i < nr; ++i) {
        if (in_place) {
          row_ptr[i] = reinterpret_cast<const float*>(w.row(r0 + i));
        } else {
          quant::dequantize_row(w.type, w.row(r0 + i), rows.data() + i * k, k);
          row_ptr[i] = rows.data() + i * k;
        }
      }
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + t * k;
        float* yt = y + t * n_rows + r0;
        for (int64_t i = 0; i < nr; ++i) yt[i] = dot(row_ptr[i], xt, k);
      }
    }
  });
}

}  // namespace scout::kernels::cpu

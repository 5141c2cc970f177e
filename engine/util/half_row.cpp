#include "engine/util/half_row.h"

#include <immintrin.h>

#include <cstring>

#include "engine/util/half.h"

namespace scout {
namespace {

void fp16_row_portable(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
}

// F16C converts exactly (and quiets NaNs as the portable path does), 8 values per instruction.
__attribute__((target("avx,f16c"))) void fp16_row_f16c(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  fp16_row_portable(src + i, dst + i, n - i);
}

void fp32_row_portable(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

__attribute__((target("avx,f16c"))) void fp32_row_f16c(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  fp32_row_portable(src + i, dst + i, n - i);
}

bool has_f16c() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
}

using RowFn = void (*)(const uint16_t*, float*, int64_t);
RowFn pick() { return has_f16c() ? fp16_row_f16c : fp16_row_portable; }

}  // namespace

void fp16_to_fp32_row(const void* src, float* dst, int64_t n) {
  static const RowFn fn = pick();
  // GGUF data is only 2-byte aligned at best: the SIMD path loads unaligned, the portable
  // one needs an aligned view, so copy through a small buffer when src is odd.
  if (reinterpret_cast<uintptr_t>(src) % alignof(uint16_t) == 0) {
    fn(static_cast<const uint16_t*>(src), dst, n);
    return;
  }
  uint16_t buf[256];
  for (int64_t i = 0; i < n; i += 256) {
    const int64_t m = n - i < 256 ? n - i : 256;
    std::memcpy(buf, static_cast<const uint8_t*>(src) + 2 * i, size_t(m) * 2);
    fn(buf, dst + i, m);
  }
}

void fp32_to_fp16_row(const float* src, uint16_t* dst, int64_t n) {
  static const auto fn = has_f16c() ? fp32_row_f16c : fp32_row_portable;
  fn(src, dst, n);
}

}  // namespace scout

#include "engine/kernels/cpu/activation.h"

#include <cmath>

#include "engine/kernels/cpu/simd_exp.h"
#include "engine/util/cpu_features.h"

namespace scout::kernels::cpu {
namespace {

SCOUT_AVX2 inline __m256 silu_mul8(__m256 g, __m256 u) {
  const __m256 e = simd::exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

SCOUT_AVX2 void silu_mul_avx2(float* g, const float* u, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(g + i, silu_mul8(_mm256_loadu_ps(g + i), _mm256_loadu_ps(u + i)));
  if (i == n) return;
  float gt[8] = {}, ut[8] = {};
  for (int64_t j = i; j < n; ++j) gt[j - i] = g[j], ut[j - i] = u[j];
  _mm256_storeu_ps(gt, silu_mul8(_mm256_loadu_ps(gt), _mm256_loadu_ps(ut)));
  for (int64_t j = i; j < n; ++j) g[j] = gt[j - i];
}

}  // namespace

void silu_mul_reference(float* g, const float* u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void silu_mul(float* g, const float* u, int64_t n) {
  if (cpu_has_avx2_fma_f16c())
    silu_mul_avx2(g, u, n);
  else
    silu_mul_reference(g, u, n);
}

}  // namespace scout::kernels::cpu

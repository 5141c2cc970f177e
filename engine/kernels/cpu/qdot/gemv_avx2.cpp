// Single-token products for the quantized types (GEMV: decoding one sequence), AVX2 (the
// driver is gemv_common.inc).
//
// The tiled kernels decode 8 rows into class-quad order so that up to 32 tokens can share the
// decoding; with one token there is nothing to share and that reshuffling is pure cost. Here
// each row is read once, front to back (one sequential stream per thread, which the hardware
// prefetcher follows), its bytes used in their natural order straight from the load: nibbles
// masked, maddubs against the Q8_K activation, madd with the sub-block scale.
//
// Same bits as the tiles and the reference: the per-superblock integer sum is exact in any
// order, and the float steps (d * total into one accumulator, the min term into another) are
// the reference's (reference.cpp, KAccumulator), one IEEE operation at a time.
// Same anonymous-namespace rule as kernels_avx2.cpp.
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "engine/kernels/cpu/qdot/internal.h"
#include "engine/quant/blocks.h"
#include "engine/util/half.h"

namespace scout::kernels::cpu::qdot::detail {

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace {

#include "engine/kernels/cpu/qdot/simd_common.inc"

#include "engine/kernels/cpu/qdot/gemv_common.inc"

struct Avx2GemvOps {
  // One Q4_K (kHigh = false) or Q5_K superblock: the scaled integer sum and the min integer.
  template <bool kHigh>
  static int32_t q45k(const uint8_t* blk, const Act& a, int32_t& summ) {
    constexpr int kQs = kHigh ? 48 : 16;
    const K45Head head = k45_head<kHigh>(blk, a, summ);
    const uint8_t* sc = head.sc;
    __m256i acc = _mm256_setzero_si256();
    for (int g = 0; g < 4; ++g) {
      __m256i lo, hi;
      q45k_values<kHigh>(blk + kQs, head.qh, g, lo, hi);
      const __m256i plo = _mm256_maddubs_epi16(lo, loadu256(a.q + 64 * g));
      const __m256i phi = _mm256_maddubs_epi16(hi, loadu256(a.q + 64 * g + 32));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(plo, _mm256_set1_epi16(sc[2 * g])));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(phi, _mm256_set1_epi16(sc[2 * g + 1])));
    }
    return hsum_i32(acc);
  }

  // One Q6_K superblock: sum scale * (q - 32) * a, as sum scale * q * a (q unsigned, the
  // maddubs operand) minus 32 * sum_j scale_j * bsums_j.
  static int32_t q6k(const uint8_t* blk, const Act& a) {
    constexpr int kScales = 192;
    const int8_t* sc = reinterpret_cast<const int8_t*>(blk + kScales);
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      __m256i q[4];
      q6k_values(blk, h, q);
      for (int k = 0; k < 4; ++k) {
        // Elements 128h + 32k + [0, 32): sub-blocks j and j + 1 of 16 elements each.
        const int j = 8 * h + 2 * k;
        const __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[j + 1]), _mm_set1_epi16(sc[j]));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], loadu256(a.q + 128 * h + 32 * k)), s));
      }
    }
    return hsum_i32(acc) - q6k_offset(sc, a);
  }
};

}  // namespace

#pragma GCC pop_options

GemvFn gemv_fn_avx2(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_K: return gemv_rows<GgmlType::Q4_K, Avx2GemvOps>;
    case GgmlType::Q5_K: return gemv_rows<GgmlType::Q5_K, Avx2GemvOps>;
    case GgmlType::Q6_K: return gemv_rows<GgmlType::Q6_K, Avx2GemvOps>;
    case GgmlType::Q4_0: return gemv_b_rows<GgmlType::Q4_0>;
    case GgmlType::Q4_1: return gemv_b_rows<GgmlType::Q4_1>;
    case GgmlType::Q5_0: return gemv_b_rows<GgmlType::Q5_0>;
    case GgmlType::Q5_1: return gemv_b_rows<GgmlType::Q5_1>;
    case GgmlType::Q8_0: return gemv_b_rows<GgmlType::Q8_0>;
    default: return nullptr;
  }
}

}  // namespace scout::kernels::cpu::qdot::detail

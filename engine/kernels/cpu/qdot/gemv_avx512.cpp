// Single-token K-quant products with 512-bit vectors (AVX-512 BW + VNNI): 64 weights per
// step. A chunk's low- and high-nibble halves (or two Q6_K quarters) form one vector against
// 64 contiguous activations; vpdpwssd applies the sub-block scales (picked by vpermw from the
// superblock's scales) and accumulates in one instruction.
//
// The integer sums are the AVX2 kernel's (exact), the float steps are gemv_common.inc's: the
// same bits as the reference. Same anonymous-namespace rule as kernels_avx2.cpp.
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "engine/kernels/cpu/qdot/internal.h"
#include "engine/quant/blocks.h"
#include "engine/util/half.h"

namespace scout::kernels::cpu::qdot::detail {

#pragma GCC push_options
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")

namespace {

#include "engine/kernels/cpu/qdot/simd_common.inc"

#include "engine/kernels/cpu/qdot/gemv_common.inc"

// vpermw indices: lane l of the result takes scale `index[l]`.
struct ScaleIndex {
  alignas(64) int16_t k45[4][32];    // chunk g: lanes 0-15 sub-block 2g, 16-31 sub-block 2g + 1
  alignas(64) int16_t k6[2][2][32];  // half h, pair p: lane l -> sub-block 8h + 4p + l / 8
};

const ScaleIndex& scale_index() {
  static const ScaleIndex idx = [] {
    ScaleIndex x{};
    for (int l = 0; l < 32; ++l) {
      for (int g = 0; g < 4; ++g) x.k45[g][l] = int16_t(2 * g + (l >= 16 ? 1 : 0));
      for (int h = 0; h < 2; ++h)
        for (int p = 0; p < 2; ++p) x.k6[h][p][l] = int16_t(8 * h + 4 * p + l / 8);
    }
    return x;
  }();
  return idx;
}

inline __m512i pair512(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

struct Avx512GemvOps {
  template <bool kHigh>
  static int32_t q45k(const uint8_t* blk, const Act& a, int32_t& summ) {
    constexpr int kQs = kHigh ? 48 : 16;
    const K45Head head = k45_head<kHigh>(blk, a, summ);
    const uint8_t* sc = head.sc;
    // The 8 scales as int16, repeated over the vector; vpermw picks each lane's.
    const __m512i scales = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc))));
    const ScaleIndex& idx = scale_index();
    __m512i acc = _mm512_setzero_si512();
    for (int g = 0; g < 4; ++g) {
      __m256i lo, hi;
      q45k_values<kHigh>(blk + kQs, head.qh, g, lo, hi);
      const __m512i p = _mm512_maddubs_epi16(pair512(lo, hi), _mm512_loadu_si512(a.q + 64 * g));
      acc = _mm512_dpwssd_epi32(acc, p, _mm512_permutexvar_epi16(_mm512_load_si512(idx.k45[g]), scales));
    }
    return _mm512_reduce_add_epi32(acc);
  }

  static int32_t q6k(const uint8_t* blk, const Act& a) {
    const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
    const __m512i scales = _mm512_broadcast_i64x4(_mm256_cvtepi8_epi16(loadu128(sc)));
    const ScaleIndex& idx = scale_index();
    __m512i acc = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      __m256i q[4];
      q6k_values(blk, h, q);
      for (int p = 0; p < 2; ++p) {
        const __m512i prod = _mm512_maddubs_epi16(pair512(q[2 * p], q[2 * p + 1]), _mm512_loadu_si512(a.q + 128 * h + 64 * p));
        acc = _mm512_dpwssd_epi32(acc, prod, _mm512_permutexvar_epi16(_mm512_load_si512(idx.k6[h][p]), scales));
      }
    }
    return _mm512_reduce_add_epi32(acc) - q6k_offset(sc, a);
  }
};

}  // namespace

#pragma GCC diagnostic pop
#pragma GCC pop_options

GemvFn gemv_fn_avx512(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_K: return gemv_rows<GgmlType::Q4_K, Avx512GemvOps>;
    case GgmlType::Q5_K: return gemv_rows<GgmlType::Q5_K, Avx512GemvOps>;
    case GgmlType::Q6_K: return gemv_rows<GgmlType::Q6_K, Avx512GemvOps>;
    default: return gemv_fn_avx2(t);
  }
}

}  // namespace scout::kernels::cpu::qdot::detail

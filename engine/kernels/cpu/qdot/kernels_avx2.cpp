// AVX2 kernels (with FMA and F16C; FMA only for the float weight types: see qdot.h on numerics).
//
// Everything between the target pragmas is in an anonymous namespace: nothing compiled for
// AVX2 can be picked by the linker for code that runs before the CPU check. The exported
// lookup functions at the bottom are compiled for the baseline ISA.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/kernels/cpu/qdot/internal.h"
#include "engine/quant/blocks.h"
#include "engine/util/half.h"

namespace scout::kernels::cpu::qdot::detail {

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace {

#include "engine/kernels/cpu/qdot/simd_common.inc"

// The reference's 8 class lanes from the two chunk-half accumulators: lo holds classes 0-3
// in both 128-bit lanes, hi classes 4-7.
inline __m256i fold_classes(__m256i lo, __m256i hi) {
  return _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31));
}

struct Avx2Ops {
  static constexpr bool kQ8Biased = false;

  // Sum over a superblock of scale * (u8 x s8 products) per class. For Q6_K the activation
  // is the unsigned operand (a + 128), for Q4_K/Q5_K the weight is.
  template <bool kActUnsigned>
  static __m256i class_sums(const KRow& w, const __m256i* a) {
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      const __m256i s = _mm256_load_si256(reinterpret_cast<const __m256i*>(w.scale[k]));
      const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w.q + 64 * k));
      const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w.q + 64 * k + 32));
      const __m256i p0 = kActUnsigned ? _mm256_maddubs_epi16(a[2 * k], w0) : _mm256_maddubs_epi16(w0, a[2 * k]);
      const __m256i p1 = kActUnsigned ? _mm256_maddubs_epi16(a[2 * k + 1], w1) : _mm256_maddubs_epi16(w1, a[2 * k + 1]);
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(p0, s));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(p1, s));
    }
    return fold_classes(lo, hi);
  }

  // The part of the class sums that the +128 activation offset adds: 128 * sum(scale * q).
  static void q6k_correction(KRow& w) {
    __m256i a[8];
    for (auto& v : a) v = _mm256_set1_epi8(char(0x80));
    store256(w.corr, class_sums<true>(w, a));
  }

  template <GgmlType T>
  static void k_token(const KTile& tile, const PackedK& act, float* sums, float* sumf) {
    constexpr bool kQ6 = T == GgmlType::Q6_K;
    __m256i a[8];
    for (int i = 0; i < 8; ++i) a[i] = _mm256_load_si256(reinterpret_cast<const __m256i*>(act.q) + i);
    __m256i aux[kTileRows];
    for (int r = 0; r < kTileRows; ++r) {
      aux[r] = class_sums<kQ6>(tile.rows[r], a);
      if constexpr (kQ6) aux[r] = _mm256_sub_epi32(aux[r], _mm256_load_si256(reinterpret_cast<const __m256i*>(tile.rows[r].corr)));
    }
    k_add_totals(sums, tile.d, act.d, aux);
    if constexpr (!kQ6) k_min_terms(tile, act, sumf);
  }

  template <GgmlType T>
  static void b_chunk_token(const BTile& tile, const PackedB& act, int n_blocks, float* acc_rows) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc = _mm256_load_ps(acc_rows);
    for (int b = 0; b < n_blocks; ++b) {
      const __m256i a = _mm256_load_si256(reinterpret_cast<const __m256i*>(act.q + 32 * b));
      __m256i v[kTileRows];
      for (int r = 0; r < kTileRows; ++r) {
        const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(tile.q[r] + 32 * b));
        __m256i p;
        if constexpr (T == GgmlType::Q8_0) {
          // Signed x signed: |w| times a with w's sign (exact while a != -128).
          const __m256i wabs = _mm256_load_si256(reinterpret_cast<const __m256i*>(tile.qabs[r] + 32 * b));
          p = _mm256_maddubs_epi16(wabs, _mm256_sign_epi8(a, w));
        } else {
          p = _mm256_maddubs_epi16(w, a);
        }
        v[r] = _mm256_madd_epi16(p, ones);
      }
      acc = b_block_update<T>(acc, hsum_8x8(v), tile, act, b);
    }
    _mm256_store_ps(acc_rows, acc);
  }
};

// ---------------------------------------------------------------- activation quantizers
// Byte-exact with quant::quantize_row (engine/quant/quantize.cpp); see the comments there.

// max |x[i]| over n (a multiple of 8) floats.
inline float abs_max(const float* x, int n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

// The low bytes of 32 int32 (4 vectors), in order: C's conversion to int8_t, which wraps.
inline __m256i low_bytes_32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ff = _mm256_set1_epi32(0xFF);
  const __m256i ab = _mm256_packus_epi32(_mm256_and_si256(a, ff), _mm256_and_si256(b, ff));
  const __m256i cd = _mm256_packus_epi32(_mm256_and_si256(c, ff), _mm256_and_si256(d, ff));
  return _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// (int8_t)v sign-extended back to int32.
inline __m256i wrap_int8(__m256i v) { return _mm256_srai_epi32(_mm256_slli_epi32(v, 24), 24); }

// The reference's trunc_to_int(roundf(v)): round half away from zero, then truncate, with
// INT_MIN for NaN and out-of-range values (as cvttps2dq gives).
inline __m256i round_half_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));
  const __m256 step = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));
  const __m256 r = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ), step));
  return _mm256_cvttps_epi32(r);
}

// The reference's nearest_int, bit for bit (round half to even for |v| < 2^22, and the same
// defined garbage beyond).
inline __m256i nearest_int(__m256 v) {
  const __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.f)));
  return _mm256_sub_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}

template <bool kWithSum>
void quantize_q8_0_or_1(const float* x, void* out, int64_t n) {
  constexpr int kBytes = kWithSum ? 36 : 34;
  auto* dst = static_cast<uint8_t*>(out);
  for (int64_t ib = 0; ib < n / 32; ++ib, x += 32, dst += kBytes) {
    const float d = abs_max(x, 32) / 127;
    const float id = d ? 1.0f / d : 0.0f;
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), _mm256_set1_ps(id)));
    const uint16_t dh = scout::fp32_to_fp16(d);
    std::memcpy(dst, &dh, 2);
    if constexpr (kWithSum) {
      const __m256i s = _mm256_add_epi32(_mm256_add_epi32(wrap_int8(q[0]), wrap_int8(q[1])),
                                         _mm256_add_epi32(wrap_int8(q[2]), wrap_int8(q[3])));
      __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
      s4 = _mm_hadd_epi32(s4, s4);
      s4 = _mm_hadd_epi32(s4, s4);
      const int sum = _mm_cvtsi128_si32(s4);
      const uint16_t sh = scout::fp32_to_fp16(sum * d);
      std::memcpy(dst + 2, &sh, 2);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + kBytes - 32), low_bytes_32(q[0], q[1], q[2], q[3]));
  }
}

void quantize_q8_k(const float* x, void* out, int64_t n) {
  auto* dst = static_cast<uint8_t*>(out);
  for (int64_t ib = 0; ib < n / 256; ++ib, x += 256, dst += sizeof(scout::quant::BlockQ8_K)) {
    scout::quant::BlockQ8_K b{};
    const float amax = abs_max(x, 256);
    // The reference keeps the first element of largest magnitude, with its sign.
    float max = 0.0f;
    const __m256 sign = _mm256_set1_ps(-0.0f), va = _mm256_set1_ps(amax);
    for (int i = 0; amax != 0.0f && i < 256; i += 8) {
      const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), va, _CMP_EQ_OQ));
      if (hit) {
        max = x[i + __builtin_ctz(unsigned(hit))];
        break;
      }
    }
    if (max != 0.0f) {
      const float iscale = -127.f / max;
      for (int i = 0; i < 256; i += 32) {
        __m256i q[4];
        for (int k = 0; k < 4; ++k) {
          const __m256 v = _mm256_mul_ps(_mm256_set1_ps(iscale), _mm256_loadu_ps(x + i + 8 * k));
          q[k] = _mm256_min_epi32(nearest_int(v), _mm256_set1_epi32(127));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.qs + i), low_bytes_32(q[0], q[1], q[2], q[3]));
      }
      for (int j = 0; j < 16; ++j) {
        int sum = 0;
        for (int i = 0; i < 16; ++i) sum += b.qs[16 * j + i];
        b.bsums[j] = int16_t(sum);
      }
      b.d = 1 / iscale;
    }
    std::memcpy(dst, &b, sizeof(b));
  }
}

}  // namespace

#pragma GCC pop_options

// ---------------------------------------------------------------- lookup (baseline ISA)

TileFn tile_fn_avx2(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: return b_tile<GgmlType::Q4_0, Avx2Ops>;
    case GgmlType::Q4_1: return b_tile<GgmlType::Q4_1, Avx2Ops>;
    case GgmlType::Q5_0: return b_tile<GgmlType::Q5_0, Avx2Ops>;
    case GgmlType::Q5_1: return b_tile<GgmlType::Q5_1, Avx2Ops>;
    case GgmlType::Q8_0: return b_tile<GgmlType::Q8_0, Avx2Ops>;
    case GgmlType::Q4_K: return k_tile<GgmlType::Q4_K, Avx2Ops>;
    case GgmlType::Q5_K: return k_tile<GgmlType::Q5_K, Avx2Ops>;
    case GgmlType::Q6_K: return k_tile<GgmlType::Q6_K, Avx2Ops>;
    case GgmlType::F32: return float_tile<GgmlType::F32, float_tile_chunked<GgmlType::F32, 4, 2>>;
    case GgmlType::F16: return float_tile<GgmlType::F16, float_tile_chunked<GgmlType::F16, 4, 2>>;
    case GgmlType::BF16: return float_tile<GgmlType::BF16, float_tile_chunked<GgmlType::BF16, 4, 2>>;
    default: return nullptr;
  }
}

QuantRowFn quant_fn_avx2(GgmlType act_type) {
  switch (act_type) {
    case GgmlType::Q8_0: return quantize_q8_0_or_1<false>;
    case GgmlType::Q8_1: return quantize_q8_0_or_1<true>;
    case GgmlType::Q8_K: return quantize_q8_k;
    default: return nullptr;
  }
}

}  // namespace scout::kernels::cpu::qdot::detail

// AVX-512 kernels (F, BW, VL, DQ and VNNI: Ice Lake, Sapphire Rapids, Zen 4 and later).
//
// The integer inner products use 512-bit vectors and VNNI (vpdpwssd for the K-quant scale
// step, vpdpbusd for the 32-element block types); decoding, the float steps (8 lanes, as the
// reference) and the activation quantizers are the AVX2 code. Float weights keep
// kernels::cpu::dot's 8-lane order: a 512-bit register holds two rows' 8 lanes (float_tile_zmm).
// Same anonymous-namespace rule as kernels_avx2.cpp.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/kernels/cpu/qdot/internal.h"
#include "engine/quant/blocks.h"
#include "engine/util/half.h"

namespace scout::kernels::cpu::qdot::detail {

#pragma GCC push_options
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on its own _mm512_undefined helpers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")

namespace {

#include "engine/kernels/cpu/qdot/simd_common.inc"

// Per-vector integer sums of 8 vectors that each hold two blocks (8 int32 lanes each):
// block0[i] / block1[i] = sum of the first / second half of v[i].
inline void hsum_8x2x8(const __m512i* v, __m256i& block0, __m256i& block1) {
  __m512i t[4];
  for (int i = 0; i < 4; ++i)  // per 128-bit lane: [v2i 0+2, v2i+1 0+2, v2i 1+3, v2i+1 1+3]
    t[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
  // Per 128-bit lane: the lane's sum for vectors 0-3 (u0) and 4-7 (u1).
  const __m512i u0 = _mm512_add_epi32(_mm512_unpacklo_epi64(t[0], t[1]), _mm512_unpackhi_epi64(t[0], t[1]));
  const __m512i u1 = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2], t[3]), _mm512_unpackhi_epi64(t[2], t[3]));
  // Lanes 0,1 of each vector are block 0, lanes 2,3 block 1.
  const __m512i even = _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(2, 0, 2, 0));
  const __m512i odd = _mm512_shuffle_i32x4(u0, u1, _MM_SHUFFLE(3, 1, 3, 1));
  const __m512i s = _mm512_add_epi32(even, odd);  // [b0 v0-3, b1 v0-3, b0 v4-7, b1 v4-7]
  const __m512i ordered = _mm512_shuffle_i32x4(s, s, _MM_SHUFFLE(3, 1, 2, 0));
  block0 = _mm512_castsi512_si256(ordered);
  block1 = _mm512_extracti64x4_epi64(ordered, 1);
}

struct Avx512Ops {
  static constexpr bool kQ8Biased = true;  // Q8_0 weights stored as q + 128 for vpdpbusd

  // As Avx2Ops::class_sums; one 512-bit vector per 64-element chunk, whose 128-bit lanes hold
  // classes 0-3, 0-3, 4-7, 4-7.
  template <bool kActUnsigned>
  static __m256i class_sums(const KRow& w, const __m512i* a) {
    __m512i acc = _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) {
      const __m512i s = _mm512_broadcast_i64x4(_mm256_load_si256(reinterpret_cast<const __m256i*>(w.scale[k])));
      const __m512i wq = _mm512_load_si512(w.q + 64 * k);
      const __m512i p = kActUnsigned ? _mm512_maddubs_epi16(a[k], wq) : _mm512_maddubs_epi16(wq, a[k]);
      acc = _mm512_dpwssd_epi32(acc, p, s);
    }
    const __m512i t = _mm512_shuffle_i32x4(acc, acc, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm256_add_epi32(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64(t, 1));
  }

  static void q6k_correction(KRow& w) {
    __m512i a[4];
    for (auto& v : a) v = _mm512_set1_epi8(char(0x80));
    store256(w.corr, class_sums<true>(w, a));
  }

  template <GgmlType T>
  static void k_token(const KTile& tile, const PackedK& act, float* sums, float* sumf) {
    constexpr bool kQ6 = T == GgmlType::Q6_K;
    __m512i a[4];
    for (int i = 0; i < 4; ++i) a[i] = _mm512_loadu_si512(act.q + 64 * i);
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
    __m256 acc = _mm256_load_ps(acc_rows);
    for (int b = 0; b < n_blocks; b += 2) {
      const __m512i a = _mm512_loadu_si512(act.q + 32 * b);
      __m512i v[kTileRows];
      for (int r = 0; r < kTileRows; ++r)
        v[r] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_load_si512(tile.q[r] + 32 * b), a);
      __m256i s[2];
      hsum_8x2x8(v, s[0], s[1]);
      for (int k = 0; k < 2 && b + k < n_blocks; ++k) {
        // Q8_0 weights were biased by +128: remove 128 * sum(a).
        if constexpr (T == GgmlType::Q8_0) s[k] = _mm256_sub_epi32(s[k], _mm256_set1_epi32(128 * act.qsum[b + k]));
        acc = b_block_update<T>(acc, s[k], tile, act, b + k);
      }
    }
    _mm256_store_ps(acc_rows, acc);
  }
};

// The chunked float tile on 512-bit vectors: one register holds two rows' 8 lanes (rows 2p
// and 2p + 1) for one token, so 16 registers hold all 8 rows x 4 tokens and each activation
// vector (broadcast to both halves) is loaded once per chunk. Every lane adds the same
// products in the same order as in float_tile_chunked, so the bits are the same. (Zen 4, 1
// thread, in L1: 108 -> 116 GFLOP/s against 4 rows x 4 tokens of ymm.)
template <GgmlType T>
void float_tile_zmm(const TileJob& job) {
  constexpr int kT = 4, kPairs = kTileRows / 2;
  alignas(64) float wbuf[kFloatChunk / 8][kTileRows][8];  // [8 columns][row][lane]
  FloatTileState<kT> st(job);
  for (int64_t c0 = 0; c0 < st.n8; c0 += kFloatChunk) {
    const int64_t blocks = std::min<int64_t>(kFloatChunk, st.n8 - c0) / 8;
    for (int r = 0; r < kTileRows; ++r)
      for (int64_t b = 0; b < blocks; ++b) _mm256_store_ps(wbuf[b][r], load_w8<T>(st.w[r], c0 + 8 * b));
    SpreadPrefetch prefetch = chunk_prefetch<T>(job, c0, st.n8, (job.n_tokens + kT - 1) / kT);
    for (int t0 = 0; t0 < job.n_tokens; t0 += kT) {
      prefetch.step();
      __m512 a[kPairs][kT];
      for (int p = 0; p < kPairs; ++p)
        for (int j = 0; j < kT; ++j) a[p][j] = c0 == 0 ? _mm512_setzero_ps() : _mm512_load_ps(st.acc[t0 + j][2 * p]);
      for (int64_t b = 0; b < blocks; ++b) {
        __m512 xv[kT];
        for (int j = 0; j < kT; ++j) xv[j] = _mm512_broadcast_f32x8(_mm256_loadu_ps(st.x[t0 + j] + c0 + 8 * b));
        for (int p = 0; p < kPairs; ++p) {
          const __m512 wv = _mm512_load_ps(wbuf[b][2 * p]);
          for (int j = 0; j < kT; ++j) a[p][j] = _mm512_fmadd_ps(wv, xv[j], a[p][j]);
        }
      }
      for (int p = 0; p < kPairs; ++p)
        for (int j = 0; j < kT; ++j) _mm512_store_ps(st.acc[t0 + j][2 * p], a[p][j]);
    }
  }
  st.template finish<T>(job);
}

}  // namespace

#pragma GCC diagnostic pop
#pragma GCC pop_options

TileFn tile_fn_avx512(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: return b_tile<GgmlType::Q4_0, Avx512Ops>;
    case GgmlType::Q4_1: return b_tile<GgmlType::Q4_1, Avx512Ops>;
    case GgmlType::Q5_0: return b_tile<GgmlType::Q5_0, Avx512Ops>;
    case GgmlType::Q5_1: return b_tile<GgmlType::Q5_1, Avx512Ops>;
    case GgmlType::Q8_0: return b_tile<GgmlType::Q8_0, Avx512Ops>;
    case GgmlType::Q4_K: return k_tile<GgmlType::Q4_K, Avx512Ops>;
    case GgmlType::Q5_K: return k_tile<GgmlType::Q5_K, Avx512Ops>;
    case GgmlType::Q6_K: return k_tile<GgmlType::Q6_K, Avx512Ops>;
    case GgmlType::F32: return float_tile<GgmlType::F32, float_tile_zmm<GgmlType::F32>>;
    case GgmlType::F16: return float_tile<GgmlType::F16, float_tile_zmm<GgmlType::F16>>;
    case GgmlType::BF16: return float_tile<GgmlType::BF16, float_tile_zmm<GgmlType::BF16>>;
    default: return nullptr;
  }
}

QuantRowFn quant_fn_avx512(GgmlType act_type) { return quant_fn_avx2(act_type); }

}  // namespace scout::kernels::cpu::qdot::detail

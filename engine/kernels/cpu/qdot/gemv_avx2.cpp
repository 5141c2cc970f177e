// Single-token products for the quantized types (GEMV: decoding one sequence), AVX2.
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

#include <cmath>
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

using scout::quant::BlockQ8_K;

// Q8_K activation block: d, 256 quants, 16 sums of 16 quants.
struct Act {
  float d;
  const int8_t* q;
  const int16_t* bsums;
};

inline Act act_block(const uint8_t* p) {
  Act a;
  std::memcpy(&a.d, p + offsetof(BlockQ8_K, d), 4);
  a.q = reinterpret_cast<const int8_t*>(p + offsetof(BlockQ8_K, qs));
  a.bsums = reinterpret_cast<const int16_t*>(p + offsetof(BlockQ8_K, bsums));
  return a;
}

// The 8 mins (bytes of m8) as 16 int16 lanes, each twice: the madd partner of a Q8_K block's
// 16 bsums, so that madd gives the parts of the min term sum_j bsums[j] * m[j / 2].
inline __m256i min_pairs(uint64_t m8) {
  const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(int64_t(m8)));
  return _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
}

// sum_j bsums[j] * m[j / 2] (the Q4_K/Q5_K min term's integer).
inline int32_t min_sum(const Act& a, uint64_t m8) { return hsum_i32(_mm256_madd_epi16(loadu256(a.bsums), min_pairs(m8))); }

// Q6_K's offset term: 32 * sum_j scale_j * bsums_j (its values are taken unsigned, q = w + 32).
inline int32_t q6k_offset(const int8_t* scales, const Act& a) {
  return 32 * hsum_i32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(loadu128(scales)), loadu256(a.bsums)));
}

// Asks for the weight bytes kPrefetchDistance ahead of [p, p + n): each thread reads its
// rows front to back, and the hardware prefetcher alone keeps too few lines in flight for
// one core to reach its share of the memory bandwidth.
constexpr uint64_t kPrefetchDistance = 4096;
inline void prefetch_ahead(const uint8_t* p, uint64_t n) {
  for (uint64_t off = 0; off < n; off += 64) _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetchDistance + off), _MM_HINT_T0);
}

// One Q4_K (kHigh = false) or Q5_K superblock: the scaled integer sum and the min integer.
template <bool kHigh>
inline int32_t q45k_superblock(const uint8_t* blk, const Act& a, int32_t& summ) {
  constexpr int kScales = 4, kQh = 16, kQs = kHigh ? 48 : 16;
  const ScalesMins sm = scales_mins_k4(blk + kScales);
  summ = min_sum(a, sm.m);
  auto scale = [&](int j) { return _mm256_set1_epi16(int16_t((sm.sc >> (8 * j)) & 0xFF)); };
  const __m256i qh = kHigh ? loadu256(blk + kQh) : _mm256_setzero_si256();
  __m256i acc = _mm256_setzero_si256();
  for (int g = 0; g < 4; ++g) {
    __m256i lo, hi;
    q45k_values<kHigh>(blk + kQs, qh, g, lo, hi);
    const __m256i plo = _mm256_maddubs_epi16(lo, loadu256(a.q + 64 * g));
    const __m256i phi = _mm256_maddubs_epi16(hi, loadu256(a.q + 64 * g + 32));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(plo, scale(2 * g)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(phi, scale(2 * g + 1)));
  }
  return hsum_i32(acc);
}

// One Q6_K superblock: sum scale * (q - 32) * a, as sum scale * q * a (q unsigned, the
// maddubs operand) minus 32 * sum_j scale_j * bsums_j.
inline int32_t q6k_superblock(const uint8_t* blk, const Act& a) {
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

// ---- AVX-512 VNNI on 256-bit vectors (Zen 4, Ice Lake and later): one vpdpbusd adds the
// products of 4 neighbouring elements into 32-bit lanes, replacing maddubs + madd + add.
// Integer sums are exact in any order, so the totals are the AVX2 functions' to the bit.
#define SCOUT_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

// Runs run.template operator()<kT>() with kT = n, clamped to [kMin, kMax]: a few-token
// kernel's compile-time token count from the call's.
template <int kMin, int kMax, class F>
inline void with_token_count(int n, F&& run) {
  if constexpr (kMin < kMax)
    if (n > kMin) return with_token_count<kMin + 1, kMax>(n, run);
  run.template operator()<kMin>();
}

// Q4_K with no horizontal sum until both integers of the superblock are known: sub-block
// partial sums (at most 4 * 15 * 128 in magnitude) are packed to int16 and scaled by one madd,
// the min term is one madd of the 8 mins with the activation's 32-element sums (sums32, made
// once per call), and unpacks and adds, not hadd, fold both into [total, summ] per token:
// this loop is bound by the shuffle ports, where hadd and widening the mins to 16 lanes cost
// most. The superblock's weights and scales are decoded once for all kT tokens.
template <int kT>
SCOUT_VNNI inline void q4k_totals_vnni(const uint8_t* blk, const Act* a, const int16_t* const* sums32, __m128i* totals) {
  constexpr int kScales = 4, kQs = 16;
  const ScalesMins sm = scales_mins_k4(blk + kScales);
  const __m128i mins = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(int64_t(sm.m)));
  const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(int64_t(sm.sc))));
  __m256i vtot[kT];
  for (auto& v : vtot) v = _mm256_setzero_si256();
  for (int g = 0; g < 4; ++g) {
    __m256i lo, hi;
    q45k_values<false>(blk + kQs, _mm256_setzero_si256(), g, lo, hi);
    // Per 128-bit half: 4 partials of sub-block 2g, then 4 of 2g + 1; their scales likewise.
    const char a0 = char(4 * g), a1 = char(4 * g + 1), b0 = char(4 * g + 2), b1 = char(4 * g + 3);
    const __m256i pick = _mm256_setr_epi8(a0, a1, a0, a1, a0, a1, a0, a1, b0, b1, b0, b1, b0, b1, b0, b1,  //
                                          a0, a1, a0, a1, a0, a1, a0, a1, b0, b1, b0, b1, b0, b1, b0, b1);
    const __m256i scales = _mm256_shuffle_epi8(sc16, pick);
    for (int t = 0; t < kT; ++t) {
      const __m256i dlo = _mm256_dpbusd_epi32(_mm256_setzero_si256(), lo, loadu256(a[t].q + 64 * g));
      const __m256i dhi = _mm256_dpbusd_epi32(_mm256_setzero_si256(), hi, loadu256(a[t].q + 64 * g + 32));
      vtot[t] = _mm256_add_epi32(vtot[t], _mm256_madd_epi16(_mm256_packs_epi32(dlo, dhi), scales));
    }
  }
  for (int t = 0; t < kT; ++t) {
    const __m128i tot4 = _mm_add_epi32(_mm256_castsi256_si128(vtot[t]), _mm256_extracti128_si256(vtot[t], 1));
    const __m128i min4 = _mm_madd_epi16(mins, _mm_loadu_si128(reinterpret_cast<const __m128i*>(sums32[t])));
    // [t0 + t2, m0 + m2, t1 + t3, m1 + m3], plus its upper half: [total, summ, ...]
    const __m128i u = _mm_add_epi32(_mm_unpacklo_epi32(tot4, min4), _mm_unpackhi_epi32(tot4, min4));
    totals[t] = _mm_add_epi32(u, _mm_unpackhi_epi64(u, u));
  }
}

// Per activation superblock of each token: the 8 sums of 32 quants (Q8_K's bsums in pairs,
// |sum| <= 32 * 128, int16), the partners of the 8 mins. Made once per call.
SCOUT_VNNI const int16_t* q4k_sums32(const uint8_t* act, uint64_t act_bytes, int n_tokens, int64_t n_sb) {
  thread_local std::vector<int16_t> sums;
  sums.resize(size_t(n_tokens) * size_t(n_sb) * 8);
  for (int t = 0; t < n_tokens; ++t)
    for (int64_t sb = 0; sb < n_sb; ++sb) {
      const Act a = act_block(act + uint64_t(t) * act_bytes + uint64_t(sb) * sizeof(BlockQ8_K));
      int16_t* out = &sums[(size_t(t) * size_t(n_sb) + size_t(sb)) * 8];
      for (int j = 0; j < 8; ++j) out[j] = int16_t(a.bsums[2 * j] + a.bsums[2 * j + 1]);
    }
  return sums.data();
}

// Q4_K rows [r0, r1) against kT tokens (activation rows act_bytes apart; y[t * w.n_rows + r])
// on VNNI: per token, KAccumulator's two float steps per superblock as one 2-lane step,
// [sum, sumf] += [d * total, -(dmin * summ)] (a - b is a + -b exactly).
template <int kT>
SCOUT_VNNI void q4k_rows_vnni(const MatrixView& w, const uint8_t* act, uint64_t act_bytes, int64_t r0, int64_t r1, float* y) {
  const int64_t n_sb = w.n_cols / 256;
  const __m128 negate_lane1 = _mm_castsi128_ps(_mm_setr_epi32(0, int(0x80000000u), 0, 0));
  const int16_t* sums32 = q4k_sums32(act, act_bytes, kT, n_sb);
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.data + uint64_t(r) * w.row_bytes;
    __m128 acc[kT];
    for (auto& v : acc) v = _mm_setzero_ps();
    for (int64_t sb = 0; sb < n_sb; ++sb) {
      const uint8_t* blk = row + uint64_t(sb) * 144;
      prefetch_ahead(blk, 144);
      Act a[kT];
      for (int t = 0; t < kT; ++t) a[t] = act_block(act + uint64_t(t) * act_bytes + uint64_t(sb) * sizeof(BlockQ8_K));
      const int16_t* sb_sums[kT];
      for (int t = 0; t < kT; ++t) sb_sums[t] = sums32 + (uint64_t(t) * uint64_t(n_sb) + uint64_t(sb)) * 8;
      __m128i totals[kT];
      q4k_totals_vnni<kT>(blk, a, sb_sums, totals);
      const __m128 d_dmin = _mm_cvtph_ps(_mm_cvtsi32_si128(int(load_u32(blk))));
      for (int t = 0; t < kT; ++t) {
        const __m128 scaled = _mm_mul_ps(d_dmin, _mm_set1_ps(a[t].d));
        acc[t] = _mm_add_ps(acc[t], _mm_xor_ps(_mm_mul_ps(scaled, _mm_cvtepi32_ps(totals[t])), negate_lane1));
      }
    }
    for (int t = 0; t < kT; ++t) {
      alignas(16) float lanes[4];
      _mm_store_ps(lanes, acc[t]);
      y[t * w.n_rows + r] = lanes[1] + lanes[0];
    }
  }
}

SCOUT_VNNI void gemv_q4k_vnni(const MatrixView& w, const uint8_t* act, int64_t r0, int64_t r1, float* y) {
  q4k_rows_vnni<1>(w, act, 0, r0, r1, y);
}

SCOUT_VNNI void few_q4k_vnni(const MatrixView& w, const uint8_t* act, uint64_t act_bytes, int n_tokens, int64_t r0, int64_t r1,
                             float* y) {
  with_token_count<2, 10>(n_tokens, [&]<int kT>() { q4k_rows_vnni<kT>(w, act, act_bytes, r0, r1, y); });
}

// One Q6_K superblock on VNNI against kT tokens (the weights decoded once for all of them).
// vpdpbusd leaves 4-element partial sums (|sum| <= 4 * 63 * 128, inside int16), so two
// vectors' partials are packed to int16 and one madd applies the sub-block scales to both
// (instead of a 32-bit multiply per vector): exact integers, the same totals.
template <int kT>
SCOUT_VNNI inline void q6k_totals_vnni(const uint8_t* blk, const Act* a, int32_t* totals) {
  constexpr int kScales = 192;
  const int8_t* sc = reinterpret_cast<const int8_t*>(blk + kScales);
  const __m256i sc16 = _mm256_cvtepi8_epi16(loadu128(sc));  // scale of sub-block j in lane j
  __m256i acc[kT];
  for (auto& v : acc) v = _mm256_setzero_si256();
  for (int h = 0; h < 2; ++h) {
    __m256i q[4];
    q6k_values(blk, h, q);
    for (int k = 0; k < 4; k += 2) {
      // Vector k holds sub-blocks j = 8h + 2k (lanes 0-3) and j + 1 (lanes 4-7); vector k + 1
      // the next two. packs interleaves them per 128-bit half: [k: j, k+1: j+2 | k: j+1, k+1: j+3],
      // four int16 lanes each.
      const int j = 8 * h + 2 * k;
      const __m256i pick = _mm256_setr_epi16(j, j, j, j, j + 2, j + 2, j + 2, j + 2,  //
                                             j + 1, j + 1, j + 1, j + 1, j + 3, j + 3, j + 3, j + 3);
      const __m256i scales = _mm256_permutexvar_epi16(pick, sc16);
      for (int t = 0; t < kT; ++t) {
        const __m256i d0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q[k], loadu256(a[t].q + 128 * h + 32 * k));
        const __m256i d1 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q[k + 1], loadu256(a[t].q + 128 * h + 32 * k + 32));
        acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(_mm256_packs_epi32(d0, d1), scales));
      }
    }
  }
  for (int t = 0; t < kT; ++t) totals[t] = hsum_i32(acc[t]) - q6k_offset(sc, a[t]);
}

// Q6_K rows [r0, r1) against 1-8 tokens (as q4k_rows_vnni): gemv_k_rows' float steps per token.
template <int kT>
SCOUT_VNNI void q6k_rows_vnni(const MatrixView& w, const uint8_t* act, uint64_t act_bytes, int64_t r0, int64_t r1, float* y) {
  constexpr uint64_t kBlockBytes = 210, kD = 208;
  const int64_t n_sb = w.n_cols / 256;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.data + uint64_t(r) * w.row_bytes;
    float sum[kT] = {};
    for (int64_t sb = 0; sb < n_sb; ++sb) {
      const uint8_t* blk = row + uint64_t(sb) * kBlockBytes;
      prefetch_ahead(blk, kBlockBytes);
      Act a[kT];
      for (int t = 0; t < kT; ++t) a[t] = act_block(act + uint64_t(t) * act_bytes + uint64_t(sb) * sizeof(BlockQ8_K));
      int32_t totals[kT];
      q6k_totals_vnni<kT>(blk, a, totals);
      const float dw = half_at(blk + kD);
      for (int t = 0; t < kT; ++t) sum[t] += (dw * a[t].d) * float(totals[t]);
    }
    for (int t = 0; t < kT; ++t) y[t * w.n_rows + r] = 0.0f + sum[t];  // gemv_k_rows' sumf (0) + sum
  }
}

SCOUT_VNNI void gemv_q6k_vnni(const MatrixView& w, const uint8_t* act, int64_t r0, int64_t r1, float* y) {
  q6k_rows_vnni<1>(w, act, 0, r0, r1, y);
}

SCOUT_VNNI void few_q6k_vnni(const MatrixView& w, const uint8_t* act, uint64_t act_bytes, int n_tokens, int64_t r0, int64_t r1,
                             float* y) {
  with_token_count<2, 8>(n_tokens, [&]<int kT>() { q6k_rows_vnni<kT>(w, act, act_bytes, r0, r1, y); });
}

template <GgmlType T>
[[gnu::always_inline]] inline void gemv_k_rows(const MatrixView& w, const uint8_t* act, int64_t r0, int64_t r1, float* y) {
  constexpr uint64_t kBlockBytes = T == GgmlType::Q4_K ? 144 : T == GgmlType::Q5_K ? 176 : 210;
  constexpr uint64_t kActBytes = sizeof(BlockQ8_K);
  const int64_t n_sb = w.n_cols / 256;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.data + uint64_t(r) * w.row_bytes;
    float sum = 0, sumf = 0;
    for (int64_t sb = 0; sb < n_sb; ++sb) {
      const uint8_t* blk = row + uint64_t(sb) * kBlockBytes;
      prefetch_ahead(blk, kBlockBytes);
      const Act a = act_block(act + uint64_t(sb) * kActBytes);
      if constexpr (T == GgmlType::Q6_K) {
        const int32_t total = q6k_superblock(blk, a);
        const float d = half_at(blk + 208) * a.d;
        sum += d * float(total);
      } else {
        int32_t summ = 0;
        const int32_t total = q45k_superblock<T == GgmlType::Q5_K>(blk, a, summ);
        const float d = half_at(blk) * a.d;
        sum += d * float(total);
        const float dmin = half_at(blk + 2) * a.d;
        sumf -= dmin * float(summ);
      }
    }
    y[r] = sumf + sum;
  }
}

// ---------------------------------------------------------------- 32-element block types

// The reference's float term of 8 blocks at once (as b_block_update, across blocks instead
// of rows); the caller adds them to the row's sum one by one, in block order.
template <GgmlType T>
inline __m256 b_terms(__m256i sumi, __m256 vdx, const float* dy, __m256 vmx, const float* sy) {
  const __m256 s = _mm256_cvtepi32_ps(sumi), vdy = _mm256_loadu_ps(dy);
  if constexpr (T == GgmlType::Q4_0) return _mm256_mul_ps(_mm256_mul_ps(s, vdx), vdy);  // sumi * dx * dy
  if constexpr (T == GgmlType::Q5_0 || T == GgmlType::Q8_0) return _mm256_mul_ps(_mm256_mul_ps(vdx, vdy), s);
  return _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(vdx, vdy), s), _mm256_mul_ps(vmx, _mm256_loadu_ps(sy)));
}

// Per activation block, computed once per call instead of once per row: d (and Q8_1's s) as
// floats, and sum(a) for the types whose weights carry an offset.
struct BActivation {
  std::vector<float> d, s;
  std::vector<int32_t> qsum;
};

template <GgmlType T>
BActivation activation_terms(const uint8_t* act, int64_t n_blocks) {
  constexpr bool kQ81 = T == GgmlType::Q4_1 || T == GgmlType::Q5_1;
  constexpr uint64_t kABytes = kQ81 ? 36 : 34, kAQuants = kQ81 ? 4 : 2;
  BActivation a;
  a.d.resize(size_t(n_blocks + 8));
  a.s.resize(size_t(n_blocks + 8));
  a.qsum.resize(size_t(n_blocks + 8));
  const __m256i ones16 = _mm256_set1_epi16(1), ones8 = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* ab = act + uint64_t(b) * kABytes;
    a.d[size_t(b)] = half_at(ab);
    if constexpr (kQ81) a.s[size_t(b)] = half_at(ab + 2);
    a.qsum[size_t(b)] = hsum_i32(_mm256_madd_epi16(_mm256_maddubs_epi16(ones8, loadu256(ab + kAQuants)), ones16));
  }
  return a;
}

// The fp16 field at byte `field` of n (<= 8) consecutive blocks of `stride` bytes, as floats
// (0 past n). Assembled in general registers: eight scalar stores read back as one vector
// would stall on store forwarding.
inline __m256 block_halves(const uint8_t* first, uint64_t stride, uint64_t field, int n) {
  auto half = [&](int k) { return k < n ? uint64_t(load_u16(first + k * stride + field)) : 0; };
  const uint64_t lo = half(0) | half(1) << 16 | half(2) << 32 | half(3) << 48;
  const uint64_t hi = half(4) | half(5) << 16 | half(6) << 32 | half(7) << 48;
  return _mm256_cvtph_ps(_mm_insert_epi64(_mm_cvtsi64_si128(int64_t(lo)), int64_t(hi), 1));
}

// The integer sums of 8 blocks (row `row`, blocks b0..b0+n) as one vector; their d (and m)
// are read by block_halves.
// Q8_0 on VNNI: the weights biased to unsigned (q + 128) for one vpdpbusd per block; the
// caller subtracts 128 * sum(a) (BActivation::qsum). Exact integers, the same sums.
SCOUT_VNNI inline __m256i q8_0_block_sums_vnni(const uint8_t* row, const uint8_t* act, int64_t b0, int n) {
  constexpr uint64_t kWBytes = block_bytes(GgmlType::Q8_0), kABytes = 34;  // Q8_0 activation blocks
  const __m256i bias = _mm256_set1_epi8(char(0x80));
  __m256i v[8];
  for (int k = 0; k < 8; ++k)
    v[k] = k < n ? _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_xor_si256(loadu256(row + uint64_t(b0 + k) * kWBytes + 2), bias),
                                       loadu256(act + uint64_t(b0 + k) * kABytes + 2))
                 : _mm256_setzero_si256();
  return hsum_8x8(v);
}

template <GgmlType T, bool kVnni>
[[gnu::always_inline]] inline __m256i b_block_sums(const uint8_t* row, const uint8_t* act, int64_t b0, int n) {
  if constexpr (kVnni && T == GgmlType::Q8_0) return q8_0_block_sums_vnni(row, act, b0, n);
  constexpr bool kQ81 = T == GgmlType::Q4_1 || T == GgmlType::Q5_1;
  constexpr uint64_t kWBytes = block_bytes(T), kABytes = kQ81 ? 36 : 34, kAQuants = kQ81 ? 4 : 2;
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256i v[8];
  for (int k = 0; k < 8; ++k) {
    if (k >= n) {
      v[k] = _mm256_setzero_si256();
      continue;
    }
    const __m256i a = loadu256(act + uint64_t(b0 + k) * kABytes + kAQuants);
    __m256i qabs;
    float d_unused, m_unused;
    const __m256i q = decode_block<T, false>(row + uint64_t(b0 + k) * kWBytes, d_unused, m_unused, qabs);
    if constexpr (T == GgmlType::Q8_0)  // signed x signed: |q| times a with q's sign (a is never -128)
      v[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(qabs, _mm256_sign_epi8(a, q)), ones16);
    else
      v[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(q, a), ones16);
  }
  return hsum_8x8(v);
}

template <GgmlType T, bool kVnni>
[[gnu::always_inline]] inline void gemv_b_rows(const MatrixView& w, const uint8_t* act, int64_t r0, int64_t r1, float* y) {
  // q - 8, q - 16; VNNI Q8_0: (q + 128) - 128
  constexpr int kOffsetShift = T == GgmlType::Q4_0 ? 3 : T == GgmlType::Q5_0 ? 4 : kVnni && T == GgmlType::Q8_0 ? 7 : 0;
  constexpr bool kHasMin = T == GgmlType::Q4_1 || T == GgmlType::Q5_1;  // fp16 m after d
  const int64_t n_blocks = w.n_cols / 32;
  const BActivation at = activation_terms<T>(act, n_blocks);
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w.data + uint64_t(r) * w.row_bytes;
    float sumf = 0;
    for (int64_t b0 = 0; b0 < n_blocks; b0 += 8) {
      const int n = int(n_blocks - b0 < 8 ? n_blocks - b0 : 8);
      const uint8_t* first = row + uint64_t(b0) * block_bytes(T);
      prefetch_ahead(first, 8 * block_bytes(T));
      __m256i sums = b_block_sums<T, kVnni>(row, act, b0, n);
      const __m256 dx = block_halves(first, block_bytes(T), 0, n);
      const __m256 mx = kHasMin ? block_halves(first, block_bytes(T), 2, n) : _mm256_setzero_ps();
      if constexpr (kOffsetShift != 0)  // minus offset * sum(a)
        sums = _mm256_sub_epi32(sums, _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(&at.qsum[size_t(b0)])), kOffsetShift));
      alignas(32) float term[8];
      _mm256_store_ps(term, b_terms<T>(sums, dx, &at.d[size_t(b0)], mx, &at.s[size_t(b0)]));
      for (int k = 0; k < n; ++k) sumf += term[k];
    }
    y[r] = sumf;
  }
}

// The one-token entry points: the always-inline bodies above compiled for this file's AVX2
// target, or (kVnni) for AVX-512 VNNI.
template <GgmlType T, bool kVnni>
[[gnu::always_inline]] inline void gemv_body(const MatrixView& w, const uint8_t* act, int64_t r0, int64_t r1, float* y) {
  if constexpr (T == GgmlType::Q4_K || T == GgmlType::Q5_K || T == GgmlType::Q6_K)
    gemv_k_rows<T>(w, act, r0, r1, y);
  else
    gemv_b_rows<T, kVnni>(w, act, r0, r1, y);
}

template <GgmlType T>
void gemv_rows(const MatrixView& w, const uint8_t* act, int64_t r0, int64_t r1, float* y) {
  gemv_body<T, false>(w, act, r0, r1, y);
}

template <GgmlType T>
SCOUT_VNNI void gemv_rows_vnni(const MatrixView& w, const uint8_t* act, int64_t r0, int64_t r1, float* y) {
  gemv_body<T, true>(w, act, r0, r1, y);
}


}  // namespace

#pragma GCC pop_options

GemvFn gemv_fn_vnni(GgmlType t) {
  switch (t) {
    // Q5_K stays on AVX2: its fifth bits cost more than vpdpbusd saves (10.7 vs 12.1 GB/s).
    case GgmlType::Q4_K: return gemv_q4k_vnni;
    case GgmlType::Q6_K: return gemv_q6k_vnni;
    case GgmlType::Q8_0: return gemv_rows_vnni<GgmlType::Q8_0>;
    default: return gemv_fn_avx2(t);
  }
}

int few_tokens_max(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_K: return 10;
    case GgmlType::Q6_K: return 8;
    default: return 0;
  }
}

FewTokensFn few_tokens_fn_vnni(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_K: return few_q4k_vnni;
    case GgmlType::Q6_K: return few_q6k_vnni;
    default: return nullptr;
  }
}

GemvFn gemv_fn_avx2(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_K: return gemv_rows<GgmlType::Q4_K>;
    case GgmlType::Q5_K: return gemv_rows<GgmlType::Q5_K>;
    case GgmlType::Q6_K: return gemv_rows<GgmlType::Q6_K>;
    case GgmlType::Q4_0: return gemv_rows<GgmlType::Q4_0>;
    case GgmlType::Q4_1: return gemv_rows<GgmlType::Q4_1>;
    case GgmlType::Q5_0: return gemv_rows<GgmlType::Q5_0>;
    case GgmlType::Q5_1: return gemv_rows<GgmlType::Q5_1>;
    case GgmlType::Q8_0: return gemv_rows<GgmlType::Q8_0>;
    default: return nullptr;
  }
}

}  // namespace scout::kernels::cpu::qdot::detail

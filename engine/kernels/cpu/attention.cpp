#include "engine/kernels/cpu/attention.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/kernels/cpu/matmul.h"
#include "engine/kernels/cpu/simd_exp.h"
#include "engine/util/cpu_features.h"
#include "engine/util/half.h"

namespace scout::kernels::cpu {
namespace {

float element(const KvRows& r, int64_t pos, int64_t i) {
  const int64_t at = pos * r.stride + i;
  return r.f16 ? fp16_to_fp32(static_cast<const uint16_t*>(r.data)[at]) : static_cast<const float*>(r.data)[at];
}

void load_row(const KvRows& r, int64_t pos, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = element(r, pos, i);
}

// ---- AVX2 path -------------------------------------------------------------------------

using simd::exp8;

SCOUT_AVX2 inline __m256 load8(const KvRows& r, int64_t pos, int64_t i) {
  const int64_t at = pos * r.stride + i;
  if (r.f16) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(r.data) + at)));
  return _mm256_loadu_ps(static_cast<const float*>(r.data) + at);
}

// The 8x8 transpose of r (r[e] lane d becomes r[d] lane e).
SCOUT_AVX2 inline void transpose8(__m256* r) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3 (h = 0) and 4-7
    const int o = 4 * h;
    u[o + 0] = _mm256_shuffle_ps(t[o + 0], t[o + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[o + 1] = _mm256_shuffle_ps(t[o + 0], t[o + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[o + 2] = _mm256_shuffle_ps(t[o + 1], t[o + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[o + 3] = _mm256_shuffle_ps(t[o + 1], t[o + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x20);
    r[4 + i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x31);
  }
}

// Keys [b, b + nb) as floats: K transposed into kt[d * kAttendBlock + j] (zeros past nb: they
// score 0 and are masked), V row by row into vb[j * hd + d].
SCOUT_AVX2 void convert_block(const KvRows& k, const KvRows& v, int64_t b, int64_t nb, int64_t hd, float* kt, float* vb) {
  // vb == nullptr: the values are read in place (see kDirectValueRows); only prefetched here.
  constexpr int64_t kB = kAttendBlock;
  const int64_t nc = hd / 8, n8 = nb / 8 * 8;
  // The values' rows are scattered through the cache (one KV head's row every kv_dim
  // elements): ask for them now, so they arrive while the keys are transposed.
  const int64_t v_elem = v.f16 ? 2 : 4;
  for (int64_t j = 0; j < nb; ++j)
    for (int64_t off = 0; off < hd * v_elem; off += 64)
      _mm_prefetch(static_cast<const char*>(v.data) + (b + j) * v.stride * v_elem + off, _MM_HINT_T0);
  for (int64_t c = 0; c < nc; ++c) {
    for (int64_t j0 = 0; j0 < n8; j0 += 8) {
      __m256 r[8];
      for (int e = 0; e < 8; ++e) r[e] = load8(k, b + j0 + e, 8 * c);
      transpose8(r);
      for (int d = 0; d < 8; ++d) _mm256_storeu_ps(kt + (8 * c + d) * kB + j0, r[d]);
    }
    for (int64_t j = n8; j < kB; ++j) {
      alignas(32) float t[8] = {};
      if (j < nb) _mm256_store_ps(t, load8(k, b + j, 8 * c));
      for (int d = 0; d < 8; ++d) kt[(8 * c + d) * kB + j] = t[d];
    }
  }
  if (vb == nullptr) return;
  for (int64_t j = 0; j < nb; ++j)
    for (int64_t c = 0; c < nc; ++c) _mm256_storeu_ps(vb + j * hd + 8 * c, load8(v, b + j, 8 * c));
}

// Where P.V reads a key's values: the block's converted floats, or the cache rows themselves
// (converted as they are read; the same floats, so the same sums).
struct BlockValues {
  const float* vb;
  int64_t hd;
  SCOUT_AVX2 __m256 operator()(int64_t j, int64_t d) const { return _mm256_loadu_ps(vb + j * hd + d); }
};
struct CacheValues {
  const KvRows* v;
  int64_t b;
  SCOUT_AVX2 __m256 operator()(int64_t j, int64_t d) const { return load8(*v, b + j, d); }
};

// acc[0 .. 8 kN) += sum over keys j in [lo, hi) of p[j] * (values of key j)[d0 + (0 .. 8 kN)],
// with the accumulator in registers (a fixed count, so the compiler keeps them there).
template <int kN, class Values>
SCOUT_AVX2 inline void pv_slice(const float* p, int64_t lo, int64_t hi, const Values& values, int64_t d0, float* acc) {
  __m256 o[kN];
  for (int c = 0; c < kN; ++c) o[c] = _mm256_loadu_ps(acc + 8 * c);
  for (int64_t j = lo; j < hi; ++j) {
    const __m256 pj = _mm256_set1_ps(p[j]);
    for (int c = 0; c < kN; ++c) o[c] = _mm256_fmadd_ps(pj, values(j, d0 + 8 * c), o[c]);
  }
  for (int c = 0; c < kN; ++c) _mm256_storeu_ps(acc + 8 * c, o[c]);
}

template <class Values>
SCOUT_AVX2 inline void pv_row(const float* p, int64_t lo, int64_t hi, const Values& values, int64_t nc, float* acc) {
  int64_t c0 = 0;
  for (; c0 + 8 <= nc; c0 += 8) pv_slice<8>(p, lo, hi, values, 8 * c0, acc + 8 * c0);
  for (; c0 < nc; ++c0) pv_slice<1>(p, lo, hi, values, 8 * c0, acc + 8 * c0);
}

// Scores of rows [r0, r0 + kR) (rows past n repeat row n - 1 and are not stored) against the
// kAttendBlock keys of kt (transposed: kt[d * kAttendBlock + j]), 32 keys per register block.
template <int kR>
SCOUT_AVX2 inline void score_rows(const AttendRows& rows, int64_t r0, int64_t n, const float* kt, int64_t hd, float scale,
                                  float* s) {
  constexpr int64_t kB = kAttendBlock, kKeyBlock = 32;
  const float* q[kR];
  for (int64_t r = 0; r < kR; ++r) q[r] = rows.q[std::min(r0 + r, n - 1)];
  for (int64_t j0 = 0; j0 < kB; j0 += kKeyBlock) {
    __m256 a[kR][4];
    for (auto& ar : a)
      for (auto& x : ar) x = _mm256_setzero_ps();
    for (int64_t d = 0; d < hd; ++d) {
      __m256 kv[4];
      for (int c = 0; c < 4; ++c) kv[c] = _mm256_loadu_ps(kt + d * kB + j0 + 8 * c);
      for (int64_t r = 0; r < kR; ++r) {
        const __m256 qb = _mm256_set1_ps(q[r][d]);
        for (int c = 0; c < 4; ++c) a[r][c] = _mm256_fmadd_ps(qb, kv[c], a[r][c]);
      }
    }
    const __m256 sv = _mm256_set1_ps(scale);
    for (int64_t r = 0; r < kR && r0 + r < n; ++r)
      for (int c = 0; c < 4; ++c) _mm256_storeu_ps(s + (r0 + r) * kB + j0 + 8 * c, _mm256_mul_ps(a[r][c], sv));
  }
}

// Lanes j0..j0+7 of a key block inside the window [lo, hi) (block-relative), as a mask.
SCOUT_AVX2 inline __m256 window_mask(int64_t j0, int64_t lo, int64_t hi) {
  const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(int(j0)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i in = _mm256_and_si256(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(int(lo) - 1)),
                                      _mm256_cmpgt_epi32(_mm256_set1_epi32(int(hi)), idx));
  return _mm256_castsi256_ps(in);
}

SCOUT_AVX2 inline float hmax8(__m256 v) {
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_max_ss(x, _mm_movehdup_ps(x)));
}

SCOUT_AVX2 inline float hsum8(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
}

// Up to this many rows (a decoding token's GQA group: 5 in Scout, 2 in tiny-scout) P.V reads
// the values from the cache in place; more rows convert each key block's values once.
// (Zen 4, 1 thread, decode over 512 keys: tiny 23.2 -> 17.0 us, Scout 380 -> 346 us.)
constexpr int64_t kDirectValueRows = 8;

// attend_rows on AVX2: per key block, K transposed to kt[d][j] (and, past kDirectValueRows
// rows, V to vb[j][d]) as floats once; scores for 4 rows x 32 keys per register block; then
// every row's online softmax and P.V with its accumulator in registers (head_dim in slices
// of 64).
SCOUT_AVX2 void attend_rows_avx2(const AttendRows& rows, const KvRows& k, const KvRows& v, int64_t hd, float scale) {
  constexpr int64_t kB = kAttendBlock;
  const int64_t n = rows.n_rows, nc = hd / 8;
  int64_t kmin = rows.k0[0], kmax = rows.k1[0];
  for (int64_t i = 1; i < n; ++i) {
    kmin = std::min(kmin, rows.k0[i]);
    kmax = std::max(kmax, rows.k1[i]);
  }
  const bool direct_values = n <= kDirectValueRows;
  // Scratch kept per thread: decoding calls this for every (sequence, KV head, layer).
  thread_local std::vector<float> kt, vb, s, acc, m, l;
  kt.resize(size_t(hd * kB));
  vb.resize(size_t(kB * hd));
  s.resize(size_t(n * kB));
  acc.assign(size_t(n * hd), 0.0f);
  m.assign(size_t(n), -INFINITY);
  l.assign(size_t(n), 0.0f);
  // Key blocks on a grid of absolute positions (multiples of kB), so that a row meets the same
  // blocks, and rounds the same way, whatever other rows share the call: results do not
  // depend on batching.
  for (int64_t b = kmin / kB * kB; b < kmax; b += kB) {
    const int64_t nb = std::min(kB, kmax - b);
    convert_block(k, v, b, nb, hd, kt.data(), direct_values ? nullptr : vb.data());
    // Scores: s[i][j] = scale * q_i . k_j, 4 rows (2 for a last pair, as in decoding with a
    // GQA group of 2) x 32 keys at a time. A score's arithmetic does not depend on its row
    // block: the same FMA chain over the head dimension.
    int64_t r0 = 0;
    for (; r0 + 4 <= n; r0 += 4) score_rows<4>(rows, r0, n, kt.data(), hd, scale, s.data());
    for (; r0 < n; r0 += 2) score_rows<2>(rows, r0, n, kt.data(), hd, scale, s.data());
    // Each row: the keys of this block inside its window, online softmax, P.V.
    for (int64_t i = 0; i < n; ++i) {
      const int64_t lo = std::max(rows.k0[i], b) - b, hi = std::min(rows.k1[i], b + nb) - b;
      if (lo >= hi) continue;
      float* si = s.data() + i * kB;
      float* ai = acc.data() + i * hd;
      __m256 inside[kB / 8];
      __m256 vmax = _mm256_set1_ps(-INFINITY);
      for (int64_t c = 0; c < kB / 8; ++c) {
        inside[c] = window_mask(8 * c, lo, hi);
        vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_loadu_ps(si + 8 * c), inside[c]));
      }
      const float bmax = hmax8(vmax);
      if (bmax > m[size_t(i)]) {
        const float corr = m[size_t(i)] == -INFINITY ? 0.0f : std::exp(m[size_t(i)] - bmax);
        const __m256 cv = _mm256_set1_ps(corr);
        for (int64_t c = 0; c < nc; ++c) _mm256_storeu_ps(ai + 8 * c, _mm256_mul_ps(_mm256_loadu_ps(ai + 8 * c), cv));
        l[size_t(i)] *= corr;
        m[size_t(i)] = bmax;
      }
      // Probabilities, zero outside the window, and their sum (a fixed tree over 8 lanes).
      const __m256 mv = _mm256_set1_ps(m[size_t(i)]);
      __m256 vsum = _mm256_setzero_ps();
      for (int64_t c = 0; c < kB / 8; ++c) {
        const __m256 p = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_loadu_ps(si + 8 * c), mv)), inside[c]);
        _mm256_storeu_ps(si + 8 * c, p);
        vsum = _mm256_add_ps(vsum, p);
      }
      l[size_t(i)] += hsum8(vsum);
      if (direct_values)
        pv_row(si, lo, hi, CacheValues{&v, b}, nc, ai);
      else
        pv_row(si, lo, hi, BlockValues{vb.data(), hd}, nc, ai);
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const __m256 inv = _mm256_set1_ps(1.0f / l[size_t(i)]);
    for (int64_t c = 0; c < nc; ++c)
      _mm256_storeu_ps(rows.out[i] + 8 * c, _mm256_mul_ps(_mm256_loadu_ps(acc.data() + i * hd + 8 * c), inv));
  }
}

// The AVX2 kernel handles whole 8-float vectors of a head.
bool attend_uses_avx2(int64_t head_dim) { return head_dim % 8 == 0 && head_dim > 0 && cpu_has_avx2_fma_f16c(); }

}  // namespace

void attend(const float* q, const KvRows& k, const KvRows& v, int64_t k0, int64_t k1, int64_t head_dim, float scale,
            float* out) {
  // One row of attend_rows: the same code, so one query alone rounds as it does in a block.
  attend_rows({&q, &out, &k0, &k1, 1}, k, v, head_dim, scale);
}

void attend_rows(const AttendRows& rows, const KvRows& k, const KvRows& v, int64_t head_dim, float scale) {
  if (rows.n_rows <= 0) return;
  if (attend_uses_avx2(head_dim)) {
    attend_rows_avx2(rows, k, v, head_dim, scale);
    return;
  }
  for (int64_t i = 0; i < rows.n_rows; ++i)
    attend_portable(rows.q[i], k, v, rows.k0[i], rows.k1[i], head_dim, scale, rows.out[i]);
}

void attend_portable(const float* q, const KvRows& k, const KvRows& v, int64_t k0, int64_t k1, int64_t head_dim,
                     float scale, float* out) {
  std::vector<float> acc(static_cast<size_t>(head_dim), 0.0f), row(static_cast<size_t>(head_dim));
  float s[kAttendBlock];
  float m = -INFINITY, l = 0.0f;
  for (int64_t b = k0; b < k1; b += kAttendBlock) {
    const int64_t nb = std::min(kAttendBlock, k1 - b);
    float bmax = -INFINITY;
    for (int64_t j = 0; j < nb; ++j) {
      load_row(k, b + j, head_dim, row.data());
      s[j] = dot(q, row.data(), head_dim) * scale;
      bmax = std::max(bmax, s[j]);
    }
    if (bmax > m) {
      const float corr = m == -INFINITY ? 0.0f : std::exp(m - bmax);
      for (float& a : acc) a *= corr;
      l *= corr;
      m = bmax;
    }
    for (int64_t j = 0; j < nb; ++j) {
      const float p = std::exp(s[j] - m);
      l += p;
      load_row(v, b + j, head_dim, row.data());
      for (int64_t d = 0; d < head_dim; ++d) acc[size_t(d)] += p * row[size_t(d)];
    }
  }
  for (int64_t d = 0; d < head_dim; ++d) out[d] = acc[size_t(d)] / l;
}

void attend_reference(const float* q, const KvRows& k, const KvRows& v, int64_t k0, int64_t k1, int64_t head_dim,
                      float scale, float* out) {
  const int64_t n = k1 - k0;
  std::vector<float> scores(static_cast<size_t>(n)), row(static_cast<size_t>(head_dim));
  float max_s = -INFINITY;
  for (int64_t j = 0; j < n; ++j) {
    load_row(k, k0 + j, head_dim, row.data());
    scores[size_t(j)] = dot(q, row.data(), head_dim) * scale;
    max_s = std::max(max_s, scores[size_t(j)]);
  }
  double sum = 0.0;
  for (float& s : scores) {
    s = std::exp(s - max_s);
    sum += s;
  }
  const float inv = float(1.0 / sum);
  std::fill(out, out + head_dim, 0.0f);
  for (int64_t j = 0; j < n; ++j) {
    load_row(v, k0 + j, head_dim, row.data());
    const float p = scores[size_t(j)] * inv;
    for (int64_t d = 0; d < head_dim; ++d) out[d] += p * row[size_t(d)];
  }
}

}  // namespace scout::kernels::cpu

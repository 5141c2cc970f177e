// Many-token products on AVX-512 VNNI with the tokens in the vector lanes (prefill, batched
// decoding): Q4_K, Q5_K, Q6_K and Q8_0.
//
// The tiles of simd_common.inc put weight elements in the lanes, so every (row, token) pair
// ends in a horizontal sum. Here a 512-bit register holds 16 tokens: activations are
// transposed once per call into groups of 4 consecutive elements x 16 tokens, each weight row
// is decoded once per 256-element chunk into natural-order bytes, and one vpdpbusd adds 4
// products for each of 16 tokens with the row's 4 weight bytes broadcast. A sub-block's
// integer sums are multiplied by its scale; no horizontal sums remain.
//
// Same bits as the reference: activations are stored as a + 128 (vpdpbusd's unsigned
// operand), and the row's 128 * sum(scale * q) is subtracted, so each (row, token) gets the
// exact integer the reference forms; the float steps are the reference's, per lane.
// The TBB driver is compiled for the baseline ISA, outside the target region (see
// kernels_avx2.cpp on why nothing compiled for AVX-512 may be visible to the linker).
#include <immintrin.h>
#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>

#include "engine/kernels/cpu/qdot/internal.h"
#include "engine/quant/blocks.h"
#include "engine/util/half.h"

namespace scout::kernels::cpu::qdot::detail {

namespace {

constexpr int kLanes = 16;        // tokens per vector
constexpr int kRows = 4;          // weight rows per micro-tile
constexpr int kTokenVectors = 4;  // token vectors per job (64 tokens share each decoded chunk)

// 256 elements of 16 tokens' activations.
struct alignas(64) VAct {
  uint8_t q[64][64];             // group g: 16 tokens x 4 consecutive elements, as a + 128
  float d[8][kLanes];            // Q8_K: d[0]; Q8_0: block b's d
  int32_t min_pairs[4][kLanes];  // Q4_K/Q5_K: (sum of sub-block 2p, of 2p + 1) as two int16
};

// 256 elements of one weight row, decoded.
struct alignas(64) VRow {
  int8_t q[256];       // natural order: Q4_K 0..15, Q5_K 0..31, Q6_K q - 32, Q8_0 q
  int32_t scale[16];   // per sub-block (Q4_K/Q5_K: 8 of 32 elements; Q6_K: 16 of 16)
  int32_t corr[8];     // K: corr[0] = 128 * sum_j scale_j * sum(q in j); Q8_0: per block
  float d[8];          // K: d[0] (and dmin in d[1]); Q8_0: per block
  int32_t min_pair[4];
};

}  // namespace

#pragma GCC push_options
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")

namespace {

#include "engine/kernels/cpu/qdot/simd_common.inc"

// Sums of each 4 consecutive signed bytes of v (lanes k = bytes 4k..4k+3).
inline __m256i quad_sums(__m256i v) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), v), _mm256_set1_epi16(1));
}

// ---- activation packing

// Token t's 32 activations starting at element 32 * k32 of the chunk, stored as a + 128 in
// groups 8 * k32 .. 8 * k32 + 7 (4 bytes each, token t's slot).
inline void put_32(const int8_t* q, int k32, int t, VAct& out) {
  alignas(32) uint32_t g[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(g), _mm256_xor_si256(loadu256(q), _mm256_set1_epi8(char(0x80))));
  for (int k = 0; k < 8; ++k) std::memcpy(out.q[8 * k32 + k] + 4 * t, &g[k], 4);
}

template <GgmlType T>
void pack_group(const uint8_t* act, uint64_t act_bytes, int n_tokens, int64_t chunk, VAct& out) {
  std::memset(&out, 0, sizeof(out));
  for (int t = 0; t < n_tokens; ++t) {
    const uint8_t* row = act + uint64_t(t) * act_bytes;
    if constexpr (T == GgmlType::Q8_0) {
      for (int b = 0; b < 8; ++b) {
        const uint8_t* blk = row + uint64_t(chunk * 8 + b) * 34;
        out.d[b][t] = half_at(blk);
        put_32(reinterpret_cast<const int8_t*>(blk + 2), b, t, out);
      }
    } else {
      const uint8_t* blk = row + uint64_t(chunk) * sizeof(quant::BlockQ8_K);
      std::memcpy(&out.d[0][t], blk, 4);
      int16_t bsums[16];
      std::memcpy(bsums, blk + 4 + 256, 32);
      for (int p = 0; p < 4; ++p) {
        const int16_t lo = int16_t(bsums[4 * p] + bsums[4 * p + 1]), hi = int16_t(bsums[4 * p + 2] + bsums[4 * p + 3]);
        out.min_pairs[p][t] = int32_t(uint32_t(uint16_t(lo)) | (uint32_t(uint16_t(hi)) << 16));
      }
      for (int k32 = 0; k32 < 8; ++k32) put_32(reinterpret_cast<const int8_t*>(blk + 4) + 32 * k32, k32, t, out);
    }
  }
}

// ---- weight decoding (natural order) and the 128 * sum(scale * q) corrections

template <GgmlType T>
void decode_row(const uint8_t* row, int64_t chunk, VRow& out) {
  if constexpr (T == GgmlType::Q8_0) {
    for (int b = 0; b < 8; ++b) {
      const uint8_t* blk = row + uint64_t(chunk * 8 + b) * 34;
      out.d[b] = half_at(blk);
      const __m256i v = loadu256(blk + 2);
      store256(out.q + 32 * b, v);
      out.corr[b] = 128 * hsum_i32(quad_sums(v));
    }
  } else if constexpr (T == GgmlType::Q6_K) {
    const uint8_t* blk = row + uint64_t(chunk) * 210;
    const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
    out.d[0] = half_at(blk + 208);
    const __m256i m32 = _mm256_set1_epi8(32);
    __m256i corr = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      __m256i q[4];
      q6k_values(blk, h, q);
      for (int k = 0; k < 4; ++k) {
        const __m256i v = _mm256_sub_epi8(q[k], m32);
        store256(out.q + 128 * h + 32 * k, v);
        const int j = 8 * h + 2 * k;  // sub-blocks j (bytes 0-15) and j + 1
        const __m256i s = _mm256_set_m128i(_mm_set1_epi32(sc[j + 1]), _mm_set1_epi32(sc[j]));
        corr = _mm256_add_epi32(corr, _mm256_mullo_epi32(quad_sums(v), s));
      }
    }
    for (int j = 0; j < 16; ++j) out.scale[j] = sc[j];
    out.corr[0] = 128 * hsum_i32(corr);
  } else {
    constexpr bool kHigh = T == GgmlType::Q5_K;
    constexpr uint64_t kBytes = kHigh ? 176 : 144;
    constexpr int kQs = kHigh ? 48 : 16;
    const uint8_t* blk = row + uint64_t(chunk) * kBytes;
    out.d[0] = half_at(blk);
    out.d[1] = half_at(blk + 2);
    uint8_t sc[8], m[8];
    unpack_scales_k4(blk + 4, sc, m);
    for (int p = 0; p < 4; ++p) out.min_pair[p] = int32_t(uint32_t(m[2 * p]) | (uint32_t(m[2 * p + 1]) << 16));
    __m256i qh = _mm256_setzero_si256();
    if constexpr (kHigh) qh = loadu256(blk + 16);
    __m256i corr = _mm256_setzero_si256();
    for (int g = 0; g < 4; ++g) {
      __m256i lo, hi;
      q45k_values<kHigh>(blk + kQs, qh, g, lo, hi);
      store256(out.q + 64 * g, lo);
      store256(out.q + 64 * g + 32, hi);
      corr = _mm256_add_epi32(corr, _mm256_mullo_epi32(quad_sums(lo), _mm256_set1_epi32(sc[2 * g])));
      corr = _mm256_add_epi32(corr, _mm256_mullo_epi32(quad_sums(hi), _mm256_set1_epi32(sc[2 * g + 1])));
    }
    for (int j = 0; j < 8; ++j) out.scale[j] = sc[j];
    out.corr[0] = 128 * hsum_i32(corr);
  }
}

// Float accumulators of a job: per token vector and row, the reference's two sums.
struct VAcc {
  __m512 sum[kTokenVectors][kRows];
  __m512 sumf[kTokenVectors][kRows];
};

inline __m512i bcast_u32(const int8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(int32_t(v));
}

// One chunk of kRows rows against kTV token vectors: the integer sums, then the float steps.
template <GgmlType T, int kTV>
inline void micro(const VRow* rows, const VAct* const* act, VAcc& acc, int v0) {
  if constexpr (T == GgmlType::Q8_0) {
    for (int b = 0; b < 8; ++b) {
      __m512i s[kRows][kTV];
      for (auto& rr : s)
        for (auto& x : rr) x = _mm512_setzero_si512();
      for (int g = 0; g < 8; ++g) {
        __m512i a[kTV];
        for (int v = 0; v < kTV; ++v) a[v] = _mm512_load_si512(act[v]->q[8 * b + g]);
        for (int r = 0; r < kRows; ++r) {
          const __m512i wb = bcast_u32(rows[r].q + 32 * b + 4 * g);
          for (int v = 0; v < kTV; ++v) s[r][v] = _mm512_dpbusd_epi32(s[r][v], a[v], wb);
        }
      }
      for (int r = 0; r < kRows; ++r)
        for (int v = 0; v < kTV; ++v) {
          const __m512 sumi = _mm512_cvtepi32_ps(_mm512_sub_epi32(s[r][v], _mm512_set1_epi32(rows[r].corr[b])));
          const __m512 dd = _mm512_mul_ps(_mm512_set1_ps(rows[r].d[b]), _mm512_load_ps(act[v]->d[b]));
          acc.sumf[v0 + v][r] = _mm512_add_ps(acc.sumf[v0 + v][r], _mm512_mul_ps(sumi, dd));  // sumi * (dx * dy)
        }
    }
  } else {
    constexpr bool kQ6 = T == GgmlType::Q6_K;
    constexpr int kSub = kQ6 ? 16 : 8, kGroups = 64 / kSub;
    __m512i tot[kRows][kTV];
    for (auto& rr : tot)
      for (auto& x : rr) x = _mm512_setzero_si512();
    for (int j = 0; j < kSub; ++j) {
      __m512i s[kRows][kTV];
      for (auto& rr : s)
        for (auto& x : rr) x = _mm512_setzero_si512();
      for (int g = 0; g < kGroups; ++g) {
        const int G = j * kGroups + g;
        __m512i a[kTV];
        for (int v = 0; v < kTV; ++v) a[v] = _mm512_load_si512(act[v]->q[G]);
        for (int r = 0; r < kRows; ++r) {
          const __m512i wb = bcast_u32(rows[r].q + 4 * G);
          for (int v = 0; v < kTV; ++v) s[r][v] = _mm512_dpbusd_epi32(s[r][v], a[v], wb);
        }
      }
      for (int r = 0; r < kRows; ++r) {
        const __m512i sc = _mm512_set1_epi32(rows[r].scale[j]);
        for (int v = 0; v < kTV; ++v) tot[r][v] = _mm512_add_epi32(tot[r][v], _mm512_mullo_epi32(s[r][v], sc));
      }
    }
    for (int r = 0; r < kRows; ++r)
      for (int v = 0; v < kTV; ++v) {
        const __m512 da = _mm512_load_ps(act[v]->d[0]);
        const __m512i total = _mm512_sub_epi32(tot[r][v], _mm512_set1_epi32(rows[r].corr[0]));
        const __m512 d = _mm512_mul_ps(_mm512_set1_ps(rows[r].d[0]), da);
        acc.sum[v0 + v][r] = _mm512_add_ps(acc.sum[v0 + v][r], _mm512_mul_ps(d, _mm512_cvtepi32_ps(total)));
        if constexpr (!kQ6) {
          __m512i summ = _mm512_setzero_si512();
          for (int p = 0; p < 4; ++p)
            summ = _mm512_dpwssd_epi32(summ, _mm512_load_si512(act[v]->min_pairs[p]), _mm512_set1_epi32(rows[r].min_pair[p]));
          const __m512 dmin = _mm512_mul_ps(_mm512_set1_ps(rows[r].d[1]), da);
          acc.sumf[v0 + v][r] = _mm512_sub_ps(acc.sumf[v0 + v][r], _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(summ)));
        }
      }
  }
}

struct VJob {
  const uint8_t* w;  // first row
  uint64_t row_bytes;
  int n_rows;        // 1..kRows
  int64_t n_chunks;
  const VAct* act;   // token vector 0, chunk 0; vector v chunk c at act[v * n_chunks + c]
  int n_vectors;     // 1..kTokenVectors
  int n_tokens;      // real tokens in those vectors
  float* y;          // y[t * y_stride + r]
  int64_t y_stride;
};

template <GgmlType T>
void vnni_job(const VJob& job) {
  VRow rows[kRows];
  VAcc acc;
  for (int v = 0; v < kTokenVectors; ++v)
    for (int r = 0; r < kRows; ++r) acc.sum[v][r] = acc.sumf[v][r] = _mm512_setzero_ps();
  for (int64_t c = 0; c < job.n_chunks; ++c) {
    // Missing rows repeat the last real one; their results are not stored.
    for (int r = 0; r < kRows; ++r) decode_row<T>(job.w + uint64_t(std::min(r, job.n_rows - 1)) * job.row_bytes, c, rows[r]);
    int v = 0;
    for (; v + 2 <= job.n_vectors; v += 2) {
      const VAct* a[2] = {job.act + v * job.n_chunks + c, job.act + (v + 1) * job.n_chunks + c};
      micro<T, 2>(rows, a, acc, v);
    }
    if (v < job.n_vectors) {
      const VAct* a[1] = {job.act + v * job.n_chunks + c};
      micro<T, 1>(rows, a, acc, v);
    }
  }
  for (int v = 0; v < job.n_vectors; ++v)
    for (int r = 0; r < job.n_rows; ++r) {
      alignas(64) float sum[kLanes], sumf[kLanes];
      _mm512_store_ps(sum, acc.sum[v][r]);
      _mm512_store_ps(sumf, acc.sumf[v][r]);
      for (int l = 0; l < kLanes && v * kLanes + l < job.n_tokens; ++l)
        job.y[(v * kLanes + l) * job.y_stride + r] = T == GgmlType::Q8_0 ? sumf[l] : sumf[l] + sum[l];
    }
}

using PackFn = void (*)(const uint8_t*, uint64_t, int, int64_t, VAct&);
using JobFn = void (*)(const VJob&);

PackFn pack_fn(GgmlType t) {
  switch (t) {
    case GgmlType::Q8_0: return pack_group<GgmlType::Q8_0>;
    default: return pack_group<GgmlType::Q4_K>;  // every K-quant reads Q8_K the same way
  }
}

JobFn job_fn(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_K: return vnni_job<GgmlType::Q4_K>;
    case GgmlType::Q5_K: return vnni_job<GgmlType::Q5_K>;
    case GgmlType::Q6_K: return vnni_job<GgmlType::Q6_K>;
    case GgmlType::Q8_0: return vnni_job<GgmlType::Q8_0>;
    default: return nullptr;
  }
}

}  // namespace

#pragma GCC diagnostic pop
#pragma GCC pop_options

bool vnni_gemm_supports(GgmlType t, int64_t n_cols) { return job_fn(t) != nullptr && n_cols % 256 == 0; }

void vnni_gemm(const MatrixView& w, const uint8_t* act, uint64_t act_bytes, int64_t n_tokens, float* y) {
  const PackFn pack = pack_fn(w.type);
  const JobFn job_of = job_fn(w.type);
  const int64_t n_chunks = w.n_cols / 256, n_vectors = (n_tokens + kLanes - 1) / kLanes;
  const size_t n_packed = size_t(n_vectors * n_chunks);
  std::unique_ptr<VAct[]> packed(new VAct[n_packed]);
  tbb::parallel_for(tbb::blocked_range2d<int64_t>(0, n_vectors, 0, n_chunks), [&](const auto& range) {
    for (int64_t v = range.rows().begin(); v != range.rows().end(); ++v)
      for (int64_t c = range.cols().begin(); c != range.cols().end(); ++c)
        pack(act + uint64_t(v * kLanes) * act_bytes, act_bytes, int(std::min<int64_t>(kLanes, n_tokens - v * kLanes)), c,
             packed[size_t(v * n_chunks + c)]);
  });
  const int64_t row_tiles = (w.n_rows + kRows - 1) / kRows;
  const int64_t token_tiles = (n_vectors + kTokenVectors - 1) / kTokenVectors;
  tbb::parallel_for(tbb::blocked_range2d<int64_t>(0, row_tiles, 0, token_tiles), [&](const auto& range) {
    for (int64_t rt = range.rows().begin(); rt != range.rows().end(); ++rt)
      for (int64_t tt = range.cols().begin(); tt != range.cols().end(); ++tt) {
        VJob job;
        job.w = w.data + uint64_t(rt * kRows) * w.row_bytes;
        job.row_bytes = w.row_bytes;
        job.n_rows = int(std::min<int64_t>(kRows, w.n_rows - rt * kRows));
        job.n_chunks = n_chunks;
        const int64_t v0 = tt * kTokenVectors;
        job.act = packed.get() + v0 * n_chunks;
        job.n_vectors = int(std::min<int64_t>(kTokenVectors, n_vectors - v0));
        job.n_tokens = int(std::min<int64_t>(int64_t(job.n_vectors) * kLanes, n_tokens - v0 * kLanes));
        job.y = y + v0 * kLanes * w.n_rows + rt * kRows;
        job.y_stride = w.n_rows;
        job_of(job);
      }
  });
}

}  // namespace scout::kernels::cpu::qdot::detail

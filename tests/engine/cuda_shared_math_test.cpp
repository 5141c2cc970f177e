// The CUDA kernels' per-element math (engine/kernels/cuda/shared_math.cuh, matmul_kernels.cuh)
// run on the host against the CPU references. This file is built in every configuration, so
// CI proves, without a GPU: the block decoders are bit-identical to quant::dequantize_row
// (exhaustively for Q8_0, F16, BF16 and the Q4_K scale packing), the half/bfloat16
// conversions, RoPE angles and rotation (bit-identical to model::Rope), the chunked/causal
// mask, RMSNorm's scale, the routing (top-k, sigmoid, SwiGLU) and the MoE row layout, and that
// the GEMV's and attention's index arithmetic (groups, token chunks, units, rows; key tiles,
// splits and the online softmax) computes the reference results in an emulated launch.
// What it cannot prove: the device compiler's code, warp shuffles, tensor-core fragments and
// memory ordering; tests/cuda/ check those on a lent GPU (scripts/gpu-check.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "cuda/reference_helpers.h"
#include "engine/kernels/cpu/matmul.h"
#include "engine/kernels/cuda/matmul_kernels.cuh"
#include "engine/kernels/cuda/shared_math.cuh"
#include "engine/model/arch.h"
#include "engine/model/layers.h"
#include "engine/quant/blocks.h"
#include "engine/quant/dequantize.h"
#include "engine/util/half.h"

namespace scout {
namespace {

namespace hd = cuda::hd;
using quant::GgmlType;

bool same_bits(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Decodes every unit of a row with hd::decode_unit and compares it bit for bit with the
// reference dequantization of the same bytes; returns the number of differing elements.
template <GgmlType T>
int64_t decode_mismatches(const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<float> want(size_t(n), 0.0f);
  quant::dequantize_row(T, bytes.data(), want.data(), n);
  int64_t bad = 0;
  for (int64_t u = 0; u < n / 8; ++u) {
    float got[8];
    hd::decode_unit<T>(bytes.data(), u, got);
    for (int i = 0; i < 8; ++i) bad += !same_bits(got[i], want[size_t(8 * u + i)]);
  }
  return bad;
}

// ---------------------------------------------------------------- conversions

TEST(CudaSharedMath, HalfToFloatEqualsTheReferenceForAllHalves) {
  for (uint32_t h = 0; h < 65536; ++h) {
    ASSERT_TRUE(same_bits(hd::f16_bits_to_f32_portable(uint16_t(h)), fp16_to_fp32(uint16_t(h)))) << h;
    ASSERT_TRUE(same_bits(hd::bf16_to_f32(uint16_t(h)), bf16_to_fp32(uint16_t(h)))) << h;
  }
}

TEST(CudaSharedMath, FloatToHalfAndBf16RoundLikeTheReference) {
  // Every 61st float bit pattern (all exponents, scattered mantissas) plus the rounding edges.
  for (uint64_t u = 0; u < (1ull << 32); u += 61) {
    const float f = hd::as_float(uint32_t(u));
    ASSERT_EQ(hd::f32_to_f16_bits_portable(f), fp32_to_fp16(f)) << u;
    ASSERT_EQ(hd::f32_to_bf16_bits(f), fp32_to_bf16(f)) << u;
  }
  for (uint32_t h = 0; h < 0x7c00; ++h) {  // halfway between consecutive halves, and next to it
    const uint32_t mid = (hd::as_bits(fp16_to_fp32(uint16_t(h))) + hd::as_bits(fp16_to_fp32(uint16_t(h + 1)))) / 2;
    for (uint32_t d : {mid - 1, mid, mid + 1}) {
      const float f = hd::as_float(d);
      ASSERT_EQ(hd::f32_to_f16_bits_portable(f), fp32_to_fp16(f)) << h;
    }
  }
}

// ---------------------------------------------------------------- block decoders

TEST(CudaSharedMath, Q4KScaleUnpackingIsExhaustivelyTheReference) {
  uint8_t s[12] = {};
  auto words = [&](uint32_t& w0, uint32_t& w1, uint32_t& w2) {
    std::memcpy(&w0, s, 4);
    std::memcpy(&w1, s + 4, 4);
    std::memcpy(&w2, s + 8, 4);
  };
  for (int j = 0; j < 8; ++j) {
    // The bytes sub-block j reads: j and j + 4 (j < 4); j + 4, j - 4 and j (j >= 4).
    const int a = j < 4 ? j : j + 4, b = j < 4 ? j + 4 : j - 4, c = j < 4 ? -1 : j;
    const uint32_t combos = c < 0 ? 1u << 16 : 1u << 24;
    for (uint32_t v = 0; v < combos; ++v) {
      std::memset(s, 0, sizeof s);
      s[a] = uint8_t(v);
      s[b] = uint8_t(v >> 8);
      if (c >= 0) s[c] = uint8_t(v >> 16);
      uint8_t sc_ref, m_ref;
      quant::unpack_scale_min_k4(j, s, sc_ref, m_ref);
      uint32_t w0, w1, w2, sc, m;
      words(w0, w1, w2);
      hd::unpack_scale_min_k4(j, w0, w1, w2, sc, m);
      ASSERT_EQ(sc, sc_ref) << "j=" << j << " v=" << v;
      ASSERT_EQ(m, m_ref) << "j=" << j << " v=" << v;
    }
  }
}

TEST(CudaSharedMath, Q8_0DecoderIsExhaustivelyTheReference) {
  // Every scale (all 65536 halves, NaN and infinity included) with every quant value.
  const int64_t n_blocks = 65536 * 8;
  std::vector<uint8_t> bytes(static_cast<size_t>(n_blocks * 34));
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t* p = bytes.data() + b * 34;
    const uint16_t d = uint16_t(b / 8);
    std::memcpy(p, &d, 2);
    for (int j = 0; j < 32; ++j) p[2 + j] = uint8_t((b % 8) * 32 + j);
  }
  EXPECT_EQ(decode_mismatches<GgmlType::Q8_0>(bytes, n_blocks * 32), 0);
}

TEST(CudaSharedMath, F16Bf16F32DecodersAreExhaustivelyTheReference) {
  std::vector<uint8_t> bytes(65536 * 2);
  for (uint32_t h = 0; h < 65536; ++h) std::memcpy(bytes.data() + 2 * h, &h, 2);
  EXPECT_EQ(decode_mismatches<GgmlType::F16>(bytes, 65536), 0);
  EXPECT_EQ(decode_mismatches<GgmlType::BF16>(bytes, 65536), 0);
  std::vector<uint8_t> f32(4 * 4096);
  uint64_t s = 7;
  for (size_t i = 0; i < f32.size(); i += 8) {
    const uint64_t r = splitmix(s);
    std::memcpy(f32.data() + i, &r, 8);
  }
  EXPECT_EQ(decode_mismatches<GgmlType::F32>(f32, 4096), 0);
}

// Random bytes everywhere (scales and mins of every kind: subnormal, infinite, NaN), so every
// bit of the layout is exercised; and blocks from the reference quantizer.
TEST(CudaSharedMath, KQuantDecodersAreTheReferenceOnRandomBlocks) {
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q6_K}) {
    const int64_t n_blocks = 40000, bs = quant::traits(t).type_size;
    std::vector<uint8_t> bytes(static_cast<size_t>(n_blocks * bs));
    uint64_t s = 1234 + uint64_t(t);
    for (size_t i = 0; i < bytes.size(); i += 8) {
      const uint64_t r = splitmix(s);
      std::memcpy(bytes.data() + i, &r, std::min<size_t>(8, bytes.size() - i));
    }
    const int64_t n = n_blocks * 256;
    EXPECT_EQ(t == GgmlType::Q4_K ? decode_mismatches<GgmlType::Q4_K>(bytes, n) : decode_mismatches<GgmlType::Q6_K>(bytes, n), 0)
        << quant::traits(t).name;
    const auto q = test::random_matrix(t, 64, 512, 99, 1.0f);
    EXPECT_EQ(t == GgmlType::Q4_K ? decode_mismatches<GgmlType::Q4_K>(q, 64 * 512) : decode_mismatches<GgmlType::Q6_K>(q, 64 * 512), 0);
  }
}

// ---------------------------------------------------------------- norms, activations, routing

TEST(CudaSharedMath, RmsScaleGivesTheReferenceNorm) {
  for (int64_t n : {1, 7, 128, 5120}) {
    for (uint32_t seed = 0; seed < 20; ++seed) {
      const auto x = test::randn(size_t(n), seed, seed % 2 ? 30.0f : 0.01f);
      std::vector<float> want(static_cast<size_t>(n));
      model::rms_norm(x.data(), n, 1e-5f, nullptr, want.data());
      double ss = 0.0;
      for (float v : x) ss += double(v) * double(v);
      const float inv = hd::rms_inv_scale(ss, n, 1e-5f);
      for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(same_bits(hd::fmul(x[size_t(i)], inv), want[size_t(i)]));
    }
  }
}

TEST(CudaSharedMath, RoutingWeightAndSwigluAreTheReferenceFormulas) {
  const auto g = test::randn(100000, 5, 6.0f), u = test::randn(100000, 6);
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_TRUE(same_bits(hd::sigmoid(g[i]), 1.0f / (1.0f + std::exp(-g[i]))));
    ASSERT_TRUE(same_bits(hd::silu_mul(g[i], u[i]), g[i] / (1.0f + std::exp(-g[i])) * u[i]));
  }
}

TEST(CudaSharedMath, TopKEqualsTheReferenceIncludingTies) {
  std::mt19937 rng(3);
  for (int n_expert : {1, 2, 16, 128}) {
    for (int k = 1; k <= std::min(8, n_expert); ++k) {
      for (int rep = 0; rep < 300; ++rep) {
        std::vector<float> logits(static_cast<size_t>(n_expert));
        // Few distinct values: many ties.
        for (auto& v : logits) v = float(int(rng() % 5)) - 2.0f;
        std::vector<int64_t> want(static_cast<size_t>(k));
        model::top_k_experts(logits.data(), n_expert, k, want.data());
        int got[hd::kMaxTopK];
        hd::top_k(logits.data(), n_expert, k, got);
        for (int s = 0; s < k; ++s) ASSERT_EQ(got[s], want[size_t(s)]) << "E=" << n_expert << " k=" << k;
      }
    }
  }
}

TEST(CudaSharedMath, MoeLayoutPlacesEveryEntryOnceInOrderPadded) {
  const int n_expert = 16, n = 37;
  for (int k : {1, 2, 4}) {
    for (int32_t align : {1, 64}) {
      std::mt19937 rng(uint32_t(k * 100 + align));
      std::vector<uint8_t> expert(static_cast<size_t>(n * k));
      std::vector<float> weight(static_cast<size_t>(n * k));
      for (int t = 0; t < n; ++t) {
        std::vector<float> logits(n_expert);
        for (auto& v : logits) v = float(rng() % 1000) / 100.0f;
        int idx[hd::kMaxTopK];
        hd::top_k(logits.data(), n_expert, k, idx);
        for (int s = 0; s < k; ++s) {
          expert[size_t(t * k + s)] = uint8_t(idx[s]);
          weight[size_t(t * k + s)] = hd::sigmoid(logits[size_t(idx[s])]);
        }
      }
      std::vector<int32_t> counts(n_expert, 0), begin(n_expert + 1);
      for (uint8_t e : expert) ++counts[e];
      hd::moe_offsets(counts.data(), n_expert, align, begin.data());
      const int64_t cap = hd::moe_rows_capacity(n * k, n_expert, align);
      ASSERT_LE(begin[n_expert], cap);
      std::vector<int32_t> src(size_t(cap), -7), dst(size_t(cap), -7);
      std::vector<float> scale(size_t(cap), -7.0f);
      for (int e = 0; e < n_expert; ++e)
        hd::moe_place_expert(e, expert.data(), weight.data(), n * k, k, begin.data(), src.data(), scale.data(), dst.data());
      std::vector<int> seen(size_t(n * (k + 1)), 0);
      for (int e = 0; e < n_expert; ++e) {
        ASSERT_EQ(begin[e] % align, 0);
        int32_t last_entry = -1;
        for (int32_t r = begin[e]; r < begin[e + 1]; ++r) {
          if (r - begin[e] >= counts[e]) {
            EXPECT_EQ(src[size_t(r)], -1);
            EXPECT_EQ(dst[size_t(r)], -1);
            continue;
          }
          const int32_t t = src[size_t(r)], slot = dst[size_t(r)] - t * (k + 1);
          ASSERT_TRUE(t >= 0 && t < n && slot >= 0 && slot < k);
          const int32_t entry = t * k + slot;
          EXPECT_EQ(expert[size_t(entry)], e);
          EXPECT_EQ(scale[size_t(r)], weight[size_t(entry)]);
          EXPECT_GT(entry, last_entry);  // stable: entry order within an expert
          last_entry = entry;
          ++seen[size_t(dst[size_t(r)])];
        }
      }
      for (int t = 0; t < n; ++t)
        for (int s = 0; s <= k; ++s) EXPECT_EQ(seen[size_t(t * (k + 1) + s)], s < k ? 1 : 0);
    }
  }
}

// ---------------------------------------------------------------- RoPE, temperature

TEST(CudaSharedMath, RopeIsBitIdenticalToTheReference) {
  for (int64_t n_rot : {64, 128}) {
    model::HParams hp;
    hp.head_dim = 128;
    hp.n_rot = n_rot;
    hp.rope_freq_base = 500000.0f;
    hp.rope_freq_scale = 0.25f;
    std::vector<float> factors(static_cast<size_t>(n_rot / 2));
    for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + float(i % 7) * 1.3f;
    const model::Rope rope(hp, factors);
    const float theta_scale = std::pow(hp.rope_freq_base, -2.0f / float(n_rot));
    for (int64_t pos : {int64_t(0), int64_t(1), int64_t(17), int64_t(8191), int64_t(8192), int64_t(123457),
                        int64_t(10000000)}) {
      const auto x = test::randn(size_t(3 * hp.head_dim), uint32_t(pos % 1000));
      auto want = x;
      rope.apply(want.data(), 3, pos);
      for (int64_t h = 0; h < 3; ++h) {
        for (int64_t i = 0; i < hp.head_dim / 2; ++i) {
          const float* v = x.data() + h * hp.head_dim;
          float y0 = v[2 * i], y1 = v[2 * i + 1];
          if (i < n_rot / 2) {
            const float a = hd::rope_angle(pos, int(i), theta_scale, hp.rope_freq_scale, factors[size_t(i)]);
            hd::rope_rotate(v[2 * i], v[2 * i + 1], std::cos(a), std::sin(a), y0, y1);
          }
          ASSERT_TRUE(same_bits(y0, want[size_t(h * hp.head_dim + 2 * i)])) << pos << " " << i;
          ASSERT_TRUE(same_bits(y1, want[size_t(h * hp.head_dim + 2 * i + 1)])) << pos << " " << i;
        }
      }
    }
  }
}

TEST(CudaSharedMath, AttentionTemperatureIsTheReference) {
  for (int64_t pos = 0; pos < 100000; pos += 37)
    ASSERT_TRUE(same_bits(hd::attn_temperature(pos, 8192, 0.1f), model::llama4_attn_temperature(pos, 8192, 0.1f)));
}

// ---------------------------------------------------------------- masks, softmax, splits

TEST(CudaSharedMath, MaskIsChunkedCausal) {
  for (int64_t chunk : {0, 1, 3, 8, 64}) {
    for (int64_t p = 0; p < 200; ++p) {
      EXPECT_EQ(hd::window_start(p, chunk), model::attention_window_start(p, chunk));
      for (int64_t k = 0; k < 200; ++k) {
        const bool want = k <= p && (chunk == 0 || k / chunk == p / chunk);
        ASSERT_EQ(hd::key_visible(p, k, chunk), want) << p << " " << k << " " << chunk;
      }
    }
  }
}

TEST(CudaSharedMath, SplitRangesTileTheKeysExactlyOnce) {
  for (int64_t kbeg : {0, 5, 64, 8192}) {
    for (int64_t len : {1, 2, 63, 64, 65, 300, 4097}) {
      for (int n_split : {1, 2, 3, 7, 32}) {
        int64_t next = kbeg;
        for (int s = 0; s < n_split; ++s) {
          int64_t b, e;
          hd::split_range(kbeg, kbeg + len, n_split, s, 64, b, e);
          ASSERT_LE(b, e);
          if (b == e) continue;
          ASSERT_EQ(b, next);
          ASSERT_EQ((b - kbeg) % 64, 0);
          next = e;
        }
        ASSERT_EQ(next, kbeg + len) << kbeg << " " << len << " " << n_split;
      }
    }
  }
}

// One row of attention three ways: direct softmax, online over blocks (fully masked first
// blocks included), and split into partials merged afterwards.
TEST(CudaSharedMath, OnlineSoftmaxAndSplitMergeEqualTheDirectSoftmax) {
  std::mt19937 rng(11);
  for (int rep = 0; rep < 200; ++rep) {
    const int n = 1 + int(rng() % 300), dim = 4;
    auto s = test::randn(size_t(n), rng(), 3.0f);
    const auto v = test::randn(size_t(n * dim), rng());
    const int masked_prefix = int(rng() % 3) * 64;  // masked keys in front: -inf scores
    std::vector<float> sc(size_t(masked_prefix), hd::kNegInf);
    sc.insert(sc.end(), s.begin(), s.end());
    std::vector<float> vv(size_t(masked_prefix * dim), 0.0f);
    vv.insert(vv.end(), v.begin(), v.end());
    const int total = int(sc.size());
    // Direct.
    double mx = -INFINITY, sum = 0.0;
    for (float x : s) mx = std::max(mx, double(x));
    std::vector<double> want(dim, 0.0);
    for (int j = 0; j < n; ++j) {
      const double p = std::exp(double(s[size_t(j)]) - mx);
      sum += p;
      for (int c = 0; c < dim; ++c) want[size_t(c)] += p * v[size_t(j * dim + c)];
    }
    for (auto& w : want) w /= sum;
    // Online over 64-blocks, and split/merge.
    auto run = [&](int b0, int b1, hd::SoftmaxState& st, std::vector<float>& o) {
      for (int t0 = b0; t0 < b1; t0 += 64) {
        const int nb = std::min(64, b1 - t0);
        float p[64];
        const float alpha = hd::softmax_update(st, sc.data() + t0, nb, p);
        for (int c = 0; c < dim; ++c) {
          float acc = o[size_t(c)] * alpha;
          for (int j = 0; j < nb; ++j) acc += p[j] * vv[size_t((t0 + j) * dim + c)];
          o[size_t(c)] = acc;
        }
      }
    };
    hd::SoftmaxState st;
    std::vector<float> o(dim, 0.0f);
    run(0, total, st, o);
    for (int c = 0; c < dim; ++c) ASSERT_NEAR(o[size_t(c)] / st.l, want[size_t(c)], 1e-5) << rep;
    const int n_split = 1 + int(rng() % 5);
    hd::SoftmaxState merged;
    std::vector<float> acc(dim, 0.0f);
    for (int sp = 0; sp < n_split; ++sp) {
      int64_t b, e;
      hd::split_range(0, total, n_split, sp, 64, b, e);
      hd::SoftmaxState part;
      std::vector<float> po(dim, 0.0f);
      run(int(b), int(e), part, po);
      float ca, cb;
      hd::softmax_merge(merged, part, merged, ca, cb);
      for (int c = 0; c < dim; ++c) acc[size_t(c)] = acc[size_t(c)] * ca + po[size_t(c)] * cb;
    }
    for (int c = 0; c < dim; ++c) ASSERT_NEAR(acc[size_t(c)] / merged.l, want[size_t(c)], 1e-5) << rep;
  }
}

// The prefill kernel's schedule on the host: 64-query tiles, key tiles from the first query's
// window start to the last query, the mask per element, Q and P rounded to F16 as the tensor
// cores see them, the online softmax; against model::attention. This also sizes the tolerance
// the GPU test uses.
std::vector<float> emulate_prefill(const test::AttnTestCase& c) {
  const int64_t hdim = c.head_dim, G = c.n_head / c.n_head_kv;
  const float scale = 1.0f / std::sqrt(float(hdim));
  auto r16 = [](float x) { return fp16_to_fp32(hd::f32_to_f16_bits_portable(x)); };
  std::vector<float> out(c.q.size(), NAN);
  int64_t first = 0;
  for (size_t si = 0; si < c.seqs.size(); ++si) {
    const auto& sq = c.seqs[si];
    for (int64_t qi0 = 0; qi0 < sq.n; qi0 += 64) {
      const int64_t nq = std::min<int64_t>(64, sq.n - qi0), p_first = sq.pos0 + qi0;
      const int64_t kbeg = hd::window_start(p_first, c.chunk), kend = p_first + nq;
      for (int64_t h = 0; h < c.n_head; ++h) {
        const int64_t g = h / G;
        std::vector<hd::SoftmaxState> st(static_cast<size_t>(nq));
        std::vector<float> o(size_t(nq * hdim), 0.0f);
        for (int64_t t0 = kbeg; t0 < kend; t0 += 64) {
          const int64_t nk = std::min<int64_t>(64, kend - t0);
          for (int64_t r = 0; r < nq; ++r) {
            const float* q = c.q.data() + (first + qi0 + r) * c.q_dim() + h * hdim;
            float s[64], p[64];
            for (int64_t j = 0; j < 64; ++j) {
              s[j] = hd::kNegInf;
              if (j >= nk || !hd::key_visible(p_first + r, t0 + j, c.chunk)) continue;
              const float* k = c.k[si].data() + (t0 + j) * c.kv_dim() + g * hdim;
              float acc = 0.0f;
              for (int64_t d = 0; d < hdim; ++d) acc += r16(q[d]) * r16(k[d]);
              s[j] = acc * scale;
            }
            const float alpha = hd::softmax_update(st[size_t(r)], s, 64, p);
            for (int64_t d = 0; d < hdim; ++d) {
              float acc = o[size_t(r * hdim + d)] * alpha;
              for (int64_t j = 0; j < nk; ++j)
                acc += r16(p[j]) * r16(c.v[si][size_t((t0 + j) * c.kv_dim() + g * hdim + d)]);
              o[size_t(r * hdim + d)] = acc;
            }
          }
        }
        for (int64_t r = 0; r < nq; ++r)
          for (int64_t d = 0; d < hdim; ++d)
            out[size_t((first + qi0 + r) * c.q_dim() + h * hdim + d)] = o[size_t(r * hdim + d)] / st[size_t(r)].l;
      }
    }
    first += sq.n;
  }
  return out;
}

// The decode kernel's schedule: per query and KV head, n_split key ranges, 64-key tiles, F32.
std::vector<float> emulate_decode(const test::AttnTestCase& c, int n_split) {
  const int64_t hdim = c.head_dim, G = c.n_head / c.n_head_kv;
  const float scale = 1.0f / std::sqrt(float(hdim));
  auto f16 = [](float x) { return fp16_to_fp32(fp32_to_fp16(x)); };
  std::vector<float> out(c.q.size(), NAN);
  int64_t first = 0;
  for (size_t si = 0; si < c.seqs.size(); ++si) {
    const auto& sq = c.seqs[si];
    for (int64_t qi = 0; qi < sq.n; ++qi) {
      const int64_t pos = sq.pos0 + qi, row = first + qi;
      for (int64_t h = 0; h < c.n_head; ++h) {
        const int64_t g = h / G;
        hd::SoftmaxState merged;
        std::vector<float> acc(size_t(hdim), 0.0f);
        for (int sp = 0; sp < n_split; ++sp) {
          int64_t kb, ke;
          hd::split_range(hd::window_start(pos, c.chunk), pos + 1, n_split, sp, 64, kb, ke);
          hd::SoftmaxState st;
          std::vector<float> o(size_t(hdim), 0.0f);
          for (int64_t t0 = kb; t0 < ke; t0 += 64) {
            const int64_t nk = std::min<int64_t>(64, ke - t0);
            float s[64], p[64];
            for (int64_t j = 0; j < nk; ++j) {
              float a = 0.0f;
              for (int64_t d = 0; d < hdim; ++d)
                a += c.q[size_t(row * c.q_dim() + h * hdim + d)] * f16(c.k[si][size_t((t0 + j) * c.kv_dim() + g * hdim + d)]);
              s[j] = a * scale;
            }
            const float alpha = hd::softmax_update(st, s, int(nk), p);
            for (int64_t d = 0; d < hdim; ++d) {
              float a = o[size_t(d)] * alpha;
              for (int64_t j = 0; j < nk; ++j) a += p[j] * f16(c.v[si][size_t((t0 + j) * c.kv_dim() + g * hdim + d)]);
              o[size_t(d)] = a;
            }
          }
          float ca, cb;
          hd::softmax_merge(merged, st, merged, ca, cb);
          for (int64_t d = 0; d < hdim; ++d) acc[size_t(d)] = acc[size_t(d)] * ca + o[size_t(d)] * cb;
        }
        for (int64_t d = 0; d < hdim; ++d) out[size_t(row * c.q_dim() + h * hdim + d)] = acc[size_t(d)] / merged.l;
      }
    }
    first += sq.n;
  }
  return out;
}

TEST(CudaSharedMath, AttentionSchedulesComputeTheReference) {
  // Two sequences with cached prefixes; chunk boundaries inside query tiles; GQA 4:1.
  for (int64_t chunk : {int64_t(0), int64_t(48)}) {
    const auto c = test::make_attention_case(8, 2, 64, chunk, {{0, 70}, {100, 37}}, 21 + uint32_t(chunk));
    const auto want = test::reference_attention(c);
    const double e_prefill = test::rel_error(emulate_prefill(c), want);
    EXPECT_LT(e_prefill, 3e-3) << "chunk " << chunk;
    for (int n_split : {1, 3}) EXPECT_LT(test::rel_error(emulate_decode(c, n_split), want), 1e-5) << "chunk " << chunk;
  }
}

// ---------------------------------------------------------------- GEMV, emulated

// Runs a GEMV launch on the host: every block, warp and lane executes the kernel's own
// gemv_tokens / gemv_lane; the 32 lanes' partial sums are added as the shuffle tree would
// (in another order) and stored where the kernel stores them.
template <GgmlType T, bool kPair>
void emulate_gemv_typed(const hd::MatmulArgs& a, int64_t max_group_rows, int64_t slices) {
  constexpr int R = hd::kGemvRowsPerWarp, TK = hd::kGemvTokens;
  const int64_t gx = (a.n_rows + hd::kGemvRowsPerBlock - 1) / hd::kGemvRowsPerBlock;
  const int64_t gz = (max_group_rows + TK - 1) / TK;
  for (int64_t bz = 0; bz < gz; ++bz)
    for (int by = 0; by < slices; ++by)
      for (int64_t bx = 0; bx < gx; ++bx) {
        hd::GemvTokens tk;
        if (!hd::gemv_tokens(a, by, int(bz), tk)) continue;
        for (int warp = 0; warp < hd::kGemvWarps; ++warp) {
          const int64_t row0 = (bx * hd::kGemvWarps + warp) * R;
          if (row0 >= a.n_rows) continue;
          float sum[2][R][TK] = {};
          for (int lane = 0; lane < 32; ++lane) {
            float acc[2][R][TK] = {};
            hd::gemv_lane<T, kPair>(a, tk, row0, lane, acc);
            for (int p = 0; p < 2; ++p)
              for (int r = 0; r < R; ++r)
                for (int t = 0; t < TK; ++t) sum[p][r][t] += acc[p][r][t];
          }
          for (int r = 0; r < R; ++r)
            for (int t = 0; t < tk.n; ++t)
              if (row0 + r < a.n_rows && tk.x_off[t] >= 0)
                a.y[int64_t(tk.dst[t]) * a.ldy + row0 + r] = kPair ? hd::silu_mul(sum[0][r][t], sum[1][r][t]) : sum[0][r][t];
        }
      }
}

void emulate_gemv(GgmlType t, bool pair, const hd::MatmulArgs& a, int64_t max_group_rows, int64_t slices) {
  auto go = [&]<GgmlType T>() {
    if (pair) emulate_gemv_typed<T, true>(a, max_group_rows, slices);
    else emulate_gemv_typed<T, false>(a, max_group_rows, slices);
  };
  switch (t) {
    case GgmlType::F32: go.operator()<GgmlType::F32>(); break;
    case GgmlType::F16: go.operator()<GgmlType::F16>(); break;
    case GgmlType::BF16: go.operator()<GgmlType::BF16>(); break;
    case GgmlType::Q8_0: go.operator()<GgmlType::Q8_0>(); break;
    case GgmlType::Q4_K: go.operator()<GgmlType::Q4_K>(); break;
    case GgmlType::Q6_K: go.operator()<GgmlType::Q6_K>(); break;
    default: FAIL();
  }
}

class CudaGemvEmulation : public ::testing::TestWithParam<GgmlType> {};

// A grouped product with gathered, scaled inputs and scattered outputs (three groups, one of
// them empty, a padding row, more than 8 rows in a group), plain and as a SwiGLU pair.
TEST_P(CudaGemvEmulation, ComputesTheReferenceMatmul) {
  const GgmlType type = GetParam();
  const int64_t n_rows = 37, n_cols = 512, n_groups = 3, n_x = 40, ldy = n_rows + 3;
  const auto w1 = test::random_matrix(type, n_groups * n_rows, n_cols, 1);
  const auto w2 = test::random_matrix(type, n_groups * n_rows, n_cols, 2);
  const uint64_t rb = *quant::row_bytes(type, n_cols);
  const auto x = test::randn(size_t(n_x * n_cols), 3);
  const std::vector<int32_t> begin = {0, 4, 4, 15};
  const std::vector<int32_t> src = {3, 0, 8, 1, 2, 2, 7, -1, 6, 5, 4, 0, 1, 3, 8};
  std::vector<float> scale(src.size());
  std::vector<int32_t> dst(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    scale[i] = 0.25f + 0.1f * float(i);
    dst[i] = int32_t(src.size() - 1 - i);
  }
  for (bool pair : {false, true}) {
    for (int mode : {0, 1, 2}) {  // plain; grouped; grouped with compact group slices
      const bool grouped = mode > 0;
      hd::MatmulArgs a;
      a.w = w1.data();
      a.w2 = pair ? w2.data() : nullptr;
      a.group_stride = rb * n_rows;
      a.row_bytes = rb;
      a.n_rows = n_rows;
      a.n_cols = n_cols;
      a.x = x.data();
      a.ldx = n_cols;
      a.ldy = ldy;
      const int64_t out_rows = std::max<int64_t>(n_x, int64_t(src.size()));
      std::vector<float> y(static_cast<size_t>(ldy * out_rows), NAN), want(y.size(), NAN);
      a.y = y.data();
      if (grouped) {
        a.group_begin = begin.data();
        a.n_groups = int32_t(n_groups);
        a.src = src.data();
        a.scale = scale.data();
        a.dst = dst.data();
      } else {
        a.m = int32_t(n_x);
      }
      a.compact_groups = mode == 2;
      // Compact: only the 2 non-empty groups get slices (the launcher's max_active_groups).
      emulate_gemv(type, pair, a, grouped ? 11 : n_x, mode == 2 ? 2 : a.n_groups);
      // Reference: kernels/cpu matmul_reference (F32 activations, as the GEMV) of each row's (scaled) input with its group's matrix.
      const int64_t m = grouped ? int64_t(src.size()) : n_x;
      for (int64_t i = 0; i < m; ++i) {
        const int g = grouped ? int(std::upper_bound(begin.begin(), begin.end(), int32_t(i)) - begin.begin()) - 1 : 0;
        const int32_t s = grouped ? src[size_t(i)] : int32_t(i);
        if (s < 0) continue;
        std::vector<float> xi(x.begin() + s * n_cols, x.begin() + (s + 1) * n_cols);
        if (grouped)
          for (auto& v : xi) v = v * scale[size_t(i)];
        std::vector<float> yg(static_cast<size_t>(n_rows)), yu(static_cast<size_t>(n_rows));
        kernels::cpu::matmul_reference(kernels::cpu::make_weight_view(type, w1.data() + g * n_rows * rb, n_cols, n_rows), xi.data(), 1, yg.data());
        kernels::cpu::matmul_reference(kernels::cpu::make_weight_view(type, w2.data() + g * n_rows * rb, n_cols, n_rows), xi.data(), 1, yu.data());
        const int32_t d = grouped ? dst[size_t(i)] : int32_t(i);
        for (int64_t r = 0; r < n_rows; ++r)
          want[size_t(d * ldy + r)] = pair ? yg[size_t(r)] / (1.0f + std::exp(-yg[size_t(r)])) * yu[size_t(r)] : yg[size_t(r)];
      }
      int64_t unwritten = 0, stray = 0;
      double num = 0, den = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        if (std::isnan(want[i])) {
          stray += !std::isnan(y[i]);
          continue;
        }
        if (std::isnan(y[i])) {
          ++unwritten;
          continue;
        }
        num += (double(y[i]) - want[i]) * (double(y[i]) - want[i]);
        den += double(want[i]) * want[i];
      }
      EXPECT_EQ(unwritten, 0) << "pair " << pair << " mode " << mode;
      EXPECT_EQ(stray, 0) << "pair " << pair << " mode " << mode;
      EXPECT_LT(std::sqrt(num / den), 1e-5) << "pair " << pair << " mode " << mode;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, CudaGemvEmulation,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_K,
                                           GgmlType::Q6_K),
                         [](const auto& info) { return std::string(quant::traits(info.param).name); });

TEST(CudaSharedMath, FindGroupLocatesTilesOfPaddedGroups) {
  const std::vector<int32_t> begin = {0, 64, 64, 192, 256};
  hd::MatmulArgs a;
  a.group_begin = begin.data();
  a.n_groups = 4;
  for (int64_t i = 0; i < 300; ++i) {
    const int want = i < 64 ? 0 : i < 192 ? 2 : i < 256 ? 3 : -1;
    EXPECT_EQ(hd::find_group(a, i), want) << i;
  }
  hd::MatmulArgs plain;
  plain.m = 10;
  EXPECT_EQ(hd::find_group(plain, 9), 0);
  EXPECT_EQ(hd::find_group(plain, 10), -1);
}

}  // namespace
}  // namespace scout

// Attention (prefill and split-K decode) and the fused RoPE/QK-norm/KV-store kernel against
// model::attention, model::Rope and model::rms_norm, on fresh random inputs with outputs
// poisoned. Skips without a GPU; scripts/gpu-check.sh runs it on a lent one.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "engine/kernels/cuda/attention_cuda.h"
#include "engine/kernels/cuda/norm_rope_cuda.h"
#include "engine/model/arch.h"
#include "engine/model/layers.h"
#include "engine/util/half.h"

namespace scout::cuda {
namespace {

using test::DeviceBuffer;

uint32_t fresh_seed() {
  static std::random_device rd;
  return rd();
}

// The case's caches and queries on the device.
struct DeviceAttn {
  std::vector<DeviceBuffer<uint16_t>> k, v;
  DeviceBuffer<AttnSeq> seqs;
  DeviceBuffer<float> q;
  int32_t max_n_q = 0;
  int64_t max_kv = 0;

  explicit DeviceAttn(const test::AttnTestCase& c) {
    std::vector<AttnSeq> s;
    int32_t first = 0;
    for (size_t i = 0; i < c.seqs.size(); ++i) {
      k.emplace_back(test::to_f16(c.k[i]));
      v.emplace_back(test::to_f16(c.v[i]));
      AttnSeq a;
      a.k = k.back().get();
      a.v = v.back().get();
      a.q_first = first;
      a.n_q = int32_t(c.seqs[i].n);
      a.pos0 = int32_t(c.seqs[i].pos0);
      s.push_back(a);
      first += a.n_q;
      max_n_q = std::max(max_n_q, a.n_q);
      max_kv = std::max<int64_t>(max_kv, c.seqs[i].pos0 + c.seqs[i].n);
    }
    seqs = DeviceBuffer<AttnSeq>(s);
    q = DeviceBuffer<float>(c.q);
  }
};

AttnShape shape_of(const test::AttnTestCase& c) {
  AttnShape s;
  s.n_head = int32_t(c.n_head);
  s.n_head_kv = int32_t(c.n_head_kv);
  s.head_dim = int32_t(c.head_dim);
  s.chunk = c.chunk;
  s.scale = 1.0f / std::sqrt(float(c.head_dim));
  return s;
}

struct Config {
  int64_t n_head, n_head_kv, head_dim, chunk;
};

TEST(CudaAttention, PrefillAndDecodeMatchTheReference) {
  SCOUT_REQUIRE_GPU();
  const Config configs[] = {{40, 8, 128, 0}, {40, 8, 128, 96}, {8, 2, 64, 0}, {8, 2, 64, 40}, {4, 4, 128, 64}};
  for (const auto& cf : configs) {
    // A long prompt, a decode step after a long prefix, a short append after a prefix.
    const auto c = test::make_attention_case(cf.n_head, cf.n_head_kv, cf.head_dim, cf.chunk,
                                             {{0, 150}, {300, 1}, {37, 70}}, fresh_seed());
    const auto want = test::reference_attention(c);
    DeviceAttn d(c);
    const AttnShape sh = shape_of(c);
    const auto n_seqs = int32_t(c.seqs.size());
    DeviceBuffer<float> out(c.q.size());
    out.poison();
    attention_prefill(sh, d.seqs.get(), n_seqs, d.max_n_q, d.q.get(), out.get(), nullptr);
    EXPECT_LT(test::rel_error(out.download(), want), 5e-3)
        << "prefill heads " << cf.n_head << "/" << cf.n_head_kv << " hd " << cf.head_dim << " chunk " << cf.chunk;
    for (int32_t n_split : {1, 4, attention_decode_splits(d.max_kv)}) {
      DeviceBuffer<float> work(size_t(attention_decode_workspace_floats(sh, c.total_new(), n_split)));
      work.poison();
      out.poison();
      attention_decode(sh, d.seqs.get(), n_seqs, d.max_n_q, n_split, d.q.get(), work.get(), out.get(), nullptr);
      EXPECT_LT(test::rel_error(out.download(), want), 1e-4)
          << "decode splits " << n_split << " heads " << cf.n_head << "/" << cf.n_head_kv << " hd " << cf.head_dim
          << " chunk " << cf.chunk;
    }
  }
}

TEST(CudaNorm, RmsNormMatchesTheReference) {
  SCOUT_REQUIRE_GPU();
  for (int64_t n : {128, 5120}) {
    const int64_t rows = 7;
    const auto x = test::randn(size_t(rows * n), fresh_seed(), 3.0f), w = test::randn(size_t(n), fresh_seed());
    DeviceBuffer<float> dx(x), dw(w), out(x.size());
    for (bool weighted : {true, false}) {
      out.poison();
      rms_norm(dx.get(), weighted ? dw.get() : nullptr, out.get(), rows, n, 1e-5f, nullptr);
      std::vector<float> want(x.size());
      model::rms_norm_rows(x.data(), rows, n, 1e-5f, weighted ? w.data() : nullptr, want.data());
      EXPECT_LT(test::rel_error(out.download(), want), 1e-6) << n;
    }
  }
}

// RoPE layers (RoPE then weightless QK-norm) and NoPE layers (temperature on Q) for a batch of
// two sequences; K/V land in the caches at their positions and nowhere else.
TEST(CudaNorm, QkRopeNormStoreMatchesTheReference) {
  SCOUT_REQUIRE_GPU();
  model::HParams hp;
  hp.n_head = 40;
  hp.n_head_kv = 8;
  hp.head_dim = 128;
  hp.n_rot = 128;
  hp.rope_freq_base = 500000.0f;
  hp.rms_eps = 1e-5f;
  std::vector<float> factors(64);
  for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + float(i % 5);
  const model::Rope rope(hp, factors);
  const int64_t q_dim = hp.n_head * hp.head_dim, kv_dim = hp.n_head_kv * hp.head_dim;
  const std::vector<std::pair<int64_t, int64_t>> seqs = {{0, 5}, {9000, 3}};  // (pos0, n)
  const int64_t n_tok = 8;
  DeviceBuffer<float> dfac(factors);
  for (bool rope_layer : {true, false}) {
    const auto q = test::randn(size_t(n_tok * q_dim), fresh_seed()), k = test::randn(size_t(n_tok * kv_dim), fresh_seed()),
               v = test::randn(size_t(n_tok * kv_dim), fresh_seed());
    auto want_q = q, want_k = k;
    std::vector<AttnSeq> s;
    std::vector<DeviceBuffer<uint16_t>> kc, vc;
    int64_t t = 0;
    for (const auto& [pos0, n] : seqs) {
      kc.emplace_back(static_cast<size_t>((pos0 + n) * kv_dim));
      vc.emplace_back(static_cast<size_t>((pos0 + n) * kv_dim));
      kc.back().poison();
      vc.back().poison();
      s.push_back({kc.back().get(), vc.back().get(), int32_t(t), int32_t(n), int32_t(pos0), 0});
      for (int64_t i = 0; i < n; ++i, ++t) {
        float* qt = want_q.data() + t * q_dim;
        float* kt = want_k.data() + t * kv_dim;
        const int64_t pos = pos0 + i;
        if (rope_layer) {
          rope.apply(qt, hp.n_head, pos);
          rope.apply(kt, hp.n_head_kv, pos);
          for (int64_t h = 0; h < hp.n_head; ++h) model::rms_norm(qt + h * 128, 128, hp.rms_eps, nullptr, qt + h * 128);
          for (int64_t h = 0; h < hp.n_head_kv; ++h) model::rms_norm(kt + h * 128, 128, hp.rms_eps, nullptr, kt + h * 128);
        } else {
          const float temp = model::llama4_attn_temperature(pos, 8192, 0.1f);
          for (int64_t j = 0; j < q_dim; ++j) qt[j] *= temp;
        }
      }
    }
    DeviceBuffer<AttnSeq> ds(s);
    DeviceBuffer<float> dq(q), dk(k), dv(v);
    QkParams p;
    p.n_head = int32_t(hp.n_head);
    p.n_head_kv = int32_t(hp.n_head_kv);
    p.head_dim = 128;
    p.n_rot = 128;
    p.rope = rope_layer;
    p.theta_scale = rope_theta_scale(hp.rope_freq_base, hp.n_rot);
    p.freq_factors = dfac.get();
    p.qk_norm = true;
    p.eps = hp.rms_eps;
    p.temp_floor = 8192;
    p.temp_scale = 0.1f;
    qk_rope_norm_store(p, ds.get(), int32_t(s.size()), 5, dq.get(), dk.get(), dv.get(), nullptr);
    EXPECT_LT(test::rel_error(dq.download(), want_q), 1e-5) << "rope " << rope_layer;
    EXPECT_LT(test::rel_error(dk.download(), want_k), 1e-5) << "rope " << rope_layer;
    t = 0;
    for (size_t i = 0; i < seqs.size(); ++i) {
      const auto [pos0, n] = seqs[i];
      const auto kh = kc[i].download(), vh = vc[i].download();
      for (int64_t p0 = 0; p0 < pos0; p0 += 97) EXPECT_EQ(kh[size_t(p0 * kv_dim)], 0xffff) << "cache row before pos0 touched";
      std::vector<float> got_k, ref_k;
      for (int64_t j = 0; j < n; ++j, ++t) {
        for (int64_t c = 0; c < kv_dim; ++c) {
          got_k.push_back(fp16_to_fp32(kh[size_t((pos0 + j) * kv_dim + c)]));
          ref_k.push_back(fp16_to_fp32(fp32_to_fp16(want_k[size_t(t * kv_dim + c)])));
          EXPECT_EQ(vh[size_t((pos0 + j) * kv_dim + c)], fp32_to_fp16(v[size_t(t * kv_dim + c)]));
        }
      }
      EXPECT_LT(test::rel_error(got_k, ref_k), 1e-4) << "rope " << rope_layer;
    }
  }
}

}  // namespace
}  // namespace scout::cuda

// The forward pass's building blocks, each against a direct statement of what it computes:
// the reference matmul on every supported weight type (vs double-precision dot products of
// dequantized rows) and its batch/thread invariance, RoPE on adjacent pairs, the llama4
// chunked attention window, the attention temperature, expert selection and MoE weighting.
#include <gtest/gtest.h>

#include <tbb/task_arena.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <random>
#include <vector>

#include "common/test_paths.h"
#include "engine/gguf/gguf.h"
#include "engine/kernels/cpu/matmul.h"
#include "engine/model/arch.h"
#include "engine/model/hparams.h"
#include "engine/model/kv_cache.h"
#include "engine/model/layers.h"
#include "engine/model/random_model.h"
#include "engine/quant/dequantize.h"
#include "engine/quant/quantize.h"
#include "engine/util/error.h"

namespace scout {
namespace {

using kernels::cpu::dot;
using kernels::cpu::make_weight_view;
using kernels::cpu::matmul;
using quant::GgmlType;

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// ---------------------------------------------------------------------------- kernels

TEST(ForwardKernels, DotSumsInTheDocumentedOrder) {
  for (int64_t n : {1, 7, 8, 9, 64, 259}) {
    const auto a = randn(size_t(n), 1), b = randn(size_t(n), 2);
    float lane[8] = {};
    const int64_t n8 = n / 8 * 8;
    for (int64_t i = 0; i < n8; ++i) lane[i % 8] = std::fma(a[size_t(i)], b[size_t(i)], lane[i % 8]);
    float want = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
    for (int64_t i = n8; i < n; ++i) want = std::fma(a[size_t(i)], b[size_t(i)], want);
    EXPECT_EQ(dot(a.data(), b.data(), n), want) << "n=" << n;
  }
}

class MatmulTypes : public ::testing::TestWithParam<GgmlType> {};

TEST_P(MatmulTypes, EqualsDoubleDotOfDequantizedRows) {
  const GgmlType type = GetParam();
  const int64_t k = 512, rows = 37, n_tok = 5;
  const auto w = randn(size_t(rows * k), 3, 0.5f);
  const uint64_t rb = *quant::row_bytes(type, k);
  std::vector<uint8_t> bytes(size_t(rb * rows));
  for (int64_t r = 0; r < rows; ++r) quant::quantize_row(type, w.data() + r * k, bytes.data() + r * rb, k);
  const auto view = make_weight_view(type, bytes.data(), k, rows);
  const auto x = randn(size_t(n_tok * k), 4);
  std::vector<float> y(size_t(n_tok * rows));
  matmul_reference(view, x.data(), n_tok, y.data());

  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < rows; ++r) {
    quant::dequantize_row(type, bytes.data() + r * rb, row.data(), k);
    for (int64_t t = 0; t < n_tok; ++t) {
      double want = 0, mag = 0;
      for (int64_t c = 0; c < k; ++c) {
        want += double(row[size_t(c)]) * x[size_t(t * k + c)];
        mag += std::abs(double(row[size_t(c)]) * x[size_t(t * k + c)]);
      }
      EXPECT_NEAR(y[size_t(t * rows + r)], want, 1e-6 * mag + 1e-6) << "row " << r << " token " << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllComputableTypes, MatmulTypes,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0,
                                           GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                           GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K),
                         [](const auto& info) { return std::string(quant::traits(info.param).name); });

// Each output element must not depend on the other tokens in the batch nor on the threads.
TEST(ForwardKernels, MatmulIsBatchAndThreadInvariant) {
  const int64_t k = 256, rows = 100, n_tok = 9;
  const auto w = randn(size_t(rows * k), 5);
  std::vector<uint8_t> bytes(size_t(*quant::row_bytes(GgmlType::Q4_K, k) * rows));
  const uint64_t rb = *quant::row_bytes(GgmlType::Q4_K, k);
  for (int64_t r = 0; r < rows; ++r) quant::quantize_row(GgmlType::Q4_K, w.data() + r * k, bytes.data() + r * rb, k);
  const auto view = make_weight_view(GgmlType::Q4_K, bytes.data(), k, rows);
  const auto x = randn(size_t(n_tok * k), 6);

  std::vector<float> all(size_t(n_tok * rows));
  tbb::task_arena(2).execute([&] { matmul(view, x.data(), n_tok, all.data()); });
  for (int64_t t = 0; t < n_tok; ++t) {
    std::vector<float> one(static_cast<size_t>(rows));
    tbb::task_arena(1).execute([&] { matmul(view, x.data() + t * k, 1, one.data()); });
    EXPECT_EQ(0, std::memcmp(one.data(), all.data() + t * rows, sizeof(float) * size_t(rows))) << "token " << t;
  }
}

TEST(ForwardKernels, RefusesTypesItCannotDequantize) {
  std::vector<uint8_t> bytes(84);
  EXPECT_THROW(make_weight_view(GgmlType::Q2_K, bytes.data(), 256, 1), Error);
  EXPECT_THROW(make_weight_view(GgmlType::Q4_0, bytes.data(), 31, 1), Error);
}

// ---------------------------------------------------------------------------- RoPE

model::HParams rope_hparams(int64_t head_dim, int64_t n_rot) {
  model::HParams hp;
  hp.head_dim = head_dim;
  hp.n_rot = n_rot;
  hp.rope_freq_base = 10000.0f;
  return hp;
}

TEST(ForwardRope, RotatesAdjacentPairsByPosTimesInverseFrequency) {
  const auto hp = rope_hparams(16, 12);  // the last 4 dimensions are not rotated
  const std::vector<float> factors = {1, 1, 2, 4, 8, 1};
  const model::Rope rope(hp, factors);
  const int64_t n_heads = 2, pos = 37;
  const auto x = randn(size_t(n_heads * 16), 7);
  auto y = x;
  rope.apply(y.data(), n_heads, pos);
  for (int64_t h = 0; h < n_heads; ++h) {
    const float* in = x.data() + h * 16;
    const float* out = y.data() + h * 16;
    for (int64_t i = 0; i < 6; ++i) {
      const double theta = pos * std::pow(10000.0, -2.0 * double(i) / 12.0) / factors[size_t(i)];
      const std::complex<double> z = std::complex<double>(in[2 * i], in[2 * i + 1]) * std::polar(1.0, theta);
      EXPECT_NEAR(out[2 * i], z.real(), 2e-5) << "head " << h << " pair " << i;
      EXPECT_NEAR(out[2 * i + 1], z.imag(), 2e-5) << "head " << h << " pair " << i;
    }
    for (int64_t d = 12; d < 16; ++d) EXPECT_EQ(out[d], in[d]);
  }
}

TEST(ForwardRope, PositionZeroIsIdentity) {
  const model::Rope rope(rope_hparams(8, 8), {});
  const auto x = randn(8, 8);
  auto y = x;
  rope.apply(y.data(), 1, 0);
  EXPECT_EQ(x, y);
}

// ---------------------------------------------------------------------------- attention

TEST(ForwardAttention, ChunkedWindowStartsAtTheQueryChunk) {
  using model::attention_window_start;
  EXPECT_EQ(attention_window_start(0, 0), 0);
  EXPECT_EQ(attention_window_start(12345, 0), 0);
  EXPECT_EQ(attention_window_start(3, 4), 0);
  EXPECT_EQ(attention_window_start(4, 4), 4);
  EXPECT_EQ(attention_window_start(7, 4), 4);
  EXPECT_EQ(attention_window_start(8191, 8192), 0);
  EXPECT_EQ(attention_window_start(8192, 8192), 8192);
  EXPECT_EQ(attention_window_start(20000, 8192), 16384);
}

// With all keys equal, attention is a plain mean of the visible values, so each output shows
// exactly which positions the query saw.
TEST(ForwardAttention, QueriesSeeOnlyTheirChunkUpToThemselves) {
  model::HParams hp;
  hp.n_layer = 1;
  hp.n_head = 4;
  hp.n_head_kv = 2;
  hp.head_dim = 2;
  const int64_t n = 11, chunk = 4, kv_dim = 4, q_dim = 8;
  model::KvCache cache(hp, model::KvType::F32, 64);
  model::BatchLayout batch;
  batch.seqs.push_back({&cache, 0, n, 0});
  for (int64_t p = 0; p < n; ++p) batch.pos.push_back(p);
  cache.reserve(n);
  std::vector<float> k(size_t(n * kv_dim), 1.0f), v(size_t(n * kv_dim));
  for (int64_t p = 0; p < n; ++p)
    for (int64_t c = 0; c < kv_dim; ++c) v[size_t(p * kv_dim + c)] = float(p) + 100.0f * float(c / 2);
  model::store_kv(batch, 0, k.data(), v.data());
  const std::vector<float> q(size_t(n * q_dim), 0.5f);
  for (int64_t ch : {int64_t(0), chunk}) {
    std::vector<float> out(size_t(n * q_dim));
    model::attention(batch, hp, 0, q.data(), ch, out.data());
    for (int64_t p = 0; p < n; ++p) {
      const int64_t first = ch ? p / ch * ch : 0;
      const double mean_pos = 0.5 * double(first + p);
      for (int64_t h = 0; h < 4; ++h) {
        const double kv_head_offset = 100.0 * double(h / 2);  // heads 0,1 -> KV head 0; 2,3 -> 1
        EXPECT_NEAR(out[size_t(p * q_dim + h * 2)], mean_pos + kv_head_offset, 1e-4) << "chunk " << ch << " pos " << p;
      }
    }
  }
}

TEST(ForwardLlama4, AttentionTemperatureFollowsFloorScale) {
  using model::llama4_attn_temperature;
  EXPECT_FLOAT_EQ(llama4_attn_temperature(0, 8192, 0.1f), 1.0f);
  EXPECT_FLOAT_EQ(llama4_attn_temperature(8190, 8192, 0.1f), 1.0f);
  EXPECT_FLOAT_EQ(llama4_attn_temperature(8191, 8192, 0.1f), float(std::log(2.0) * double(0.1f) + 1.0));
  EXPECT_FLOAT_EQ(llama4_attn_temperature(3 * 8192 - 1, 8192, 0.1f), float(std::log(4.0) * double(0.1f) + 1.0));
}

TEST(ForwardLlama4, TopKTakesRawLogitsDescendingWithTiesToLowerIndex) {
  const float logits[] = {-3.0f, 0.5f, -0.1f, 0.5f, 2.0f};
  int64_t chosen[3];
  model::top_k_experts(logits, 5, 3, chosen);
  EXPECT_EQ(chosen[0], 4);
  EXPECT_EQ(chosen[1], 1);
  EXPECT_EQ(chosen[2], 3);
}

// The router weight sigmoid(logit) scales the routed expert's INPUT, and the shared expert
// sees the unscaled input: y = E_e(sigmoid(l_e) h) + S(h). (Scaling the output instead gives
// a different result, since the expert is not linear.)
TEST(ForwardLlama4, MoeScalesTheChosenExpertsInputAndAddsTheSharedExpert) {
  model::HParams hp;
  hp.n_embd = 4;
  hp.n_expert = 3;
  hp.n_expert_used = 1;
  hp.n_ff_exp = 2;
  const auto router = randn(3 * 4, 10), gate = randn(3 * 2 * 4, 11), up = randn(3 * 2 * 4, 12),
             down = randn(3 * 4 * 2, 13), sg = randn(2 * 4, 14), su = randn(2 * 4, 15), sd = randn(4 * 2, 16);
  model::LayerWeights w;
  w.router = make_weight_view(GgmlType::F32, router.data(), 4, 3);
  w.gate_exps = make_weight_view(GgmlType::F32, gate.data(), 4, 6);
  w.up_exps = make_weight_view(GgmlType::F32, up.data(), 4, 6);
  w.down_exps = make_weight_view(GgmlType::F32, down.data(), 2, 12);
  w.gate_shexp = make_weight_view(GgmlType::F32, sg.data(), 4, 2);
  w.up_shexp = make_weight_view(GgmlType::F32, su.data(), 4, 2);
  w.down_shexp = make_weight_view(GgmlType::F32, sd.data(), 2, 4);
  const auto h = randn(2 * 4, 17, 3.0f);
  std::vector<float> y(8);
  model::llama4_moe(w, hp, h.data(), 2, y.data());

  auto ffn = [](const float* g, const float* u, const float* d, const std::vector<double>& x) {
    std::vector<double> out(4, 0.0);
    for (int j = 0; j < 2; ++j) {
      double a = 0, b = 0;
      for (int c = 0; c < 4; ++c) a += g[j * 4 + c] * x[size_t(c)], b += u[j * 4 + c] * x[size_t(c)];
      const double act = a / (1 + std::exp(-a)) * b;
      for (int c = 0; c < 4; ++c) out[size_t(c)] += d[c * 2 + j] * act;
    }
    return out;
  };
  for (int t = 0; t < 2; ++t) {
    int best = 0;
    double logit[3];
    for (int e = 0; e < 3; ++e) {
      logit[e] = 0;
      for (int c = 0; c < 4; ++c) logit[e] += router[size_t(e * 4 + c)] * h[size_t(t * 4 + c)];
      if (logit[e] > logit[best]) best = e;
    }
    const double wgt = 1 / (1 + std::exp(-logit[best]));
    std::vector<double> x(4), xs(4);
    for (int c = 0; c < 4; ++c) x[size_t(c)] = h[size_t(t * 4 + c)], xs[size_t(c)] = wgt * x[size_t(c)];
    const auto routed = ffn(gate.data() + best * 8, up.data() + best * 8, down.data() + best * 8, xs);
    const auto out_scaled = ffn(gate.data() + best * 8, up.data() + best * 8, down.data() + best * 8, x);
    const auto shared = ffn(sg.data(), su.data(), sd.data(), x);
    double diff_to_output_scaling = 0;
    for (int c = 0; c < 4; ++c) {
      EXPECT_NEAR(y[size_t(t * 4 + c)], routed[size_t(c)] + shared[size_t(c)], 1e-4) << "token " << t;
      diff_to_output_scaling += std::abs(y[size_t(t * 4 + c)] - (wgt * out_scaled[size_t(c)] + shared[size_t(c)]));
    }
    EXPECT_GT(diff_to_output_scaling, 1e-3) << "the test input does not tell input from output scaling";
  }
}

TEST(ForwardLlama4, LayerKindsFollowTheInterleaveSteps) {
  model::HParams hp;
  hp.arch = model::Arch::Llama4;
  hp.n_expert = 16;
  hp.moe_layer_step = 2;
  hp.nope_layer_step = 4;
  hp.attn_chunk = 8192;
  std::vector<int> nope, chunked, moe;
  for (int l = 0; l < 8; ++l) {
    if (hp.is_nope_layer(l)) nope.push_back(l);
    if (hp.is_chunked_layer(l)) chunked.push_back(l);
    if (hp.is_moe_layer(l)) moe.push_back(l);
  }
  EXPECT_EQ(nope, (std::vector<int>{3, 7}));
  EXPECT_EQ(chunked, (std::vector<int>{0, 1, 2, 4, 5, 6}));
  EXPECT_EQ(moe, (std::vector<int>{1, 3, 5, 7}));
}

// ---------------------------------------------------------------------------- hparams

// tiny-scout's metadata with some keys set, read back through load_hparams.
model::HParams tiny_scout_hparams_with(const std::vector<gguf::KeyValue>& extra) {
  static const auto dir = test::scratch_dir("forward-hparams");
  static const std::string base = [] {
    model::RandomModelOptions o;
    o.output = (dir / "tiny-scout.gguf").string();
    model::write_random_model(o);
    return o.output;
  }();
  const auto src = gguf::File::open(base);
  gguf::Writer w;
  for (const auto& kv : src->metadata()) w.set(kv.key, kv.value);
  for (const auto& kv : extra) w.set(kv.key, kv.value);
  for (const auto& t : src->tensors()) w.add_tensor_bytes(t.name, t.type, t.dims, std::span(t.data, t.n_bytes));
  const auto path = dir / "altered.gguf";
  w.write(path.string());
  return model::load_hparams(*gguf::File::open(path.string()));
}

TEST(ForwardHParams, Llama4DefaultsAreScoutsIRoPE) {
  const auto hp = tiny_scout_hparams_with({});
  EXPECT_EQ(hp.attn_chunk, 8192);
  EXPECT_EQ(hp.nope_layer_step, 4);
  EXPECT_EQ(hp.attn_temp_floor, 8192);
  EXPECT_FLOAT_EQ(hp.attn_temp_scale, 0.1f);
  EXPECT_TRUE(hp.use_qk_norm);
  EXPECT_EQ(hp.n_rot, hp.head_dim);
  EXPECT_FLOAT_EQ(hp.rope_freq_scale, 1.0f);
}

// As llama.cpp: sliding_window = 0 means no chunking and only the last layer NoPE; 128
// experts (Maverick) means no Q/K norm; a linear rope.scaling.factor divides positions.
TEST(ForwardHParams, MetadataVariantsFollowLlamaCpp) {
  auto hp = tiny_scout_hparams_with({{"llama4.attention.sliding_window", gguf::Value::of_u32(0)}});
  EXPECT_EQ(hp.attn_chunk, 0);
  EXPECT_FALSE(hp.is_chunked_layer(0));
  EXPECT_TRUE(hp.is_nope_layer(hp.n_layer - 1));
  EXPECT_FALSE(hp.is_nope_layer(0));
  hp = tiny_scout_hparams_with({{"llama4.rope.scaling.type", gguf::Value::of_string("linear")},
                                {"llama4.rope.scaling.factor", gguf::Value::of_f32(4.0f)}});
  EXPECT_FLOAT_EQ(hp.rope_freq_scale, 0.25f);
  EXPECT_THROW(tiny_scout_hparams_with({{"llama4.rope.scaling.type", gguf::Value::of_string("yarn")}}), Error);
  EXPECT_FALSE(tiny_scout_hparams_with({{"llama4.expert_count", gguf::Value::of_u32(128)}}).use_qk_norm);
}

// ---------------------------------------------------------------------------- KV cache

TEST(ForwardKvCache, F16RoundsF32KeepsAndLimitsAreEnforced) {
  model::HParams hp;
  hp.n_layer = 2;
  hp.n_head_kv = 1;
  hp.head_dim = 4;
  for (auto type : {model::KvType::F16, model::KvType::F32}) {
    model::KvCache c(hp, type, 300);
    c.reserve(300);
    const float k[4] = {1.0f, 1.0f / 3.0f, -2.5f, 1e-3f}, v[4] = {4, 5, 6, 7};
    c.write(1, 299, k, v);
    float out[4];
    c.read_k(1, 0, 299, 300, out);
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR(out[i], k[i], type == model::KvType::F16 ? std::abs(k[i]) * 1e-3 : 0.0);
    EXPECT_EQ(out[1] == k[1], type == model::KvType::F32);
    EXPECT_THROW(c.reserve(301), Error);
  }
}

}  // namespace
}  // namespace scout

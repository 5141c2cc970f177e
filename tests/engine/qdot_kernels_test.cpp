// qdot kernels: every SIMD path the CPU has, forced one by one, against the scalar reference
// (ggml's generic vec_dot) on random blocks, bit for bit; the reference itself against exact
// integer arithmetic and against dequantize-and-dot; batch invariance of qgemm; float weight
// types against kernels::cpu::matmul.
#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/cpu/matmul.h"
#include "engine/kernels/cpu/qdot/qdot.h"
#include "engine/quant/blocks.h"
#include "engine/quant/dequantize.h"
#include "engine/quant/quantize.h"
#include "engine/quant/types.h"
#include "engine/util/error.h"
#include "engine/util/half.h"

namespace scout::kernels::cpu::qdot {
namespace {

using quant::GgmlType;
using T = GgmlType;

const T kQuantTypes[] = {T::Q4_0, T::Q4_1, T::Q5_0, T::Q5_1, T::Q8_0, T::Q4_K, T::Q5_K, T::Q6_K};
const T kFloatTypes[] = {T::F32, T::F16, T::BF16};
const Isa kSimd[] = {Isa::Avx2, Isa::Avx512};

std::string name(T t) { return std::string(quant::traits(t).name); }

// ------------------------------------------------------------------ random data

struct Rng {
  std::mt19937 gen;
  explicit Rng(uint32_t seed) : gen(seed) {}
  float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(gen); }
  int integer(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); }
  bool chance(double p) { return std::bernoulli_distribution(p)(gen); }
  float normal() { return std::normal_distribution<float>(0.f, 1.f)(gen); }
};

// A scale as fp16 bits: mostly ordinary, sometimes the edges of the format.
uint16_t random_half_scale(Rng& rng, double extreme) {
  static const uint16_t kEdges[] = {0x0000, 0x8000, 0x7BFF, 0xFBFF, 0x0400, 0x0001, 0x03FF, 0x83FF, 0x7C00, 0x3C00};
  if (rng.chance(extreme)) return kEdges[rng.integer(0, int(std::size(kEdges)) - 1)];
  const float mag = std::exp2(rng.uniform(-14.f, 1.f));
  return fp32_to_fp16(rng.chance(0.5) ? mag : -mag);
}

float random_float_scale(Rng& rng, double extreme) {
  static const float kEdges[] = {0.f, -0.f, 1e30f, -1e30f, 1e-38f, 1e-45f, 3.4e38f, INFINITY, 1.f};
  if (rng.chance(extreme)) return kEdges[rng.integer(0, int(std::size(kEdges)) - 1)];
  const float mag = std::exp2(rng.uniform(-20.f, 0.f));
  return rng.chance(0.5) ? mag : -mag;
}

void put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// Byte offsets of the fp16 fields of each weight block type.
std::vector<int> half_fields(T t) {
  switch (t) {
    case T::Q4_0: case T::Q5_0: case T::Q8_0: return {0};
    case T::Q4_1: case T::Q5_1: case T::Q4_K: case T::Q5_K: return {0, 2};
    case T::Q6_K: return {208};
    default: return {};
  }
}

// n_rows random weight rows: random quant bytes, random (sometimes extreme) scales.
std::vector<uint8_t> random_weights(T t, int64_t n_cols, int64_t n_rows, Rng& rng, double extreme) {
  const uint64_t row = *quant::row_bytes(t, n_cols);
  std::vector<uint8_t> w(row * n_rows);
  if (t == T::F32 || t == T::F16 || t == T::BF16) {
    for (int64_t i = 0; i < n_cols * n_rows; ++i) {
      float v = rng.normal() * std::exp2(float(rng.integer(-8, 8)));
      if (rng.chance(extreme)) v = random_float_scale(rng, 1.0) * (t == T::F16 ? 1e-30f : 1.f);
      if (t == T::F32) std::memcpy(w.data() + 4 * i, &v, 4);
      else put16(w.data() + 2 * i, t == T::F16 ? fp32_to_fp16(v) : fp32_to_bf16(v));
    }
    return w;
  }
  for (auto& b : w) b = uint8_t(rng.integer(0, 255));
  const int64_t block = quant::traits(t).type_size;
  for (uint64_t off = 0; off < w.size(); off += block)
    for (int f : half_fields(t)) put16(w.data() + off + f, random_half_scale(rng, extreme));
  return w;
}

// n_tokens random activation rows of vec_dot_type(weight): quants in [-127, 127].
std::vector<uint8_t> random_activations(T weight, int64_t n_cols, int64_t n_tokens, Rng& rng, double extreme) {
  const T act = *vec_dot_type(weight);
  const uint64_t row = activation_row_bytes(weight, n_cols);
  std::vector<uint8_t> a(row * n_tokens);
  if (act == T::F32) {
    for (int64_t i = 0; i < n_cols * n_tokens; ++i) {
      const float v = rng.chance(extreme) ? random_float_scale(rng, 1.0) : rng.normal();
      std::memcpy(a.data() + 4 * i, &v, 4);
    }
    return a;
  }
  const int64_t block = quant::traits(act).type_size;
  for (uint64_t off = 0; off < a.size(); off += block) {
    uint8_t* b = a.data() + off;
    if (act == T::Q8_K) {
      quant::BlockQ8_K q;
      q.d = random_float_scale(rng, extreme);
      for (auto& v : q.qs) v = int8_t(rng.integer(-127, 127));
      for (int j = 0; j < 16; ++j) {
        int s = 0;
        for (int i = 0; i < 16; ++i) s += q.qs[16 * j + i];
        q.bsums[j] = int16_t(s);
      }
      std::memcpy(b, &q, sizeof(q));
    } else {
      const int qs = act == T::Q8_1 ? 4 : 2;
      put16(b, random_half_scale(rng, extreme));
      if (act == T::Q8_1) put16(b + 2, random_half_scale(rng, extreme));
      for (int i = 0; i < 32; ++i) b[qs + i] = uint8_t(int8_t(rng.integer(-127, 127)));
    }
  }
  return a;
}

// Activation values as floats (dequantize_row has no Q8_1: d * q, like Q8_0).
std::vector<float> activation_values(T act, const uint8_t* a, int64_t n) {
  std::vector<float> out(n);
  if (act != T::Q8_1) {
    quant::dequantize_row(act, a, out.data(), n);
    return out;
  }
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* b = a + (i / 32) * 36;
    uint16_t d;
    std::memcpy(&d, b, 2);
    out[i] = fp16_to_fp32(d) * float(int8_t(b[4 + i % 32]));
  }
  return out;
}

MatrixView view(T t, const std::vector<uint8_t>& w, int64_t n_cols, int64_t n_rows) {
  return MatrixView{t, w.data(), n_cols, n_rows, *quant::row_bytes(t, n_cols)};
}

bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || float_to_bits(a) == float_to_bits(b);
}

// Every element of qgemm on `isa` equals vec_dot_ref bit for bit.
void expect_matches_reference(Isa isa, T t, int64_t n_cols, int64_t n_rows, int64_t n_tokens, uint32_t seed,
                              double extreme) {
  Rng rng(seed);
  const auto w = random_weights(t, n_cols, n_rows, rng, extreme);
  const auto a = random_activations(t, n_cols, n_tokens, rng, extreme);
  std::vector<float> y(size_t(n_rows * n_tokens), -1.f);
  qgemm(isa, view(t, w, n_cols, n_rows), a.data(), n_tokens, y.data());
  const uint64_t wb = *quant::row_bytes(t, n_cols), ab = activation_row_bytes(t, n_cols);
  int mismatches = 0;
  for (int64_t tk = 0; tk < n_tokens && mismatches < 5; ++tk)
    for (int64_t r = 0; r < n_rows && mismatches < 5; ++r) {
      const float want = vec_dot_ref(t, w.data() + r * wb, a.data() + tk * ab, n_cols);
      const float got = y[tk * n_rows + r];
      if (!same_float(want, got)) {
        ++mismatches;
        ADD_FAILURE() << isa_name(isa) << " " << name(t) << " cols " << n_cols << " row " << r << " token " << tk
                      << ": got " << got << " (0x" << std::hex << float_to_bits(got) << ") want " << want << " (0x"
                      << float_to_bits(want) << std::dec << ")";
      }
    }
}

std::vector<int64_t> column_counts(T t) {
  if (t == T::Q4_K || t == T::Q5_K || t == T::Q6_K) return {256, 512, 1280, 5120};
  if (t == T::F32 || t == T::F16 || t == T::BF16) return {1, 7, 8, 13, 64, 100, 5120};
  return {32, 64, 96, 224, 256, 288, 800, 5120};  // includes chunks of fewer than 8 blocks
}

// ------------------------------------------------------------------ paths vs reference

class PathTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!isa_available(GetParam())) GTEST_SKIP() << isa_name(GetParam()) << " not available on this CPU";
  }
};

TEST_P(PathTest, QuantTypesMatchReferenceBitForBit) {
  uint32_t seed = 1;
  for (T t : kQuantTypes)
    for (int64_t cols : column_counts(t))
      for (auto [rows, tokens] : {std::pair{1, 1}, {5, 3}, {6, 4}, {8, 1}, {11, 1}, {13, 33}, {17, 2}, {10, 5}, {9, 7},
                                  {12, 8}, {6, 9}, {7, 10}, {5, 11}})
        expect_matches_reference(GetParam(), t, cols, rows, tokens, seed++, 0.05);
}

TEST_P(PathTest, ExtremeScalesMatchReference) {
  // Half the scales at the edges of fp16/fp32: zeros of both signs, subnormals, the largest
  // finite values, infinity (so NaN and inf results too).
  uint32_t seed = 1000;
  for (T t : kQuantTypes)
    for (int rep = 0; rep < 4; ++rep) {
      expect_matches_reference(GetParam(), t, t >= T::Q4_K ? 512 : 288, 9, 5, seed++, 0.5);
      expect_matches_reference(GetParam(), t, 512, 6, 20, seed++, 0.5);  // many tokens: the VNNI kernel
    }
}

TEST_P(PathTest, FloatTypesMatchReferenceBitForBit) {
  uint32_t seed = 2000;
  for (T t : kFloatTypes)
    for (int64_t cols : column_counts(t))
      // 1-7 tokens: 8 rows straight from the weights; 13 tokens: the chunked tiles with a
      // padded last token group.
      for (auto [rows, tokens] : {std::pair{1, 1}, {7, 2}, {5, 3}, {9, 4}, {11, 1}, {10, 5}, {3, 6}, {6, 7}, {8, 13}, {9, 10}})
        expect_matches_reference(GetParam(), t, cols, rows, tokens, seed++, 0.05);
}

TEST_P(PathTest, TileTailsMatchReference) {
  // Row and token counts around the tile sizes (8 rows, 32 tokens).
  uint32_t seed = 3000;
  for (T t : {T::Q4_K, T::Q6_K, T::Q4_0, T::Q8_0, T::F16})
    for (auto [rows, tokens] : {std::pair{7, 31}, {9, 32}, {16, 33}, {23, 65}})
      expect_matches_reference(GetParam(), t, t >= T::Q4_K && t <= T::Q6_K ? 256 : 64, rows, tokens, seed++, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Qdot, PathTest, ::testing::Values(Isa::Reference, Isa::Avx2, Isa::Avx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// ------------------------------------------------------------------ the reference itself

// Weights from real quantization, activations from quantize_activations: the reference dot
// agrees with dequantize-and-dot (double) to float accuracy, so it reads the layouts right.
TEST(QdotReference, AgreesWithDequantizedDot) {
  Rng rng(7);
  for (T t : kQuantTypes) {
    const int64_t n = 1024;
    std::vector<float> wf(n), xf(n);
    for (auto& v : wf) v = rng.normal();
    for (auto& v : xf) v = rng.normal();
    std::vector<uint8_t> w(*quant::row_bytes(t, n)), a(activation_row_bytes(t, n));
    quant::quantize_row(t, wf.data(), w.data(), n);
    quantize_activations(Isa::Reference, t, xf.data(), 1, n, a.data());
    std::vector<float> wd(n);
    quant::dequantize_row(t, w.data(), wd.data(), n);
    const auto ad = activation_values(*vec_dot_type(t), a.data(), n);
    double want = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      want += double(wd[i]) * ad[i];
      mag += std::fabs(double(wd[i]) * ad[i]);
    }
    const float got = vec_dot_ref(t, w.data(), a.data(), n);
    // Q8_1's s and the fp16 products carry a few ulps of fp16 rounding; the rest is float.
    EXPECT_NEAR(got, want, 2e-3 * mag) << name(t);
  }
}

// With unit scales (and no offsets) all float steps are exact, so the reference returns the
// exact integer dot product of the dequantized levels: its integer part is right.
TEST(QdotReference, IntegerPartIsExact) {
  Rng rng(11);
  for (T t : kQuantTypes) {
    const int64_t n = 512;
    auto w = random_weights(t, n, 1, rng, 0.0);
    auto a = random_activations(t, n, 1, rng, 0.0);
    const int64_t wblock = quant::traits(t).type_size;
    for (int64_t off = 0; off < int64_t(w.size()); off += wblock) {
      const auto fields = half_fields(t);
      put16(w.data() + off + fields[0], 0x3C00);                          // d = 1
      if (fields.size() > 1) put16(w.data() + off + fields[1], 0x0000);  // dmin / m = 0
    }
    const T act = *vec_dot_type(t);
    const int64_t ablock = quant::traits(act).type_size;
    for (int64_t off = 0; off < int64_t(a.size()); off += ablock) {
      if (act == T::Q8_K) {
        const float one = 1.f;
        std::memcpy(a.data() + off, &one, 4);
        for (int i = 0; i < 256; ++i) a[off + 4 + i] = uint8_t(int8_t(rng.integer(-15, 15)));  // stay < 2^24
        // Keep the block valid: bsums are the sums of its 16-quant groups (Q6_K's SIMD path uses them).
        for (int j = 0; j < 16; ++j) {
          int16_t sum = 0;
          for (int i = 0; i < 16; ++i) sum = int16_t(sum + int8_t(a[off + 4 + 16 * j + i]));
          std::memcpy(a.data() + off + 260 + 2 * j, &sum, 2);
        }
      } else {
        put16(a.data() + off, 0x3C00);
      }
    }
    std::vector<float> wd(n);
    quant::dequantize_row(t, w.data(), wd.data(), n);
    const auto ad = activation_values(act, a.data(), n);
    int64_t want = 0;
    for (int64_t i = 0; i < n; ++i) want += int64_t(wd[i]) * int64_t(ad[i]);
    const float got = vec_dot_ref(t, w.data(), a.data(), n);
    EXPECT_EQ(double(got), double(want)) << name(t);
    for (Isa isa : kSimd) {
      if (!isa_available(isa)) continue;
      float y = 0;
      qgemm(isa, view(t, w, n, 1), a.data(), 1, &y);
      EXPECT_EQ(double(y), double(want)) << name(t) << " " << isa_name(isa);
    }
  }
}

// F32/F16/BF16 weights give exactly kernels::cpu::matmul's results (same dot order).
TEST(QdotReference, FloatTypesEqualReferenceMatmul) {
  Rng rng(13);
  for (T t : kFloatTypes)
    for (int64_t n : {8, 13, 5120}) {
      const int64_t rows = 11, tokens = 3;
      const auto w = random_weights(t, n, rows, rng, 0.0);
      const auto x = random_activations(t, n, tokens, rng, 0.0);
      std::vector<float> want(rows * tokens), got(rows * tokens);
      kernels::cpu::matmul(kernels::cpu::make_weight_view(t, w.data(), n, rows), reinterpret_cast<const float*>(x.data()),
                           tokens, want.data());
      qgemm(view(t, w, n, rows), x.data(), tokens, got.data());
      for (size_t i = 0; i < want.size(); ++i) ASSERT_TRUE(same_float(want[i], got[i])) << name(t) << " n " << n << " i " << i;
    }
}

// ------------------------------------------------------------------ batch invariance

// A token's results do not depend on how many tokens share the call, where it sits in the
// token tiles, which rows are computed with it (tile alignment), or the thread count.
TEST(QdotBatch, ResultsAreBatchInvariant) {
  for (Isa isa : {Isa::Reference, Isa::Avx2, Isa::Avx512}) {
    if (!isa_available(isa)) continue;
    for (T t : {T::Q4_K, T::Q5_K, T::Q6_K, T::Q4_0, T::Q4_1, T::Q5_0, T::Q5_1, T::Q8_0, T::BF16}) {
      Rng rng(17);
      const int64_t n = t >= T::Q4_K && t <= T::Q6_K ? 768 : 320, rows = 37, tokens = 70;
      const auto w = random_weights(t, n, rows, rng, 0.0);
      const auto a = random_activations(t, n, tokens, rng, 0.0);
      const uint64_t ab = activation_row_bytes(t, n), wb = *quant::row_bytes(t, n);
      std::vector<float> full(rows * tokens);
      qgemm(isa, view(t, w, n, rows), a.data(), tokens, full.data());
      // Sub-batches at odd offsets, over row windows that shift the 8-row tiles.
      for (auto [t0, nt] : {std::pair{0, 1}, {5, 1}, {69, 1}, {3, 7}, {31, 2}, {1, 40}})
        for (auto [r0, nr] : {std::pair{0, 37}, {3, 20}, {13, 1}}) {
          MatrixView v{t, w.data() + r0 * wb, n, nr, wb};
          std::vector<float> part(nr * nt);
          qgemm(isa, v, a.data() + t0 * ab, nt, part.data());
          for (int64_t tk = 0; tk < nt; ++tk)
            for (int64_t r = 0; r < nr; ++r)
              ASSERT_EQ(float_to_bits(part[tk * nr + r]), float_to_bits(full[(t0 + tk) * rows + r0 + r]))
                  << isa_name(isa) << " " << name(t) << " token " << t0 + tk << " row " << r0 + r;
        }
      // One thread instead of the default arena.
      std::vector<float> single(rows * tokens);
      tbb::task_arena(1).execute([&] { qgemm(isa, view(t, w, n, rows), a.data(), tokens, single.data()); });
      ASSERT_EQ(0, std::memcmp(single.data(), full.data(), full.size() * sizeof(float))) << name(t);
    }
  }
}

// ------------------------------------------------------------------ API edges

TEST(QdotApi, TypesAndErrors) {
  EXPECT_EQ(*vec_dot_type(T::Q4_K), T::Q8_K);
  EXPECT_EQ(*vec_dot_type(T::Q6_K), T::Q8_K);
  EXPECT_EQ(*vec_dot_type(T::Q4_0), T::Q8_0);
  EXPECT_EQ(*vec_dot_type(T::Q8_0), T::Q8_0);
  EXPECT_EQ(*vec_dot_type(T::Q5_1), T::Q8_1);
  EXPECT_EQ(*vec_dot_type(T::BF16), T::F32);
  EXPECT_FALSE(vec_dot_type(T::Q2_K));
  EXPECT_TRUE(isa_available(Isa::Reference));
  EXPECT_TRUE(isa_available(best_isa()));
  std::vector<uint8_t> w(144 * 2), a(292);
  float y[2];
  EXPECT_THROW(qgemm(MatrixView{T::Q4_K, w.data(), 100, 2, 144}, a.data(), 1, y), Error);  // not whole blocks
  EXPECT_THROW(qgemm(MatrixView{T::Q2_K, w.data(), 256, 1, 84}, a.data(), 1, y), Error);   // no kernel
  EXPECT_THROW(qgemm(MatrixView{T::Q4_K, w.data(), 256, 2, 100}, a.data(), 1, y), Error);  // short rows
}

// matmul_quantized = quantize_activations + qgemm.
TEST(QdotApi, MatmulQuantizedComposes) {
  Rng rng(23);
  const int64_t n = 512, rows = 9, tokens = 4;
  std::vector<float> wf(n * rows), x(n * tokens);
  for (auto& v : wf) v = rng.normal();
  for (auto& v : x) v = rng.normal();
  std::vector<uint8_t> w(*quant::row_bytes(T::Q4_K, n) * rows);
  for (int64_t r = 0; r < rows; ++r) quant::quantize_row(T::Q4_K, wf.data() + r * n, w.data() + r * 288, n);
  std::vector<uint8_t> a(activation_row_bytes(T::Q4_K, n) * tokens);
  quantize_activations(Isa::Reference, T::Q4_K, x.data(), tokens, n, a.data());
  std::vector<float> want(rows * tokens), got(rows * tokens);
  qgemm(Isa::Reference, view(T::Q4_K, w, n, rows), a.data(), tokens, want.data());
  matmul_quantized(view(T::Q4_K, w, n, rows), x.data(), tokens, got.data());
  EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)));
}

}  // namespace
}  // namespace scout::kernels::cpu::qdot

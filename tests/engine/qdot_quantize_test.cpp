// Activation quantization for the qdot kernels: every path gives quant::quantize_row's bytes
// (ggml's quantize_row_q8_K/q8_0/q8_1 _ref), including rounding ties, zeros and sign ties.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/cpu/qdot/qdot.h"
#include "engine/quant/quantize.h"
#include "engine/quant/types.h"

namespace scout::kernels::cpu::qdot {
namespace {

using quant::GgmlType;
using T = GgmlType;

// One weight type per activation type: Q4_K -> Q8_K, Q4_0 -> Q8_0, Q4_1 -> Q8_1.
const T kWeightFor[] = {T::Q4_K, T::Q4_0, T::Q4_1};

// Rows that exercise the quantizers' corner cases, n floats each (n a multiple of 256).
std::vector<std::vector<float>> tricky_rows(int64_t n) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> rows;
  auto add = [&](auto&& fill) {
    std::vector<float> r(n);
    for (int64_t i = 0; i < n; ++i) r[i] = fill(i);
    rows.push_back(std::move(r));
  };
  add([&](int64_t) { return normal(gen); });
  add([&](int64_t) { return normal(gen) * 1e-30f; });
  add([&](int64_t) { return normal(gen) * 1e30f; });
  add([&](int64_t) { return 0.0f; });
  add([&](int64_t i) { return i % 2 ? -0.0f : 0.0f; });
  add([&](int64_t) { return 3.0f; });                    // all equal
  add([&](int64_t i) { return i % 37 == 5 ? 1.0f : 0.f; });  // sparse
  // Halves after scaling: with max |x| = 127 (Q8_0/Q8_1: id = 1) and max = -127 (Q8_K:
  // iscale = 1) every x = k + 0.5 is a rounding tie, away from zero for Q8_0, to even for Q8_K.
  add([&](int64_t i) { return i % 32 == 0 ? 127.f : float(int(i % 61) - 30) + 0.5f; });
  add([&](int64_t i) { return i % 256 == 3 ? -127.f : float(int(i % 53) - 26) + 0.5f; });
  // Largest magnitude present with both signs: the first one's sign wins (Q8_K).
  add([&](int64_t i) { return i % 256 == 7 ? 2.f : i % 256 == 9 ? -2.f : normal(gen) * 0.1f; });
  add([&](int64_t i) { return i % 256 == 7 ? -2.f : i % 256 == 9 ? 2.f : normal(gen) * 0.1f; });
  add([&](int64_t) { return float(std::ldexp(normal(gen), -140)); });  // subnormal floats
  return rows;
}

TEST(QdotQuantize, EveryPathMatchesQuantizeRowBytes) {
  const int64_t n = 1024;
  const auto rows = tricky_rows(n);
  for (T weight : kWeightFor) {
    const T act = *vec_dot_type(weight);
    const uint64_t bytes = activation_row_bytes(weight, n);
    for (Isa isa : {Isa::Reference, Isa::Avx2, Isa::Avx512}) {
      if (!isa_available(isa)) continue;
      for (size_t k = 0; k < rows.size(); ++k) {
        std::vector<uint8_t> want(bytes), got(bytes);
        quant::quantize_row(act, rows[k].data(), want.data(), n);
        quantize_activations(isa, weight, rows[k].data(), 1, n, got.data());
        ASSERT_EQ(want, got) << isa_name(isa) << " " << quant::traits(act).name << " row kind " << k;
      }
    }
  }
}

TEST(QdotQuantize, ManyTokensAtOnce) {
  const int64_t n = 512, tokens = 9;
  std::mt19937 gen(6);
  std::normal_distribution<float> normal;
  std::vector<float> x(n * tokens);
  for (auto& v : x) v = normal(gen);
  for (T weight : kWeightFor) {
    const uint64_t bytes = activation_row_bytes(weight, n);
    std::vector<uint8_t> all(bytes * tokens);
    quantize_activations(weight, x.data(), tokens, n, all.data());
    for (int64_t t = 0; t < tokens; ++t) {
      std::vector<uint8_t> one(bytes);
      quant::quantize_row(*vec_dot_type(weight), x.data() + t * n, one.data(), n);
      ASSERT_EQ(0, std::memcmp(one.data(), all.data() + t * bytes, bytes)) << "token " << t;
    }
  }
}

}  // namespace
}  // namespace scout::kernels::cpu::qdot

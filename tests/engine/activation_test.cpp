// The vectorized SwiGLU epilogue against its std::exp oracle, and its batch invariance (an
// element's result must not depend on where it sits in the row or how long the row is).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/kernels/cpu/activation.h"

using scout::kernels::cpu::silu_mul;
using scout::kernels::cpu::silu_mul_reference;

TEST(SiluMul, AgreesWithStdExpToAFewUlp) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> wide(-30.0f, 30.0f);
  std::vector<float> g, u;
  for (int i = 0; i < 100003; ++i) {
    g.push_back(i % 3 ? wide(rng) : wide(rng) / 30.0f);
    u.push_back(wide(rng));
  }
  for (float extreme : {-120.0f, -88.0f, -87.0f, 0.0f, -0.0f, 1e-30f, 87.0f, 120.0f, 1e30f}) {
    g.push_back(extreme);
    u.push_back(1.5f);
  }
  auto want = g, got = g;
  silu_mul_reference(want.data(), u.data(), int64_t(u.size()));
  silu_mul(got.data(), u.data(), int64_t(u.size()));
  for (size_t i = 0; i < g.size(); ++i) {
    // Relative 4e-7 (~3 ulp), or absolute 1e-35 where e^-g overflows (both are ~0 there).
    const float tol = std::max(4e-7f * std::fabs(want[i]), 1e-35f);
    ASSERT_NEAR(got[i], want[i], tol) << "g=" << g[i] << " u=" << u[i];
  }
}

TEST(SiluMul, ResultDoesNotDependOnPositionOrLength) {
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.0f, 4.0f);
  std::vector<float> g(77), u(77);
  for (size_t i = 0; i < g.size(); ++i) g[i] = d(rng), u[i] = d(rng);
  auto whole = g;
  silu_mul(whole.data(), u.data(), int64_t(g.size()));
  for (int64_t start : {0, 1, 5, 8, 13, 70, 76})
    for (int64_t len : {1, 3, 7}) {
      if (start + len > int64_t(g.size())) continue;
      std::vector<float> part(g.begin() + start, g.begin() + start + len);
      silu_mul(part.data(), u.data() + start, len);
      for (int64_t i = 0; i < len; ++i) ASSERT_EQ(part[size_t(i)], whole[size_t(start + i)]) << start << "+" << i;
    }
}

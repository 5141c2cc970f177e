#pragma once
// Element-wise activations of the feed-forward blocks.
//
// silu_mul: g[i] = silu(g[i]) * u[i], silu(z) = z / (1 + e^-z), SwiGLU's epilogue. On AVX2 it
// uses an 8-wide polynomial e^x (simd_exp.h, ~2 ulp; tails go through the same vector code,
// padded, so an element's result depends only on its own inputs: batch invariance holds);
// silu_mul_reference (std::exp) is the oracle and the path without AVX2. The two agree to a
// few ulp (tests/engine/activation_test.cpp).
#include <cstdint>

namespace scout::kernels::cpu {

void silu_mul(float* g, const float* u, int64_t n);
void silu_mul_reference(float* g, const float* u, int64_t n);

}  // namespace scout::kernels::cpu

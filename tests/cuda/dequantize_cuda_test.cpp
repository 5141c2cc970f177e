// CUDA dequantization against the CPU reference on random blocks. Built when SCOUT_CUDA is
// ON; skips itself on machines without a GPU (CI compiles it, a lent GPU runs it).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/kernels/cuda/dequantize_cuda.h"
#include "engine/quant/dequantize.h"
#include "engine/util/half.h"

namespace scout::cuda {
namespace {

bool have_gpu() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

// Random block bytes whose f16 scale fields are finite: quant scales come first in every
// block type except Q6_K, whose d is last.
std::vector<uint8_t> random_blocks(quant::GgmlType t, int64_t n_blocks, uint32_t seed) {
  const auto& tr = quant::traits(t);
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(size_t(n_blocks * tr.type_size));
  for (auto& b : bytes) b = uint8_t(rng());
  auto put_half = [&](size_t off, float v) {
    const uint16_t h = fp32_to_fp16(v);
    std::memcpy(bytes.data() + off, &h, 2);
  };
  std::uniform_real_distribution<float> scale(-0.1f, 0.1f);
  for (int64_t k = 0; k < n_blocks; ++k) {
    const size_t base = size_t(k * tr.type_size);
    switch (t) {
      case quant::GgmlType::Q6_K: put_half(base + 208, scale(rng)); break;
      case quant::GgmlType::Q4_K: put_half(base, scale(rng)); put_half(base + 2, scale(rng)); break;
      case quant::GgmlType::Q8_0: case quant::GgmlType::Q4_0: put_half(base, scale(rng)); break;
      case quant::GgmlType::F16: put_half(base, scale(rng) * 100); break;  // one element per block
      case quant::GgmlType::BF16: {
        const uint16_t h = fp32_to_bf16(scale(rng) * 100);
        std::memcpy(bytes.data() + base, &h, 2);
        break;
      }
      default: break;
    }
  }
  return bytes;
}

TEST(CudaDequantize, MatchesTheCpuReference) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  for (auto t : {quant::GgmlType::Q8_0, quant::GgmlType::Q4_0, quant::GgmlType::Q4_K, quant::GgmlType::Q6_K,
                 quant::GgmlType::F16, quant::GgmlType::BF16}) {
    const auto& tr = quant::traits(t);
    const int64_t n_blocks = 4096 / tr.block_size * 64;
    const int64_t n = n_blocks * tr.block_size;
    const auto host = random_blocks(t, n_blocks, 1234);
    std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n), NAN);
    quant::dequantize_row(t, host.data(), want.data(), n);
    void* d_src = nullptr;
    float* d_dst = nullptr;
    ASSERT_EQ(cudaMalloc(&d_src, host.size()), cudaSuccess);
    ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d_dst), size_t(n) * 4), cudaSuccess);
    cudaMemcpy(d_src, host.data(), host.size(), cudaMemcpyHostToDevice);
    cudaMemset(d_dst, 0xff, size_t(n) * 4);  // poison: NaN everywhere not written
    dequantize_row(t, d_src, d_dst, n, nullptr);
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    cudaMemcpy(got.data(), d_dst, size_t(n) * 4, cudaMemcpyDeviceToHost);
    cudaFree(d_src);
    cudaFree(d_dst);
    int64_t mismatches = 0;
    for (int64_t i = 0; i < n; ++i) {
      // The device may contract d*sc*q - m into an FMA: allow one rounding of the largest term.
      const float tol = 1e-6f * std::max(1.0f, std::fabs(want[size_t(i)]));
      if (!(std::fabs(got[size_t(i)] - want[size_t(i)]) <= tol)) ++mismatches;
    }
    EXPECT_EQ(mismatches, 0) << tr.name;
  }
}

}  // namespace
}  // namespace scout::cuda

// CUDA matmul kernels against the CPU reference (kernels::cpu::matmul_reference: exactly
// dequantized rows dotted with F32 activations) on fresh random inputs, outputs poisoned.
// Skips without a GPU; scripts/gpu-check.sh runs it on a lent one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "engine/kernels/cpu/matmul.h"
#include "engine/kernels/cuda/matmul_cuda.h"
#include "engine/kernels/cuda/shared_math.cuh"
#include "engine/quant/dequantize.h"
#include "engine/util/error.h"
#include "engine/util/half.h"

namespace scout::cuda {
namespace {

using quant::GgmlType;
using test::DeviceBuffer;

const GgmlType kAllTypes[] = {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K};
const GgmlType kGemmTypes[] = {GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K};

// Relative-error bound of the tensor-core GEMM: operands rounded to F16 (2^-11) or BF16 (2^-8).
double gemm_tolerance(GgmlType t) { return t == GgmlType::BF16 ? 1e-2 : 2e-3; }
constexpr double kGemvTolerance = 2e-5;  // F32 arithmetic, another summation order

uint32_t fresh_seed() {
  static std::random_device rd;
  return rd();
}

std::vector<float> cpu_matmul(GgmlType t, const std::vector<uint8_t>& w, int64_t rows, int64_t cols,
                              const std::vector<float>& x, int64_t m) {
  std::vector<float> y(static_cast<size_t>(m * rows));
  kernels::cpu::matmul_reference(kernels::cpu::make_weight_view(t, w.data(), cols, rows), x.data(), m, y.data());
  return y;
}

TEST(CudaMatmul, DeviceDecodersAreBitIdenticalToTheReference) {
  SCOUT_REQUIRE_GPU();
  for (GgmlType t : kAllTypes) {
    const int64_t rows = 64, cols = 1024;
    const auto w = test::random_matrix(t, rows, cols, fresh_seed(), 1.0f);
    DeviceBuffer<uint8_t> dw(w);
    DeviceBuffer<float> out(static_cast<size_t>(rows * cols));
    out.poison();
    dequantize_to_f32(make_device_matrix(t, dw.get(), cols, rows), out.get(), nullptr);
    const auto got = out.download();
    std::vector<float> want(got.size());
    quant::dequantize_row(t, w.data(), want.data(), rows * cols);
    int64_t bad = 0;
    for (size_t i = 0; i < got.size(); ++i) bad += std::memcmp(&got[i], &want[i], 4) != 0;
    EXPECT_EQ(bad, 0) << quant::traits(t).name;
  }
  // Every half through the device conversion (F16 rows) and every Q8_0 scale.
  std::vector<uint8_t> halves(65536 * 2);
  for (uint32_t h = 0; h < 65536; ++h) std::memcpy(halves.data() + 2 * h, &h, 2);
  DeviceBuffer<uint8_t> dh(halves);
  DeviceBuffer<float> out(65536);
  dequantize_to_f32(make_device_matrix(GgmlType::F16, dh.get(), 65536, 1), out.get(), nullptr);
  const auto got = out.download();
  int64_t bad = 0;
  for (uint32_t h = 0; h < 65536; ++h) {
    const float want = fp16_to_fp32(uint16_t(h));
    bad += std::isnan(want) ? !std::isnan(got[h]) : std::memcmp(&got[h], &want, 4) != 0;
  }
  EXPECT_EQ(bad, 0) << "f16 (NaNs compared as NaN)";
}

TEST(CudaMatmul, GemvMatchesTheReference) {
  SCOUT_REQUIRE_GPU();
  const int64_t rows = 333, cols = 1024;
  for (GgmlType t : kAllTypes) {
    const auto w = test::random_matrix(t, rows, cols, fresh_seed());
    DeviceBuffer<uint8_t> dw(w);
    const auto m = make_device_matrix(t, dw.get(), cols, rows);
    for (int64_t n : {1, 2, 3, 5, 8, 11, 40}) {
      const auto x = test::randn(static_cast<size_t>(n * cols), fresh_seed());
      DeviceBuffer<float> dx(x), dy(static_cast<size_t>(n * rows));
      dy.poison();
      matmul(m, dx.get(), n, dy.get(), nullptr, MatmulKernel::Gemv);
      const auto got = dy.download();
      EXPECT_LT(test::rel_error(got, cpu_matmul(t, w, rows, cols, x, n)), kGemvTolerance)
          << quant::traits(t).name << " n=" << n;
    }
  }
}

TEST(CudaMatmul, TensorCoreGemmMatchesTheReference) {
  SCOUT_REQUIRE_GPU();
  const int64_t rows = 333, cols = 1024;
  for (GgmlType t : kGemmTypes) {
    const auto w = test::random_matrix(t, rows, cols, fresh_seed());
    DeviceBuffer<uint8_t> dw(w);
    const auto m = make_device_matrix(t, dw.get(), cols, rows);
    for (int64_t n : {1, 9, 64, 100, 257}) {
      const auto x = test::randn(static_cast<size_t>(n * cols), fresh_seed());
      DeviceBuffer<float> dx(x), dy(static_cast<size_t>(n * rows));
      dy.poison();
      matmul(m, dx.get(), n, dy.get(), nullptr, MatmulKernel::Gemm);
      EXPECT_LT(test::rel_error(dy.download(), cpu_matmul(t, w, rows, cols, x, n)), gemm_tolerance(t))
          << quant::traits(t).name << " n=" << n;
    }
  }
}

// Grouped, gathered, scaled and scattered rows (the MoE layout, groups padded to the GEMM
// tile), plain and as a SwiGLU pair, through both kernels.
TEST(CudaMatmul, GroupedProductsMatchTheReference) {
  SCOUT_REQUIRE_GPU();
  const int64_t rows = 96, cols = 512, n_groups = 5, n_tokens = 70, k = 2;
  std::mt19937 rng(fresh_seed());
  // Routing: token t's k distinct experts.
  std::vector<uint8_t> expert(static_cast<size_t>(n_tokens * k));
  std::vector<float> weight(expert.size());
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int a = int(rng() % n_groups), b = (a + 1 + int(rng() % (n_groups - 1))) % n_groups;
    expert[size_t(t * k)] = uint8_t(a);
    expert[size_t(t * k + 1)] = uint8_t(b);
    weight[size_t(t * k)] = 0.2f + float(rng() % 100) / 100.0f;
    weight[size_t(t * k + 1)] = 0.2f + float(rng() % 100) / 100.0f;
  }
  for (GgmlType t : kGemmTypes) {
    const auto w1 = test::random_matrix(t, n_groups * rows, cols, fresh_seed());
    const auto w2 = test::random_matrix(t, n_groups * rows, cols, fresh_seed());
    const uint64_t rb = *quant::row_bytes(t, cols);
    DeviceBuffer<uint8_t> dw1(w1), dw2(w2);
    const auto x = test::randn(static_cast<size_t>(n_tokens * cols), fresh_seed());
    DeviceBuffer<float> dx(x);
    for (MatmulKernel kernel : {MatmulKernel::Gemv, MatmulKernel::Gemm}) {
      const int32_t align = kernel == MatmulKernel::Gemm ? kGemmRowAlign : 1;
      std::vector<int32_t> counts(n_groups, 0), begin(n_groups + 1);
      for (uint8_t e : expert) ++counts[e];
      hd::moe_offsets(counts.data(), int(n_groups), align, begin.data());
      const int64_t cap = hd::moe_rows_capacity(n_tokens * k, n_groups, align);
      std::vector<int32_t> src(static_cast<size_t>(cap), -1), dst(static_cast<size_t>(cap), -1);
      std::vector<float> scale(static_cast<size_t>(cap), 0.0f);
      for (int e = 0; e < n_groups; ++e)
        hd::moe_place_expert(e, expert.data(), weight.data(), int32_t(n_tokens * k), int32_t(k), begin.data(), src.data(),
                             scale.data(), dst.data());
      DeviceBuffer<int32_t> dbegin(begin), dsrc(src), ddst(dst);
      DeviceBuffer<float> dscale(scale);
      RowMap map;
      map.group_begin = dbegin.get();
      map.n_groups = int32_t(n_groups);
      map.m = int32_t(cap);
      map.max_group_rows = int32_t(n_tokens);
      map.src = dsrc.get();
      map.scale = dscale.get();
      map.dst = ddst.get();
      const GroupedMatrix g1{make_device_matrix(t, dw1.get(), cols, rows), rb * rows};
      const GroupedMatrix g2{make_device_matrix(t, dw2.get(), cols, rows), rb * rows};
      for (bool pair : {false, true}) {
        const int64_t out_rows = n_tokens * (k + 1);
        DeviceBuffer<float> dy(static_cast<size_t>(out_rows * rows));
        dy.poison();
        if (pair)
          grouped_swiglu(g1, g2, map, dx.get(), cols, dy.get(), rows, kernel, nullptr);
        else
          grouped_matmul(g1, map, dx.get(), cols, dy.get(), rows, kernel, nullptr);
        const auto got = dy.download();
        std::vector<float> want_rows, got_rows;
        for (int64_t tok = 0; tok < n_tokens; ++tok) {
          for (int64_t s = 0; s < k; ++s) {
            const int e = expert[size_t(tok * k + s)];
            std::vector<float> xi(x.begin() + tok * cols, x.begin() + (tok + 1) * cols);
            for (auto& v : xi) v = v * weight[size_t(tok * k + s)];
            const auto yg = cpu_matmul(t, std::vector<uint8_t>(w1.begin() + e * rows * rb, w1.begin() + (e + 1) * rows * rb),
                                       rows, cols, xi, 1);
            const auto yu = cpu_matmul(t, std::vector<uint8_t>(w2.begin() + e * rows * rb, w2.begin() + (e + 1) * rows * rb),
                                       rows, cols, xi, 1);
            for (int64_t r = 0; r < rows; ++r) {
              want_rows.push_back(pair ? yg[size_t(r)] / (1.0f + std::exp(-yg[size_t(r)])) * yu[size_t(r)] : yg[size_t(r)]);
              got_rows.push_back(got[size_t((tok * (k + 1) + s) * rows + r)]);
            }
          }
          // The slot rows nobody routes to stay poisoned.
          for (int64_t r = 0; r < rows; ++r) EXPECT_TRUE(std::isnan(got[size_t((tok * (k + 1) + k) * rows + r)]));
        }
        const double tol = kernel == MatmulKernel::Gemm ? 1.5 * gemm_tolerance(t) : kGemvTolerance;
        EXPECT_LT(test::rel_error(got_rows, want_rows), tol)
            << quant::traits(t).name << (kernel == MatmulKernel::Gemm ? " gemm" : " gemv") << (pair ? " swiglu" : "");
      }
    }
  }
}

TEST(CudaMatmul, CublasAndHalfConversionsMatchTheReference) {
  SCOUT_REQUIRE_GPU();
  Cublas cublas;
  const int64_t rows = 333, cols = 1024, n = 100;
  for (GgmlType t : {GgmlType::F16, GgmlType::BF16}) {
    const auto w = test::random_matrix(t, rows, cols, fresh_seed());
    DeviceBuffer<uint8_t> dw(w);
    const auto m = make_device_matrix(t, dw.get(), cols, rows);
    const auto x = test::randn(static_cast<size_t>(n * cols), fresh_seed());
    DeviceBuffer<float> dx(x), dy(static_cast<size_t>(n * rows));
    DeviceBuffer<uint16_t> work(static_cast<size_t>(n * cols));
    dy.poison();
    cublas_matmul(cublas, m, dx.get(), n, work.get(), dy.get(), nullptr);
    EXPECT_LT(test::rel_error(dy.download(), cpu_matmul(t, w, rows, cols, x, n)), gemm_tolerance(t))
        << quant::traits(t).name;
  }
  // dequantize_to_f16 / _bf16 round the reference values to nearest even.
  for (GgmlType t : kAllTypes) {
    const auto w = test::random_matrix(t, 16, 512, fresh_seed(), 3.0f);
    DeviceBuffer<uint8_t> dw(w);
    DeviceBuffer<uint16_t> h16(16 * 512), b16(16 * 512);
    const auto m = make_device_matrix(t, dw.get(), 512, 16);
    dequantize_to_f16(m, h16.get(), nullptr);
    dequantize_to_bf16(m, b16.get(), nullptr);
    std::vector<float> want(16 * 512);
    quant::dequantize_row(t, w.data(), want.data(), 16 * 512);
    const auto gh = h16.download(), gb = b16.download();
    int64_t bad = 0;
    for (size_t i = 0; i < want.size(); ++i) bad += gh[i] != fp32_to_fp16(want[i]) || gb[i] != fp32_to_bf16(want[i]);
    EXPECT_EQ(bad, 0) << quant::traits(t).name;
  }
}

TEST(CudaMatmul, SwigluElementwiseIsTheReferenceFormula) {
  SCOUT_REQUIRE_GPU();
  const auto g = test::randn(100000, fresh_seed(), 5.0f), u = test::randn(100000, fresh_seed());
  DeviceBuffer<float> dg(g), du(u), dout(g.size());
  dout.poison();
  swiglu_elementwise(dg.get(), du.get(), dout.get(), int64_t(g.size()), nullptr);
  std::vector<float> want(g.size());
  for (size_t i = 0; i < g.size(); ++i) want[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  EXPECT_LT(test::rel_error(dout.download(), want), 1e-6);  // expf within a few ulp of glibc's
}

TEST(CudaMatmul, RejectsMisalignedOrUnsupportedWeights) {
  // Argument checks run before any device work: no GPU needed.
  alignas(16) static uint8_t buf[4096] = {};
  EXPECT_THROW(make_device_matrix(GgmlType::Q4_0, buf, 256, 1), Error);
  EXPECT_THROW(make_device_matrix(GgmlType::Q4_K, buf + 2, 256, 1), Error);
  EXPECT_THROW(make_device_matrix(GgmlType::F16, buf, 12, 1), Error);
  EXPECT_NO_THROW(make_device_matrix(GgmlType::Q6_K, buf + 2, 256, 1));
}

}  // namespace
}  // namespace scout::cuda

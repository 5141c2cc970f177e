// The fused MoE block against model::llama4_moe (with the CPU matmul on its reference path:
// F32 activations, as the CUDA kernels use) on fresh random weights and inputs. Skips
// without a GPU; scripts/gpu-check.sh runs it on a lent one.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "engine/kernels/cpu/matmul.h"
#include "engine/kernels/cuda/moe_cuda.h"
#include "engine/kernels/cuda/shared_math.cuh"
#include "engine/model/arch.h"
#include "engine/model/weights.h"

namespace scout::cuda {
namespace {

using quant::GgmlType;
using test::DeviceBuffer;

uint32_t fresh_seed() {
  static std::random_device rd;
  return rd();
}

struct TypeSet {
  const char* name;
  GgmlType router, gate_up, down, shared;
};

// A small MoE layer on host and device.
struct MoeCase {
  MoeShape shape;
  std::vector<std::vector<uint8_t>> host;  // router, gate, up, down, gate_sh, up_sh, down_sh
  std::vector<DeviceBuffer<uint8_t>> dev;
  MoeWeights dw;
  model::LayerWeights lw;
  model::HParams hp;

  MoeCase(const TypeSet& ts, int64_t d, int64_t f, int64_t E, int64_t k) {
    shape = {d, f, E, k};
    const GgmlType types[7] = {ts.router, ts.gate_up, ts.gate_up, ts.down, ts.shared, ts.shared, ts.shared};
    const int64_t cols[7] = {d, d, d, f, d, d, f}, rows[7] = {E, E * f, E * f, E * d, f, f, d};
    DeviceMatrix* dm[7] = {&dw.router, &dw.gate_exps, &dw.up_exps, &dw.down_exps, &dw.gate_shexp, &dw.up_shexp, &dw.down_shexp};
    model::WeightView* cm[7] = {&lw.router, &lw.gate_exps, &lw.up_exps, &lw.down_exps, &lw.gate_shexp, &lw.up_shexp, &lw.down_shexp};
    for (int i = 0; i < 7; ++i) host.push_back(test::random_matrix(types[i], rows[i], cols[i], fresh_seed(), i == 0 ? 0.3f : 0.05f));
    for (int i = 0; i < 7; ++i) {
      dev.emplace_back(host[size_t(i)]);
      *dm[i] = make_device_matrix(types[i], dev.back().get(), cols[i], rows[i]);
      *cm[i] = kernels::cpu::make_weight_view(types[i], host[size_t(i)].data(), cols[i], rows[i]);
    }
    lw.moe = true;
    hp.arch = model::Arch::Llama4;
    hp.n_embd = d;
    hp.n_ff_exp = f;
    hp.n_expert = E;
    hp.n_expert_used = k;
  }
};

std::vector<float> reference_moe(const MoeCase& c, const std::vector<float>& h, int64_t n) {
  const auto saved = kernels::cpu::matmul_path();
  kernels::cpu::set_matmul_path(kernels::cpu::MatmulPath::Reference);
  std::vector<float> out(static_cast<size_t>(n * c.shape.n_embd));
  model::llama4_moe(c.lw, c.hp, h.data(), n, out.data());
  kernels::cpu::set_matmul_path(saved);
  return out;
}

const TypeSet kTypeSets[] = {
    {"q4k_q6k", GgmlType::F32, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_0},
    {"f16", GgmlType::F32, GgmlType::F16, GgmlType::F16, GgmlType::BF16},
    {"f32", GgmlType::F32, GgmlType::F32, GgmlType::F32, GgmlType::F32},  // GEMV only
    {"q8_0_router", GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q4_K, GgmlType::Q4_K},
};

TEST(CudaMoe, RoutingAndSortingMatchTheReference) {
  SCOUT_REQUIRE_GPU();
  const MoeShape s{256, 256, 16, 2};
  MoeWorkspace ws(s, 300);
  for (int64_t n : {1, 7, 300}) {
    for (int32_t align : {1, kGemmRowAlign}) {
      // Logits with many ties (few distinct values) to pin the tie rule.
      std::mt19937 rng(fresh_seed());
      std::vector<float> logits(static_cast<size_t>(n * s.n_expert));
      for (auto& v : logits) v = float(int(rng() % 7)) * 0.5f - 1.5f;
      DeviceBuffer<float> dl(logits);
      moe_route(dl.get(), n, s, align, ws, nullptr);
      test::sync();
      const int64_t nk = n * s.n_expert_used;
      std::vector<uint8_t> expert(static_cast<size_t>(nk));
      std::vector<float> weight(static_cast<size_t>(nk));
      std::vector<int32_t> begin(static_cast<size_t>(s.n_expert + 1));
      test::cuda_ok(cudaMemcpy(expert.data(), ws.entry_expert, expert.size(), cudaMemcpyDeviceToHost), "copy");
      test::cuda_ok(cudaMemcpy(weight.data(), ws.entry_weight, weight.size() * 4, cudaMemcpyDeviceToHost), "copy");
      test::cuda_ok(cudaMemcpy(begin.data(), ws.group_begin, begin.size() * 4, cudaMemcpyDeviceToHost), "copy");
      for (int64_t t = 0; t < n; ++t) {
        int64_t want[hd::kMaxTopK];
        model::top_k_experts(logits.data() + t * s.n_expert, s.n_expert, s.n_expert_used, want);
        for (int64_t j = 0; j < s.n_expert_used; ++j) {
          ASSERT_EQ(expert[size_t(t * s.n_expert_used + j)], want[j]) << "token " << t;
          const float l = logits[size_t(t * s.n_expert + want[j])];
          EXPECT_NEAR(weight[size_t(t * s.n_expert_used + j)], 1.0f / (1.0f + std::exp(-l)), 1e-6f);
        }
      }
      // The device layout is the sequential placement of hd::moe_place_expert.
      std::vector<int32_t> counts(static_cast<size_t>(s.n_expert), 0), want_begin(begin.size());
      for (uint8_t e : expert) ++counts[e];
      hd::moe_offsets(counts.data(), int(s.n_expert), align, want_begin.data());
      EXPECT_EQ(begin, want_begin);
      const int64_t cap = ws.row_capacity();
      std::vector<int32_t> src(static_cast<size_t>(cap)), dst(static_cast<size_t>(cap)), want_src(static_cast<size_t>(cap), -1), want_dst(static_cast<size_t>(cap), -1);
      std::vector<float> scale(static_cast<size_t>(cap)), want_scale(static_cast<size_t>(cap), 0.0f);
      test::cuda_ok(cudaMemcpy(src.data(), ws.row_src, size_t(cap) * 4, cudaMemcpyDeviceToHost), "copy");
      test::cuda_ok(cudaMemcpy(dst.data(), ws.row_dst, size_t(cap) * 4, cudaMemcpyDeviceToHost), "copy");
      test::cuda_ok(cudaMemcpy(scale.data(), ws.row_scale, size_t(cap) * 4, cudaMemcpyDeviceToHost), "copy");
      for (int e = 0; e < s.n_expert; ++e)
        hd::moe_place_expert(e, expert.data(), weight.data(), int32_t(nk), int32_t(s.n_expert_used), want_begin.data(),
                             want_src.data(), want_scale.data(), want_dst.data());
      EXPECT_EQ(src, want_src) << "n=" << n << " align=" << align;
      EXPECT_EQ(dst, want_dst) << "n=" << n << " align=" << align;
      EXPECT_EQ(scale, want_scale) << "n=" << n << " align=" << align;
    }
  }
}

TEST(CudaMoe, ForwardMatchesLlama4Moe) {
  SCOUT_REQUIRE_GPU();
  for (const auto& ts : kTypeSets) {
    for (int64_t k : {1, 2}) {
      MoeCase c(ts, 256, 512, 16, k);
      MoeWorkspace ws(c.shape, 200);
      for (int64_t n : {1, 3, 8, 37, 200}) {
        for (MatmulKernel kernel : {MatmulKernel::Auto, MatmulKernel::Gemv, MatmulKernel::Gemm}) {
          const auto h = test::randn(static_cast<size_t>(n * 256), fresh_seed());
          const auto residual = test::randn(h.size(), fresh_seed());
          const auto want = reference_moe(c, h, n);
          DeviceBuffer<float> dh(h), dout(h.size());
          dout.poison();
          moe_forward(c.dw, c.shape, dh.get(), n, dout.get(), false, ws, nullptr, kernel);
          const auto got = dout.download();
          // The tensor-core path rounds activations to F16 (BF16 for BF16 weights).
          const bool gemm = kernel == MatmulKernel::Gemm || (kernel == MatmulKernel::Auto && n * k > 8);
          const bool f32 = ts.gate_up == GgmlType::F32;
          const double tol = gemm && !f32 ? (ts.shared == GgmlType::BF16 ? 1.5e-2 : 5e-3) : 1e-4;
          EXPECT_LT(test::rel_error(got, want), tol) << ts.name << " k=" << k << " n=" << n << " kernel=" << int(kernel);
          // accumulate: out = residual + moe(h), added as moe_ffn_block adds.
          DeviceBuffer<float> dacc(residual);
          moe_forward(c.dw, c.shape, dh.get(), n, dacc.get(), true, ws, nullptr, kernel);
          std::vector<float> want_acc(residual.size());
          for (size_t i = 0; i < want_acc.size(); ++i) want_acc[i] = residual[i] + got[i];
          EXPECT_EQ(dacc.download(), want_acc) << "accumulate is out + moe, bit for bit";
        }
      }
    }
  }
}

}  // namespace
}  // namespace scout::cuda

// Reference dequantization throughput per type, at the row length of Llama 4 Scout's hidden
// size (5120) and expert FFN width (8192). Reports input GB/s (bytes of quantized blocks read).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/quant/dequantize.h"
#include "engine/quant/quantize.h"

namespace {

using scout::quant::GgmlType;

void BM_DequantizeRow(benchmark::State& state, GgmlType type) {
  const int64_t n = state.range(0);
  std::vector<float> src(static_cast<size_t>(n));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (auto& x : src) x = normal(rng);
  const auto row = scout::quant::row_bytes(type, n);
  std::vector<uint8_t> q(static_cast<size_t>(*row));
  scout::quant::quantize_row(type, src.data(), q.data(), n);
  std::vector<float> out(static_cast<size_t>(n));
  for (auto _ : state) {
    scout::quant::dequantize_row(type, q.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(*row));
  state.SetItemsProcessed(int64_t(state.iterations()) * n);
}

#define SCOUT_DEQUANT_BENCH(T) \
  BENCHMARK_CAPTURE(BM_DequantizeRow, T, GgmlType::T)->Arg(5120)->Arg(8192)
SCOUT_DEQUANT_BENCH(F16);
SCOUT_DEQUANT_BENCH(BF16);
SCOUT_DEQUANT_BENCH(Q8_0);
SCOUT_DEQUANT_BENCH(Q4_0);
SCOUT_DEQUANT_BENCH(Q4_K);
SCOUT_DEQUANT_BENCH(Q5_K);
SCOUT_DEQUANT_BENCH(Q6_K);

}  // namespace

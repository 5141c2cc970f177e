// qdot kernels at Llama 4 Scout's shapes: GEMV (1 token) and GEMM (8..512 tokens) for the
// attention projections and one expert's FFN, plus a tiny shape; single-thread and all
// threads (TBB arena); each path (reference / avx2 / avx512) where the CPU has it.
// Reports GB/s of weight bytes (each weight byte is read once per call) and GFLOP/s
// (2 * rows * cols * tokens). Also: activation quantization, and kernels::cpu::matmul (the
// dequantize-and-dot reference) on the same weights as the baseline.
//
// Names: BM_Qgemm/<type>/<shape>/tokens:<n>/<path>/threads:<n>. Run a subset with
// --benchmark_filter, e.g. 'BM_Qgemm/q4_K/ffn_up/tokens:(1|32)/avx512'.
#include <benchmark/benchmark.h>

#include "bench/bench_common.h"
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/kernels/cpu/matmul.h"
#include "engine/kernels/cpu/qdot/qdot.h"
#include "engine/quant/types.h"
#include "engine/util/half.h"

namespace {

using scout::quant::GgmlType;
namespace qdot = scout::kernels::cpu::qdot;

struct Shape {
  const char* name;
  int64_t n_cols, n_rows;  // y = W x with W [n_rows x n_cols]
};

// Scout: hidden 5120, 40 query heads and 8 KV heads of 128, expert FFN 8192.
const Shape kShapes[] = {
    {"ffn_up", 5120, 8192},    // one expert's gate or up projection
    {"ffn_down", 8192, 5120},  // one expert's down projection
    {"attn_q", 5120, 5120},    // q (and o: same shape)
    {"attn_kv", 5120, 1024},   // k or v
    {"tiny", 512, 256},
};

// Weights with random quants and ordinary fp16 scales (the speed does not depend on values;
// quantizing 40M floats with the K-quant search would take longer than the benchmarks).
const std::vector<uint8_t>& weights(GgmlType t, const Shape& s) {
  static std::map<std::pair<int, std::string>, std::unique_ptr<std::vector<uint8_t>>> cache;
  auto& slot = cache[{int(t), s.name}];
  if (!slot) {
    const uint64_t bytes = *scout::quant::row_bytes(t, s.n_cols) * uint64_t(s.n_rows);
    slot = std::make_unique<std::vector<uint8_t>>(bytes);
    std::mt19937 gen(uint32_t(t) * 131 + uint32_t(s.n_rows));
    std::uniform_int_distribution<int> byte(0, 255);
    std::normal_distribution<float> normal;
    uint8_t* p = slot->data();
    if (t == GgmlType::F16 || t == GgmlType::BF16) {
      for (size_t i = 0; i < bytes / 2; ++i) {
        const float v = 0.02f * normal(gen);
        const uint16_t h = t == GgmlType::F16 ? scout::fp32_to_fp16(v) : scout::fp32_to_bf16(v);
        std::memcpy(p + 2 * i, &h, 2);
      }
      return *slot;
    }
    for (auto& b : *slot) b = uint8_t(byte(gen));
    // Ordinary fp16 scales, so that no denormal or NaN float work skews the timings.
    const uint64_t block = uint64_t(scout::quant::traits(t).type_size);
    const int d_offset = t == GgmlType::Q6_K ? 208 : 0;
    const bool two = t == GgmlType::Q4_1 || t == GgmlType::Q5_1 || t == GgmlType::Q4_K || t == GgmlType::Q5_K;
    const uint16_t d = scout::fp32_to_fp16(0.01f), m = scout::fp32_to_fp16(0.002f);
    for (uint64_t off = 0; off < bytes; off += block) {
      std::memcpy(p + off + d_offset, &d, 2);
      if (two) std::memcpy(p + off + 2, &m, 2);
    }
  }
  return *slot;
}

std::vector<float> activations(int64_t n_tokens, int64_t n_cols) {
  return scout::bench::normal_floats(size_t(n_tokens * n_cols), 7);
}

void set_counters(benchmark::State& state, const Shape& s, uint64_t weight_bytes, int64_t tokens) {
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(weight_bytes));
  state.counters["GFLOP/s"] = benchmark::Counter(double(state.iterations()) * 2.0 * double(s.n_rows) *
                                                     double(s.n_cols) * double(tokens) * 1e-9,
                                                 benchmark::Counter::kIsRate);
}

// The path's output must equal the scalar reference's bits (qdot.h: every path gives ggml's
// reference arithmetic). Outputs are per token (batch invariance), so up to 4 tokens spread
// over the batch are recomputed by the reference: the scalar path over all 512 tokens of a
// Scout shape would take longer than the benchmarks. Checked once per case and process.
bool agrees_with_reference(GgmlType t, const Shape& s, int64_t tokens, qdot::Isa isa, const qdot::MatrixView& view,
                           const std::vector<uint8_t>& act, tbb::task_arena& arena) {
  static std::map<std::tuple<int, std::string, int64_t, int>, bool> done;
  const auto key = std::make_tuple(int(t), std::string(s.name), tokens, int(isa));
  if (auto it = done.find(key); it != done.end()) return it->second;
  std::vector<float> y(size_t(tokens * s.n_rows));
  arena.execute([&] { qdot::qgemm(isa, view, act.data(), tokens, y.data()); });
  const uint64_t row = qdot::activation_row_bytes(t, s.n_cols);
  std::vector<int64_t> picked;
  for (int64_t i = 0; i < std::min<int64_t>(4, tokens); ++i) picked.push_back(i * (tokens - 1) / std::max<int64_t>(1, std::min<int64_t>(4, tokens) - 1));
  std::vector<uint8_t> sub(row * picked.size());
  for (size_t i = 0; i < picked.size(); ++i) std::memcpy(sub.data() + i * row, act.data() + uint64_t(picked[i]) * row, row);
  std::vector<float> ref(picked.size() * size_t(s.n_rows));
  arena.execute([&] { qdot::qgemm(qdot::Isa::Reference, view, sub.data(), int64_t(picked.size()), ref.data()); });
  bool same = true;
  for (size_t i = 0; i < picked.size(); ++i)
    same = same && std::memcmp(ref.data() + i * size_t(s.n_rows), y.data() + size_t(picked[i] * s.n_rows),
                               size_t(s.n_rows) * sizeof(float)) == 0;
  return done[key] = same;
}

void BM_Qgemm(benchmark::State& state, GgmlType t, Shape s, int64_t tokens, qdot::Isa isa, int threads) {
  if (!qdot::isa_available(isa)) {
    state.SkipWithError("skipped: path not available on this CPU");
    return;
  }
  const auto& w = weights(t, s);
  const qdot::MatrixView view{t, w.data(), s.n_cols, s.n_rows, *scout::quant::row_bytes(t, s.n_cols)};
  const auto x = activations(tokens, s.n_cols);
  std::vector<uint8_t> act(qdot::activation_row_bytes(t, s.n_cols) * uint64_t(tokens));
  qdot::quantize_activations(isa, t, x.data(), tokens, s.n_cols, act.data());
  std::vector<float> y(size_t(tokens * s.n_rows));
  tbb::task_arena arena(threads);
  if (!agrees_with_reference(t, s, tokens, isa, view, act, arena)) {
    state.SkipWithError("qgemm disagrees with reference (Isa::Reference, bit for bit)");
    return;
  }
  for (auto _ : state) {
    arena.execute([&] { qdot::qgemm(isa, view, act.data(), tokens, y.data()); });
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, s, w.size(), tokens);
}

// The baseline the engine has today: dequantize each row, float dot per token.
void BM_ReferenceMatmul(benchmark::State& state, GgmlType t, Shape s, int64_t tokens, int threads) {
  const auto& w = weights(t, s);
  const auto view = scout::kernels::cpu::make_weight_view(t, w.data(), s.n_cols, s.n_rows);
  const auto x = activations(tokens, s.n_cols);
  std::vector<float> y(size_t(tokens * s.n_rows));
  tbb::task_arena arena(threads);
  for (auto _ : state) {
    arena.execute([&] { scout::kernels::cpu::matmul(view, x.data(), tokens, y.data()); });
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, s, w.size(), tokens);
}

void BM_QuantizeActivations(benchmark::State& state, GgmlType t, int64_t tokens, qdot::Isa isa) {
  if (!qdot::isa_available(isa)) {
    state.SkipWithError("skipped: path not available on this CPU");
    return;
  }
  const int64_t n = 5120;
  const auto x = activations(tokens, n);
  std::vector<uint8_t> act(qdot::activation_row_bytes(t, n) * uint64_t(tokens));
  tbb::task_arena arena(1);
  for (auto _ : state) {
    arena.execute([&] { qdot::quantize_activations(isa, t, x.data(), tokens, n, act.data()); });
    benchmark::DoNotOptimize(act.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * tokens * n * 4);  // float input bytes
}

std::string type_name(GgmlType t) { return std::string(scout::quant::traits(t).name); }

int register_all() {
  const GgmlType types[] = {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::Q4_0,
                            GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::BF16, GgmlType::F16};
  const int64_t token_counts[] = {1, 8, 32, 128, 512};
  const qdot::Isa paths[] = {qdot::Isa::Reference, qdot::Isa::Avx2, qdot::Isa::Avx512};
  const int all_threads = int(std::max(1u, std::thread::hardware_concurrency()));
  for (GgmlType t : types)
    for (const Shape& s : kShapes)
      for (int64_t tokens : token_counts)
        for (qdot::Isa isa : paths) {
          // The scalar reference only at the tiny shape and at one token elsewhere (it is slow).
          if (isa == qdot::Isa::Reference && std::string(s.name) != "tiny" && tokens > 1) continue;
          for (int threads : {1, all_threads}) {
            const std::string name = "BM_Qgemm/" + type_name(t) + "/" + s.name + "/tokens:" + std::to_string(tokens) + "/" +
                                     qdot::isa_name(isa) + "/threads:" + std::to_string(threads);
            benchmark::RegisterBenchmark(name.c_str(), BM_Qgemm, t, s, tokens, isa, threads)
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime();
            if (all_threads == 1) break;
          }
        }
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q8_0, GgmlType::BF16})
    for (const Shape& s : kShapes)
      for (int64_t tokens : {int64_t(1), int64_t(32)}) {
        const std::string name = "BM_ReferenceMatmul/" + type_name(t) + "/" + s.name + "/tokens:" + std::to_string(tokens) +
                                 "/threads:" + std::to_string(all_threads);
        benchmark::RegisterBenchmark(name.c_str(), BM_ReferenceMatmul, t, s, tokens, all_threads)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
  for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q4_0, GgmlType::Q4_1})
    for (int64_t tokens : {int64_t(1), int64_t(512)})
      for (qdot::Isa isa : paths) {
        const std::string name = "BM_QuantizeActivations/" + type_name(*qdot::vec_dot_type(t)) + "/tokens:" +
                                 std::to_string(tokens) + "/" + qdot::isa_name(isa);
        benchmark::RegisterBenchmark(name.c_str(), BM_QuantizeActivations, t, tokens, isa)->Unit(benchmark::kMicrosecond);
      }
  return 0;
}

const int registered = register_all();

}  // namespace

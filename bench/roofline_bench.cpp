// A probe of this machine's roofline: the ceilings the kernels are measured against
// (docs/PERFORMANCE.md).
// - mem_read: read bandwidth, a stream-sum (kernels::cpu::read_sum) over a 1 GiB buffer (far
//   larger than any cache), on 1 thread and on all threads (TBB). bytes_per_second = bytes read.
// - fp32_fma: peak FP32 rate, independent FMA chains held in registers (no memory traffic),
//   AVX2 (8 lanes) and AVX-512 (16 lanes). GFLOP/s counts an FMA as 2 FLOPs.
// - int8_dot: peak int8 multiply-add rate, vpdpbusd (AVX-512 VNNI) and the AVX2 sequence
//   maddubs + madd + add that machines without VNNI use. GOP/s counts each u8*s8 product and
//   its addition as 2 ops.
// Paths are chosen at run time (__builtin_cpu_supports); one the CPU lacks reports an error
// starting with "skipped:", which scripts/bench_check.py does not count as a failure.
//
// Names: BM_Roofline/<probe>/<isa>/threads:<n>.
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/kernels/cpu/memory_read.h"

namespace {

namespace kernels = scout::kernels;

constexpr size_t kBufferBytes = size_t(1) << 30;
constexpr size_t kChunkBytes = size_t(1) << 22;  // one parallel task's share of the stream
// Register-resident loops: steps per call, each step one instruction per chain.
constexpr int64_t kSteps = int64_t(1) << 20;
constexpr int kChains = 12;  // > latency x ports of FMA and VNNI units on current cores

// The buffer, filled once (in parallel, so pages are spread as the readers will touch them).
const uint64_t* buffer() {
  static const std::unique_ptr<uint64_t[]> data = [] {
    std::unique_ptr<uint64_t[]> p(new uint64_t[kBufferBytes / 8]);
    tbb::parallel_for(size_t(0), kBufferBytes / kChunkBytes, [&](size_t c) {
      uint64_t* q = p.get() + c * (kChunkBytes / 8);
      for (size_t i = 0; i < kChunkBytes / 8; ++i) q[i] = c * 31 + i;
    });
    return p;
  }();
  return data.get();
}

void BM_MemRead(benchmark::State& state, int threads) {
  const uint64_t* p = buffer();
  tbb::task_arena arena(threads);
  const size_t chunks = kBufferBytes / kChunkBytes, words = kChunkBytes / 8;
  for (auto _ : state) {
    std::atomic<uint64_t> total{0};
    arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<size_t>(0, chunks), [&](const tbb::blocked_range<size_t>& r) {
        uint64_t s = 0;
        for (size_t c = r.begin(); c < r.end(); ++c)
          s += kernels::cpu::read_sum({reinterpret_cast<const uint8_t*>(p + c * words), kChunkBytes});
        total += s;
      }, tbb::static_partitioner());
    });
    benchmark::DoNotOptimize(total.load());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(kBufferBytes));
}

// Each step multiplies every chain by a number just below 1 and adds a small one: values stay
// normal forever, so no denormal assists slow the units down.
__attribute__((target("avx2,fma"))) float fma_chains_avx2(int64_t steps) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(1.0f + float(c));
  const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t s = 0; s < steps; ++s)
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  __m256 t = acc[0];
  for (int c = 1; c < kChains; ++c) t = _mm256_add_ps(t, acc[c]);
  return _mm256_cvtss_f32(t);
}

__attribute__((target("avx512f"))) float fma_chains_avx512(int64_t steps) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(1.0f + float(c));
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t s = 0; s < steps; ++s)
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  __m512 t = acc[0];
  for (int c = 1; c < kChains; ++c) t = _mm512_add_ps(t, acc[c]);
  return _mm512_reduce_add_ps(t);
}

// u8 x s8 products summed into int32 lanes; the accumulators wrap harmlessly.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) int32_t dot_chains_vnni512(int64_t steps) {
  __m512i acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_epi32(c);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-5);
  for (int64_t s = 0; s < steps; ++s)
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbusd_epi32(acc[c], a, b);
  __m512i t = acc[0];
  for (int c = 1; c < kChains; ++c) t = _mm512_add_epi32(t, acc[c]);
  return _mm512_reduce_add_epi32(t);
}

// What ggml's AVX2 kernels do without VNNI: u8*s8 pairs to int16, pairs of int16 to int32.
__attribute__((target("avx2"))) int32_t dot_chains_maddubs256(int64_t steps) {
  __m256i acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_epi32(c);
  const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-5), ones = _mm256_set1_epi16(1);
  for (int64_t s = 0; s < steps; ++s)
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm256_add_epi32(acc[c], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones));
  __m256i t = acc[0];
  for (int c = 1; c < kChains; ++c) t = _mm256_add_epi32(t, acc[c]);
  return _mm256_extract_epi32(t, 0) + _mm256_extract_epi32(t, 7);
}

struct RegisterProbe {
  const char* probe;  // fp32_fma | int8_dot
  const char* isa;
  bool (*available)();
  double (*run)(int64_t steps);  // returns a value that depends on every chain
  double ops_per_step;           // per chain step, all chains together
  const char* counter;
};

const RegisterProbe kProbes[] = {
    {"fp32_fma", "avx2", [] { return bool(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")); },
     [](int64_t s) { return double(fma_chains_avx2(s)); }, 2.0 * 8 * kChains, "GFLOP/s"},
    {"fp32_fma", "avx512", [] { return bool(__builtin_cpu_supports("avx512f")); },
     [](int64_t s) { return double(fma_chains_avx512(s)); }, 2.0 * 16 * kChains, "GFLOP/s"},
    {"int8_dot", "vnni512",
     [] { return bool(__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni")); },
     [](int64_t s) { return double(dot_chains_vnni512(s)); }, 2.0 * 64 * kChains, "GOP/s"},
    {"int8_dot", "maddubs256", [] { return bool(__builtin_cpu_supports("avx2")); },
     [](int64_t s) { return double(dot_chains_maddubs256(s)); }, 2.0 * 32 * kChains, "GOP/s"},
};

void BM_RegisterProbe(benchmark::State& state, const RegisterProbe& probe, int threads) {
  if (!probe.available()) {
    state.SkipWithError("skipped: instruction set not available on this CPU");
    return;
  }
  tbb::task_arena arena(threads);
  for (auto _ : state) {
    // One call per thread: each thread keeps its own chains busy for the whole iteration.
    std::vector<double> sink(static_cast<size_t>(threads));
    arena.execute([&] {
      tbb::parallel_for(0, threads, [&](int t) { sink[size_t(t)] = probe.run(kSteps); }, tbb::static_partitioner());
    });
    benchmark::DoNotOptimize(sink.data());
  }
  state.counters[probe.counter] = benchmark::Counter(
      double(state.iterations()) * double(threads) * double(kSteps) * probe.ops_per_step * 1e-9,
      benchmark::Counter::kIsRate);
}

int register_all() {
  const int all = int(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> thread_counts{1};
  if (all > 1) thread_counts.push_back(all);
  for (int t : thread_counts) {
    const std::string name = "BM_Roofline/mem_read/" + std::string(__builtin_cpu_supports("avx2") ? "avx2" : "portable") +
                             "/threads:" + std::to_string(t);
    benchmark::RegisterBenchmark(name.c_str(), BM_MemRead, t)->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  for (const RegisterProbe& p : kProbes)
    for (int t : thread_counts) {
      const std::string name =
          std::string("BM_Roofline/") + p.probe + "/" + p.isa + "/threads:" + std::to_string(t);
      benchmark::RegisterBenchmark(name.c_str(), BM_RegisterProbe, p, t)->Unit(benchmark::kMillisecond)->UseRealTime();
    }
  return 0;
}

const int registered = register_all();

}  // namespace

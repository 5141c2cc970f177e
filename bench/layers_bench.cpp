// Whole layer blocks of the llama4 forward pass: model::attention over an F16 KV cache and
// model::llama4_moe (router, routed experts, shared expert), at Llama 4 Scout's shapes and at
// tiny ones, on 1 thread and on all threads.
//
// Each case first checks the engine's result against a plain reference written here on the
// same input (attention: scores and softmax in double over the cache read back as floats;
// MoE: one token at a time through kernels::cpu::matmul, expert by expert), and reports an
// error containing "disagrees with reference" when they differ by more than a relative 1e-3
// of the output's scale (scripts/bench_check.py fails CI on it). The engine's fast paths
// are bit-exact with these references today; 1e-3 leaves room for reordered arithmetic.
//
// The Scout-shape MoE weights (one layer: 16 experts of 8192 x 5120, ~1.1 GB in Q4_K, ~2.1 GB
// in Q8_0) are registered only with SCOUT_BENCH_LARGE=1.
//
// Names: BM_Attention/<shape>/<decode_kv:N|prefill:N>/<chunked|full>/threads:<n>,
//        BM_Moe/<shape>/<type>/tokens:<n>/threads:<n>.
// Counters: tokens/s; KV GB/s (attention: K and V bytes each query's window covers) or weight
// GB/s (MoE: bytes of the router, the experts the batch routes to and the shared expert).
#include <benchmark/benchmark.h>

#include "bench/bench_common.h"
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/kernels/cpu/matmul.h"
#include "engine/model/arch.h"
#include "engine/model/layers.h"
#include "engine/quant/types.h"
#include "engine/util/half.h"

namespace {

using scout::kernels::cpu::WeightView;
using scout::model::HParams;
using scout::quant::GgmlType;

// SCOUT_BENCH_TOLERANCE overrides it: tests/py/test_bench_check.py sets 0 to see the gate
// catch a real difference (the flash-style attention rounds differently from the oracle).
double tolerance() {
  static const double t = [] {
    const char* env = std::getenv("SCOUT_BENCH_TOLERANCE");
    return env ? std::atof(env) : 1e-3;
  }();
  return t;
}

// max |a - b| over a vector, relative to max |ref|: robust to outputs that happen to be near 0.
bool close_enough(const float* got, const float* ref, int64_t n) {
  double scale = 0.0, diff = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    scale = std::max(scale, std::fabs(double(ref[i])));
    diff = std::max(diff, std::fabs(double(got[i]) - double(ref[i])));
    if (!std::isfinite(got[i])) return false;
  }
  return diff <= tolerance() * scale;
}

// Checks run once per case and process (Google Benchmark calls a function several times).
template <class Key, class F>
bool checked_once(const Key& key, F&& check) {
  static std::map<Key, bool> done;
  auto it = done.find(key);
  if (it == done.end()) it = done.emplace(key, check()).first;
  return it->second;
}

std::vector<int> thread_counts() {
  const int all = int(std::max(1u, std::thread::hardware_concurrency()));
  return all > 1 ? std::vector<int>{1, all} : std::vector<int>{1};
}

// ---------------------------------------------------------------------------------------
// Attention

struct AttnShape {
  const char* name;
  int64_t n_head, n_head_kv, head_dim;
};
const AttnShape kAttnShapes[] = {{"scout", 40, 8, 128}, {"tiny", 4, 2, 64}};

struct AttnCase {
  bool prefill;     // n queries at positions 0..n-1; else one query at position n-1
  int64_t n;        // positions in the cache
  int64_t chunk;    // 8192 (Scout's chunked layers) or 0 (full attention)
};

HParams attn_hparams(const AttnShape& s) {
  HParams hp;
  hp.arch = scout::model::Arch::Llama4;
  hp.n_layer = 1;
  hp.n_head = s.n_head;
  hp.n_head_kv = s.n_head_kv;
  hp.head_dim = hp.n_rot = s.head_dim;
  hp.n_embd = s.n_head * s.head_dim;
  return hp;
}

// A cache of n positions of random K/V and the queries of the case, built once per case.
struct AttnInput {
  HParams hp;
  std::unique_ptr<scout::model::KvCache> cache;
  scout::model::BatchLayout batch;
  std::vector<float> q;
};

const AttnInput& attn_input(const AttnShape& s, const AttnCase& c) {
  static std::map<std::tuple<std::string, bool, int64_t>, std::unique_ptr<AttnInput>> inputs;
  auto& in = inputs[{s.name, c.prefill, c.n}];
  if (in) return *in;
  in = std::make_unique<AttnInput>();
  in->hp = attn_hparams(s);
  const int64_t kv_dim = s.n_head_kv * s.head_dim, q_dim = s.n_head * s.head_dim;
  in->cache = std::make_unique<scout::model::KvCache>(in->hp, scout::model::KvType::F16, c.n);
  in->cache->reserve(c.n);
  std::mt19937 gen(uint32_t(c.n * 7 + s.n_head));
  std::normal_distribution<float> normal;
  std::vector<float> k(static_cast<size_t>(kv_dim)), v(static_cast<size_t>(kv_dim));
  for (int64_t p = 0; p < c.n; ++p) {
    for (auto& x : k) x = normal(gen);
    for (auto& x : v) x = normal(gen);
    in->cache->write(0, p, k.data(), v.data());
  }
  in->cache->set_size(c.n);
  const int64_t n_q = c.prefill ? c.n : 1, pos0 = c.n - n_q;
  in->batch.seqs.push_back({in->cache.get(), 0, n_q, pos0});
  for (int64_t i = 0; i < n_q; ++i) in->batch.pos.push_back(pos0 + i);
  in->q.resize(size_t(n_q * q_dim));
  for (auto& x : in->q) x = normal(gen);
  return *in;
}

// The plain oracle: for each query head, scores in double over its window, softmax, weighted
// sum of the value rows, all read back from the cache as floats.
std::vector<float> attention_reference(const AttnInput& in, int64_t chunk) {
  const HParams& hp = in.hp;
  const int64_t hd = hp.head_dim, group = hp.n_head / hp.n_head_kv, q_dim = hp.n_head * hd;
  const int64_t n_q = in.batch.n_tokens(), n_pos = in.cache->size();
  std::vector<float> out(size_t(n_q * q_dim)), keys(size_t(n_pos * hd)), values(size_t(n_pos * hd));
  std::vector<double> p(static_cast<size_t>(n_pos));
  for (int64_t g = 0; g < hp.n_head_kv; ++g) {
    in.cache->read_k(0, g, 0, n_pos, keys.data());
    in.cache->read_v(0, g, 0, n_pos, values.data());
    for (int64_t t = 0; t < n_q; ++t) {
      const int64_t pos = in.batch.pos[size_t(t)], k0 = scout::model::attention_window_start(pos, chunk);
      for (int64_t h = g * group; h < (g + 1) * group; ++h) {
        const float* q = in.q.data() + t * q_dim + h * hd;
        double max_s = -INFINITY, sum = 0.0;
        for (int64_t j = k0; j <= pos; ++j) {
          double s = 0.0;
          for (int64_t i = 0; i < hd; ++i) s += double(q[i]) * double(keys[size_t(j * hd + i)]);
          p[size_t(j)] = s / std::sqrt(double(hd));
          max_s = std::max(max_s, p[size_t(j)]);
        }
        for (int64_t j = k0; j <= pos; ++j) sum += (p[size_t(j)] = std::exp(p[size_t(j)] - max_s));
        for (int64_t i = 0; i < hd; ++i) {
          double o = 0.0;
          for (int64_t j = k0; j <= pos; ++j) o += p[size_t(j)] * double(values[size_t(j * hd + i)]);
          out[size_t(t * q_dim + h * hd + i)] = float(o / sum);
        }
      }
    }
  }
  return out;
}

bool attention_agrees(const AttnInput& in, int64_t chunk) {
  std::vector<float> got(in.q.size());
  scout::model::attention(in.batch, in.hp, 0, in.q.data(), chunk, got.data());
  const auto ref = attention_reference(in, chunk);
  const int64_t hd = in.hp.head_dim;
  for (size_t off = 0; off < got.size(); off += size_t(hd))  // head by head: each has its own scale
    if (!close_enough(got.data() + off, ref.data() + off, hd)) return false;
  return true;
}

void BM_Attention(benchmark::State& state, AttnShape s, AttnCase c, int threads) {
  const AttnInput& in = attn_input(s, c);
  if (!checked_once(std::make_tuple(std::string(s.name), c.prefill, c.n, c.chunk),
                    [&] { return attention_agrees(in, c.chunk); })) {
    state.SkipWithError("model::attention disagrees with reference beyond a relative 1e-3 (or SCOUT_BENCH_TOLERANCE)");
    return;
  }
  std::vector<float> out(in.q.size());
  tbb::task_arena arena(threads);
  for (auto _ : state) {
    arena.execute([&] { scout::model::attention(in.batch, in.hp, 0, in.q.data(), c.chunk, out.data()); });
    benchmark::DoNotOptimize(out.data());
  }
  // Keys each query covers, summed over the batch: the KV bytes (F16) and FLOPs of the case.
  double keys = 0.0;
  for (int64_t pos : in.batch.pos)
    keys += double(pos + 1 - scout::model::attention_window_start(pos, c.chunk));
  const double it = double(state.iterations()), kv_dim = double(s.n_head_kv * s.head_dim);
  state.counters["tokens/s"] = benchmark::Counter(it * double(in.batch.n_tokens()), benchmark::Counter::kIsRate);
  state.counters["KV_GB/s"] = benchmark::Counter(it * keys * kv_dim * 2 * 2 * 1e-9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(it * keys * double(s.n_head * s.head_dim) * 4 * 1e-9,
                                                 benchmark::Counter::kIsRate);
}

// ---------------------------------------------------------------------------------------
// MoE

struct MoeShape {
  const char* name;
  int64_t n_embd, n_ff_exp, n_expert, n_expert_used;
};
const MoeShape kMoeTiny{"tiny", 256, 256, 16, 1};
const MoeShape kMoeScout{"scout", 5120, 8192, 16, 1};

// Random quants with ordinary fp16 scales, as in qdot_bench.cpp: the speed does not depend on
// the values, and quantizing billions of floats would take longer than the benchmarks. A
// splitmix64 stream fills gigabytes in seconds.
std::vector<uint8_t> random_weights(GgmlType t, int64_t n_cols, int64_t n_rows, uint64_t seed) {
  const uint64_t bytes = *scout::quant::row_bytes(t, n_cols) * uint64_t(n_rows);
  std::vector<uint8_t> w(bytes);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (uint64_t off = 0; off + 8 <= bytes; off += 8) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(w.data() + off, &z, 8);
  }
  const uint64_t block = uint64_t(scout::quant::traits(t).type_size);
  const int d_offset = t == GgmlType::Q6_K ? 208 : 0;
  const bool two = t == GgmlType::Q4_1 || t == GgmlType::Q5_1 || t == GgmlType::Q4_K || t == GgmlType::Q5_K;
  const uint16_t d = scout::fp32_to_fp16(0.01f), m = scout::fp32_to_fp16(0.002f);
  for (uint64_t off = 0; off < bytes; off += block) {
    std::memcpy(w.data() + off + d_offset, &d, 2);
    if (two) std::memcpy(w.data() + off + 2, &m, 2);
  }
  return w;
}

// One layer's MoE weights; the router stays F32 as llama-quantize leaves it.
struct MoeLayer {
  HParams hp;
  std::vector<std::vector<uint8_t>> storage;
  std::vector<float> router;
  scout::model::LayerWeights w;
  uint64_t expert_bytes = 0, shared_bytes = 0;  // one routed expert (gate+up+down), the shared one
};

WeightView add_matrix(MoeLayer& l, GgmlType t, int64_t n_cols, int64_t n_rows) {
  l.storage.push_back(random_weights(t, n_cols, n_rows, l.storage.size() + 1));
  return scout::kernels::cpu::make_weight_view(t, l.storage.back().data(), n_cols, n_rows);
}

const MoeLayer& moe_layer(const MoeShape& s, GgmlType t) {
  static std::map<std::pair<std::string, int>, std::unique_ptr<MoeLayer>> layers;
  auto& l = layers[{s.name, int(t)}];
  if (l) return *l;
  l = std::make_unique<MoeLayer>();
  l->hp.arch = scout::model::Arch::Llama4;
  l->hp.n_embd = s.n_embd;
  l->hp.n_ff_exp = s.n_ff_exp;
  l->hp.n_expert = s.n_expert;
  l->hp.n_expert_used = s.n_expert_used;
  l->storage.reserve(6);
  const int64_t d = s.n_embd, ff = s.n_ff_exp, e = s.n_expert;
  l->w.moe = true;
  l->w.gate_exps = add_matrix(*l, t, d, e * ff);
  l->w.up_exps = add_matrix(*l, t, d, e * ff);
  l->w.down_exps = add_matrix(*l, t, ff, e * d);
  l->w.gate_shexp = add_matrix(*l, t, d, ff);
  l->w.up_shexp = add_matrix(*l, t, d, ff);
  l->w.down_shexp = add_matrix(*l, t, ff, d);
  std::mt19937 gen(11);
  std::normal_distribution<float> normal;
  l->router.resize(size_t(e * d));
  for (auto& x : l->router) x = 0.05f * normal(gen);
  l->w.router = scout::kernels::cpu::make_weight_view(GgmlType::F32, l->router.data(), d, e);
  const uint64_t row_d = *scout::quant::row_bytes(t, d), row_ff = *scout::quant::row_bytes(t, ff);
  l->expert_bytes = l->shared_bytes = 2 * uint64_t(ff) * row_d + uint64_t(d) * row_ff;
  return *l;
}

std::vector<float> moe_input(int64_t n, int64_t d) { return scout::bench::normal_floats(size_t(n * d), 5); }

// y = down(silu(gate x) * up x) for one token.
std::vector<float> swiglu_one(const WeightView& gate, const WeightView& up, const WeightView& down, const float* x) {
  std::vector<float> g(static_cast<size_t>(gate.n_rows)), u(static_cast<size_t>(up.n_rows)), y(static_cast<size_t>(down.n_rows));
  scout::kernels::cpu::matmul(gate, x, 1, g.data());
  scout::kernels::cpu::matmul(up, x, 1, u.data());
  for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  scout::kernels::cpu::matmul(down, g.data(), 1, y.data());
  return y;
}

// Experts of one token: the k largest router logits, ties to the lower index.
std::vector<int64_t> route(const std::vector<float>& logits) {
  std::vector<int64_t> order(logits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
  return order;
}

// The plain oracle for token t: Llama 4 scales the expert's input by sigmoid(router logit);
// the routed outputs are summed in slot order, then the shared expert's output is added.
std::vector<float> moe_reference_token(const MoeLayer& l, const float* h, std::set<int64_t>* experts) {
  const HParams& hp = l.hp;
  const int64_t d = hp.n_embd, ff = hp.n_ff_exp;
  std::vector<float> logits(static_cast<size_t>(hp.n_expert)), out(size_t(d), 0.0f), xe(static_cast<size_t>(d));
  scout::kernels::cpu::matmul(l.w.router, h, 1, logits.data());
  const auto order = route(logits);
  for (int64_t s = 0; s < hp.n_expert_used; ++s) {
    const int64_t e = order[size_t(s)];
    experts->insert(e);
    const float weight = 1.0f / (1.0f + std::exp(-logits[size_t(e)]));
    for (int64_t c = 0; c < d; ++c) xe[size_t(c)] = h[c] * weight;
    const auto y = swiglu_one(l.w.gate_exps.rows(e * ff, ff), l.w.up_exps.rows(e * ff, ff),
                              l.w.down_exps.rows(e * d, d), xe.data());
    for (int64_t c = 0; c < d; ++c) out[size_t(c)] += y[size_t(c)];
  }
  const auto sh = swiglu_one(l.w.gate_shexp, l.w.up_shexp, l.w.down_shexp, h);
  for (int64_t c = 0; c < d; ++c) out[size_t(c)] += sh[size_t(c)];
  return out;
}

// Outputs are per token, so at most 64 tokens spread over the batch are checked (the whole
// routed batch still runs through the engine); the routed experts of the whole batch are
// counted for the bandwidth counter.
struct MoeCheck {
  bool ok = false;
  int64_t distinct_experts = 0;
};

MoeCheck moe_check(const MoeLayer& l, const std::vector<float>& h, int64_t n) {
  const int64_t d = l.hp.n_embd;
  std::vector<float> got(size_t(n * d));
  scout::model::llama4_moe(l.w, l.hp, h.data(), n, got.data());
  MoeCheck r;
  r.ok = true;
  std::set<int64_t> experts;
  const int64_t stride = std::max<int64_t>(1, n / 64);
  for (int64_t t = 0; t < n; ++t) {
    if (t % stride != 0) {  // routing only, for the expert count
      std::vector<float> logits(size_t(l.hp.n_expert));
      scout::kernels::cpu::matmul(l.w.router, h.data() + t * d, 1, logits.data());
      const auto order = route(logits);
      experts.insert(order.begin(), order.begin() + l.hp.n_expert_used);
      continue;
    }
    const auto ref = moe_reference_token(l, h.data() + t * d, &experts);
    r.ok = r.ok && close_enough(got.data() + t * d, ref.data(), d);
  }
  r.distinct_experts = int64_t(experts.size());
  return r;
}

void BM_Moe(benchmark::State& state, MoeShape s, GgmlType t, int64_t n, int threads) {
  const MoeLayer& l = moe_layer(s, t);
  const auto h = moe_input(n, s.n_embd);
  static std::map<std::tuple<std::string, int, int64_t>, MoeCheck> checks;
  auto it = checks.find({s.name, int(t), n});
  if (it == checks.end()) {
    tbb::task_arena all(int(std::max(1u, std::thread::hardware_concurrency())));
    it = checks.emplace(std::make_tuple(std::string(s.name), int(t), n), all.execute([&] { return moe_check(l, h, n); })).first;
  }
  if (!it->second.ok) {
    state.SkipWithError("model::llama4_moe disagrees with reference beyond a relative 1e-3 (or SCOUT_BENCH_TOLERANCE)");
    return;
  }
  std::vector<float> out(h.size());
  tbb::task_arena arena(threads);
  for (auto _ : state) {
    arena.execute([&] { scout::model::llama4_moe(l.w, l.hp, h.data(), n, out.data()); });
    benchmark::DoNotOptimize(out.data());
  }
  const double bytes = double(l.router.size() * 4) + double(it->second.distinct_experts) * double(l.expert_bytes) +
                       double(l.shared_bytes);
  const double iters = double(state.iterations());
  state.counters["tokens/s"] = benchmark::Counter(iters * double(n), benchmark::Counter::kIsRate);
  state.counters["weight_GB/s"] = benchmark::Counter(iters * bytes * 1e-9, benchmark::Counter::kIsRate);
  state.counters["experts"] = double(it->second.distinct_experts);
}

std::string type_name(GgmlType t) { return std::string(scout::quant::traits(t).name); }

int register_all() {
  for (const AttnShape& s : kAttnShapes)
    for (const AttnCase c : {AttnCase{false, 128, 0}, AttnCase{false, 512, 0}, AttnCase{false, 4096, 0},
                             AttnCase{true, 512, 0}})
      for (int64_t chunk : {int64_t(8192), int64_t(0)})
        for (int threads : thread_counts()) {
          const AttnCase cc{c.prefill, c.n, chunk};
          const std::string name = std::string("BM_Attention/") + s.name + "/" +
                                   (c.prefill ? "prefill:" : "decode_kv:") + std::to_string(c.n) + "/" +
                                   (chunk ? "chunked" : "full") + "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_Attention, s, cc, threads)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();
        }
  const char* large = std::getenv("SCOUT_BENCH_LARGE");
  std::vector<MoeShape> shapes{kMoeTiny};
  if (large && std::string(large) == "1") shapes.push_back(kMoeScout);
  for (const MoeShape& s : shapes)
    for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q8_0})
      for (int64_t n : {int64_t(1), int64_t(32), int64_t(512)})
        for (int threads : thread_counts()) {
          const std::string name = std::string("BM_Moe/") + s.name + "/" + type_name(t) + "/tokens:" +
                                   std::to_string(n) + "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_Moe, s, t, n, threads)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
        }
  return 0;
}

const int registered = register_all();

}  // namespace

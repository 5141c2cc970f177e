// scout-eval bench-model: prompt-processing and generation speed of the native engine, as
// llama-bench measures them (pp: one prompt of P tokens; tg: N single-token decode steps),
// plus aggregate decode speed with several sequences decoding together (--parallel), after a
// context of -d tokens in each (llama-bench's -d, llama-batched-bench's -npp).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "engine/quant/file_type.h"
#include "engine/model/weights.h"
#include "engine/runtime/engine.h"
#include "harness/store/store.h"

namespace scout::cli {
namespace {

struct BenchOptions {
  std::string model, db;
  int64_t n_prompt = 512, n_gen = 128, parallel = 1, depth = 0;
  int threads = 0, reps = 3;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

// Deterministic ordinary token ids: the timing must not depend on what the tokens mean.
runtime::Tokens synthetic_tokens(int64_t n, int64_t n_vocab, int64_t salt) {
  runtime::Tokens t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[size_t(i)] = int32_t((i * 7919 + salt * 104729 + 13) % std::min<int64_t>(n_vocab, 256));
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Seconds for one forward pass over a P-token prompt.
double time_prompt(runtime::Engine& e, int64_t n_prompt) {
  auto cache = e.new_cache();
  const auto tokens = synthetic_tokens(n_prompt, e.hparams().n_vocab, 0);
  model::SeqInput in{&cache, tokens, 1};
  const auto t0 = Clock::now();
  e.forward(std::span<const model::SeqInput>(&in, 1));
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Seconds for n_gen decode steps of `parallel` sequences (after an untimed start of `depth`
// context tokens, at least 1, each).
double time_decode(runtime::Engine& e, int64_t n_gen, int64_t parallel, int64_t depth) {
  std::vector<model::KvCache> caches;
  for (int64_t s = 0; s < parallel; ++s) caches.push_back(e.new_cache());
  std::vector<runtime::Tokens> next(static_cast<size_t>(parallel));
  std::vector<model::SeqInput> batch(static_cast<size_t>(parallel));
  if (depth > 1) {
    for (int64_t s = 0; s < parallel; ++s) {
      next[size_t(s)] = synthetic_tokens(depth - 1, e.hparams().n_vocab, 1000000 + s);
      model::SeqInput in{&caches[size_t(s)], next[size_t(s)], 1};
      e.forward(std::span<const model::SeqInput>(&in, 1));
    }
  }
  auto step = [&](int64_t i) {
    for (int64_t s = 0; s < parallel; ++s) {
      next[size_t(s)] = synthetic_tokens(1, e.hparams().n_vocab, i * parallel + s + 1);
      batch[size_t(s)] = {&caches[size_t(s)], next[size_t(s)], 1};
    }
    e.forward(batch);
  };
  step(0);
  const auto t0 = Clock::now();
  for (int64_t i = 1; i <= n_gen; ++i) step(i);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Seconds to read, without computing, the weight bytes of n_gen decode steps (rotating the
// routed experts as decode_read_set does).
double time_read(const runtime::Engine& e, int64_t n_gen) {
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < n_gen; ++i) e.read_decode_weights(i);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int run_bench(const BenchOptions& o) {
  runtime::EngineOptions eo;
  eo.n_threads = o.threads;
  eo.n_ctx = std::max(o.n_prompt, o.depth) + o.n_gen + 8;
  eo.max_seqs = std::max<int64_t>(o.parallel, 1);
  auto engine = runtime::Engine::load(o.model, eo);
  // Weight bytes per decode step (shared by the parallel sequences only when they pick the
  // same experts: reported for --parallel 1, where it bounds the speed).
  const uint64_t step_bytes = model::decode_bytes_per_token(engine->model());
  // At --parallel 1 each decode run follows a plain read of the same bytes on the same threads
  // (read_gbps): this VM's bandwidth moves within minutes, so the share of the ceiling is
  // taken per pair, a second apart, and not against a probe run at another time.
  const bool probe_reads = o.parallel == 1 && o.n_gen > 0;
  std::vector<double> pp, tg, read_gbps, share;
  time_prompt(*engine, std::clamp<int64_t>(o.n_prompt, 1, 16));  // warm-up: page in the weights
  for (int r = 0; r < o.reps; ++r) {
    if (o.n_prompt > 0) pp.push_back(double(o.n_prompt) / time_prompt(*engine, o.n_prompt));
    if (o.n_gen == 0) continue;
    const double read_s = probe_reads ? time_read(*engine, o.n_gen) : 0.0;
    const double decode_s = time_decode(*engine, o.n_gen, o.parallel, o.depth);
    tg.push_back(double(o.n_gen * o.parallel) / decode_s);
    if (!probe_reads) continue;
    read_gbps.push_back(double(o.n_gen) * double(step_bytes) / read_s / 1e9);
    share.push_back(read_s / decode_s);
  }
  const double pp_tps = pp.empty() ? 0.0 : median(pp), tg_tps = tg.empty() ? 0.0 : median(tg);
  const double tg_gbps = o.parallel == 1 ? tg_tps * double(step_bytes) / 1e9 : 0.0;
  const double read_gbps_median = read_gbps.empty() ? 0.0 : median(read_gbps);
  const double share_median = share.empty() ? 0.0 : median(share);
  nlohmann::json j = {{"model", o.model}, {"arch", engine->hparams().arch_name},
                      {"n_params", engine->hparams().n_params()}, {"threads", engine->n_threads()},
                      {"n_prompt", o.n_prompt}, {"n_gen", o.n_gen}, {"parallel", o.parallel}, {"depth", o.depth},
                      {"repetitions", o.reps}, {"pp_tps", pp_tps}, {"tg_tps", tg_tps}, {"pp_runs", pp}, {"tg_runs", tg},
                      {"decode_bytes_per_token", step_bytes}, {"tg_weight_gbps", tg_gbps},
                      {"tg_read_gbps", read_gbps_median}, {"tg_read_runs", read_gbps},
                      {"tg_bandwidth_share", share_median}, {"tg_bandwidth_share_runs", share}};
  if (!o.db.empty()) {
    auto st = store::Store::open(o.db);
    for (const auto& [name, tps, n] : {std::tuple{"model pp", pp_tps, o.n_prompt}, std::tuple{"model tg", tg_tps, o.n_gen}}) {
      if (tps <= 0) continue;
      store::KernelBenchmark b;
      b.name = fmt::format("{}{}", name, n);
      b.params = j;
      b.device = "cpu";
      b.threads = engine->n_threads();
      b.seconds_per_iter = 1.0 / tps;
      st.insert_kernel_benchmark(b);
    }
  }
  if (o.json) {
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  fmt::print("| model | arch | threads | test | t/s |\n|---|---|---|---|---|\n");
  if (o.n_prompt > 0) fmt::print("| {} | {} | {} | pp{} | {:.2f} |\n", o.model, j["arch"].get<std::string>(), engine->n_threads(), o.n_prompt, pp_tps);
  if (o.n_gen > 0)
    fmt::print("| {} | {} | {} | tg{}{}{} | {:.2f} |\n", o.model, j["arch"].get<std::string>(), engine->n_threads(), o.n_gen,
               o.depth > 0 ? fmt::format(" @ d{}", o.depth) : "", o.parallel > 1 ? fmt::format(" x{} seqs", o.parallel) : "",
               tg_tps);
  if (o.n_gen > 0 && o.parallel == 1)
    fmt::print("\ndecode reads {:.3f} GB of weights per token: {:.1f} GB/s; a plain read of the same bytes on the "
               "same threads, before each run: {:.1f} GB/s ({:.0f}% of it, median of the pairs)\n",
               double(step_bytes) / 1e9, tg_gbps, read_gbps_median, 100.0 * share_median);
  return 0;
}

}  // namespace

void add_bench_model(CLI::App& app, Action& run) {
  auto* cmd = app.add_subcommand("bench-model", "Prompt and generation tokens/s of the native engine (like llama-bench)");
  auto o = std::make_shared<BenchOptions>();
  cmd->add_option("--model,-m", o->model, "GGUF model")->required()->check(CLI::ExistingFile);
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens (0 = skip)")->default_val(512)->check(CLI::NonNegativeNumber);
  cmd->add_option("-n,--n-gen", o->n_gen, "Generated tokens (0 = skip)")->default_val(128)->check(CLI::NonNegativeNumber);
  cmd->add_option("-t,--threads", o->threads, "Threads (0 = all)")->default_val(0);
  cmd->add_option("-r,--repetitions", o->reps, "Repetitions (median reported)")->default_val(3)->check(CLI::PositiveNumber);
  cmd->add_option("--parallel", o->parallel, "Sequences decoding together")->default_val(1)->check(CLI::PositiveNumber);
  cmd->add_option("-d,--depth", o->depth, "Context tokens in each sequence before the timed decode steps")
      ->default_val(0)
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--db", o->db, "Also record the results in this database");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([&run, o] { run = [o] { return run_bench(*o); }; });
}

}  // namespace scout::cli

// scout-eval compare-quant: llama-perplexity --kl-divergence on the native engine. PPL of a
// base and a test model on the same chunks, their KL divergence, top-1 agreement and the
// change of the target token's probability (definitions: engine/eval/kl_divergence.h,
// docs/QUANTIZATION.md). Results are recorded in the SQLite store.
//
//   scout-eval compare-quant --base A.gguf --test B.gguf --text FILE [--ctx 512] [--chunks N]
//                            [--save-base FILE | --base-logits FILE] [--db results.db] [--json]
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/model_record.h"
#include "engine/eval/compare_quant.h"
#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_json.h"
#include "engine/model/hparams.h"
#include "engine/quant/file_type.h"
#include "engine/runtime/engine.h"
#include "engine/util/error.h"
#include "engine/util/progress.h"
#include "engine/util/sha256.h"
#include "harness/store/quant_comparisons.h"
#include "harness/store/store.h"

namespace scout::cli {
namespace {

struct CompareArgs {
  std::string base, test, text, save_base, base_logits, db = "results.db";
  int64_t ctx = 0, chunks = 0, batch = 512;  // ctx 0: 512, or the --base-logits file's
  int threads = 0;
  bool kv_f32 = false, json = false, no_store = false;
};

constexpr int64_t kDefaultCtx = 512;  // llama-perplexity's default -c

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read text file " + path);
  std::ostringstream s;
  s << in.rdbuf();
  if (!in && !in.eof()) throw Error("cannot read text file " + path);
  return s.str();
}

int64_t vocab_of(const std::string& path) { return model::load_hparams(*gguf::File::open(path)).n_vocab; }

std::unique_ptr<runtime::Engine> load_engine(const CompareArgs& a, const std::string& path, int64_t ctx) {
  runtime::EngineOptions eo;
  eo.n_threads = a.threads;
  eo.n_ctx = ctx;
  eo.n_batch = a.batch;
  eo.kv_type = a.kv_f32 ? model::KvType::F32 : model::KvType::F16;
  return runtime::Engine::load(path, eo);
}

// A progress bar over chunks, drawn only once there is something to count.
eval::ChunkProgress chunk_bar(const std::string& label, std::unique_ptr<Progress>& bar) {
  return [&bar, label](int64_t done, int64_t total) {
    if (!bar) bar = std::make_unique<Progress>(label, total, "chunk");
    bar->set(done);
  };
}

// Removes a temporary base-logits file however the command ends.
struct TempFile {
  std::string path;
  ~TempFile() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove(path, ec);
  }
};

// The base pass; returns the path of the base-logits file it wrote.
std::string run_base_pass(const CompareArgs& a, int64_t ctx, TempFile& temp) {
  const int64_t n_vocab = vocab_of(a.base), n_vocab_test = vocab_of(a.test);
  if (n_vocab != n_vocab_test)
    throw Error(fmt::format("vocabulary mismatch: {} has {} tokens, {} has {}", a.base, n_vocab, a.test, n_vocab_test));
  auto engine = load_engine(a, a.base, ctx);
  const auto tokens = eval::tokenize_text(*engine, read_text(a.text));
  const auto plan = eval::plan_chunks(tokens, ctx, a.chunks, n_vocab);
  std::string path = a.save_base;
  if (path.empty()) {
    path = (std::filesystem::temp_directory_path() / fmt::format("scout-compare-quant-{}.kld", ::getpid())).string();
    temp.path = path;
  }
  std::unique_ptr<Progress> bar;
  eval::write_base_logits(*engine, plan, path, chunk_bar("base chunks", bar));
  if (bar) bar->finish();
  return path;
}

// With --base-logits and --text: the file must hold this text's tokens.
void check_same_text(const runtime::Engine& engine, const CompareArgs& a, const eval::BaseLogitsHeader& h) {
  const auto tokens = eval::tokenize_text(engine, read_text(a.text));
  const bool same = int64_t(tokens.size()) >= int64_t(h.tokens.size()) &&
                    std::equal(h.tokens.begin(), h.tokens.end(), tokens.begin());
  if (!same) throw Error(fmt::format("{} was computed on other tokens than {} gives", a.base_logits, a.text));
}

nlohmann::json estimate_json(const std::string& name, const eval::Estimate& e) {
  return {{name, e.value}, {name + "_stderr", e.err}};
}

nlohmann::json distribution_json(const eval::Distribution& d) {
  return {{"min", d.min}, {"p0.1", d.p01}, {"p1", d.p1},   {"p5", d.p5},   {"p10", d.p10},  {"p25", d.p25},   {"median", d.median},
          {"p75", d.p75}, {"p90", d.p90},  {"p95", d.p95}, {"p99", d.p99}, {"p99.9", d.p999}, {"max", d.max}};
}

nlohmann::json delta_p_json(const eval::KldSummary& s) {
  nlohmann::json j = distribution_json(s.p_diff);
  j.update(estimate_json("mean", s.p_diff_mean));
  j.update(estimate_json("rms", s.p_diff_rms));
  return j;
}

store::QuantComparison to_row(const eval::KldSummary& s, const std::string& text_source, int64_t ctx, int64_t chunks) {
  store::QuantComparison c;
  c.text_source = text_source;
  c.ctx = ctx;
  c.chunks = chunks;
  c.ppl_base = s.ppl_base.value;
  c.ppl_test = s.ppl_test.value;
  c.kld_mean = s.kld_mean.value;
  c.kld_stderr = s.kld_mean.err;
  c.kld_median = s.kld.median;
  c.kld_p90 = s.kld.p90;
  c.kld_p99 = s.kld.p99;
  c.kld_max = s.kld.max;
  c.same_top_p = s.same_top.value;
  c.delta_p = delta_p_json(s);
  c.tokens_scored = s.count;
  return c;
}

nlohmann::json result_json(const CompareArgs& a, const eval::KldSummary& s, const store::QuantComparison& c) {
  nlohmann::json j = {{"base", a.base}, {"test", a.test}, {"text_source", c.text_source}, {"ctx", c.ctx},
                      {"chunks", c.chunks}, {"tokens_scored", s.count}};
  for (const auto& [name, e] : {std::pair{"ppl_base", s.ppl_base}, {"ppl_test", s.ppl_test}, {"ppl_ratio", s.ppl_ratio},
                                {"ln_ppl_ratio", s.ln_ppl_ratio}, {"ppl_diff", s.ppl_diff}, {"kld_mean", s.kld_mean},
                                {"same_top_p", s.same_top}})
    j.update(estimate_json(name, e));
  j["kld_stderr"] = s.kld_mean.err;
  j["ln_ppl_correlation"] = s.ln_ppl_correlation;
  j["kld_median"] = s.kld.median;
  j["kld_p90"] = s.kld.p90;
  j["kld_p99"] = s.kld.p99;
  j["kld_max"] = s.kld.max;
  j["kld"] = distribution_json(s.kld);
  j["delta_p"] = c.delta_p;
  j["comparison_id"] = c.id ? nlohmann::json(c.id) : nlohmann::json();
  j["db"] = a.no_store ? nlohmann::json() : nlohmann::json(a.db);
  return j;
}

// The final block of llama-perplexity --kl-divergence, same labels and units.
void print_text(const eval::KldSummary& s) {
  auto pm = [](const char* label, const eval::Estimate& e) { fmt::print("{:<30}: {:10.6f} ± {:10.6f}\n", label, e.value, e.err); };
  fmt::print("====== Perplexity statistics ======\n");
  pm("Mean PPL(Q)", s.ppl_test);
  pm("Mean PPL(base)", s.ppl_base);
  fmt::print("{:<30}: {:6.2f}%\n", "Cor(ln(PPL(Q)), ln(PPL(base)))", 100.0 * s.ln_ppl_correlation);
  pm("Mean ln(PPL(Q)/PPL(base))", s.ln_ppl_ratio);
  pm("Mean PPL(Q)/PPL(base)", s.ppl_ratio);
  pm("Mean PPL(Q)-PPL(base)", s.ppl_diff);
  fmt::print("\n====== KL divergence statistics ======\n");
  fmt::print("Mean    KLD: {:10.6f} ± {:10.6f}\n", s.kld_mean.value, s.kld_mean.err);
  const auto& k = s.kld;
  for (const auto& [label, v] : {std::pair{"Maximum KLD", k.max}, {"99.9%   KLD", k.p999}, {"99.0%   KLD", k.p99},
                                 {"95.0%   KLD", k.p95}, {"90.0%   KLD", k.p90}, {"Median  KLD", k.median},
                                 {"10.0%   KLD", k.p10}, {" 5.0%   KLD", k.p5}, {" 1.0%   KLD", k.p1},
                                 {" 0.1%   KLD", k.p01}, {"Minimum KLD", k.min}})
    fmt::print("{}: {:10.6f}\n", label, v);
  fmt::print("\n====== Token probability statistics ======\n");
  fmt::print("Mean    Δp: {:6.3f} ± {:5.3f} %\n", 100.0 * s.p_diff_mean.value, 100.0 * s.p_diff_mean.err);
  const auto& d = s.p_diff;
  for (const auto& [label, v] : {std::pair{"Maximum Δp", d.max}, {"99.9%   Δp", d.p999}, {"99.0%   Δp", d.p99},
                                 {"95.0%   Δp", d.p95}, {"90.0%   Δp", d.p90}, {"75.0%   Δp", d.p75},
                                 {"Median  Δp", d.median}, {"25.0%   Δp", d.p25}, {"10.0%   Δp", d.p10},
                                 {" 5.0%   Δp", d.p5}, {" 1.0%   Δp", d.p1}, {" 0.1%   Δp", d.p01}, {"Minimum Δp", d.min}})
    fmt::print("{}: {:6.3f}%\n", label, 100.0 * v);
  fmt::print("RMS Δp    : {:6.3f} ± {:5.3f} %\n", 100.0 * s.p_diff_rms.value, 100.0 * s.p_diff_rms.err);
  fmt::print("Same top p: {:6.3f} ± {:5.3f} %\n", 100.0 * s.same_top.value, 100.0 * s.same_top.err);
}

int run_compare(const CompareArgs& a) {
  if (a.base_logits.empty() && a.text.empty()) throw Error("give --text FILE (or --base-logits FILE)");
  TempFile temp;
  std::string base_path = a.base_logits;
  if (base_path.empty()) base_path = run_base_pass(a, a.ctx > 0 ? a.ctx : kDefaultCtx, temp);

  eval::BaseLogitsReader reader(base_path);
  const auto& h = reader.header();
  if (a.ctx > 0 && a.ctx != h.n_ctx)
    throw Error(fmt::format("{} was computed with --ctx {}, not {}", base_path, h.n_ctx, a.ctx));
  auto engine = load_engine(a, a.test, h.n_ctx);
  if (!a.base_logits.empty() && !a.text.empty()) check_same_text(*engine, a, h);
  std::unique_ptr<Progress> bar;
  const auto acc = eval::compare_with_base(*engine, reader, chunk_bar("test chunks", bar));
  if (bar) bar->finish();
  const auto summary = acc.summary();

  const std::string source = a.text.empty() ? "base-logits:" + a.base_logits : a.text;
  auto row = to_row(summary, source, h.n_ctx, h.n_chunk);
  if (!a.no_store) {
    auto st = store::Store::open(a.db);
    store::record_quant_comparison(st, describe_model_file(a.base), describe_model_file(a.test), row);
  }
  if (a.json) {
    fmt::print("{}\n", result_json(a, summary, row).dump());
  } else {
    fmt::print("{} chunks of {} tokens, {} tokens scored\n\n", h.n_chunk, h.n_ctx, summary.count);
    print_text(summary);
    if (!a.no_store) fmt::print("\nrecorded as quant comparison {} in {}\n", row.id, a.db);
  }
  return 0;
}

}  // namespace

void add_compare_quant(CLI::App& app, Action& run) {
  auto a = std::make_shared<CompareArgs>();
  auto* cmd = app.add_subcommand(
      "compare-quant", "PPL, KL divergence and top-1 agreement of a test model against a base (llama-perplexity --kl-divergence)");
  cmd->add_option("--base", a->base, "Base model GGUF (e.g. F16)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--test", a->test, "Test model GGUF (e.g. Q4_K_M)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--text", a->text, "Text file (read as llama-perplexity -f reads it)")->check(CLI::ExistingFile);
  cmd->add_option("-c,--ctx", a->ctx, "Tokens per chunk (default 512, or the --base-logits file's)")->check(CLI::PositiveNumber);
  cmd->add_option("--chunks", a->chunks, "Most chunks to score (default: all the text gives)")->check(CLI::NonNegativeNumber);
  auto* save = cmd->add_option("--save-base", a->save_base,
                               "Also keep the base log-probabilities in FILE (llama-perplexity --kl-divergence-base format)");
  cmd->add_option("--base-logits", a->base_logits,
                  "Base log-probabilities saved by --save-base or llama-perplexity --kl-divergence-base: the base model "
                  "is not run (--base still names it for the store)")
      ->check(CLI::ExistingFile)
      ->excludes(save);
  cmd->add_option("--db", a->db, "Results database")->default_val("results.db");
  cmd->add_flag("--no-store", a->no_store, "Do not record the result");
  cmd->add_flag("--json", a->json, "Print one JSON object");
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-b,--batch", a->batch, "Tokens per forward pass")->default_val(512)->check(CLI::PositiveNumber);
  cmd->add_flag("--kv-f32", a->kv_f32, "Keep the KV cache in F32 (default F16, as llama.cpp)");
  cmd->callback([&run, a] { run = [a] { return run_compare(*a); }; });
}

}  // namespace scout::cli

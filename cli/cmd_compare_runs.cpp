// scout-eval compare-runs RUN_A RUN_B: per task, the accuracy delta of B against A with a
// paired bootstrap 95% CI, McNemar's exact p-value and the samples that flipped.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/util/error.h"
#include "harness/compare_runs.h"
#include "harness/store/store.h"

namespace scout::cli {
namespace {

struct CompareRunsArgs {
  int64_t run_a = 0, run_b = 0;
  std::string db = "results.db";
  std::optional<std::string> db_b;
  std::optional<std::string> task;
  int64_t resamples = 10'000;
  int64_t max_flips = 20;
  bool json = false;
};

std::string opt_text(const std::optional<std::string>& s) { return s ? *s : "-"; }

nlohmann::json to_json(const harness::TaskComparison& t, int64_t max_flips) {
  nlohmann::json flips = nlohmann::json::array();
  for (const auto& f : t.flipped) {
    if (int64_t(flips.size()) >= max_flips) break;
    flips.push_back({{"doc_id", f.doc_id}, {"repeat", f.repeat}, {"score_a", f.score_a}, {"score_b", f.score_b},
                     {"answer_a", f.answer_a ? nlohmann::json(*f.answer_a) : nlohmann::json()},
                     {"answer_b", f.answer_b ? nlohmann::json(*f.answer_b) : nlohmann::json()},
                     {"target", f.target ? nlohmann::json(*f.target) : nlohmann::json()}});
  }
  auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {{"task", t.task},          {"n_paired", t.n_paired},         {"only_a", t.only_a},
          {"only_b", t.only_b},      {"accuracy_a", t.accuracy_a},     {"accuracy_b", t.accuracy_b},
          {"delta", t.delta},        {"ci95", {t.ci_low, t.ci_high}},  {"right_only_a", opt(t.right_only_a)},
          {"right_only_b", opt(t.right_only_b)}, {"mcnemar_p", opt(t.mcnemar_p)},
          {"n_flipped", t.flipped.size()}, {"flipped", flips}};
}

void print_text(const CompareRunsArgs& a, const std::vector<harness::TaskComparison>& ts) {
  fmt::print("run {} (A) vs run {} (B): accuracy over paired samples, delta = B - A\n\n", a.run_a, a.run_b);
  fmt::print("{:<28} {:>6} {:>8} {:>8} {:>8} {:>20} {:>10} {:>12}\n", "task", "paired", "A", "B", "delta",
             "95% CI (bootstrap)", "McNemar p", "lost/gained");
  for (const auto& t : ts) {
    const std::string p = t.mcnemar_p ? fmt::format("{:.4g}", *t.mcnemar_p) : "n/a";
    const std::string lg = t.right_only_a ? fmt::format("{}/{}", *t.right_only_a, *t.right_only_b) : "-";
    fmt::print("{:<28} {:>6} {:>8.4f} {:>8.4f} {:>+8.4f} {:>20} {:>10} {:>12}\n", t.task, t.n_paired, t.accuracy_a,
               t.accuracy_b, t.delta, fmt::format("[{:+.4f}, {:+.4f}]", t.ci_low, t.ci_high), p, lg);
    if (t.only_a || t.only_b) fmt::print("  ({} samples only in A, {} only in B: not compared)\n", t.only_a, t.only_b);
  }
  for (const auto& t : ts) {
    if (t.flipped.empty()) continue;
    fmt::print("\n{}: {} flipped samples{}\n", t.task, t.flipped.size(),
               int64_t(t.flipped.size()) > a.max_flips ? fmt::format(" (first {})", a.max_flips) : "");
    int64_t shown = 0;
    for (const auto& f : t.flipped) {
      if (shown++ >= a.max_flips) break;
      fmt::print("  {} #{}: {} -> {}  answer {} -> {}  target {}\n", f.doc_id, f.repeat, f.score_a, f.score_b,
                 opt_text(f.answer_a), opt_text(f.answer_b), opt_text(f.target));
    }
  }
}

}  // namespace

void add_compare_runs(CLI::App& app, Action& run) {
  auto a = std::make_shared<CompareRunsArgs>();
  auto* cmd = app.add_subcommand("compare-runs", "Per-task accuracy delta of run B against run A: paired bootstrap CI, McNemar, flipped samples");
  cmd->add_option("run_a", a->run_a, "Run id A (the reference, e.g. the FP16 run)")->required();
  cmd->add_option("run_b", a->run_b, "Run id B (e.g. the quantized run)")->required();
  // Checked when run, not by CLI11: a validator on a default value fires when the app is built.
  cmd->add_option("--db", a->db, "Results database holding run A (and B)")->default_val("results.db");
  cmd->add_option("--db-b", a->db_b, "Another database holding run B")->check(CLI::ExistingFile);
  cmd->add_option("--task", a->task, "Only this task (as stored: task or task@protocol)");
  cmd->add_option("--resamples", a->resamples, "Bootstrap resamples")->check(CLI::PositiveNumber)->default_val(10'000);
  cmd->add_option("--max-flips", a->max_flips, "Flipped samples listed per task")->check(CLI::NonNegativeNumber)->default_val(20);
  cmd->add_flag("--json", a->json, "One JSON object on stdout");
  cmd->callback([&run, a] {
    run = [a] {
      for (const auto& path : {std::optional<std::string>(a->db), a->db_b})
        if (path && !std::filesystem::exists(*path)) throw Error(*path + ": no such results database");
      auto db_a = store::Store::open(a->db);
      std::optional<store::Store> other;
      if (a->db_b) other.emplace(store::Store::open(*a->db_b));
      store::Store& db_b = other ? *other : db_a;
      harness::CompareRunsOptions o;
      o.resamples = a->resamples;
      o.task = a->task;
      const auto ts = harness::compare_runs(db_a, a->run_a, db_b, a->run_b, o);
      if (a->json) {
        nlohmann::json j = {{"run_a", a->run_a}, {"run_b", a->run_b}, {"tasks", nlohmann::json::array()}};
        for (const auto& t : ts) j["tasks"].push_back(to_json(t, a->max_flips));
        fmt::print("{}\n", j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace));
      } else {
        print_text(*a, ts);
      }
      if (ts.empty()) fmt::print(stderr, "compare-runs: runs {} and {} share no task with scored samples\n", a->run_a, a->run_b);
      return ts.empty() ? 1 : 0;
    };
  });
}

}  // namespace scout::cli

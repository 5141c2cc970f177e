// scout-eval score: score external outputs (JSONL predictions) with a task's extractor and
// scorer. scout-eval rescore: re-score a stored run's outputs with the current scorers.
#include <fmt/format.h>

#include <fstream>
#include <memory>

#include "cli/cmd_eval_common.h"
#include "cli/commands.h"
#include "engine/util/error.h"
#include "harness/scoring.h"

namespace scout::cli {
namespace {

struct ScoreArgs {
  std::string task;
  std::string protocol;
  std::string predictions;
  bool json = false;
  std::string data_dir;
  bool no_verify = false;
  std::optional<std::string> protocol_dir;
  int64_t run_id = 0;
  std::string db = "results.db";
};

harness::DataDir data_dir_of(const ScoreArgs& a) {
  return harness::DataDir(a.data_dir.empty() ? harness::DataDir::default_root() : std::filesystem::path(a.data_dir),
                          !a.no_verify);
}

void print_task_result(const nlohmann::json& r) {
  fmt::print("{} [{}]: n={}{}\n", r.at("task").get<std::string>(), r.at("protocol").get<std::string>(),
             r.at("n").get<int64_t>(), r.contains("changed") ? fmt::format(", changed={}", r.at("changed").get<int64_t>()) : "");
  for (const auto& m : r.at("metric_rows")) {
    std::string ci;
    if (!m.at("ci_low").is_null()) ci = fmt::format(" (95% CI {:.4f}–{:.4f})", m.at("ci_low").get<double>(), m.at("ci_high").get<double>());
    const auto& v = m.at("value");
    fmt::print("  {:<40} {:<28} {}{} n={}\n", m.at("task").get<std::string>(), m.at("name").get<std::string>(),
               v.is_number() ? fmt::format("{:.4f}", v.get<double>()) : "n/a", ci, m.at("n").get<int64_t>());
  }
}

int score_command(const ScoreArgs& a) {
  const EvalCatalog cat = load_catalog(a.protocol_dir);
  const auto& p = a.protocol.empty() ? cat.protocols.default_for(a.task) : cat.protocols.get(a.task, a.protocol);
  auto data = data_dir_of(a);
  const harness::EvalTask task(p, cat.components, data, {});
  std::ifstream in(a.predictions);
  if (!in) throw Error(a.predictions + ": cannot open");
  const auto r = harness::score_predictions(task, in);
  if (a.json) {
    nlohmann::json out = {{"task", r.at("task")}, {"protocol", r.at("protocol")}, {"metrics", r.at("metrics")},
                          {"n", r.at("n")}, {"samples", r.at("samples")}, {"metric_rows", r.at("metric_rows")},
                          {"missing_doc_ids", r.at("missing_doc_ids")}};
    fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    print_task_result(r);
    if (!r.at("missing_doc_ids").empty())
      fmt::print("  {} documents had no prediction and are left out\n", r.at("missing_doc_ids").size());
  }
  return 0;
}

int rescore_command(const ScoreArgs& a) {
  const EvalCatalog cat = load_catalog(a.protocol_dir);
  auto st = store::Store::open(a.db);
  auto data = data_dir_of(a);
  const auto r = harness::rescore_run(st, a.run_id, cat.protocols, cat.components, data);
  if (a.json) {
    fmt::print("{}\n", r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print("run {} re-scored\n", a.run_id);
    for (const auto& t : r.at("tasks")) print_task_result(t);
  }
  return 0;
}

}  // namespace

void add_score(CLI::App& app, Action& run) {
  auto a = std::make_shared<ScoreArgs>();
  auto* score = app.add_subcommand("score", "Score external outputs: one {\"doc_id\", \"response\"} JSON per line");
  score->add_option("--task", a->task, "Task")->required();
  score->add_option("--protocol", a->protocol, "Protocol (default: the task's default)");
  score->add_option("--predictions", a->predictions, "JSONL predictions")->required()->check(CLI::ExistingFile);
  score->add_flag("--json", a->json, "Print one JSON object: metrics, n, samples [{doc_id, answer, score, instructions (IFEval)}]");
  score->add_option("--data-dir", a->data_dir, "Folder holding the data sets");
  score->add_flag("--no-verify", a->no_verify, "Do not check data files against SOURCE.md");
  score->add_option("--protocol-dir", a->protocol_dir, "Load more protocol JSON files from this folder");
  score->callback([&run, a] { run = [a] { return score_command(*a); }; });

  auto* rescore = app.add_subcommand("rescore", "Re-score a stored run's outputs with the current scorers");
  rescore->add_option("run", a->run_id, "Run id")->required();
  rescore->add_option("--db", a->db, "Results database")->default_val("results.db")->check(CLI::ExistingFile);
  rescore->add_flag("--json", a->json, "Print one JSON object: metrics {task: {name: value}}, n, samples, tasks");
  rescore->add_option("--data-dir", a->data_dir, "Folder holding the data sets");
  rescore->add_flag("--no-verify", a->no_verify, "Do not check data files against SOURCE.md");
  rescore->add_option("--protocol-dir", a->protocol_dir, "Load more protocol JSON files from this folder");
  rescore->callback([&run, a] { run = [a] { return rescore_command(*a); }; });
}

}  // namespace scout::cli

#include "harness/scoring.h"

#include <fmt/format.h>

#include <set>
#include <string>

#include "engine/util/error.h"
#include "harness/runner.h"
#include "harness/store/sqlite.h"

namespace scout::harness {
namespace {

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json task_metrics_object(const std::vector<store::Metric>& metrics, const std::string& task) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& m : metrics)
    if (m.task == task) out[m.name] = m.value;
  return out;
}

std::string doc_id_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  throw Error("doc_id must be a string or an integer, got " + v.dump());
}

void update_sample(store::Store& st, int64_t run_id, const store::Sample& s) {
  store::Statement q(st.db(),
                     "UPDATE samples SET answer = ?, target = ?, score = ?, extra = ? "
                     "WHERE run_id = ? AND task = ? AND doc_id = ? AND repeat = ?");
  q.bind_all(s.answer, s.target, s.score, store::json_param(s.extra), run_id, s.task, s.doc_id, s.repeat);
  q.run();
}

}  // namespace

nlohmann::json metric_rows_json(const std::vector<store::Metric>& metrics) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& m : metrics)
    rows.push_back({{"task", m.task},
                    {"name", m.name},
                    {"value", m.value},
                    {"std_error", opt(m.std_error)},
                    {"ci_low", opt(m.ci_low)},
                    {"ci_high", opt(m.ci_high)},
                    {"n", m.n}});
  return rows;
}

nlohmann::json score_predictions(const EvalTask& task, std::istream& predictions) {
  if (task.protocol().kind != RequestKind::generate)
    throw Error(fmt::format("{} [{}] is a log-likelihood protocol: it scores option probabilities, not responses; "
                            "pick a generation protocol with --protocol",
                            task.name(), task.protocol().name));
  std::vector<store::Sample> samples;
  std::set<store::SampleKey> seen;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(predictions, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("predictions line {}: {}", line_no, e.what()));
    }
    if (!j.contains("doc_id") || !j.contains("response") || !j.at("response").is_string())
      throw Error(fmt::format("predictions line {}: expected {{\"doc_id\", \"response\"}}", line_no));
    const std::string id = doc_id_text(j.at("doc_id"));
    const int64_t repeat = j.value("repeat", int64_t(0));
    const Doc* doc = task.find_doc(id);
    if (!doc) throw Error(fmt::format("predictions line {}: {} has no document \"{}\"", line_no, task.name(), id));
    if (!seen.insert({id, repeat}).second)
      throw Error(fmt::format("predictions line {}: \"{}\" (repeat {}) predicted twice", line_no, id, repeat));
    const auto ps = task.prepare(*doc, repeat);
    samples.push_back(task.score_generation(*doc, ps, j.at("response").get<std::string>(), prompt_record(ps.prompt)));
  }
  const auto metrics = task.aggregate(samples);
  nlohmann::json out = {{"task", task.name()},
                        {"protocol", task.protocol().name},
                        {"n", int64_t(samples.size())},
                        {"metrics", task_metrics_object(metrics, task.name())},
                        {"metric_rows", metric_rows_json(metrics)},
                        {"samples", nlohmann::json::array()}};
  for (const auto& s : samples) {
    nlohmann::json row = {{"doc_id", s.doc_id},
                          {"repeat", s.repeat},
                          {"answer", s.answer ? nlohmann::json(*s.answer) : nlohmann::json(nullptr)},
                          {"score", opt(s.score)}};
    // Per-instruction strict and loose verdicts (IFEval), as the scorer recorded them.
    if (s.extra.contains("instructions")) row["instructions"] = s.extra.at("instructions");
    out["samples"].push_back(std::move(row));
  }
  nlohmann::json missing = nlohmann::json::array();
  for (const auto& d : task.docs())
    if (!seen.count({d.id, 0})) missing.push_back(d.id);
  out["missing_doc_ids"] = missing;
  return out;
}

nlohmann::json rescore_run(store::Store& st, int64_t run_id, const ProtocolRegistry& protocols,
                           const Components& components, DataDir& data) {
  const auto run = st.find_run(run_id);
  if (!run) throw Error(fmt::format("no run {} in {}", run_id, st.path().string()));
  auto tasks = tasks_of_run(*run, protocols, components, data);
  // Top level: every task's metrics by task and name, the total n and every sample (with its
  // task), so scripts read one shape whatever the number of tasks; "tasks" has the detail.
  nlohmann::json out = {{"run", run_id},
                        {"metrics", nlohmann::json::object()},
                        {"n", 0},
                        {"samples", nlohmann::json::array()},
                        {"tasks", nlohmann::json::array()}};
  for (const auto& task : tasks) {
    const auto stored = st.samples_for_run(run_id, task.name());
    std::vector<store::Sample> rescored;
    int64_t changed = 0;
    {
      auto tx = st.transaction();
      for (const auto& s : stored) {
        auto r = task.rescore(s);
        if (r.answer != s.answer || r.score != s.score) ++changed;
        update_sample(st, run_id, r);
        rescored.push_back(std::move(r));
      }
      tx.commit();
    }
    const auto metrics = task.aggregate(rescored);
    st.put_metrics(run_id, metrics);
    nlohmann::json t = {{"task", task.name()},
                        {"protocol", task.protocol().name},
                        {"n", int64_t(rescored.size())},
                        {"changed", changed},
                        {"metrics", task_metrics_object(metrics, task.name())},
                        {"metric_rows", metric_rows_json(metrics)},
                        {"samples", nlohmann::json::array()}};
    for (const auto& s : rescored) {
      const nlohmann::json row = {{"doc_id", s.doc_id},
                                  {"repeat", s.repeat},
                                  {"answer", s.answer ? nlohmann::json(*s.answer) : nlohmann::json(nullptr)},
                                  {"score", opt(s.score)}};
      t["samples"].push_back(row);
      nlohmann::json with_task = row;
      with_task["task"] = task.name();
      out["samples"].push_back(std::move(with_task));
    }
    out["metrics"][task.name()] = t["metrics"];
    out["n"] = out["n"].get<int64_t>() + int64_t(rescored.size());
    out["tasks"].push_back(std::move(t));
  }
  return out;
}

}  // namespace scout::harness

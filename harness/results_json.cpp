#include "harness/results_json.h"

namespace scout::harness {

nlohmann::json lm_eval_results(const store::Run& run, const std::vector<store::Metric>& metrics,
                               const std::map<std::string, ResultsTask>& tasks, const std::string& model) {
  nlohmann::json results = nlohmann::json::object(), configs = nlohmann::json::object(),
                 versions = nlohmann::json::object(), nshot = nlohmann::json::object(),
                 higher = nlohmann::json::object(), nsamples = nlohmann::json::object(),
                 cis = nlohmann::json::object();
  for (const auto& m : metrics) {
    auto& r = results[m.task];
    r["alias"] = m.task;
    r[m.name + ",none"] = m.value;
    r[m.name + "_stderr,none"] = m.std_error ? nlohmann::json(*m.std_error) : nlohmann::json("N/A");
    if (m.ci_low && m.ci_high) cis[m.task][m.name] = {*m.ci_low, *m.ci_high};
  }
  nlohmann::json sources = nlohmann::json::object();
  for (const auto& [name, t] : tasks) {
    const Protocol& p = *t.protocol;
    configs[name] = p.raw;
    versions[name] = p.name + "@" + p.sha256.substr(0, 12);
    nshot[name] = p.shots.count;
    nsamples[name] = {{"original", t.n_original}, {"effective", t.n_effective}};
    for (const auto& m : p.metrics) higher[name][m] = true;
    higher[name][p.primary_metric] = true;
    sources[name] = {{"protocol", p.name}, {"source", p.source}, {"primary_metric", p.primary_metric}};
  }
  return {{"results", results},
          {"configs", configs},
          {"versions", versions},
          {"n-shot", nshot},
          {"higher_is_better", higher},
          {"n-samples", nsamples},
          {"config", {{"model", model}, {"seed", run.seed}, {"batch_size", run.batch_size}, {"run_config", run.config}}},
          {"scout_eval",
           {{"run_id", run.id}, {"status", std::string(store::to_string(run.status))}, {"protocols", sources},
            {"confidence_intervals_95", cis}}}};
}

}  // namespace scout::harness

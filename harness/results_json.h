#pragma once
// `--output-json`: a run's results in the layout of lm-evaluation-harness's results file, so
// scripts that read lm-eval output read ours: "results" {task: {"alias", "<metric>,none",
// "<metric>_stderr,none"}}, "configs", "versions", "n-shot", "higher_is_better", "n-samples",
// "config", plus "scout_eval" (run id, protocol sources, confidence intervals).
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/protocol.h"
#include "harness/store/store.h"

namespace scout::harness {

struct ResultsTask {
  const Protocol* protocol = nullptr;
  int64_t n_original = 0;   // documents in the data set
  int64_t n_effective = 0;  // documents evaluated (after --limit)
};

nlohmann::json lm_eval_results(const store::Run& run, const std::vector<store::Metric>& metrics,
                               const std::map<std::string, ResultsTask>& tasks, const std::string& model);

}  // namespace scout::harness

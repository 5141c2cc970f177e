#pragma once
// Scoring without generating: `scout-eval score` (external outputs in a JSONL file) and
// `scout-eval rescore` (a stored run's outputs, re-extracted and re-scored with the current
// extractors and scorers, the store updated in place and its metrics recomputed).
//
// Both report one JSON object per task: {"task", "protocol", "n", "metrics": {name: value},
// "metric_rows": [{task, name, value, std_error, ci_low, ci_high, n}], "samples": [{doc_id,
// repeat, answer, score}]}; rescore adds "changed" (samples whose answer or score changed).
#include <istream>

#include <nlohmann/json.hpp>

#include "harness/protocol.h"
#include "harness/store/store.h"
#include "harness/task.h"

namespace scout::harness {

nlohmann::json metric_rows_json(const std::vector<store::Metric>& metrics);

// Predictions: one JSON object per line, {"doc_id": <the data set's id>, "response": "...",
// optional "repeat": k}. Unknown or repeated (doc_id, repeat) pairs are errors; documents
// without a prediction are listed under "missing_doc_ids" and left out of the metrics.
// Needs a generation protocol (log-likelihood protocols score option probabilities, not text).
nlohmann::json score_predictions(const EvalTask& task, std::istream& predictions);

// Re-scores every sample of the run. Returns {"run", "metrics": {task: {name: value}}, "n",
// "samples": [{task, doc_id, repeat, answer, score}], "tasks": [per-task objects as above]}.
// Throws when the run does not exist.
nlohmann::json rescore_run(store::Store& store, int64_t run_id, const ProtocolRegistry& protocols,
                           const Components& components, DataDir& data);

}  // namespace scout::harness

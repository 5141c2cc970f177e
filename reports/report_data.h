#pragma once
// Everything a report shows, gathered once from the results store so that the Markdown and
// HTML renderers show the same numbers: the model card against the measured values per
// model, per-quantization deltas, the runs, and per-task details with example failures.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "reports/model_card.h"

namespace scout::reports {

struct Measured {
  double value = 0;  // the protocol's primary metric, in [0, 1]
  std::optional<double> ci_low, ci_high;
  int64_t n = 0;     // documents
  int64_t run_id = 0;
  std::string metric;
  std::optional<int64_t> limit;  // set when the run evaluated a subset
};

struct CardLine {
  const CardRow* row = nullptr;
  std::optional<Measured> measured;
};

struct ModelCard {
  std::string model;  // label: file name and quantization
  std::optional<int64_t> model_id;
  std::vector<CardLine> lines;
};

struct Failure {
  std::string doc_id;
  int64_t repeat = 0;
  std::string prompt_tail;  // the end of the prompt (where the question is)
  std::string output_head;
  std::optional<std::string> answer;
  std::optional<std::string> target;
};

struct TaskDetail {
  int64_t run_id = 0;
  std::string model;
  std::string task;      // as stored (task or task@protocol)
  std::string protocol;
  std::vector<store::Metric> metrics;  // task-level rows first, then group rows
  int64_t n_samples = 0;
  int64_t answer_not_found = 0;
  double seconds = 0;       // summed per-sample time
  int64_t output_tokens = 0;
  std::vector<Failure> failures;
};

struct QuantDelta {
  std::string task, protocol, metric;
  struct Entry {
    std::string model;
    std::string file_type;
    double value = 0;
    double delta = 0;  // against the first entry (the highest-precision file)
  };
  std::vector<Entry> entries;
};

struct ReportData {
  std::string db_path;
  std::vector<store::Model> models;
  std::vector<store::Run> runs;
  std::vector<ModelCard> cards;
  std::vector<QuantDelta> quant_deltas;
  std::vector<TaskDetail> details;
};

// `failures_per_task`: example failures kept per task and run.
ReportData collect_report(store::Store& db, int failures_per_task = 3);

std::string model_label(const std::vector<store::Model>& models, const std::optional<int64_t>& id);
// "74.3" style percentage of a [0, 1] value; "±" half-width of the CI when known.
std::string percent(double v);
std::string percent_ci(const Measured& m);

}  // namespace scout::reports

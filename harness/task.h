#pragma once
// A task under one protocol: the data set (through a named loader), the prompts and requests
// the protocol declares, and the scoring and aggregation it names. The named parts are code,
// registered in Components (tasks/ registers the built-in ones); everything else is the
// protocol's data.
//
//   Dataset ──prepare(doc, repeat)──> PreparedSample ──Backend──> output
//           ──score_*()──> store::Sample (answer, score, per-sample metrics in extra)
//           ──aggregate(samples)──> store::Metric rows (value, bootstrap CI, n)
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/backend.h"
#include "harness/data/dataset_files.h"
#include "harness/protocol.h"
#include "harness/store/store.h"

namespace scout::harness {

// One evaluation item. Multiple-choice docs carry "choices" (list of strings) and "gold" (index
// into it, -1 when the target is none of them); free-form docs carry "answer".
struct Doc {
  std::string id;     // the data set's own id (MATH-500 unique_id, IFEval key, else row index)
  std::string group;  // category / subtask for macro averages and per-group rows ("" = none)
  nlohmann::json fields = nlohmann::json::object();
};

struct Dataset {
  std::vector<Doc> docs;   // the evaluation set, in the data set's order
  std::vector<Doc> shots;  // the few-shot pool (validation split, CoT exemplars...)
  nlohmann::json info = nlohmann::json::object();  // loader notes (files, order restored...)
};

// Everything a request and its scoring need, rebuilt identically from (doc, repeat, settings),
// which is what makes resume and rescore possible.
struct PreparedSample {
  std::string doc_id;
  int64_t repeat = 0;
  RequestKind kind = RequestKind::generate;
  Prompt prompt;                           // generate: the prompt; loglikelihood: the context
  GenerationSettings settings;             // generate
  std::vector<std::string> continuations;  // loglikelihood: one per option, delimiter included
  std::vector<std::string> option_texts;   // options as shown, by position
  std::vector<std::string> labels;         // option labels by position
  std::vector<int64_t> order;              // order[position] = index in doc.fields["choices"]
  int64_t gold_position = -1;              // multiple choice: where the gold option is shown
  std::string target;                      // the gold answer as stored (a label or the answer text)
};

struct SampleScore {
  std::map<std::string, double> metrics;  // per-sample metrics (the protocol's "metrics")
  nlohmann::json extra = nlohmann::json::object();
};

struct ScoreContext {
  const Doc& doc;
  const PreparedSample& sample;
  const nlohmann::json& args;  // the protocol's scorer object
};

using Loader = std::function<Dataset(DataDir& data, const nlohmann::json& args)>;
// The extracted answer, or nullopt when the output holds none ("answer not found").
using Extractor = std::function<std::optional<std::string>(std::string_view output, const nlohmann::json& args)>;
using Scorer = std::function<SampleScore(const ScoreContext& ctx, const std::optional<std::string>& answer,
                                         std::string_view output)>;

// A document's samples and its per-sample metrics averaged over repeats.
struct DocResult {
  const Doc* doc = nullptr;
  std::map<std::string, double> metrics;
  std::vector<const store::Sample*> samples;
};
// Task-level metrics from a set of documents (also called on bootstrap resamples).
using Aggregator = std::function<std::map<std::string, double>(std::span<const DocResult* const> docs,
                                                               const Protocol& protocol)>;

// Rows of a custom aggregation that are not document groups: IFEval's instruction types,
// where one prompt holds several. `keys(doc)` lists the rows a document counts in (in the
// order they should appear); `statistic(docs, key)` gives that row's metrics over them.
struct Breakdown {
  std::function<std::vector<std::string>(const DocResult& doc)> keys;
  std::function<std::map<std::string, double>(std::span<const DocResult* const> docs, const std::string& key)> statistic;
};

class Components {
 public:
  void add_loader(std::string name, Loader f);
  void add_extractor(std::string name, Extractor f);
  void add_scorer(std::string name, Scorer f);
  void add_aggregator(std::string name, Aggregator f);
  const Loader& loader(std::string_view name) const;
  const Extractor& extractor(std::string_view name) const;
  const Scorer& scorer(std::string_view name) const;
  const Aggregator& aggregator(std::string_view name) const;
  bool has_aggregator(std::string_view name) const { return aggregators_.count(std::string(name)) > 0; }
  // A breakdown for the aggregator of the same name (optional).
  void add_breakdown(std::string aggregator, Breakdown b);
  const Breakdown* breakdown(std::string_view aggregator) const;  // nullptr when none

 private:
  std::map<std::string, Loader> loaders_;
  std::map<std::string, Extractor> extractors_;
  std::map<std::string, Scorer> scorers_;
  std::map<std::string, Aggregator> aggregators_;
  std::map<std::string, Breakdown> breakdowns_;
};

// Run-level settings that change what a task asks (all part of a run's identity).
struct TaskSettings {
  uint64_t seed = 0;                     // sampling seeds and "seeded" option orders derive from it
  std::optional<int64_t> limit;          // evaluate only the first N documents
  std::optional<int64_t> limit_per_group;  // ... or the first N of every group (subtask, category)
  std::optional<int64_t> max_tokens;     // cap the protocol's max_tokens
  std::optional<int64_t> repeats;        // override the protocol's repeats
  std::optional<bool> chat;              // override the protocol's chat setting
  std::optional<double> temperature;     // override the protocol's sampling temperature
  std::string label;                     // the name samples are stored under ("" = the task);
                                         // "task@protocol" when a run holds a task twice
  int64_t bootstrap_resamples = 1000;
};

class EvalTask {
 public:
  // Loads the data set through the protocol's loader. Throws scout::Error on bad data.
  EvalTask(const Protocol& protocol, const Components& components, DataDir& data, TaskSettings settings);

  const Protocol& protocol() const { return protocol_; }
  // The name samples and metrics are stored under (the task, or its label).
  const std::string& name() const { return settings_.label.empty() ? protocol_.task : settings_.label; }
  const std::string& task_name() const { return protocol_.task; }
  const TaskSettings& settings() const { return settings_; }
  int64_t repeats() const { return repeats_; }
  bool chat() const { return chat_; }
  const std::vector<Doc>& docs() const { return docs_; }        // after --limit
  const Dataset& dataset() const { return dataset_; }
  const Doc* find_doc(std::string_view id) const;               // among docs()
  int64_t total_samples() const { return int64_t(docs_.size()) * repeats_; }

  PreparedSample prepare(const Doc& doc, int64_t repeat) const;

  // The answer extracted from a generated output (nullopt: none found).
  std::optional<std::string> extract(std::string_view output) const;
  // Scores a generated output; `stored_prompt` is what the store records as the prompt.
  store::Sample score_generation(const Doc& doc, const PreparedSample& ps, std::string output,
                                 std::string stored_prompt) const;
  // Scores per-option log-likelihoods (one per continuation, in order).
  store::Sample score_loglikelihood(const Doc& doc, const PreparedSample& ps, std::span<const double> logprobs,
                                    std::span<const char> greedy, std::string stored_prompt) const;
  // Re-scores a stored sample from its stored output (generate) or log-likelihoods (extra).
  store::Sample rescore(const store::Sample& stored) const;

  // Metric rows for the task (and one set per group) from its stored samples. Samples of
  // documents outside docs() are ignored; every document needs all its repeats.
  std::vector<store::Metric> aggregate(std::span<const store::Sample> samples) const;

 private:
  std::vector<int64_t> option_order(const Doc& doc, size_t doc_index, int64_t repeat) const;
  std::vector<ChatMessage> shot_messages(const Doc& doc) const;
  std::string shot_text(const Doc& doc) const;
  nlohmann::json template_vars(const Doc& doc, const std::vector<int64_t>& order) const;

  Protocol protocol_;
  const Components& components_;
  TaskSettings settings_;
  Dataset dataset_;
  std::vector<Doc> docs_;
  std::map<std::string, size_t> doc_index_;   // id -> index in the full data set
  std::map<std::string, size_t> eval_index_;  // id -> index in docs_ (the evaluated subset)
  int64_t repeats_ = 1;
  bool chat_ = false;
  // python_sample_per_example / python_shuffle_stream: order per (repeat, doc index), drawn
  // over the whole data set so a --limit does not change any document's order.
  std::vector<std::vector<std::vector<int64_t>>> stream_orders_;
};

// Deterministic 64-bit mixing of run seed, task, doc id and repeat (SplitMix64 over FNV-1a).
uint64_t sample_seed(uint64_t run_seed, std::string_view task, std::string_view doc_id, int64_t repeat);

// Option labels: letters A..Z then AA..; numbers 1..n.
std::string option_label(std::string_view kind, size_t index);

}  // namespace scout::harness

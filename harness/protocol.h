#pragma once
// A protocol: how one published number was made, declared as data (a JSON file under
// tasks/protocols/<task>/<protocol>.json, embedded in the binary; more can be loaded from a
// directory with --protocol-dir). Code supplies only the named parts it refers to: the data
// set loader, the answer extractor, the scorer and the aggregation. The schema is described
// field by field in docs/TASKS.md.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/backend.h"

namespace scout::harness {

enum class RequestKind { generate, loglikelihood };
std::string_view to_string(RequestKind k);

// How multiple-choice options are labelled, listed, ordered and (log-likelihood) continued.
struct ChoiceFormat {
  std::string labels = "letters";      // letters (A, B, ...) | numbers (1, 2, ...)
  std::string line = "{label}. {text}";  // one option; also sees {index}
  std::string separator = "\n";         // between option lines
  // dataset: as loaded | seeded: a permutation per (doc, repeat) from the run seed |
  // python_sample_per_example: simple-evals (Random(seed).sample per example, repeats after
  // the whole set) | python_shuffle_stream: lm-eval leaderboard (random.seed(seed), then
  // random.shuffle of each doc's options in data set order).
  std::string order = "dataset";
  uint64_t seed = 0;
  std::string continuation = "{text}";  // log-likelihood continuation of option i
};

struct ShotSpec {
  int64_t count = 0;
  std::string select = "first_n";      // first_n | first_n_same_group (from the data set's shot pool)
  std::string target = "{gold_text}";  // the answer written after each shot
  std::string target_delimiter = " ";  // between a shot's text and its answer
  std::string delimiter = "\n\n";      // after each shot
  bool multiturn = true;               // chat: each shot is a user turn and an assistant turn
};

// The Open LLM Leaderboard's rescaling: max(0, value - baseline) / (1 - baseline).
struct Normalization {
  bool enabled = false;
  std::optional<double> baseline;  // fixed, e.g. 0.25; nullopt = 1 / (number of options), per group
  bool per_group = false;          // normalize each group, then average the groups
};

struct Protocol {
  std::string task;     // e.g. "gpqa_diamond"
  std::string name;     // e.g. "simple-evals"
  std::string title;
  std::string source;   // citation: repository, path, commit or URL
  std::string notes;    // known deviations from the source
  std::string card;     // model-card benchmark this reproduces ("" if none)
  bool is_default = false;

  nlohmann::json dataset;  // {"loader": "<name>", ...loader arguments}
  bool chat = false;
  std::string system;       // chat only: a system message template ("" = none)
  std::string instruction;  // lm-eval's "description": before the shots (text) / system message (chat)
  std::string doc_template; // lm-eval's doc_to_text
  ChoiceFormat choices;
  ShotSpec shots;
  RequestKind kind = RequestKind::generate;
  std::string target_delimiter = " ";  // log-likelihood: between the context and each continuation
  GenerationSettings generation;
  int64_t repeats = 1;

  nlohmann::json extractor = {{"name", "none"}};  // {"name": ..., arguments}
  nlohmann::json scorer = {{"name", "exact_match"}};
  std::vector<std::string> metrics;  // per-sample metrics; the first is the sample's score
  std::string aggregation = "mean";  // mean | macro | a task-specific aggregator (e.g. ifeval)
  Normalization normalization;
  std::string primary_metric;        // the number compared with the card

  nlohmann::json raw;   // the file as parsed
  std::string sha256;   // of raw's canonical text: part of a run's identity
};

// Parses and validates one protocol; `origin` names the file in errors.
Protocol parse_protocol(const nlohmann::json& j, std::string_view origin);

// A run recipe: which (task, protocol) pairs with which sample limits.
struct SuiteEntry {
  std::string task;
  std::string protocol;
  std::optional<int64_t> limit;       // first N documents
  std::optional<int64_t> limit_per_group;  // first N documents of every group
  std::optional<int64_t> max_tokens;  // cap on generated tokens
  std::optional<int64_t> repeats;     // override the protocol's repeats
};
struct Suite {
  std::string name;
  std::string description;
  std::vector<SuiteEntry> entries;
};
Suite parse_suite(const nlohmann::json& j, std::string_view origin);

class ProtocolRegistry {
 public:
  // `origin` is the file name shown in errors. Throws on a duplicate (task, protocol).
  void add(Protocol p);
  void add_json_text(std::string_view text, std::string_view origin);
  void add_suite(Suite s);
  // Every *.json under dir: protocols in <task>/<protocol>.json, suites in suites/*.json.
  void load_dir(const std::filesystem::path& dir);

  const Protocol& get(std::string_view task, std::string_view protocol) const;
  const Protocol& default_for(std::string_view task) const;
  bool has_task(std::string_view task) const;
  std::vector<std::string> tasks() const;
  std::vector<const Protocol*> protocols_of(std::string_view task) const;
  const Suite& suite(std::string_view name) const;
  std::vector<std::string> suites() const;

 private:
  std::map<std::string, std::map<std::string, Protocol>> by_task_;
  std::map<std::string, Suite> suites_;
};

}  // namespace scout::harness

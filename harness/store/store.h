#pragma once
// The results store: one SQLite file holding models, runs, per-sample results, metrics, quant
// comparisons, kernel benchmarks and the HTTP request cache. Schema and contracts (WAL,
// per-batch transactions, resume) are described in docs/STORE.md.
//
// Conventions: ids are SQLite rowids; timestamps are UTC ISO-8601 text set by the database
// (empty in a record not read back from it); std::optional and JSON null map to SQL NULL.
// Every failure throws scout::Error naming the database path.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/store/sqlite.h"

namespace scout::store {

enum class BackendKind { native, openai };
enum class RunStatus { running, done, failed };
enum class KernelBackend { cpu, cuda };

std::string_view to_string(BackendKind b);
std::string_view to_string(RunStatus s);
std::string_view to_string(KernelBackend b);
// Parse the names above; throw scout::Error on anything else.
BackendKind parse_backend_kind(std::string_view s);
RunStatus parse_run_status(std::string_view s);
KernelBackend parse_kernel_backend(std::string_view s);

// A model file, identified by the SHA-256 of its bytes (lowercase hex).
struct Model {
  int64_t id = 0;
  std::string path;                 // where it was last seen
  std::string sha256;
  int64_t file_size = 0;
  std::string arch;                 // general.architecture, e.g. "llama4"
  std::string file_type;            // quantization label, e.g. "Q4_K_M"
  std::optional<int64_t> n_params;
  nlohmann::json metadata;          // scalar GGUF metadata (not the tokenizer arrays)
  std::string first_seen;
};

// What begin_run records. `config` holds every result-defining setting needed to rerun;
// its hash is what find_run_by_config matches, so volatile facts (host, revision, times)
// belong in their own fields, not in it.
struct RunSpec {
  std::optional<int64_t> model_id;  // null for an OpenAI-compatible server without a file
  BackendKind backend = BackendKind::native;
  std::vector<std::string> tasks;
  std::string protocol;
  std::optional<std::string> suite;
  int64_t seed = 0;
  int64_t batch_size = 1;
  nlohmann::json config = nlohmann::json::object();
  std::optional<std::string> git_revision;
  std::string scout_version;
  nlohmann::json host;              // CPU, GPU, OS...; null when unknown
};

struct Run : RunSpec {
  int64_t id = 0;
  std::string config_hash;
  std::string started_at;
  std::optional<std::string> finished_at;
  RunStatus status = RunStatus::running;
  std::optional<double> wall_seconds;  // summed over resumed segments
  std::optional<std::string> error;    // why a failed run failed
};

// The identity of a sample within one (run, task).
struct SampleKey {
  std::string doc_id;
  int64_t repeat = 0;
  auto operator<=>(const SampleKey&) const = default;
};

struct Sample {
  std::string task;
  std::string doc_id;                  // the dataset's own id, as text
  int64_t repeat = 0;                  // 0..k-1 for repeated sampling
  std::string prompt;
  std::string output;                  // raw model output
  std::optional<std::string> answer;   // extracted; null when extraction found nothing
  std::optional<std::string> target;
  std::optional<double> score;
  nlohmann::json extra;                // per-instruction verdicts, per-choice loglikelihoods...
  std::optional<int64_t> n_prompt_tokens;
  std::optional<int64_t> n_output_tokens;
  std::optional<double> seconds;
  std::string created_at;
};

struct Metric {
  std::string task;
  std::string name;
  double value = 0;                    // NaN is stored as NULL and read back as NaN
  std::optional<double> std_error;
  std::optional<double> ci_low;
  std::optional<double> ci_high;
  int64_t n = 0;                       // samples aggregated
  nlohmann::json details;
  std::string computed_at;
};

// Perplexity / KL-divergence of a quantized model against a base model on one text.
struct QuantComparison {
  int64_t id = 0;
  int64_t base_model_id = 0;
  int64_t test_model_id = 0;
  std::string text_source;
  int64_t ctx = 0;
  int64_t chunks = 0;
  double ppl_base = 0;
  double ppl_test = 0;
  double kld_mean = 0;
  std::optional<double> kld_stderr;
  double kld_median = 0;
  double kld_p90 = 0;
  double kld_p99 = 0;
  double kld_max = 0;
  double same_top_p = 0;               // fraction of tokens whose argmax agrees
  nlohmann::json delta_p;              // statistics of p_test - p_base for the target token
  int64_t tokens_scored = 0;
  std::string created_at;
};

struct KernelBenchmark {
  int64_t id = 0;
  std::string name;
  nlohmann::json params = nlohmann::json::object();  // shape and kernel parameters
  KernelBackend backend = KernelBackend::cpu;
  std::string device;
  std::optional<int64_t> threads;      // null for GPU kernels
  std::optional<std::string> git_revision;
  double seconds_per_iter = 0;
  std::optional<double> gb_per_s;
  std::optional<double> gflop_per_s;
  std::string created_at;
};

// SHA-256 (lowercase hex) of the canonical JSON text: compact, keys sorted.
std::string config_hash(const nlohmann::json& config);

struct OpenOptions {
  // How long a write waits for another connection's write lock before failing.
  std::chrono::milliseconds busy_timeout{10'000};
};

class Store {
 public:
  // Opens or creates the file, turns on WAL, foreign keys and the busy timeout, and migrates
  // the schema. Throws when the file is not a database or has a newer schema than this build.
  static Store open(const std::filesystem::path& path, const OpenOptions& options = {});

  const std::filesystem::path& path() const { return db_.path(); }
  Db& db() { return db_; }
  // A transaction around several store calls (their own transactions nest as savepoints).
  [[nodiscard]] Transaction transaction() { return Transaction(db_); }

  // --- models
  // Inserts, or for a known sha256 refreshes path and metadata; returns the model's id.
  int64_t upsert_model(const Model& model);
  std::optional<Model> find_model(int64_t id);
  std::optional<Model> find_model_by_sha256(std::string_view sha256);
  std::vector<Model> list_models();

  // --- runs
  int64_t begin_run(const RunSpec& spec);  // status running, started now
  // Ends the current segment: status done or failed, adds `wall_seconds` to the run's total.
  void finish_run(int64_t run_id, RunStatus status, double wall_seconds,
                  std::optional<std::string_view> error = std::nullopt);
  // Marks a finished or interrupted run as running again, to resume it.
  void resume_run(int64_t run_id);
  std::optional<Run> find_run(int64_t run_id);
  // The newest run whose config has the same hash as `config`, if any.
  std::optional<Run> find_run_by_config(const nlohmann::json& config);
  std::vector<Run> list_runs();  // newest first

  // --- samples
  // Inserts the batch in one transaction. Samples whose (task, doc_id, repeat) is already
  // stored for the run are skipped (the stored one wins); returns how many were new.
  int64_t insert_samples(int64_t run_id, std::span<const Sample> samples);
  std::set<SampleKey> completed_sample_keys(int64_t run_id, std::string_view task);
  // In insertion order; only `task`'s samples when given.
  std::vector<Sample> samples_for_run(int64_t run_id,
                                      std::optional<std::string_view> task = std::nullopt);

  // --- metrics (upsert: recomputing a metric replaces it)
  void put_metrics(int64_t run_id, std::span<const Metric> metrics);
  std::vector<Metric> metrics_for_run(int64_t run_id);

  // --- quant comparisons
  int64_t insert_quant_comparison(const QuantComparison& c);
  // Oldest first; filtered by either model when given.
  std::vector<QuantComparison> list_quant_comparisons(
      std::optional<int64_t> base_model_id = std::nullopt,
      std::optional<int64_t> test_model_id = std::nullopt);

  // --- kernel benchmarks
  int64_t insert_kernel_benchmark(const KernelBenchmark& b);
  std::vector<KernelBenchmark> list_kernel_benchmarks(
      std::optional<std::string_view> name = std::nullopt);

  // --- request cache (key: sha256 hex of the canonical request)
  void put_cached_response(std::string_view request_sha256, const nlohmann::json& response);
  std::optional<nlohmann::json> cached_response(std::string_view request_sha256);

 private:
  explicit Store(Db db) : db_(std::move(db)) {}
  Db db_;
};

}  // namespace scout::store

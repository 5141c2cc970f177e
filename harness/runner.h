#pragma once
// Runs evaluations into the results store, resumably.
//
// Resume contract (see docs/HARNESS.md): a run's identity is its config (model sha256, backend
// kind, each task's protocol name and content hash, limits and overrides, seed, the SHA-256 of
// every data file read). Starting a run whose config matches a stored run continues that run:
// per task it asks the backend only for the (doc, repeat) pairs not yet stored, writes each
// batch of samples in one transaction (a batch is all in or all out, also after kill -9), and
// recomputes the metrics from every stored sample at the end. Since each sample's request,
// seed and scoring are a pure function of (task, doc, repeat, config), an interrupted and
// resumed run ends with exactly the samples and metrics of an uninterrupted one.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/backend.h"
#include "harness/protocol.h"
#include "harness/store/store.h"
#include "harness/task.h"

namespace scout::harness {

struct TaskSpec {
  std::string task;
  std::string protocol;  // "" = the task's default protocol
  TaskSettings settings;
};

struct RunOptions {
  std::vector<TaskSpec> tasks;
  std::optional<std::string> suite;
  std::string protocol_label;      // what the run record shows as its protocol
  uint64_t seed = 0;
  int64_t batch_size = 8;          // samples per backend call and per store transaction
  std::optional<int64_t> model_id;
  std::string model_sha256;        // part of the identity ("" for a server without a file)
  store::BackendKind backend_kind = store::BackendKind::native;
  nlohmann::json backend_config = nlohmann::json::object();  // result-defining backend settings
  std::filesystem::path data_dir;
  bool verify_checksums = true;
  bool progress = true;            // draw a progress bar on stderr
  std::string scout_version = "0.1.0";
  std::optional<std::string> git_revision;
  nlohmann::json host;
};

struct TaskSummary {
  std::string task;
  std::string protocol;
  int64_t n_docs = 0;         // evaluated (after --limit)
  int64_t n_dataset_docs = 0; // in the data set
  int64_t n_samples = 0;      // stored at the end
  int64_t new_samples = 0;    // computed by this invocation
  int64_t answer_not_found = 0;
  std::vector<store::Metric> metrics;
};

struct RunResult {
  int64_t run_id = 0;
  bool resumed = false;       // an earlier, unfinished run with this config was continued
  bool was_done = false;      // the run was already complete: nothing was computed
  double wall_seconds = 0;
  nlohmann::json config;
  std::vector<TaskSummary> tasks;
};

class Runner {
 public:
  Runner(store::Store& store, Backend& backend, const ProtocolRegistry& protocols, const Components& components)
      : store_(store), backend_(backend), protocols_(protocols), components_(components) {}

  RunResult run(const RunOptions& options);

  // Called after each stored batch with (task, samples stored so far, total) — for tests.
  std::function<void(const std::string&, int64_t, int64_t)> on_batch;

 private:
  int64_t run_task(int64_t run_id, const EvalTask& task, const RunOptions& options);

  store::Store& store_;
  Backend& backend_;
  const ProtocolRegistry& protocols_;
  const Components& components_;
};

// The text stored as a sample's prompt when the backend did not report the rendered one:
// the text itself, or the messages as a JSON list.
std::string prompt_record(const Prompt& prompt);

// Builds the EvalTasks of a stored run from its config (for rescore and reports).
std::vector<EvalTask> tasks_of_run(const store::Run& run, const ProtocolRegistry& protocols,
                                   const Components& components, DataDir& data);

}  // namespace scout::harness

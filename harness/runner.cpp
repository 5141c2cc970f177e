#include "harness/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "engine/util/error.h"
#include "engine/util/progress.h"

namespace scout::harness {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

nlohmann::json task_config(const EvalTask& t) {
  const auto& s = t.settings();
  nlohmann::json j = {{"task", t.task_name()},
                      {"name", t.name()},
                      {"protocol", t.protocol().name},
                      {"protocol_sha256", t.protocol().sha256},
                      {"repeats", t.repeats()},
                      {"chat", t.chat()},
                      {"limit", nullptr},
                      {"limit_per_group", nullptr},
                      {"max_tokens", nullptr},
                      {"temperature", nullptr}};
  if (s.limit) j["limit"] = *s.limit;
  if (s.limit_per_group) j["limit_per_group"] = *s.limit_per_group;
  if (s.max_tokens) j["max_tokens"] = *s.max_tokens;
  if (s.temperature) j["temperature"] = *s.temperature;
  return j;
}

TaskSettings settings_from_config(const nlohmann::json& tc, uint64_t seed) {
  TaskSettings s;
  s.seed = seed;
  if (tc.contains("limit") && !tc.at("limit").is_null()) s.limit = tc.at("limit").get<int64_t>();
  if (tc.contains("limit_per_group") && !tc.at("limit_per_group").is_null())
    s.limit_per_group = tc.at("limit_per_group").get<int64_t>();
  if (tc.contains("max_tokens") && !tc.at("max_tokens").is_null()) s.max_tokens = tc.at("max_tokens").get<int64_t>();
  if (tc.contains("repeats")) s.repeats = tc.at("repeats").get<int64_t>();
  if (tc.contains("chat")) s.chat = tc.at("chat").get<bool>();
  if (tc.contains("temperature") && !tc.at("temperature").is_null()) s.temperature = tc.at("temperature").get<double>();
  if (tc.contains("name") && tc.at("name") != tc.at("task")) s.label = tc.at("name").get<std::string>();
  return s;
}

}  // namespace

std::string prompt_record(const Prompt& prompt) {
  if (!prompt.chat) return prompt.text;
  nlohmann::json msgs = nlohmann::json::array();
  for (const auto& m : prompt.messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
  return msgs.dump();
}

std::vector<EvalTask> tasks_of_run(const store::Run& run, const ProtocolRegistry& protocols,
                                   const Components& components, DataDir& data) {
  std::vector<EvalTask> out;
  const uint64_t seed = uint64_t(run.seed);
  for (const auto& tc : run.config.at("tasks")) {
    const auto& p = protocols.get(tc.at("task").get<std::string>(), tc.at("protocol").get<std::string>());
    out.emplace_back(p, components, data, settings_from_config(tc, seed));
  }
  return out;
}

RunResult Runner::run(const RunOptions& options) {
  const auto t0 = Clock::now();
  if (options.tasks.empty()) throw Error("no tasks to run");
  if (options.batch_size < 1) throw Error("--batch must be >= 1");

  // Load every data set first: a missing or corrupt file fails the run before any work.
  DataDir data(options.data_dir, options.verify_checksums);
  // A task listed with two protocols (the card's GPQA rows) is stored as task@protocol.
  std::map<std::string, int> uses;
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<const Protocol*> chosen;
  for (const auto& spec : options.tasks) {
    const Protocol& p = spec.protocol.empty() ? protocols_.default_for(spec.task) : protocols_.get(spec.task, spec.protocol);
    if (!seen.insert({p.task, p.name}).second) throw Error(fmt::format("{} [{}] is listed twice", p.task, p.name));
    ++uses[p.task];
    chosen.push_back(&p);
  }
  std::vector<EvalTask> tasks;
  for (size_t i = 0; i < chosen.size(); ++i) {
    TaskSettings s = options.tasks[i].settings;
    s.seed = options.seed;
    if (uses[chosen[i]->task] > 1) s.label = chosen[i]->task + "@" + chosen[i]->name;
    tasks.emplace_back(*chosen[i], components_, data, s);
  }

  nlohmann::json files = nlohmann::json::object();
  for (const auto& f : data.provenance()) files[f.at("file").get<std::string>()] = f.at("sha256");
  nlohmann::json config = {{"model_sha256", options.model_sha256},
                           {"backend", std::string(store::to_string(options.backend_kind))},
                           {"backend_config", options.backend_config},
                           {"seed", options.seed},
                           {"suite", options.suite ? nlohmann::json(*options.suite) : nlohmann::json(nullptr)},
                           {"data_files", files},
                           {"tasks", nlohmann::json::array()}};
  for (const auto& t : tasks) config["tasks"].push_back(task_config(t));

  RunResult result;
  result.config = config;
  if (auto existing = store_.find_run_by_config(config)) {
    result.run_id = existing->id;
    result.was_done = existing->status == store::RunStatus::done;
    result.resumed = !result.was_done;
    if (result.resumed) store_.resume_run(existing->id);
  } else {
    store::RunSpec spec;
    spec.model_id = options.model_id;
    spec.backend = options.backend_kind;
    for (const auto& t : tasks) spec.tasks.push_back(t.name());
    spec.protocol = options.protocol_label;
    spec.suite = options.suite;
    spec.seed = int64_t(options.seed);
    spec.batch_size = options.batch_size;
    spec.config = config;
    spec.git_revision = options.git_revision;
    spec.scout_version = options.scout_version;
    spec.host = options.host;
    result.run_id = store_.begin_run(spec);
  }

  try {
    for (const auto& task : tasks) {
      TaskSummary summary;
      summary.task = task.name();
      summary.protocol = task.protocol().name;
      summary.n_docs = int64_t(task.docs().size());
      summary.n_dataset_docs = int64_t(task.dataset().docs.size());
      if (!result.was_done) summary.new_samples = run_task(result.run_id, task, options);
      const auto samples = store_.samples_for_run(result.run_id, task.name());
      summary.n_samples = int64_t(samples.size());
      summary.metrics = task.aggregate(samples);
      for (const auto& m : summary.metrics)
        if (m.task == task.name() && m.name == "answer_not_found") summary.answer_not_found = int64_t(m.value);
      store_.put_metrics(result.run_id, summary.metrics);
      result.tasks.push_back(std::move(summary));
    }
  } catch (const std::exception& e) {
    store_.finish_run(result.run_id, store::RunStatus::failed, seconds_since(t0), e.what());
    throw;
  }
  result.wall_seconds = seconds_since(t0);
  if (!result.was_done) store_.finish_run(result.run_id, store::RunStatus::done, result.wall_seconds);
  return result;
}

int64_t Runner::run_task(int64_t run_id, const EvalTask& task, const RunOptions& options) {
  const auto done = store_.completed_sample_keys(run_id, task.name());
  struct Pending {
    const Doc* doc;
    int64_t repeat;
  };
  std::vector<Pending> pending;
  for (const auto& doc : task.docs())
    for (int64_t r = 0; r < task.repeats(); ++r)
      if (!done.count(store::SampleKey{doc.id, r})) pending.push_back({&doc, r});
  const int64_t total = task.total_samples();
  int64_t stored = total - int64_t(pending.size());
  if (pending.empty()) return 0;

  // The bar counts this invocation's samples only, so its rate and ETA stay right on resume.
  std::optional<Progress> bar;
  if (options.progress)
    bar.emplace(stored ? fmt::format("{} [{}] ({} of {} already stored)", task.name(), task.protocol().name, stored, total)
                       : fmt::format("{} [{}]", task.name(), task.protocol().name),
                int64_t(pending.size()), "samples");
  int64_t computed = 0;
  for (size_t begin = 0; begin < pending.size(); begin += size_t(options.batch_size)) {
    const size_t end = std::min(pending.size(), begin + size_t(options.batch_size));
    std::vector<PreparedSample> prepared;
    for (size_t i = begin; i < end; ++i) prepared.push_back(task.prepare(*pending[i].doc, pending[i].repeat));

    const auto t0 = Clock::now();
    std::vector<store::Sample> samples;
    if (task.protocol().kind == RequestKind::generate) {
      std::vector<GenerateRequest> reqs;
      for (const auto& ps : prepared) reqs.push_back({ps.prompt, ps.settings});
      const auto responses = backend_.generate_until(reqs);
      if (responses.size() != reqs.size()) throw Error("backend returned a wrong number of generations");
      const double share = seconds_since(t0) / double(reqs.size());
      for (size_t i = 0; i < prepared.size(); ++i) {
        const auto& r = responses[i];
        auto s = task.score_generation(*pending[begin + i].doc, prepared[i], r.text,
                                       r.rendered_prompt.empty() ? prompt_record(prepared[i].prompt) : r.rendered_prompt);
        s.n_prompt_tokens = r.n_prompt_tokens;
        s.n_output_tokens = r.n_output_tokens;
        s.seconds = r.seconds > 0 ? r.seconds : share;
        if (!r.finish_reason.empty()) s.extra["finish_reason"] = r.finish_reason;
        samples.push_back(std::move(s));
      }
    } else {
      std::vector<LoglikRequest> reqs;
      for (const auto& ps : prepared)
        for (const auto& c : ps.continuations) reqs.push_back({ps.prompt, c});
      const auto responses = backend_.loglikelihood(reqs);
      if (responses.size() != reqs.size()) throw Error("backend returned a wrong number of log-likelihoods");
      const double share = seconds_since(t0) / double(prepared.size());
      size_t k = 0;
      for (size_t i = 0; i < prepared.size(); ++i) {
        const size_t n = prepared[i].continuations.size();
        std::vector<double> lp;
        std::vector<char> greedy;
        int64_t cont_tokens = 0;
        for (size_t j = 0; j < n; ++j) {
          lp.push_back(responses[k + j].logprob);
          greedy.push_back(responses[k + j].greedy);
          cont_tokens += responses[k + j].n_continuation_tokens;
        }
        const auto& first = responses[k];
        auto s = task.score_loglikelihood(
            *pending[begin + i].doc, prepared[i], lp, greedy,
            first.rendered_context.empty() ? prompt_record(prepared[i].prompt) : first.rendered_context);
        s.n_prompt_tokens = first.n_context_tokens;
        s.n_output_tokens = cont_tokens;
        s.seconds = share;
        samples.push_back(std::move(s));
        k += n;
      }
    }
    computed += store_.insert_samples(run_id, samples);
    stored += int64_t(samples.size());
    if (bar) bar->advance(int64_t(samples.size()));
    if (on_batch) on_batch(task.name(), stored, total);
  }
  if (bar) bar->finish();
  return computed;
}

}  // namespace scout::harness

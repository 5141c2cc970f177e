// scout-eval run: evaluate a model on tasks under named protocols, into the results store,
// resumably (rerun the same command after an interruption to finish only what is missing).
#include <fmt/format.h>
#include <sys/utsname.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/cmd_eval_common.h"
#include "cli/commands.h"
#include "cli/model_record.h"
#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_json.h"
#include "engine/model/hparams.h"
#include "engine/quant/file_type.h"
#include "engine/tokenizer/chat_template.h"
#include "engine/tokenizer/vocab.h"
#include "engine/util/error.h"
#include "engine/util/sha256.h"
#include "harness/backends/native.h"
#include "harness/backends/openai_http.h"
#include "harness/results_json.h"
#include "harness/runner.h"
#include "harness/testing/fake_backend.h"

namespace scout::cli {
namespace {

struct RunArgs {
  std::string model;
  std::string tasks;
  std::string protocol;
  std::string suite;
  std::optional<int64_t> limit;
  uint64_t seed = 0;
  std::string db = "results.db";
  int64_t batch = 0;
  std::string data_dir;
  bool no_verify = false;
  std::optional<std::string> protocol_dir;
  std::optional<int64_t> max_tokens;
  std::optional<int64_t> repeats;
  std::optional<double> temperature;
  std::string chat = "protocol";
  std::string output_json;
  bool no_progress = false;
  std::string fake_backend;  // test-only: a FakeBackend script instead of a model
  harness::NativeOptions native;
  std::string kv = "f16";
  std::string backend = "native";
  harness::OpenAIOptions http;  // --backend openai (the API key is read from api_key_env at run time)
  std::string api_key_env = "OPENAI_API_KEY";
  bool no_request_cache = false;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

nlohmann::json host_info() {
  nlohmann::json h = {{"hardware_threads", std::thread::hardware_concurrency()}};
  struct utsname u;
  if (uname(&u) == 0) h["os"] = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  return h;
}

std::vector<harness::TaskSpec> task_specs(const RunArgs& a, const EvalCatalog& cat, harness::RunOptions& opts) {
  std::vector<harness::TaskSpec> specs;
  auto common = [&a](harness::TaskSettings& s) {
    if (a.limit) s.limit = a.limit;
    if (a.max_tokens) s.max_tokens = a.max_tokens;
    if (a.repeats) s.repeats = a.repeats;
    if (a.temperature) s.temperature = a.temperature;
    if (a.chat != "protocol") s.chat = a.chat == "on";
  };
  if (!a.suite.empty()) {
    if (!a.tasks.empty()) throw Error("give --tasks or --suite, not both");
    const auto& suite = cat.protocols.suite(a.suite);
    for (const auto& e : suite.entries) {
      harness::TaskSpec t{e.task, e.protocol, {}};
      t.settings.limit = e.limit;
      t.settings.limit_per_group = e.limit_per_group;
      t.settings.max_tokens = e.max_tokens;
      t.settings.repeats = e.repeats;
      common(t.settings);  // command-line settings win over the suite's
      specs.push_back(std::move(t));
    }
    opts.suite = a.suite;
    opts.protocol_label = "suite:" + a.suite;
    return specs;
  }
  if (a.tasks.empty()) throw Error("give --tasks a,b[,task@protocol] or --suite quick|card");
  for (const auto& item : split_list(a.tasks)) {
    harness::TaskSpec t;
    const auto at = item.find('@');
    t.task = item.substr(0, at);
    t.protocol = at != std::string::npos ? item.substr(at + 1) : a.protocol;
    if (!cat.protocols.has_task(t.task)) throw Error(fmt::format("unknown task \"{}\" (see scout-eval tasks)", t.task));
    common(t.settings);
    specs.push_back(std::move(t));
  }
  opts.protocol_label = a.protocol.empty() ? "default" : a.protocol;
  return specs;
}

void print_summary(const harness::RunResult& r, const EvalCatalog& cat, const std::vector<harness::TaskSpec>& specs) {
  fmt::print("run {}{}: {:.1f} s\n", r.run_id, r.was_done ? " (already complete)" : r.resumed ? " (resumed)" : "",
             r.wall_seconds);
  for (size_t i = 0; i < r.tasks.size(); ++i) {
    const auto& t = r.tasks[i];
    const auto& p = specs[i].protocol.empty() ? cat.protocols.default_for(specs[i].task)
                                              : cat.protocols.get(specs[i].task, specs[i].protocol);
    const auto* m = primary_metric(t.metrics, t.task, p);
    fmt::print("  {:<28} {:<24} {:<24} {}  samples={} new={} answer_not_found={}\n", t.task, t.protocol,
               p.primary_metric, m ? format_metric(*m) : "n/a", t.n_samples, t.new_samples, t.answer_not_found);
  }
}

// The client-side chat template for log-likelihood requests: a name (llama4, chatml...), the
// model's GGUF (its tokenizer.chat_template, default system prompt included) or a Jinja file
// (Hugging Face's chat_template).
tok::ChatTemplate client_chat_template(const std::string& arg) {
  if (arg.ends_with(".gguf")) {
    const auto vocab = tok::Vocab::from_gguf(*gguf::File::open(arg));
    return tok::ChatTemplate::for_vocab(vocab);
  }
  if (std::filesystem::is_regular_file(arg)) {
    std::ifstream f(arg);
    std::stringstream ss;
    ss << f.rdbuf();
    return tok::ChatTemplate::from_jinja(ss.str());
  }
  return tok::ChatTemplate::from_name(arg);
}

// The HTTP backend for --backend openai: the key comes from the environment, never the command
// line, and goes nowhere but the Authorization header.
std::unique_ptr<harness::OpenAIBackend> make_http_backend(const RunArgs& a, store::Store& st) {
  if (a.model.empty()) throw Error("--model NAME is required: the model name the server serves");
  auto o = a.http;
  o.model = a.model;
  o.use_cache = !a.no_request_cache;
  if (const char* key = std::getenv(a.api_key_env.c_str())) o.api_key = key;
  if (!a.native.chat_template.empty()) {
    auto tmpl = std::make_shared<tok::ChatTemplate>(client_chat_template(a.native.chat_template));
    o.chat_template_name = fmt::format("{} ({})", tmpl->name(), std::filesystem::path(a.native.chat_template).filename().string());
    o.render_chat = [tmpl](const std::vector<harness::ChatMessage>& messages) {
      std::vector<tok::ChatMessage> m;
      for (const auto& x : messages) m.push_back({x.role, x.content});
      return tmpl->render(m, /*add_generation_prompt=*/true);
    };
  }
  return std::make_unique<harness::OpenAIBackend>(std::move(o), &st.db());
}

// Runs; a server without prompt log-probabilities fails the first log-likelihood task, so the
// error names it (the backend cannot know which task it serves).
harness::RunResult run_naming_task(harness::Runner& runner, const harness::RunOptions& opts, const EvalCatalog& cat) {
  try {
    return runner.run(opts);
  } catch (const harness::LogprobsUnavailable& e) {
    for (const auto& t : opts.tasks) {
      const auto& p = t.protocol.empty() ? cat.protocols.default_for(t.task) : cat.protocols.get(t.task, t.protocol);
      if (p.kind != harness::RequestKind::generate)
        throw Error(fmt::format("task {} [{}] is scored by log-likelihood: {}", t.task, p.name, e.what()));
    }
    throw;
  }
}

int run_command(const RunArgs& a) {
  const EvalCatalog cat = load_catalog(a.protocol_dir);
  harness::RunOptions opts;
  opts.tasks = task_specs(a, cat, opts);
  opts.seed = a.seed;
  // 0 = auto: 8 for the native engine, enough to keep every HTTP connection busy otherwise.
  opts.batch_size = a.batch > 0 ? a.batch : a.backend == "openai" ? std::max<int64_t>(8, 2 * a.http.concurrency) : 8;
  opts.data_dir = a.data_dir.empty() ? harness::DataDir::default_root() : std::filesystem::path(a.data_dir);
  opts.verify_checksums = !a.no_verify;
  opts.progress = !a.no_progress;
  opts.host = host_info();

  auto st = store::Store::open(a.db);
  std::unique_ptr<harness::Backend> backend;
  harness::OpenAIBackend* http = nullptr;
  std::string model_label;
  if (!a.fake_backend.empty()) {
    std::ifstream f(a.fake_backend);
    if (!f) throw Error(a.fake_backend + ": cannot open the fake backend script");
    backend = std::make_unique<harness::FakeBackend>(harness::FakeBackend::from_json(nlohmann::json::parse(f)));
    opts.model_sha256 = "fake:" + sha256_file_hex(a.fake_backend);
    opts.backend_config = {{"fake", true}};
    model_label = "fake";
  } else if (a.backend == "openai") {
    auto made = make_http_backend(a, st);
    http = made.get();
    opts.backend_kind = store::BackendKind::openai;
    opts.backend_config = http->config();
    model_label = http->describe();
    backend = std::move(made);
  } else {
    if (a.model.empty()) throw Error("--model is required");
    const store::Model m = describe_model_file(a.model);
    opts.model_id = st.upsert_model(m);
    opts.model_sha256 = m.sha256;
    auto native_opts = a.native;
    native_opts.kv_f32 = a.kv == "f32";
    auto native = std::make_unique<harness::NativeBackend>(a.model, native_opts);
    opts.backend_config = native->config();
    model_label = native->describe();
    backend = std::move(native);
  }

  harness::Runner runner(st, *backend, cat.protocols, cat.components);
  const auto result = run_naming_task(runner, opts, cat);
  if (http) {
    const auto c = http->counters();
    fmt::print(stderr, "openai backend: {} HTTP requests ({} retries), {} answered from the request cache\n", c.sent,
               c.retried, c.cached);
  }
  print_summary(result, cat, opts.tasks);

  if (!a.output_json.empty()) {
    const auto run = st.find_run(result.run_id);
    std::map<std::string, harness::ResultsTask> tasks;
    for (size_t i = 0; i < result.tasks.size(); ++i) {
      const auto& spec = opts.tasks[i];
      const auto& p = spec.protocol.empty() ? cat.protocols.default_for(spec.task) : cat.protocols.get(spec.task, spec.protocol);
      tasks[result.tasks[i].task] = {&p, result.tasks[i].n_dataset_docs, result.tasks[i].n_docs};
    }
    std::ofstream out(a.output_json);
    out << harness::lm_eval_results(*run, st.metrics_for_run(result.run_id), tasks, model_label).dump(2) << "\n";
    if (!out) throw Error(a.output_json + ": write failed");
    fmt::print(stderr, "wrote {}\n", a.output_json);
  }
  return 0;
}

}  // namespace

void add_run(CLI::App& app, Action& run) {
  auto* cmd = app.add_subcommand("run", "Evaluate a model on tasks (resumable: rerun the same command to continue)");
  auto a = std::make_shared<RunArgs>();
  cmd->add_option("--model", a->model, "GGUF model file (--backend openai: the model name the server serves)");
  cmd->add_option("--backend", a->backend, "native (the in-process engine) or openai (an OpenAI-compatible server)")
      ->check(CLI::IsMember({"native", "openai"}))->default_val("native");
  cmd->add_option("--base-url", a->http.base_url, "--backend openai: the server, e.g. http://127.0.0.1:8000/v1");
  cmd->add_option("--concurrency", a->http.concurrency, "--backend openai: requests in flight")
      ->default_val(8)->check(CLI::PositiveNumber);
  cmd->add_option("--timeout", a->http.timeout_s, "--backend openai: seconds per HTTP attempt")
      ->default_val(600)->check(CLI::PositiveNumber);
  cmd->add_option("--retries", a->http.retries, "--backend openai: retries after HTTP 429/5xx or a network error")
      ->default_val(5)->check(CLI::NonNegativeNumber);
  cmd->add_option("--api-key-env", a->api_key_env, "--backend openai: environment variable holding the API key")
      ->default_val("OPENAI_API_KEY");
  cmd->add_flag("--no-request-cache", a->no_request_cache, "--backend openai: do not read or write the request cache");
  cmd->add_option("--tasks", a->tasks, "Comma-separated tasks; task@protocol picks a protocol per task");
  cmd->add_option("--protocol", a->protocol, "Protocol for every task without @ (default: each task's default)");
  cmd->add_option("--suite", a->suite, "A predefined task list: quick or card");
  cmd->add_option("--limit", a->limit, "Evaluate only the first N documents of each task")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", a->seed, "Run seed (sampling, seeded option orders)")->default_val(0);
  cmd->add_option("--db", a->db, "Results database")->default_val("results.db");
  cmd->add_option("--batch", a->batch, "Samples per backend call and per store transaction (0 = 8, or 2 x --concurrency)")
      ->default_val(0)->check(CLI::NonNegativeNumber);
  cmd->add_option("--data-dir", a->data_dir, "Folder holding the data sets (default: $SCOUT_DATA_DIR or ../shared/datasets)");
  cmd->add_flag("--no-verify", a->no_verify, "Do not check data files against the SHA-256 in SOURCE.md");
  cmd->add_option("--protocol-dir", a->protocol_dir, "Load more protocol/suite JSON files from this folder");
  cmd->add_option("--max-tokens", a->max_tokens, "Cap every protocol's generation length")->check(CLI::PositiveNumber);
  cmd->add_option("--repeats", a->repeats, "Override the protocols' repeat counts")->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", a->temperature, "Override the protocols' sampling temperature")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--chat", a->chat, "Chat template: as the protocol says, on, or off")
      ->check(CLI::IsMember({"protocol", "on", "off"}))->default_val("protocol");
  cmd->add_option("--output-json", a->output_json, "Also write lm-eval-style results JSON here");
  cmd->add_flag("--no-progress", a->no_progress, "No progress bar");
  cmd->add_option("--threads", a->native.n_threads, "Engine threads (0 = all)")->default_val(0);
  cmd->add_option("--ctx", a->native.n_ctx, "Context size per sequence (0 = training context, at most 8192)")
      ->default_val(0);
  cmd->add_option("--max-seqs", a->native.max_seqs, "Sequences evaluated together by the engine")->default_val(16);
  // Off only to measure what evaluating a shared context once saves (results are identical).
  cmd->add_flag("--no-prefix-reuse", [a](int64_t) { a->native.prefix_reuse = false; },
                "Log-likelihood: evaluate each option's context again instead of once");
  cmd->add_option("--kv", a->kv, "KV cache type")->check(CLI::IsMember({"f16", "f32"}))->default_val("f16");
  cmd->add_option("--chat-template", a->native.chat_template, "Override the model's chat template (llama4, llama3, chatml...); --backend openai: the template for "
                 "log-likelihood chat contexts, by name, GGUF or Jinja file");
  // Test-only: answer from a FakeBackend script instead of a model (resume and CLI tests).
  cmd->add_option("--fake-backend", a->fake_backend, "")->group("");
  cmd->callback([&run, a] { run = [a] { return run_command(*a); }; });
}

}  // namespace scout::cli

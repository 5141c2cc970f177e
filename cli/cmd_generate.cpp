// scout-eval generate: text generation with the native engine, for trying a model by hand.
//
//   scout-eval generate --model M [--chat [--system S]] --prompt TEXT -n N [-t T] [--seed S]
//                       [--temp T] [--top-k K] [--top-p P] [--min-p P] [--stop STR ...] [--json]
//
// The generated text goes to stdout (with --json: tokens, text and the finish reason);
// timing goes to stderr.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>

#include "cli/commands.h"
#include "engine/runtime/engine.h"
#include "engine/runtime/prompt_file.h"
#include "engine/tokenizer/chat_template.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"
#include "engine/util/progress.h"

namespace scout::cli {
namespace {

struct GenerateOptions {
  std::string model, prompt, tokens, system, chat_template;
  bool chat = false, json = false, kv_f32 = false, ignore_eos = false;
  int64_t n = 128, ctx = 0;
  int threads = 0;
  runtime::SamplingParams sampling;
  std::vector<std::string> stop;
};

// The prompt's tokens: ids as given, or the text (rendered through the chat template with
// --chat) tokenized with special-token text parsed and BOS added as the vocab says, unless
// the template already wrote it.
runtime::Tokens prompt_tokens(const GenerateOptions& o, const runtime::Engine& engine) {
  if (!o.tokens.empty()) return runtime::parse_token_list(o.tokens);
  const tok::Tokenizer* t = engine.tokenizer();
  if (!t) throw Error("text prompts need the model's tokenizer (" + engine.tokenizer_error() + "); use --tokens");
  std::string text = o.prompt;
  bool add_bos = t->vocab().add_bos;
  if (o.chat) {
    const auto tmpl = tok::ChatTemplate::for_vocab(t->vocab(), o.chat_template);
    std::vector<tok::ChatMessage> messages;
    if (!o.system.empty()) messages.push_back({"system", o.system});
    messages.push_back({"user", o.prompt});
    text = tmpl.render(messages, /*add_generation_prompt=*/true);
    if (!tmpl.bos_text.empty() && text.starts_with(tmpl.bos_text)) add_bos = false;
  }
  const auto ids = t->encode(text, add_bos, /*parse_special=*/true);
  return runtime::Tokens(ids.begin(), ids.end());
}

int run_generate(const GenerateOptions& o) {
  if (o.prompt.empty() == o.tokens.empty()) throw Error("give exactly one of --prompt and --tokens");
  runtime::EngineOptions eo;
  eo.n_threads = o.threads;
  eo.n_ctx = o.ctx;
  eo.kv_type = o.kv_f32 ? model::KvType::F32 : model::KvType::F16;
  const auto t0 = std::chrono::steady_clock::now();
  auto engine = runtime::Engine::load(o.model, eo);

  runtime::GenerationRequest req;
  req.prompt = prompt_tokens(o, *engine);
  req.max_tokens = o.n;
  req.sampling = o.sampling;
  for (const auto& s : o.stop) req.stop_strings.push_back(runtime::unescape_prompt(s));
  req.stop_at_eog = !o.ignore_eos;

  const auto t1 = std::chrono::steady_clock::now();
  std::unique_ptr<Progress> bar;
  if (req.prompt.size() >= 256) bar = std::make_unique<Progress>("prompt", int64_t(req.prompt.size()), "tok");
  const auto results = engine->generate(std::span(&req, 1), [&](int64_t done, int64_t) {
    if (bar) bar->set(done);
  });
  if (bar) bar->finish();
  const auto t2 = std::chrono::steady_clock::now();
  const auto& r = results[0];

  if (o.json) {
    nlohmann::json j = {{"prompt_tokens", req.prompt},
                        {"tokens", r.tokens},
                        {"text", r.text},
                        {"finish", runtime::finish_reason_name(r.finish)}};
    if (r.finish == runtime::FinishReason::StopToken) j["stop_token"] = r.stop_token;
    if (r.finish == runtime::FinishReason::StopString) j["stop_string"] = r.stop_string;
    fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else if (engine->tokenizer()) {
    fmt::print("{}\n", r.text);
  } else {
    fmt::print("{}\n", nlohmann::json(r.tokens).dump());
  }
  const double load_s = std::chrono::duration<double>(t1 - t0).count();
  const double gen_s = std::chrono::duration<double>(t2 - t1).count();
  fmt::print(stderr, "load {:.2f}s; {} prompt + {} generated tokens in {:.2f}s ({:.2f} tok/s overall), {} threads; finish: {}\n",
             load_s, req.prompt.size(), r.tokens.size(), gen_s,
             gen_s > 0 ? double(req.prompt.size() + r.tokens.size()) / gen_s : 0.0, engine->n_threads(),
             runtime::finish_reason_name(r.finish));
  return 0;
}

}  // namespace

void add_generate(CLI::App& app, Action& run) {
  auto* cmd = app.add_subcommand("generate", "Generate text with the native engine");
  auto o = std::make_shared<GenerateOptions>();
  cmd->add_option("-m,--model", o->model, "GGUF model")->required()->check(CLI::ExistingFile);
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text (special-token text such as <|eot|> is parsed)");
  cmd->add_option("--tokens", o->tokens, "Prompt as token ids, e.g. \"1 2 3\" (used as given)");
  cmd->add_flag("--chat", o->chat, "Wrap the prompt as a user turn in the model's chat template");
  cmd->add_option("--system", o->system, "System message (with --chat)");
  cmd->add_option("--chat-template", o->chat_template, "Template name instead of the model's: llama4, llama3, llama3.1, chatml");
  cmd->add_option("-n,--max-tokens", o->n, "Tokens to generate at most")->default_val(128)->check(CLI::NonNegativeNumber);
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-c,--ctx", o->ctx, "Context size (default: the model's training context)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o->sampling.seed, "Sampling seed")->default_val(0);
  cmd->add_option("--temp", o->sampling.temperature, "Temperature (0 = greedy)")->default_val(0.0f);
  cmd->add_option("--top-k", o->sampling.top_k, "Top-k (0 = off)")->default_val(0);
  cmd->add_option("--top-p", o->sampling.top_p, "Top-p (1 = off)")->default_val(1.0f);
  cmd->add_option("--min-p", o->sampling.min_p, "Min-p (0 = off)")->default_val(0.0f);
  cmd->add_option("--stop", o->stop, "Stop string (repeatable; \\n, \\t and \\\\ are unescaped)");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Do not stop at end-of-generation tokens");
  cmd->add_flag("--kv-f32", o->kv_f32, "Keep the KV cache in F32 (default F16)");
  cmd->add_flag("--json", o->json, "Print tokens, text and finish reason as JSON");
  cmd->callback([&run, o] { run = [o] { return run_generate(*o); }; });
}

}  // namespace scout::cli

#include "harness/backends/native.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "engine/runtime/engine.h"
#include "engine/tokenizer/chat_template.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace scout::harness {

struct NativeBackend::Impl {
  std::string path;
  NativeOptions options;
  std::unique_ptr<runtime::Engine> engine;
  const tok::Tokenizer* tokenizer = nullptr;
  std::optional<tok::ChatTemplate> chat;
  int64_t n_ctx = 0;  // tokens a sequence may use (prompt truncation keeps within it)
  std::string chat_error;

  std::string render(const Prompt& p) const {
    if (!p.chat) return p.text;
    if (!chat) throw Error(fmt::format("{}: chat prompt but no chat template ({})", path, chat_error));
    std::vector<tok::ChatMessage> msgs;
    for (const auto& m : p.messages) msgs.push_back({m.role, m.content});
    return chat->render(msgs, /*add_generation_prompt=*/true);
  }

  // Chat text carries its own BOS and special markers; plain text gets the model's BOS.
  runtime::Tokens encode(const std::string& text, bool chat_prompt) const {
    auto t = chat_prompt ? tokenizer->encode(text, false, true)
                         : tokenizer->encode(text, tokenizer->vocab().add_bos, false);
    if (t.empty() && tokenizer->vocab().bos != tok::kNoToken) t.push_back(tokenizer->vocab().bos);
    return t;
  }
};

NativeBackend::NativeBackend(const std::string& gguf_path, const NativeOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = gguf_path;
  impl_->options = options;
  runtime::EngineOptions eo;
  eo.n_threads = options.n_threads;
  eo.n_batch = options.n_batch;
  eo.max_seqs = options.max_seqs;
  eo.share_contexts = options.prefix_reuse;
  eo.kv_type = options.kv_f32 ? model::KvType::F32 : model::KvType::F16;
  // The training context can be millions of tokens (Scout: 10M); these benchmarks need a few
  // thousand, so the default is the training context capped at 8192.
  int64_t n_ctx_train = 0;
  eo.model.adjust_hparams = [&n_ctx_train](model::HParams& hp) { n_ctx_train = hp.n_ctx_train; };
  eo.n_ctx = options.n_ctx > 0 ? options.n_ctx : 8192;
  impl_->engine = runtime::Engine::load(gguf_path, eo);
  impl_->n_ctx = impl_->engine->n_ctx();
  if (options.n_ctx <= 0 && n_ctx_train > 0) impl_->n_ctx = std::min(impl_->n_ctx, n_ctx_train);
  impl_->options.n_ctx = impl_->n_ctx;
  impl_->tokenizer = impl_->engine->tokenizer();
  if (!impl_->tokenizer)
    throw Error(fmt::format("{}: no tokenizer scout-eval can use: {}", gguf_path, impl_->engine->tokenizer_error()));
  try {
    impl_->chat = tok::ChatTemplate::for_vocab(impl_->tokenizer->vocab(), options.chat_template);
  } catch (const Error& e) {
    impl_->chat_error = e.what();
  }
}

NativeBackend::~NativeBackend() = default;

std::string NativeBackend::describe() const {
  return "native:" + std::filesystem::path(impl_->path).filename().string();
}

nlohmann::json NativeBackend::config() const {
  return {{"n_ctx", impl_->options.n_ctx},
          {"kv", impl_->options.kv_f32 ? "f32" : "f16"},
          {"chat_template", impl_->chat ? std::string(impl_->chat->name()) : std::string()}};
}

std::vector<GenerateResponse> NativeBackend::generate_until(std::span<const GenerateRequest> requests) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n_ctx = impl_->n_ctx;
  std::vector<runtime::GenerationRequest> reqs;
  std::vector<GenerateResponse> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    out[i].rendered_prompt = impl_->render(r.prompt);
    runtime::GenerationRequest g;
    g.prompt = impl_->encode(out[i].rendered_prompt, r.prompt.chat);
    // Room for the answer: keep the prompt's end (lm-eval truncates on the left too).
    g.max_tokens = std::min<int64_t>(r.settings.max_tokens, std::max<int64_t>(1, n_ctx / 2));
    const auto keep = size_t(std::max<int64_t>(1, n_ctx - g.max_tokens));
    if (g.prompt.size() > keep) g.prompt.erase(g.prompt.begin(), g.prompt.end() - ptrdiff_t(keep));
    g.sampling.temperature = float(r.settings.temperature);
    g.sampling.top_p = float(r.settings.top_p);
    g.sampling.top_k = int32_t(r.settings.top_k);
    g.sampling.seed = r.settings.seed;
    g.stop_strings = r.settings.stop;
    out[i].n_prompt_tokens = int64_t(g.prompt.size());
    reqs.push_back(std::move(g));
  }
  const auto results = impl_->engine->generate(reqs);
  const double share =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / double(std::max<size_t>(1, requests.size()));
  for (size_t i = 0; i < results.size(); ++i) {
    out[i].text = results[i].text;
    out[i].n_output_tokens = int64_t(results[i].tokens.size());
    out[i].finish_reason = runtime::finish_reason_name(results[i].finish);
    out[i].seconds = share;
  }
  return out;
}

std::vector<LoglikResponse> NativeBackend::loglikelihood(std::span<const LoglikRequest> requests) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n_ctx = impl_->n_ctx;
  std::vector<runtime::LoglikRequest> reqs;
  std::vector<LoglikResponse> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    std::string context = impl_->render(r.context);
    std::string continuation = r.continuation;
    // As lm-eval (context.rstrip()): trailing whitespace of the context belongs to the
    // continuation, and the continuation's tokens are those of (context + continuation) past
    // the context's.
    const size_t last = context.find_last_not_of(" \t\n\r\f\v");
    const size_t keep = last == std::string::npos ? 0 : last + 1;
    continuation = context.substr(keep) + continuation;
    context.resize(keep);
    const auto whole = impl_->encode(context + continuation, r.context.chat);
    auto ctx_tokens = impl_->encode(context, r.context.chat);
    size_t split = std::min(ctx_tokens.size(), whole.size());
    if (split >= whole.size()) split = whole.size() - 1;  // at least one continuation token
    if (split == 0) split = 1;
    runtime::LoglikRequest q;
    q.context.assign(whole.begin(), whole.begin() + ptrdiff_t(split));
    q.continuation.assign(whole.begin() + ptrdiff_t(split), whole.end());
    const auto room = size_t(std::max<int64_t>(1, n_ctx - int64_t(q.continuation.size())));
    if (q.context.size() > room) q.context.erase(q.context.begin(), q.context.end() - ptrdiff_t(room));
    out[i].rendered_context = impl_->render(r.context);
    out[i].n_context_tokens = int64_t(q.context.size());
    out[i].n_continuation_tokens = int64_t(q.continuation.size());
    reqs.push_back(std::move(q));
  }
  const auto results = impl_->engine->loglikelihood(reqs);
  const double share =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / double(std::max<size_t>(1, requests.size()));
  for (size_t i = 0; i < results.size(); ++i) {
    out[i].logprob = results[i].logprob;
    out[i].greedy = results[i].greedy;
    out[i].seconds = share;
  }
  return out;
}

}  // namespace scout::harness

#pragma once
// An OpenAI-compatible HTTP server (vLLM, llama.cpp's server, `scout-eval serve`...) as a
// harness Backend.
//
// generate_until: chat prompts go to /v1/chat/completions (the server applies the model's chat
// template), text prompts to /v1/completions; one HTTP request per harness request, with the
// request's own seed, so a response depends only on its request.
//
// loglikelihood: /v1/completions with prompt = context + continuation, echo = true,
// logprobs = 1, max_tokens = 0, temperature = 0 (vLLM's semantics for prompt log-probabilities;
// OpenAI's current models do not offer them). The continuation's tokens are found by text
// offsets counted back from the end of the echoed tokens (see docs/SERVING.md): a token that
// straddles the context/continuation boundary counts as continuation. Chat contexts are rendered
// here (OpenAIOptions::render_chat) and sent with add_special_tokens=false. As in the native
// backend (and lm-eval), trailing whitespace of the context moves to the continuation. A
// server that returns no prompt log-probabilities raises LogprobsUnavailable.
//
// Many requests are in flight at once (options.concurrency threads, one connection each);
// failures with HTTP 429/5xx or a transport error are retried with exponential backoff. Each
// successful response is stored in the request cache (harness/store/request_cache.h) when a
// database is given, so a rerun sends nothing. The API key is sent as a Bearer token and kept
// only in memory.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/util/error.h"
#include "harness/backend.h"
#include "harness/store/sqlite.h"

namespace scout::harness {

struct OpenAIOptions {
  std::string base_url;      // http://host:port or http://host:port/v1
  std::string model;         // the "model" field of every request
  std::string api_key;       // "" = no Authorization header
  int concurrency = 8;       // requests in flight
  double timeout_s = 600;    // per HTTP attempt
  int retries = 5;           // further attempts after a 429/5xx/transport failure
  double backoff_s = 0.5;    // wait before the first retry; doubles each time (at most 30 s)
  bool use_cache = true;
  // Log-likelihood of a chat-formatted context: /v1/completions takes text, so the client
  // renders the conversation (with the generation prompt) and sends it with
  // add_special_tokens=false (the rendered text carries its own BOS). Unset: such requests fail.
  std::function<std::string(const std::vector<ChatMessage>&)> render_chat;
  std::string chat_template_name;  // what render_chat renders (part of the run's identity)
};

// The server returned no prompt log-probabilities (log-likelihood tasks need them).
class LogprobsUnavailable : public Error {
 public:
  using Error::Error;
};

class OpenAIBackend : public Backend {
 public:
  // cache_db: the results database holding request_cache (nullptr = no cache).
  OpenAIBackend(OpenAIOptions options, store::Db* cache_db);
  ~OpenAIBackend() override;

  std::string describe() const override;
  // The settings that change results (part of a run's identity): never the API key.
  nlohmann::json config() const;

  std::vector<GenerateResponse> generate_until(std::span<const GenerateRequest> requests) override;
  std::vector<LoglikResponse> loglikelihood(std::span<const LoglikRequest> requests) override;

  struct Counters {
    int64_t sent = 0;     // HTTP attempts
    int64_t cached = 0;   // responses taken from the cache
    int64_t retried = 0;  // attempts that were retries
  };
  Counters counters() const;

  // The JSON body of a request, for tests (what the cache key covers besides the URL and path).
  static nlohmann::json generate_body(const std::string& model, const GenerateRequest& r);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scout::harness

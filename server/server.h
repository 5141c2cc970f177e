#pragma once
// `scout-eval serve`: an OpenAI-compatible HTTP server over the native engine.
//
// Endpoints: GET /v1/models, GET /health, POST /v1/completions (prompt text, list of texts or
// token ids; echo; logprobs with text offsets; streaming) and POST /v1/chat/completions
// (the model's chat template; logprobs/top_logprobs; streaming). Requests from all connections
// feed one runtime::Scheduler (continuous batching, engine/runtime/scheduler.h). Errors are
// JSON in OpenAI's shape: {"error": {"message", "type", "param", "code"}}. SIGTERM or SIGINT
// stops accepting, finishes the requests in flight, then returns. See docs/SERVING.md.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/runtime/engine.h"

namespace scout::server {

struct ServeOptions {
  std::string model_path;
  std::string served_name;            // the "model" clients send; "" = the file's stem
  std::string host = "127.0.0.1";
  int port = 8000;                    // 0 = any free port (the chosen one is printed)
  runtime::EngineOptions engine;
  std::string chat_template;          // override the GGUF's template by name
  size_t max_body_bytes = 1 << 20;    // larger bodies get 413
  int64_t max_tokens_limit = 4096;    // largest max_tokens a request may ask for
  int max_prompts = 64;               // prompts in one /v1/completions request
  int http_threads = 128;             // connections served at once
  std::string api_key;                // if set, requests need "Authorization: Bearer <key>"
  bool access_log = true;             // one line per request on stderr
};

// Loads the model, listens, serves until SIGTERM/SIGINT. Prints "listening on http://H:P" on
// stdout once ready. Returns the process exit status; throws scout::Error if it cannot start.
int serve(const ServeOptions& options);

}  // namespace scout::server

#pragma once
// A deterministic Backend for tests and for exercising the CLI without a model
// (`scout-eval run --fake-backend SCRIPT.json`, a hidden test-only flag).
//
// generate_until answers each prompt from a script keyed by the SHA-256 of the prompt as the
// fake renders it; unscripted prompts get the default responder's text. loglikelihood is a
// fixed pseudo-random function of (rendered context, continuation). Every response depends
// only on its own request, so batching and resuming never change results.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "harness/backend.h"

namespace scout::harness {

class FakeBackend : public Backend {
 public:
  using Responder = std::function<std::string(const GenerateRequest&)>;

  // The default responder is hash_responder().
  FakeBackend();

  // How the fake renders a prompt: the text itself, or "<|role|>\ncontent\n" per message
  // followed by "<|assistant|>\n".
  static std::string render(const Prompt& prompt);
  // The script key of a prompt: sha256 hex of render(prompt).
  static std::string prompt_key(const Prompt& prompt);
  // A response that varies with the prompt and carries an answer in every format the
  // extractors know ("The best answer is X", "Answer: X", \boxed{N}, the Minerva sentence),
  // so scores are neither all 0 nor all 1.
  static std::string hash_response(const Prompt& prompt);
  // The fake log-probability of `continuation` after the rendered context (always < 0).
  static double fake_logprob(std::string_view rendered_context, std::string_view continuation);

  void script(const Prompt& prompt, std::string response);
  void script_key(std::string key_sha256, std::string response);
  void set_default(Responder responder) { default_ = std::move(responder); }
  // Sleeps this long per request (to make runs slow enough to interrupt in tests).
  void set_delay(std::chrono::microseconds per_request) { delay_ = per_request; }

  // {"responses": {"<sha256 of rendered prompt>": "text", ...},
  //  "default": "hash" | "echo" | any other text (returned as is), "delay_ms": 0}
  static FakeBackend from_json(const nlohmann::json& config);

  std::string describe() const override { return "fake"; }
  std::vector<GenerateResponse> generate_until(std::span<const GenerateRequest> requests) override;
  std::vector<LoglikResponse> loglikelihood(std::span<const LoglikRequest> requests) override;

  int64_t generate_requests() const { return generate_requests_; }
  int64_t loglik_requests() const { return loglik_requests_; }

 private:
  std::map<std::string, std::string> script_;
  Responder default_;
  std::chrono::microseconds delay_{0};
  int64_t generate_requests_ = 0;
  int64_t loglik_requests_ = 0;
};

}  // namespace scout::harness

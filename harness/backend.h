#pragma once
// The narrow interface between the harness and whatever produces model outputs: the native
// engine (harness/backends/native.h), a fake for tests (harness/testing/fake_backend.h), and
// later an OpenAI-compatible HTTP server. The harness never includes engine headers itself.
//
// Both calls are batched: a vector of requests in, one response per request out, in order.
// A backend may reorder or group the work internally, but each response must depend only on
// its own request (never on which other requests share the batch), so that a resumed run
// reproduces an uninterrupted one.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace scout::harness {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
  bool operator==(const ChatMessage&) const = default;
};

// What the model sees: plain text (completion style) or a conversation that the backend
// renders with the model's own chat template (generation prompt appended).
struct Prompt {
  bool chat = false;
  std::string text;                   // when !chat
  std::vector<ChatMessage> messages;  // when chat
};

struct GenerationSettings {
  int64_t max_tokens = 256;
  double temperature = 0.0;  // 0 = greedy
  double top_p = 1.0;        // 1 = off
  int64_t top_k = 0;         // 0 = off
  uint64_t seed = 0;         // per request, so results do not depend on batching
  std::vector<std::string> stop;  // generation ends before the first of these strings
};

struct GenerateRequest {
  Prompt prompt;
  GenerationSettings settings;
};

struct GenerateResponse {
  std::string text;              // generated text, cut before a stop string
  std::string rendered_prompt;   // the exact text tokenized (chat template applied), if known
  std::string finish_reason;     // "length", "stop", "eos", "context"...
  int64_t n_prompt_tokens = 0;
  int64_t n_output_tokens = 0;
  double seconds = 0.0;          // this request's share of the wall time
};

// log P(continuation | context): the context is text or a chat conversation (rendered with
// the generation prompt); the continuation is appended as plain text.
struct LoglikRequest {
  Prompt context;
  std::string continuation;
};

struct LoglikResponse {
  double logprob = 0.0;          // sum over the continuation's tokens
  bool greedy = false;           // every continuation token was the argmax
  std::string rendered_context;  // the exact context text, if known
  int64_t n_context_tokens = 0;
  int64_t n_continuation_tokens = 0;
  double seconds = 0.0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // A short description for logs and the run record, e.g. "native:SmolLM2-135M.Q4_1.gguf".
  virtual std::string describe() const = 0;
  virtual std::vector<GenerateResponse> generate_until(std::span<const GenerateRequest> requests) = 0;
  virtual std::vector<LoglikResponse> loglikelihood(std::span<const LoglikRequest> requests) = 0;
};

}  // namespace scout::harness

#pragma once
// The native inference runtime: a loaded model, a thread arena, and batched evaluation of
// many sequences at once (prompt logits, generation, log-likelihood scoring).
//
// Scheduling: up to max_seqs sequences are live at a time, each with its own KV cache. Every
// step runs one forward pass over at most n_batch tokens: a single token for each sequence
// that is decoding, then prefill chunks of the others, so weights are read once per step and
// attention runs per sequence. Since no result depends on which sequences share a step (see
// engine/kernels/cpu/matmul.h), a request gives the same tokens and logits alone or batched.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <tbb/task_arena.h>

#include "engine/model/forward.h"
#include "engine/model/kv_cache.h"
#include "engine/model/weights.h"
#include "engine/runtime/sampling.h"

namespace scout::tok {
class Tokenizer;
}

namespace scout::runtime {

namespace detail {
class Job;  // one sequence being evaluated (engine.cpp)
}

using Tokens = std::vector<int32_t>;

struct EngineOptions {
  int n_threads = 0;                            // 0 = every hardware thread
  model::KvType kv_type = model::KvType::F16;   // llama.cpp's default; F32 for exactness
  int64_t n_ctx = 0;                            // tokens per sequence; 0 = the model's training context
  int64_t n_batch = 512;                        // most tokens in one forward pass
  int64_t max_seqs = 16;                        // most sequences live at once
  bool share_contexts = true;                   // loglikelihood: evaluate a repeated context once
  model::ModelOptions model;
};

// Called after each forward pass with (prompt tokens evaluated, prompt tokens in all).
using ProgressFn = std::function<void(int64_t done, int64_t total)>;

struct GenerationRequest {
  Tokens prompt;                           // at least one token (normally starting with BOS)
  int64_t max_tokens = 256;
  SamplingParams sampling;
  bool stop_at_eog = true;                 // stop at the vocabulary's end-of-generation tokens
  std::vector<int32_t> stop_tokens;        // further tokens that end generation
  std::vector<std::string> stop_strings;   // end generation when the text contains one (needs a tokenizer)
};

enum class FinishReason { Length, StopToken, StopString, ContextFull };
const char* finish_reason_name(FinishReason r);

struct GenerationResult {
  Tokens tokens;             // generated tokens: without a stop token, with those of a stop string
  std::string text;          // their text (needs a tokenizer), cut where a stop string begins
  FinishReason finish = FinishReason::Length;
  int32_t stop_token = -1;   // the stop token met (FinishReason::StopToken)
  std::string stop_string;   // the stop string met (FinishReason::StopString)
};

struct LoglikRequest {
  Tokens context;       // at least one token (normally starting with BOS)
  Tokens continuation;  // at least one token
};

struct LoglikResult {
  double logprob = 0.0;                // sum of token_logprobs
  bool greedy = true;                  // every continuation token was the argmax (ties: lowest id)
  std::vector<double> token_logprobs;  // log P(continuation[i] | context, continuation[:i])
};

class Engine {
 public:
  static std::unique_ptr<Engine> load(const std::string& path, const EngineOptions& opts = {});
  ~Engine();

  const model::Model& model() const { return *model_; }
  const model::HParams& hparams() const { return model_->hp; }
  const EngineOptions& options() const { return opts_; }
  int64_t n_ctx() const { return opts_.n_ctx; }
  int n_threads() const { return arena_.max_concurrency(); }
  // The GGUF's tokenizer, or nullptr when the file has none scout-eval reads (then
  // tokenizer_error() says why).
  const tok::Tokenizer* tokenizer() const { return tokenizer_.get(); }
  const std::string& tokenizer_error() const { return tokenizer_error_; }
  // Tokens that end generation by default: the vocabulary's EOS/EOT/end-of-message tokens.
  const std::vector<int32_t>& eog_tokens() const { return eog_; }

  // Logits of every position of each prompt, row-major [prompt size x n_vocab], handed to
  // `done(i, logits)` as each prompt finishes (any order). Throws scout::Error (before any
  // work) for an empty prompt, a prompt longer than the context or a bad token id.
  void prompt_logits(std::span<const Tokens> prompts, const std::function<void(size_t, std::vector<float>&&)>& done,
                     const ProgressFn& progress = {});
  std::vector<std::vector<float>> prompt_logits(std::span<const Tokens> prompts, const ProgressFn& progress = {});

  std::vector<GenerationResult> generate(std::span<const GenerationRequest> requests,
                                         const ProgressFn& progress = {});

  std::vector<LoglikResult> loglikelihood(std::span<const LoglikRequest> requests, const ProgressFn& progress = {});

  // Low level: a fresh cache for one sequence, and one forward pass on the engine's threads.
  model::KvCache new_cache() const;
  std::vector<float> forward(std::span<const model::SeqInput> batch);
  // Reads every weight byte decoding token `token` reads (model::decode_read_set) and does
  // nothing else, on the engine's threads: the ceiling a decode step is measured against, in
  // the same arena, mapping and minute. Returns the bytes' checksum (kernels::cpu::read_sum).
  uint64_t read_decode_weights(int64_t token) const;

 private:
  Engine() = default;
  void run_jobs(std::vector<std::unique_ptr<detail::Job>>& jobs, const ProgressFn& progress);
  void check_tokens(const Tokens& t, const char* what, size_t index) const;

  EngineOptions opts_;
  std::unique_ptr<model::Model> model_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;
  std::string tokenizer_error_;
  std::vector<int32_t> eog_;
  mutable tbb::task_arena arena_;
};

}  // namespace scout::runtime

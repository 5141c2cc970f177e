#pragma once
// The native engine as a harness Backend: tokenizes with the GGUF's own tokenizer, renders
// chat prompts with its chat template, and runs batched generation and log-likelihood scoring
// in engine/runtime. This file and native.cpp are the only harness code that sees the engine.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/backend.h"

namespace scout::harness {

struct NativeOptions {
  int n_threads = 0;          // 0 = every hardware thread
  int64_t n_ctx = 0;          // tokens per sequence; 0 = min(training context, 8192)
  int64_t n_batch = 512;      // tokens per forward pass
  int64_t max_seqs = 16;      // sequences evaluated together
  bool kv_f32 = false;        // F32 KV cache (exact) instead of F16 (llama.cpp's default)
  bool prefix_reuse = true;   // log-likelihood: a context shared by options is evaluated once
  std::string chat_template;  // override the GGUF's template by name ("llama4", "chatml"...)
  bool progress = false;      // the engine's own prefill progress (off: the harness shows its own)
};

class NativeBackend : public Backend {
 public:
  // Loads the model. Throws scout::Error when the file cannot be run or has no usable tokenizer.
  NativeBackend(const std::string& gguf_path, const NativeOptions& options);
  ~NativeBackend() override;

  std::string describe() const override;
  // The settings that change results (part of a run's identity).
  nlohmann::json config() const;

  std::vector<GenerateResponse> generate_until(std::span<const GenerateRequest> requests) override;
  std::vector<LoglikResponse> loglikelihood(std::span<const LoglikRequest> requests) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scout::harness

#pragma once
// Deterministic random-weight models in GGUF, for tests and benchmarks: Llama 4 has no small
// real checkpoint, so scout-eval makes its own at any size, from tiny to the real Scout
// layer shapes. Same options and seed -> the same bytes, whatever the thread count.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/quant/types.h"

namespace scout::model {

struct Preset {
  std::string name;
  std::string arch;          // "llama" | "llama4"
  std::string description;
  int64_t n_vocab, n_ctx, n_embd, n_layer, n_head, n_head_kv, n_ff;
  int64_t n_expert = 0, n_expert_used = 0, n_ff_exp = 0, moe_layer_step = 0;
  float rope_freq_base = 500000.0f;
  float rms_eps = 1e-5f;
  // llama3-style RoPE scaling written as a rope_freqs tensor (0 = none).
  float rope_scale_factor = 0.0f;
  int64_t rope_orig_ctx = 8192;
};

const std::vector<Preset>& presets();
const Preset& find_preset(const std::string& arch, const std::string& name);  // throws Error

struct RandomModelOptions {
  std::string arch = "llama4";
  std::string preset = "tiny-scout";
  int64_t layers = 0;                         // 0 = the preset's depth
  uint64_t seed = 0;
  quant::GgmlType dtype = quant::GgmlType::F16;  // F32 | F16 | BF16 for weight matrices
  std::string vocab_from;                     // copy tokenizer.* metadata from this GGUF
  std::string output;
};

// Writes the model (atomically). `progress(done, total)` is called after each tensor.
void write_random_model(const RandomModelOptions& opt,
                           const std::function<void(size_t, size_t)>& progress = nullptr);

}  // namespace scout::model

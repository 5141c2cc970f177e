#pragma once
// Hyperparameters of the supported architectures, read from GGUF metadata, and the tensor
// set each architecture requires (names and shapes in ggml order), so that a model file is
// checked completely before any forward pass touches it.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/gguf/gguf.h"

namespace scout::model {

enum class Arch { Llama, Llama4 };

struct HParams {
  Arch arch = Arch::Llama;
  std::string arch_name;          // "llama" | "llama4"
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;           // rope.dimension_count / key_length
  int64_t n_rot = 0;              // rotated dimensions per head (rope.dimension_count), <= head_dim
  int64_t n_ff = 0;               // dense FFN width
  int64_t n_expert = 0;           // 0 for dense models
  int64_t n_expert_used = 0;
  int64_t n_ff_exp = 0;           // routed (and shared) expert FFN width
  int64_t moe_layer_step = 0;     // llama4: 1 = every layer MoE (Scout), 2 = alternating (Maverick)
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;   // linear RoPE scaling: positions are multiplied by this
  float rms_eps = 1e-5f;
  // llama4 iRoPE: every `nope_layer_step`-th layer (1-based) has no RoPE and full attention;
  // the others attend within chunks of `attn_chunk` tokens.
  int64_t nope_layer_step = 0;
  int64_t attn_chunk = 0;
  // llama4: weightless RMS norm of Q and K after RoPE on RoPE layers (HF use_qk_norm). llama.cpp
  // turns it off for the 128-expert model (Maverick's config has use_qk_norm = false).
  bool use_qk_norm = false;
  // llama4 attention temperature on NoPE layers: q *= log(floor((pos + 1) / attn_temp_floor) + 1)
  // * attn_temp_scale + 1 (HF floor_scale 8192, attn_scale 0.1). attn_temp_floor 0 = off.
  int64_t attn_temp_floor = 0;
  float attn_temp_scale = 0.0f;
  bool tied_output = false;       // no output.weight: the token embedding is reused
  bool has_rope_freqs = false;

  bool is_moe_layer(int64_t layer) const;
  bool is_nope_layer(int64_t layer) const;
  // llama4 local layers: attention restricted to the query's chunk of attn_chunk positions.
  bool is_chunked_layer(int64_t layer) const;
  int64_t n_params() const;       // weights implied by the shapes (without norms)
};

// Reads and checks the hyperparameters; throws gguf::FormatError naming the key.
HParams load_hparams(const gguf::File& f);

struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> dims;
  bool required = true;
};
std::vector<ExpectedTensor> expected_tensors(const HParams& hp);

// Every problem found when matching the file's tensors against the architecture (missing,
// wrong shape, unexpected extra tensors, types scout-eval cannot compute on). Empty = valid.
std::vector<std::string> check_tensors(const gguf::File& f, const HParams& hp);

}  // namespace scout::model

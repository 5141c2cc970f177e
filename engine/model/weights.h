#pragma once
// A loaded model: the mapped GGUF, its hyperparameters, and views of every weight matrix in
// its stored type (nothing is dequantized at load except the small norm and rope vectors).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/gguf/gguf.h"
#include "engine/kernels/cpu/matmul.h"
#include "engine/kernels/cpu/memory_read.h"
#include "engine/model/hparams.h"

namespace scout::model {

using kernels::cpu::WeightView;

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;
  WeightView wq, wk, wv, wo;
  // Dense SwiGLU FFN (layers that are not MoE).
  WeightView ffn_gate, ffn_up, ffn_down;
  // MoE: router [n_expert x n_embd]; experts stacked along rows (expert e = rows e*n_ff_exp..).
  WeightView router, gate_exps, up_exps, down_exps;
  // llama4's shared expert, applied to every token beside the routed ones.
  WeightView gate_shexp, up_shexp, down_shexp;
  bool moe = false;
};

struct ModelOptions {
  // Called on the hyperparameters after they are read and before anything is sized from
  // them. Tests use it to shrink llama4's chunk (8192) and temperature floor so that chunked
  // attention and the NoPE temperature can be checked at small positions.
  std::function<void(HParams&)> adjust_hparams;
};

struct Model {
  std::unique_ptr<gguf::File> file;
  HParams hp;
  WeightView token_embd;   // [n_vocab rows x n_embd]
  WeightView output;       // the LM head: output.weight, or token_embd when tied
  std::vector<float> output_norm;
  std::vector<float> rope_freqs;  // llama3 frequency factors (n_rot / 2), empty when absent
  std::vector<LayerWeights> layers;

  // Opens, validates (architecture, every tensor's presence, shape and type) and maps a
  // model. Throws scout::Error (gguf::FormatError for malformed files) naming the problems.
  static std::unique_ptr<Model> load(const std::string& path, const ModelOptions& opts = {});
  static std::unique_ptr<Model> load(std::unique_ptr<gguf::File> file, const ModelOptions& opts = {});
};

// The weight bytes one decoded token must read, as spans of the mapped file: every layer's
// attention projections, the router, n_expert_used routed experts and the shared expert (or
// the dense FFN), the LM head and one embedding row. The routed experts stand in for the
// router's choice: token t takes experts (t * n_expert_used + k) % n_expert, so a run of tokens
// visits every expert as real decoding does (and no cache keeps them between tokens).
std::vector<kernels::cpu::ByteSpan> decode_read_set(const Model& m, int64_t token);

// The size of that set. Decoding at batch 1 is bounded by this over the memory bandwidth.
uint64_t decode_bytes_per_token(const Model& m);

}  // namespace scout::model

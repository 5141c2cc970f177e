#pragma once
// One transformer layer per architecture, over the building blocks of layers.h. Each updates
// the residual stream x [n_tokens x n_embd] of a batch in place and stores the layer's K/V.
#include <cstdint>

#include "engine/model/layers.h"
#include "engine/model/weights.h"

namespace scout::model {

// Llama 1-3 / SmolLM2 (arch_llama.cpp): RoPE on every layer, full causal attention, SwiGLU.
void llama_layer(const Model& m, const Rope& rope, int64_t layer, const BatchLayout& batch, float* x);

// Llama 4 Scout / Maverick (arch_llama4.cpp): iRoPE (chunked RoPE layers with Q/K norm,
// global NoPE layers with attention temperature) and sigmoid-routed MoE with a shared expert.
void llama4_layer(const Model& m, const Rope& rope, int64_t layer, const BatchLayout& batch, float* x);

// The llama4 MoE FFN for n rows of normed input h: routed experts plus the shared expert.
void llama4_moe(const LayerWeights& w, const HParams& hp, const float* h, int64_t n, float* out);

// Experts chosen for one token: the top k raw router logits (ties to the lower index), in
// descending order of logit. Exposed for tests.
void top_k_experts(const float* logits, int64_t n_expert, int64_t k, int64_t* chosen);

// llama4's NoPE-layer query scale at `pos`: log(floor((pos + 1) / floor_scale) + 1) * scale + 1.
float llama4_attn_temperature(int64_t pos, int64_t floor_scale, float scale);

}  // namespace scout::model

#pragma once
// RMSNorm and the fused Q/K transform between the projections and attention (CUDA).
// Oracles: model::rms_norm, model::Rope::apply and llama4_layer's Q/K lambda
// (engine/model/layers.cpp, arch_llama4.cpp), and model::KvCache::write (F16).
#include <cstdint>

#include "engine/kernels/cuda/attention_cuda.h"

namespace scout::cuda {

// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) [* weight], rows of n floats; the sum of squares
// in double as the reference. weight may be null (the weightless norm).
void rms_norm(const float* d_x, const float* d_weight, float* d_out, int64_t rows, int64_t n, float eps,
              void* stream);

struct QkParams {
  int32_t n_head = 0, n_head_kv = 0, head_dim = 0;
  int32_t n_rot = 0;               // rotated dimensions per head (<= head_dim, even)
  bool rope = true;                // RoPE layer (llama4: not a NoPE layer)
  float theta_scale = 0.0f;        // rope_theta_scale(base, n_rot)
  float freq_scale = 1.0f;         // linear RoPE scaling
  const float* freq_factors = nullptr;  // device, n_rot / 2 (llama3 rope_freqs), or null
  bool qk_norm = false;            // weightless RMS norm of every Q and K head after RoPE (RoPE layers only)
  float eps = 1e-5f;
  int64_t temp_floor = 0;          // > 0: NoPE temperature on Q (llama4 global layers)
  float temp_scale = 0.0f;
};

// base^(-2 / n_rot), computed as model::Rope computes it (so angles round identically).
float rope_theta_scale(float base, int64_t n_rot);

// For every token of every sequence (position pos0 + i): Q and K rows transformed in place in
// the reference's order (RoPE on adjacent pairs, then QK-norm; or the NoPE temperature on Q),
// then K and V rounded to F16 into the sequence's caches at that position.
// q: [n_tokens x n_head * head_dim], k, v: [n_tokens x n_head_kv * head_dim], F32.
void qk_rope_norm_store(const QkParams& p, const AttnSeq* d_seqs, int32_t n_seqs, int32_t max_n_q, float* d_q,
                        float* d_k, const float* d_v, void* stream);

}  // namespace scout::cuda

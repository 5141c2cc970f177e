// The llama4 architecture (Llama 4 Scout and Maverick text models).
//
// Sources: Hugging Face transformers modeling_llama4.py (Llama4TextAttention, Llama4TextMoe)
// and llama.cpp's llama4 graph (src/models/llama4.cpp, build_moe_ffn with LLM_ARCH_LLAMA4).
//
// Attention (iRoPE): layers with (il + 1) % 4 == 0 are NoPE layers: no RoPE, full causal
// attention, and the query scaled by the temperature log(floor((pos + 1) / 8192) + 1) * 0.1
// + 1. The other layers apply RoPE, then a weightless RMS norm to every Q and K head (not for
// the 128-expert Maverick), and attend only within chunks of 8192 positions.
//
// FFN: MoE layers (every layer for Scout, every second for Maverick) pick the top-k experts
// by RAW router logit, weight each by sigmoid(logit) without renormalizing, and apply the
// weight to the expert's INPUT: y = down(silu(gate(w h)) * up(w h)). The shared expert runs
// on the unweighted h and is added. Dense layers use the plain SwiGLU FFN.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/kernels/cpu/matmul.h"
#include "engine/model/arch.h"

namespace scout::model {

using kernels::cpu::matmul;

float llama4_attn_temperature(int64_t pos, int64_t floor_scale, float scale) {
  return float(std::log(std::floor(double(pos + 1) / double(floor_scale)) + 1.0) * scale + 1.0);
}

void top_k_experts(const float* logits, int64_t n_expert, int64_t k, int64_t* chosen) {
  std::vector<int64_t> idx(static_cast<size_t>(n_expert));
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  std::copy(idx.begin(), idx.begin() + k, chosen);
}

void llama4_moe(const LayerWeights& w, const HParams& hp, const float* h, int64_t n, float* out) {
  const int64_t d = hp.n_embd, ff = hp.n_ff_exp, k = hp.n_expert_used, n_exp = hp.n_expert;
  std::vector<float> logits(size_t(n * n_exp));
  matmul(w.router, h, n, logits.data());

  // Route: for each expert the (token, slot) pairs that chose it.
  std::vector<int64_t> chosen(size_t(n * k));
  std::vector<std::vector<int64_t>> assigned(static_cast<size_t>(n_exp));  // entries t * k + slot
  for (int64_t t = 0; t < n; ++t) {
    top_k_experts(logits.data() + t * n_exp, n_exp, k, chosen.data() + t * k);
    for (int64_t s = 0; s < k; ++s) assigned[size_t(chosen[size_t(t * k + s)])].push_back(t * k + s);
  }

  // Each expert runs on its own tokens' weighted inputs; outputs land in their slot. The
  // experts and the shared expert are independent tasks: a decode step of many sequences
  // gives each expert a token or two, too little to split one matrix product over threads, so
  // the tasks themselves run in parallel (each product's arithmetic is the same whichever
  // thread runs it: results do not change).
  std::vector<float> slot_out(size_t(n * k * d)), shared(size_t(n * d));
  std::vector<int64_t> busy;
  for (int64_t e = 0; e < n_exp; ++e)
    if (!assigned[size_t(e)].empty()) busy.push_back(e);
  parallel_rows(int64_t(busy.size()) + 1, [&](int64_t task) {
    if (task == int64_t(busy.size())) {
      swiglu(w.gate_shexp, w.up_shexp, w.down_shexp, h, n, shared.data());
      return;
    }
    const int64_t e = busy[size_t(task)];
    const auto& entries = assigned[size_t(e)];
    const int64_t m = int64_t(entries.size());
    std::vector<float> xe(size_t(m * d)), ye(size_t(m * d));
    for (int64_t i = 0; i < m; ++i) {
      const int64_t t = entries[size_t(i)] / k;
      const float logit = logits[size_t(t * n_exp + e)];
      const float weight = 1.0f / (1.0f + std::exp(-logit));
      for (int64_t c = 0; c < d; ++c) xe[size_t(i * d + c)] = h[t * d + c] * weight;
    }
    swiglu(w.gate_exps.rows(e * ff, ff), w.up_exps.rows(e * ff, ff), w.down_exps.rows(e * d, d), xe.data(), m,
           ye.data());
    for (int64_t i = 0; i < m; ++i)
      std::copy(ye.begin() + i * d, ye.begin() + (i + 1) * d, slot_out.begin() + entries[size_t(i)] * d);
  });

  // out = (slot 0 + slot 1 + ...) + shared expert, summed in that fixed order.
  for (int64_t t = 0; t < n; ++t) {
    float* o = out + t * d;
    std::copy(slot_out.begin() + t * k * d, slot_out.begin() + (t * k + 1) * d, o);
    for (int64_t s = 1; s < k; ++s) add_in_place(o, slot_out.data() + (t * k + s) * d, d);
    add_in_place(o, shared.data() + t * d, d);
  }
}

namespace {

void moe_ffn_block(const LayerWeights& w, const HParams& hp, int64_t n_tokens, float* x) {
  const int64_t d = hp.n_embd;
  std::vector<float> h(size_t(n_tokens * d)), y(size_t(n_tokens * d));
  rms_norm_rows(x, n_tokens, d, hp.rms_eps, w.ffn_norm.data(), h.data());
  llama4_moe(w, hp, h.data(), n_tokens, y.data());
  add_in_place(x, y.data(), n_tokens * d);
}

}  // namespace

void llama4_layer(const Model& m, const Rope& rope, int64_t layer, const BatchLayout& batch, float* x) {
  const HParams& hp = m.hp;
  const LayerWeights& w = m.layers[size_t(layer)];
  const bool nope = hp.is_nope_layer(layer);
  auto qk = [&](int64_t pos, float* q, float* k) {
    if (nope) {
      if (hp.attn_temp_floor > 0) {
        const float temp = llama4_attn_temperature(pos, hp.attn_temp_floor, hp.attn_temp_scale);
        for (int64_t i = 0; i < hp.n_head * hp.head_dim; ++i) q[i] *= temp;
      }
      return;
    }
    rope.apply(q, hp.n_head, pos);
    rope.apply(k, hp.n_head_kv, pos);
    if (!hp.use_qk_norm) return;
    for (int64_t h = 0; h < hp.n_head; ++h) rms_norm(q + h * hp.head_dim, hp.head_dim, hp.rms_eps, nullptr, q + h * hp.head_dim);
    for (int64_t h = 0; h < hp.n_head_kv; ++h) rms_norm(k + h * hp.head_dim, hp.head_dim, hp.rms_eps, nullptr, k + h * hp.head_dim);
  };
  attention_block(w, hp, layer, batch, qk, hp.is_chunked_layer(layer) ? hp.attn_chunk : 0, x);
  if (w.moe)
    moe_ffn_block(w, hp, batch.n_tokens(), x);
  else
    dense_ffn_block(w, hp, batch.n_tokens(), x);
}

}  // namespace scout::model

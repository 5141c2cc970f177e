// The llama architecture (Llama 1-3.x, SmolLM2) as llama.cpp's llm_build_llama computes it:
//   h = x + Wo * Attn(RoPE(Wq n), RoPE(Wk n), Wv n),  n = RMSNorm(x) * attn_norm
//   x' = h + W_down(silu(W_gate m) * W_up m),           m = RMSNorm(h) * ffn_norm
// with RoPE on every layer (rope_freqs factors for Llama 3.1+) and full causal attention.
#include "engine/model/arch.h"

namespace scout::model {

void llama_layer(const Model& m, const Rope& rope, int64_t layer, const BatchLayout& batch, float* x) {
  const HParams& hp = m.hp;
  const LayerWeights& w = m.layers[size_t(layer)];
  auto rope_qk = [&](int64_t pos, float* q, float* k) {
    rope.apply(q, hp.n_head, pos);
    rope.apply(k, hp.n_head_kv, pos);
  };
  attention_block(w, hp, layer, batch, rope_qk, /*chunk=*/0, x);
  dense_ffn_block(w, hp, batch.n_tokens(), x);
}

}  // namespace scout::model

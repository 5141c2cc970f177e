#pragma once
// Building blocks shared by the llama and llama4 forward passes. Every block works on a batch
// of tokens from one or more sequences and keeps each token's arithmetic independent of the
// others in the batch (see kernels/cpu/matmul.h), so results never depend on batching.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/model/hparams.h"
#include "engine/model/kv_cache.h"
#include "engine/model/weights.h"

namespace scout::model {

// The tokens of one forward call, grouped by sequence (each sequence's tokens contiguous).
struct BatchLayout {
  struct Seq {
    KvCache* cache = nullptr;
    int64_t first = 0;  // index of its first token in the batch
    int64_t n = 0;      // number of its tokens in the batch
    int64_t pos0 = 0;   // position of its first token (the cache size before the call)
  };
  std::vector<Seq> seqs;
  std::vector<int64_t> pos;  // position of every batch token
  int64_t n_tokens() const { return int64_t(pos.size()); }
};

// out = x / sqrt(mean(x^2) + eps) [* weight]: RMSNorm, or the weightless norm llama4 applies
// to Q and K when weight is null. The sum of squares is accumulated in double, as ggml does.
void rms_norm(const float* x, int64_t n, float eps, const float* weight, float* out);
// The same for n_rows rows of n, in parallel.
void rms_norm_rows(const float* x, int64_t n_rows, int64_t n, float eps, const float* weight, float* out);

// Rotary position embedding in ggml's "normal" mode: rotates ADJACENT pairs (x[2i], x[2i+1])
// of the first n_rot dimensions of each head by theta_i = pos * base^(-2i/n_rot) / factor_i
// * freq_scale (factor_i from rope_freqs, llama3 scaling; 1 without). GGUF llama/llama4 Q and
// K weights are stored so that this pairing is the model's own.
class Rope {
 public:
  Rope(const HParams& hp, std::span<const float> freq_factors);
  // x holds n_heads heads of head_dim floats, rotated in place.
  void apply(float* x, int64_t n_heads, int64_t pos) const;

 private:
  int64_t head_dim_, n_rot_;
  float theta_scale_, freq_scale_;
  std::vector<float> factors_;
};

// First key position a query at `pos` attends to: 0 for full causal attention; for chunked
// attention (chunk > 0) the start of the query's chunk, floor(pos / chunk) * chunk. Keys run
// from there up to the query's own position.
inline int64_t attention_window_start(int64_t pos, int64_t chunk) { return chunk > 0 ? pos / chunk * chunk : 0; }

// Writes K and V ([n_tokens x kv_dim] each) of every batch token into its sequence's cache.
void store_kv(const BatchLayout& batch, int64_t layer, const float* k, const float* v);

// Causal grouped-query attention of every batch token over its own sequence's cache (K/V of
// this layer already stored), scores scaled by 1/sqrt(head_dim). q: [n_tokens x n_head *
// head_dim]; out the same shape. Query head h uses KV head h / (n_head / n_head_kv).
void attention(const BatchLayout& batch, const HParams& hp, int64_t layer, const float* q, int64_t chunk,
               float* out);

inline void add_in_place(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

// SwiGLU feed-forward for n rows of x: down(silu(gate x) * up x), silu(z) = z / (1 + e^-z).
void swiglu(const WeightView& gate, const WeightView& up, const WeightView& down, const float* x, int64_t n,
            float* out);

// The architecture-specific treatment of one token's Q and K ([n_head x head_dim] and
// [n_head_kv x head_dim]) between the projection and the cache: RoPE, norms, temperature.
using QkTransform = std::function<void(int64_t pos, float* q, float* k)>;

// Attention sub-layer: x += wo * attention(qk(wq h, wk h), wv h) with h = RMSNorm(x).
// x is the residual stream, [n_tokens x n_embd].
void attention_block(const LayerWeights& w, const HParams& hp, int64_t layer, const BatchLayout& batch,
                     const QkTransform& qk, int64_t chunk, float* x);

// Dense FFN sub-layer: x += swiglu(RMSNorm(x)).
void dense_ffn_block(const LayerWeights& w, const HParams& hp, int64_t n_tokens, float* x);

// Runs f(i) for i in [0, n) on the current TBB arena.
void parallel_rows(int64_t n, const std::function<void(int64_t)>& f);

}  // namespace scout::model

#pragma once
// Attention over an F16 KV cache (CUDA), with Llama 4's masks. Oracle: model::attention
// (engine/model/layers.cpp) over a model::KvCache of type F16.
//
// Layout: q and out are [n_tokens x n_head * head_dim] F32 (a batch of sequences, each
// sequence's tokens contiguous). A sequence's K and V caches for the layer are
// [positions x n_head_kv * head_dim] F16, position-major (model::KvCache's layout); the new
// tokens' K/V must already be stored (qk_rope_norm_store does that). Query head h reads KV
// head h / (n_head / n_head_kv). Scores are scaled by `scale`, masked by hd::key_visible
// (causal; on chunked layers also within the query's chunk of `chunk` positions).
//
//   attention_prefill: flash-style. A block takes 64 queries of one head, walks 64-key tiles
//     of the visible range with Q.K^T and P.V on tensor cores (wmma, F16 operands, F32
//     accumulation) and an online softmax in F32. head_dim 64 or 128.
//   attention_decode: split-K. A block takes one query token and one KV head (all its query
//     heads), one of n_split ranges of the visible keys, in F32 on CUDA cores; a second kernel
//     merges the splits' (max, sum, output) partials. head_dim 64 or 128, <= 8 query heads
//     per KV head.
#include <cstdint>

namespace scout::cuda {

// One sequence of the batch (an array of these lives in device memory).
struct AttnSeq {
  uint16_t* k = nullptr;  // this layer's K cache, F16 bits
  uint16_t* v = nullptr;  // this layer's V cache, F16 bits
  int32_t q_first = 0;    // its first row in q / out
  int32_t n_q = 0;        // its tokens in this batch
  int32_t pos0 = 0;       // position of its first token in the batch (= cache size before)
  int32_t reserved = 0;
};

struct AttnShape {
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
  int64_t chunk = 0;   // 0: global causal attention; > 0: llama4 chunked attention
  float scale = 0.0f;  // 1 / sqrt(head_dim) for llama/llama4
};

// max_n_q: the largest n_q of the sequences (grid sizing).
void attention_prefill(const AttnShape& shape, const AttnSeq* d_seqs, int32_t n_seqs, int32_t max_n_q,
                       const float* d_q, float* d_out, void* stream);

// Splits worth using for keys up to max_kv long (256-key granules, at most 32).
int32_t attention_decode_splits(int64_t max_kv);
// Floats of scratch attention_decode needs: n_tokens * n_head * n_split * (head_dim + 2).
int64_t attention_decode_workspace_floats(const AttnShape& shape, int64_t n_tokens, int32_t n_split);
// d_work: attention_decode_workspace_floats(shape, total tokens in q, n_split) floats.
void attention_decode(const AttnShape& shape, const AttnSeq* d_seqs, int32_t n_seqs, int32_t max_n_q,
                      int32_t n_split, const float* d_q, float* d_work, float* d_out, void* stream);

}  // namespace scout::cuda

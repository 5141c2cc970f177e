#pragma once
// The forward pass over a batch of sequences: each sequence brings new tokens (a prefill
// chunk or a single decode token) that are appended to its KV cache. Weights are read once
// per batch; attention runs per sequence. Logits come back for the tokens asked for.
#include <cstdint>
#include <span>
#include <vector>

#include "engine/model/kv_cache.h"
#include "engine/model/weights.h"

namespace scout::model {

struct SeqInput {
  KvCache* cache = nullptr;           // the sequence's cache; the tokens take positions cache->size() ...
  std::span<const int32_t> tokens;    // at least one
  int64_t n_logits = 1;               // logits for the last n_logits tokens (0 = none)
};

// Runs the batch and advances every cache by its tokens. Returns the logits, row-major
// [sum of n_logits x n_vocab], sequence by sequence in input order. Throws scout::Error for
// an out-of-range token id, a sequence past its context, or the same cache twice; the caches
// are then left as they were.
std::vector<float> forward(const Model& m, std::span<const SeqInput> batch);

}  // namespace scout::model

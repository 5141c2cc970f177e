#pragma once
// Running llama-perplexity's KL-divergence protocol on the native engine: the base model's
// pass writes a base-logits file (base_logits.h), the test model's pass reads it back chunk
// by chunk and accumulates the statistics of kl_divergence.h. The two passes never hold both
// models' full logits at once, so the memory is one group of chunks' logits.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/eval/base_logits.h"
#include "engine/eval/kl_divergence.h"

namespace scout::runtime {
class Engine;
}

namespace scout::eval {

// Called after each chunk with (chunks done, chunks in all).
using ChunkProgress = std::function<void(int64_t done, int64_t total)>;

// The tokens llama-perplexity evaluates for a text read with -f: one trailing '\n' dropped,
// BOS first when the vocabulary adds one, special-token text encoded as plain text.
std::vector<int32_t> tokenize_text(const runtime::Engine& engine, std::string text);

// The header of the base-logits file for `tokens`: n_chunk = chunk_count(...), tokens cut to
// n_chunk * n_ctx. Throws scout::Error when the text does not fill one chunk.
BaseLogitsHeader plan_chunks(const std::vector<int32_t>& tokens, int64_t n_ctx, int64_t max_chunks, int64_t n_vocab);

// The base pass: runs `engine` on every chunk and writes the file at `path`.
void write_base_logits(runtime::Engine& engine, const BaseLogitsHeader& header, const std::string& path,
                       const ChunkProgress& progress = {});

// The test pass: runs `engine` on every chunk of `base` and compares with its rows.
KldAccumulator compare_with_base(runtime::Engine& engine, BaseLogitsReader& base, const ChunkProgress& progress = {});

}  // namespace scout::eval

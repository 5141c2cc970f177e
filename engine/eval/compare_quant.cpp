#include "engine/eval/compare_quant.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "engine/runtime/engine.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"

namespace scout::eval {
namespace {

// Full logits of one group of chunks are held at once; bound them (the engine gives every
// position's logits, llama.cpp only the scored half).
constexpr double kLogitsBudgetBytes = 1024.0 * 1024 * 1024;

const tok::Tokenizer& tokenizer_of(const runtime::Engine& e) {
  const tok::Tokenizer* t = e.tokenizer();
  if (!t) throw Error("compare-quant needs the model's tokenizer: " + e.tokenizer_error());
  return *t;
}

// As llama-perplexity: each chunk starts with BOS when the vocabulary adds one.
std::optional<int32_t> chunk_bos(const runtime::Engine& e) {
  const auto& v = tokenizer_of(e).vocab();
  if (!v.add_bos || v.bos < 0) return std::nullopt;
  return v.bos;
}

int64_t group_size(const runtime::Engine& e, int64_t n_ctx) {
  const double bytes = double(n_ctx) * double(e.hparams().n_vocab) * sizeof(float);
  return std::clamp(int64_t(kLogitsBudgetBytes / bytes), int64_t(1), std::max<int64_t>(1, e.options().max_seqs));
}

// Logits of chunks [c0, c1), in order; reports progress in whole chunks.
std::vector<std::vector<float>> run_chunks(runtime::Engine& e, std::span<const int32_t> tokens, int64_t n_ctx, int64_t c0,
                                           int64_t c1, int64_t total, const ChunkProgress& progress) {
  const auto bos = chunk_bos(e);
  std::vector<runtime::Tokens> prompts;
  for (int64_t c = c0; c < c1; ++c) prompts.push_back(chunk_input(tokens, n_ctx, c, bos));
  return e.prompt_logits(prompts, [&](int64_t done, int64_t) {
    if (progress) progress(c0 + done / n_ctx, total);
  });
}

// Runs f(j) for every scored position j of a chunk on the engine's thread count.
template <typename F>
void for_each_position(const runtime::Engine& e, int64_t n_ctx, F&& f) {
  tbb::task_arena arena(e.n_threads());
  arena.execute([&] { tbb::parallel_for(int64_t(0), scored_per_chunk(n_ctx), [&](int64_t j) { f(j); }); });
}

void check_vocab(const runtime::Engine& e, int64_t n_vocab, const std::string& what) {
  if (e.hparams().n_vocab != n_vocab)
    throw Error(fmt::format("vocabulary mismatch: the test model has {} tokens, {} has {}", e.hparams().n_vocab, what,
                            n_vocab));
}

}  // namespace

std::vector<int32_t> tokenize_text(const runtime::Engine& engine, std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();  // as llama.cpp's -f
  const tok::Tokenizer& t = tokenizer_of(engine);
  auto ids = t.encode(text, t.vocab().add_bos, /*parse_special=*/false);
  return {ids.begin(), ids.end()};
}

BaseLogitsHeader plan_chunks(const std::vector<int32_t>& tokens, int64_t n_ctx, int64_t max_chunks, int64_t n_vocab) {
  BaseLogitsHeader h;
  h.n_ctx = n_ctx;
  h.n_vocab = n_vocab;
  h.n_chunk = chunk_count(int64_t(tokens.size()), n_ctx, max_chunks);
  if (h.n_chunk < 1)
    throw Error(fmt::format("the text is too short: {} tokens, one chunk needs {} (--ctx)", tokens.size(), n_ctx));
  h.tokens.assign(tokens.begin(), tokens.begin() + h.n_chunk * n_ctx);
  return h;
}

void write_base_logits(runtime::Engine& engine, const BaseLogitsHeader& h, const std::string& path,
                       const ChunkProgress& progress) {
  if (engine.hparams().n_vocab != h.n_vocab)
    throw Error(fmt::format("base model has {} tokens, the plan {}", engine.hparams().n_vocab, h.n_vocab));
  BaseLogitsWriter out(path, h);
  const int64_t first = first_scored(h.n_ctx), words = int64_t(packed_row_words(h.n_vocab));
  std::vector<uint16_t> rows(h.chunk_words());
  const int64_t step = group_size(engine, h.n_ctx);
  for (int64_t c0 = 0; c0 < h.n_chunk; c0 += step) {
    const int64_t c1 = std::min(h.n_chunk, c0 + step);
    const auto logits = run_chunks(engine, h.tokens, h.n_ctx, c0, c1, h.n_chunk, progress);
    for (int64_t c = c0; c < c1; ++c) {
      const std::vector<float>& l = logits[size_t(c - c0)];
      for_each_position(engine, h.n_ctx, [&](int64_t j) {
        const int64_t pos = first + j;
        pack_log_probs(std::span(l).subspan(size_t(pos * h.n_vocab), size_t(h.n_vocab)),
                       h.tokens[size_t(c * h.n_ctx + pos + 1)],
                       std::span(rows).subspan(size_t(j * words), size_t(words)));
      });
      out.write_chunk(rows);
    }
    if (progress) progress(c1, h.n_chunk);
  }
  out.finish();
}

KldAccumulator compare_with_base(runtime::Engine& engine, BaseLogitsReader& base, const ChunkProgress& progress) {
  const BaseLogitsHeader& h = base.header();
  check_vocab(engine, h.n_vocab, "the base logits " + base.path());
  if (engine.n_ctx() > 0 && engine.n_ctx() < h.n_ctx)
    throw Error(fmt::format("{} was computed with a context of {}, more than this run's {}", base.path(), h.n_ctx,
                            engine.n_ctx()));
  const int64_t first = first_scored(h.n_ctx), words = int64_t(packed_row_words(h.n_vocab));
  KldAccumulator acc;
  std::vector<uint16_t> rows;
  std::vector<PositionStats> stats(size_t(scored_per_chunk(h.n_ctx)));
  const int64_t step = group_size(engine, h.n_ctx);
  for (int64_t c0 = 0; c0 < h.n_chunk; c0 += step) {
    const int64_t c1 = std::min(h.n_chunk, c0 + step);
    const auto logits = run_chunks(engine, h.tokens, h.n_ctx, c0, c1, h.n_chunk, progress);
    for (int64_t c = c0; c < c1; ++c) {
      base.read_chunk(rows);
      const std::vector<float>& l = logits[size_t(c - c0)];
      for_each_position(engine, h.n_ctx, [&](int64_t j) {
        const int64_t pos = first + j;
        stats[size_t(j)] = compare_position(std::span(l).subspan(size_t(pos * h.n_vocab), size_t(h.n_vocab)),
                                            std::span<const uint16_t>(rows).subspan(size_t(j * words), size_t(words)),
                                            h.tokens[size_t(c * h.n_ctx + pos + 1)]);
      });
      for (const auto& s : stats) acc.add(s);  // in position order: sums independent of threads
    }
    if (progress) progress(c1, h.n_chunk);
  }
  return acc;
}

}  // namespace scout::eval

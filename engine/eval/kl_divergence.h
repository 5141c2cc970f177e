#pragma once
// The math of llama-perplexity's --kl-divergence, reproduced definition for definition so
// that `scout-eval compare-quant` and llama.cpp print the same numbers on the same logits
// (llama.cpp tools/perplexity/perplexity.cpp: perplexity(), kl_divergence()).
//
// Chunking: the text's tokens are cut into n_chunk = min(--chunks, n_tokens / n_ctx) windows
// of n_ctx tokens; the first token of each window is replaced by BOS when the vocabulary adds
// one. Positions first = n_ctx/2 .. n_ctx-2 are scored (each predicts the next token), so a
// chunk gives n_ctx - 1 - first tokens and the model always has at least n_ctx/2 of context.
//
// Base log-probabilities are kept as llama.cpp keeps them (the --kl-divergence-base file):
// per position, a float scale and a float minimum log-prob, then one uint16 per vocabulary
// entry over the range [max_logit - 16, max_logit]. Every base-side quantity (PPL(base), the
// KLD weights, the base's top token) is computed from that 16-bit form, exactly as llama.cpp.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace scout::eval {

// --- chunking

// Index of the first scored position in a chunk, and the scored positions per chunk.
inline int64_t first_scored(int64_t n_ctx) { return n_ctx / 2; }
inline int64_t scored_per_chunk(int64_t n_ctx) { return n_ctx - 1 - n_ctx / 2; }

// How many chunks a text of n_tokens gives: all that fit, or at most max_chunks when > 0.
int64_t chunk_count(int64_t n_tokens, int64_t n_ctx, int64_t max_chunks);

// The tokens a model is run on for chunk c: tokens[c*n_ctx, (c+1)*n_ctx) with the first one
// replaced by `bos` when given. Targets are always read from the unmodified tokens.
std::vector<int32_t> chunk_input(std::span<const int32_t> tokens, int64_t n_ctx, int64_t c, std::optional<int32_t> bos);

// --- the 16-bit base log-probability rows

// uint16 words per packed row: 2 floats (4 words) + n_vocab rounded up to even.
size_t packed_row_words(int64_t n_vocab);

// Packs one position's logits into `row` (packed_row_words(n_vocab) words; padding zeroed)
// and returns its negative log-likelihood of `target` from the unquantized logits.
double pack_log_probs(std::span<const float> logits, int32_t target, std::span<uint16_t> row);

// The log-probability of token i held by a packed row (scale * q + min_log_prob).
float packed_log_prob(std::span<const uint16_t> row, int64_t i);

// --- one scored position

struct PositionStats {
  float nll = 0;       // -log q(target) of the test model (float, as llama.cpp)
  float nll_base = 0;  // -log p(target) from the packed base row
  double kld = 0;      // sum over tokens with log p > -16 of p * (log p - log q)
  float p_diff = 0;    // q(target) - p(target)
  bool same_top = false;  // argmax of the test logits == argmax of the packed base (first max)
};

// Compares the test model's logits at one position with the base's packed row.
PositionStats compare_position(std::span<const float> test_logits, std::span<const uint16_t> base_row, int32_t target);

// --- aggregation

struct Estimate {
  double value = 0;
  double err = 0;  // standard error; 0 when it cannot be estimated (as llama.cpp: <= 10 values)
};

// llama.cpp's mean_and_uncertainty: mean of n values from their sum and sum of squares, with
// the standard error sqrt((E[x^2] - E[x]^2) / (n-1)), or 0 unless that is positive and n > 10.
Estimate mean_and_stderr(double sum, double sum2, int64_t count);
// Covariance of the two means: (E[ab] - E[a]E[b]) / (n-1), or 0 when n < 10.
double covariance_of_means(double sum_a, double sum_b, double sum_ab, int64_t count);

// llama.cpp's percentile of sorted values: linear interpolation at fraction*(n-1), computed in
// float; the ends for fraction <= 0 or >= 1. The median averages the two middle values.
float percentile_sorted(std::span<const float> sorted, float fraction);
float median_sorted(std::span<const float> sorted);

struct Distribution {  // of one per-token quantity, over every scored token
  double min = 0, p01 = 0, p1 = 0, p5 = 0, p10 = 0, p25 = 0, median = 0, p75 = 0, p90 = 0, p95 = 0,
         p99 = 0, p999 = 0, max = 0;
};

struct KldSummary {
  int64_t count = 0;               // tokens scored
  Estimate ppl_test, ppl_base;     // exp(mean nll) ± ppl * stderr(mean nll)
  double ln_ppl_correlation = 0;   // correlation of the two mean log-PPLs
  Estimate ln_ppl_ratio;           // mean(nll) - mean(nll_base), stderr with their covariance
  Estimate ppl_ratio;              // PPL(test)/PPL(base)
  Estimate ppl_diff;               // PPL(test) - PPL(base)
  Estimate kld_mean;
  Distribution kld;
  Estimate p_diff_mean;            // mean of q(target) - p(target) (a fraction, not %)
  Estimate p_diff_rms;             // sqrt(mean of squares), stderr by the delta method
  Distribution p_diff;
  Estimate same_top;               // fraction, stderr sqrt(p(1-p)/(n-1))
};

// Sums the positions in the order they are added (so the result does not depend on threads).
class KldAccumulator {
 public:
  void add(const PositionStats& s);
  int64_t count() const { return count_; }
  // Needs at least one position; throws scout::Error otherwise.
  KldSummary summary() const;

 private:
  double sum_nll_ = 0, sum_nll2_ = 0, sum_nll_base_ = 0, sum_nll_base2_ = 0, sum_nll_nll_base_ = 0;
  double sum_kld_ = 0, sum_kld2_ = 0, sum_p_diff_ = 0, sum_p_diff2_ = 0, sum_p_diff4_ = 0;
  int64_t n_same_top_ = 0, count_ = 0;
  std::vector<float> kld_values_, p_diff_values_;
};

}  // namespace scout::eval

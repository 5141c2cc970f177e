// llama-perplexity's KL-divergence definitions. Types and the order of float operations follow
// llama.cpp's perplexity.cpp on purpose (float nll, double sums, float percentiles), so that
// the same logits give the same printed numbers; comments point at the llama.cpp names.
#include "engine/eval/kl_divergence.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "engine/util/error.h"

namespace scout::eval {

int64_t chunk_count(int64_t n_tokens, int64_t n_ctx, int64_t max_chunks) {
  if (n_ctx < 2) throw Error(fmt::format("context {} is too small to score a chunk (need at least 2)", n_ctx));
  const int64_t all = n_tokens / n_ctx;
  return max_chunks > 0 ? std::min(all, max_chunks) : all;
}

std::vector<int32_t> chunk_input(std::span<const int32_t> tokens, int64_t n_ctx, int64_t c, std::optional<int32_t> bos) {
  if ((c + 1) * n_ctx > int64_t(tokens.size()))
    throw Error(fmt::format("chunk {} of {} tokens lies past the text's {} tokens", c, n_ctx, tokens.size()));
  std::vector<int32_t> in(tokens.begin() + c * n_ctx, tokens.begin() + (c + 1) * n_ctx);
  if (bos) in[0] = *bos;
  return in;
}

size_t packed_row_words(int64_t n_vocab) { return size_t(2 * ((n_vocab + 1) / 2) + 4); }

namespace {

// Round half to even, as llama.cpp's nearest_int (valid far beyond the 0..65535 used here).
uint16_t round_to_u16(float x) { return uint16_t(std::nearbyint(x)); }

void put_floats(std::span<uint16_t> row, float scale, float min_log_prob) {
  std::memcpy(row.data(), &scale, sizeof(float));
  std::memcpy(row.data() + 2, &min_log_prob, sizeof(float));
}

void get_floats(std::span<const uint16_t> row, float& scale, float& min_log_prob) {
  std::memcpy(&scale, row.data(), sizeof(float));
  std::memcpy(&min_log_prob, row.data() + 2, sizeof(float));
}

// log(sum exp(x_i - max)) with float exponentials summed in double, stored as float.
float log_sum_exp_shifted(std::span<const float> logits, float max_logit) {
  double sum_exp = 0.0;
  for (float v : logits) sum_exp += std::exp(v - max_logit);
  return float(std::log(sum_exp));
}

void check_row(std::span<const float> logits, int32_t target, size_t row_words) {
  if (logits.empty()) throw Error("empty logits row");
  if (target < 0 || size_t(target) >= logits.size())
    throw Error(fmt::format("target token {} outside the vocabulary of {}", target, logits.size()));
  if (row_words != packed_row_words(int64_t(logits.size())))
    throw Error(fmt::format("packed row of {} words does not fit a vocabulary of {}", row_words, logits.size()));
}

}  // namespace

// llama.cpp: log_softmax(n_vocab, logits, uint16_t* log_prob, tok) in the base pass.
double pack_log_probs(std::span<const float> logits, int32_t target, std::span<uint16_t> row) {
  check_row(logits, target, row.size());
  float max_logit = logits[0], min_logit = logits[0];
  for (float v : logits) {
    max_logit = std::max(max_logit, v);
    min_logit = std::min(min_logit, v);
  }
  min_logit = std::max(min_logit, max_logit - 16);
  const float log_sum_exp = log_sum_exp_shifted(logits, max_logit);
  const float min_log_prob = min_logit - max_logit - log_sum_exp;
  const float scale = (max_logit - min_logit) / 65535.f;
  put_floats(row, scale, min_log_prob);
  std::span<uint16_t> q = row.subspan(4);
  std::fill(q.begin(), q.end(), uint16_t(0));
  if (scale != 0) {
    const float inv_scale = 1 / scale;
    for (size_t i = 0; i < logits.size(); ++i)
      if (logits[i] > min_logit) q[i] = round_to_u16(inv_scale * (logits[i] - min_logit));
  }
  return max_logit + log_sum_exp - logits[size_t(target)];
}

float packed_log_prob(std::span<const uint16_t> row, int64_t i) {
  float scale = 0, min_log_prob = 0;
  get_floats(row, scale, min_log_prob);
  return scale * float(row[4 + size_t(i)]) + min_log_prob;
}

// llama.cpp: log_softmax(n_vocab, logits, const uint16_t* base_log_prob, tok, kld).
PositionStats compare_position(std::span<const float> test_logits, std::span<const uint16_t> base_row, int32_t target) {
  check_row(test_logits, target, base_row.size());
  const size_t n = test_logits.size();
  float max_logit = test_logits[0];
  size_t imax = 0;
  for (size_t i = 1; i < n; ++i)
    if (test_logits[i] > max_logit) {
      max_logit = test_logits[i];
      imax = i;
    }
  const float log_sum_exp = log_sum_exp_shifted(test_logits, max_logit);
  float scale = 0, min_log_prob = 0;
  get_floats(base_row, scale, min_log_prob);
  const uint16_t* q = base_row.data() + 4;

  PositionStats s;
  s.nll = max_logit + log_sum_exp - test_logits[size_t(target)];
  s.nll_base = -(scale * float(q[target]) + min_log_prob);
  const float log_norm = max_logit + log_sum_exp;  // log q_i = logit_i - log_norm
  double kld = 0;
  size_t imax_base = 0;
  float max_log_base = 0;
  for (size_t i = 0; i < n; ++i) {
    const float log_p = scale * float(q[i]) + min_log_prob;
    if (i == 0 || log_p > max_log_base) {
      max_log_base = log_p;
      imax_base = i;
    }
    // Base probabilities below e^-16 are not represented (their words are 0) and skipped.
    if (log_p > -16.f) kld += std::exp(log_p) * (log_p - test_logits[i] + log_norm);
  }
  s.kld = kld;
  s.same_top = imax == imax_base;
  s.p_diff = std::exp(-s.nll) - std::exp(-s.nll_base);
  return s;
}

Estimate mean_and_stderr(double sum, double sum2, int64_t count) {
  if (count < 1) return {};
  const double f = sum / double(count);
  const double var = sum2 / double(count) - f * f;
  return {f, var > 0 && count > 10 ? std::sqrt(var / double(count - 1)) : 0.0};
}

double covariance_of_means(double sum_a, double sum_b, double sum_ab, int64_t count) {
  if (count < 10) return 0.0;
  const double n = double(count);
  return (sum_ab / n - (sum_a / n) * (sum_b / n)) / (n - 1);
}

float percentile_sorted(std::span<const float> sorted, float fraction) {
  if (sorted.empty()) throw Error("percentile of no values");
  if (fraction <= 0) return sorted.front();
  if (fraction >= 1) return sorted.back();
  float p = fraction * float(sorted.size() - 1);
  const size_t ip = size_t(p);
  p -= float(ip);
  return (1 - p) * sorted[ip] + p * sorted[std::min(ip + 1, sorted.size() - 1)];
}

float median_sorted(std::span<const float> sorted) {
  if (sorted.empty()) throw Error("median of no values");
  const size_t n = sorted.size();
  return n % 2 == 0 ? 0.5f * (sorted[n / 2] + sorted[n / 2 - 1]) : sorted[n / 2];
}

void KldAccumulator::add(const PositionStats& s) {
  sum_nll_ += s.nll;
  sum_nll2_ += s.nll * s.nll;  // float products, as llama.cpp
  sum_nll_base_ += s.nll_base;
  sum_nll_base2_ += s.nll_base * s.nll_base;
  sum_nll_nll_base_ += s.nll * s.nll_base;
  sum_kld_ += s.kld;
  sum_kld2_ += s.kld * s.kld;
  sum_p_diff_ += s.p_diff;
  const double p_diff2 = s.p_diff * s.p_diff;
  sum_p_diff2_ += p_diff2;
  sum_p_diff4_ += p_diff2 * p_diff2;
  n_same_top_ += s.same_top ? 1 : 0;
  ++count_;
  kld_values_.push_back(float(s.kld));
  p_diff_values_.push_back(s.p_diff);
}

namespace {

Distribution distribution(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  auto pct = [&](float f) { return double(percentile_sorted(v, f)); };
  return {.min = v.front(), .p01 = pct(0.001f), .p1 = pct(0.010f), .p5 = pct(0.050f), .p10 = pct(0.100f),
          .p25 = pct(0.250f), .median = median_sorted(v), .p75 = pct(0.750f), .p90 = pct(0.900f),
          .p95 = pct(0.950f), .p99 = pct(0.990f), .p999 = pct(0.999f), .max = v.back()};
}

Estimate exp_of(const Estimate& log_value) {
  const double v = std::exp(log_value.value);
  return {v, v * log_value.err};  // delta method: d exp(x) = exp(x) dx
}

}  // namespace

KldSummary KldAccumulator::summary() const {
  if (count_ == 0) throw Error("no tokens were scored");
  KldSummary r;
  r.count = count_;
  const Estimate log_ppl = mean_and_stderr(sum_nll_, sum_nll2_, count_);
  const Estimate log_ppl_base = mean_and_stderr(sum_nll_base_, sum_nll_base2_, count_);
  r.ppl_test = exp_of(log_ppl);
  r.ppl_base = exp_of(log_ppl_base);
  const double cov = covariance_of_means(sum_nll_, sum_nll_base_, sum_nll_nll_base_, count_);
  const double denom = log_ppl.err * log_ppl_base.err;
  r.ln_ppl_correlation = denom > 0 ? cov / denom : 0.0;
  const double ratio_var = log_ppl.err * log_ppl.err + log_ppl_base.err * log_ppl_base.err - 2.0 * cov;
  r.ln_ppl_ratio = {log_ppl.value - log_ppl_base.value, std::sqrt(std::max(0.0, ratio_var))};
  r.ppl_ratio = exp_of(r.ln_ppl_ratio);
  const double ppl_cov = r.ppl_test.value * r.ppl_base.value * cov;
  const double diff_var = r.ppl_test.err * r.ppl_test.err + r.ppl_base.err * r.ppl_base.err - 2.0 * ppl_cov;
  r.ppl_diff = {r.ppl_test.value - r.ppl_base.value, std::sqrt(std::max(0.0, diff_var))};

  r.kld_mean = mean_and_stderr(sum_kld_, sum_kld2_, count_);
  r.kld = distribution(kld_values_);
  r.p_diff_mean = mean_and_stderr(sum_p_diff_, sum_p_diff2_, count_);
  r.p_diff = distribution(p_diff_values_);
  const Estimate mse = mean_and_stderr(sum_p_diff2_, sum_p_diff4_, count_);
  const double rms = std::sqrt(mse.value);
  r.p_diff_rms = {rms, rms > 0 ? 0.5 / rms * mse.err : 0.0};
  const double top = double(n_same_top_) / double(count_);
  r.same_top = {top, count_ > 1 ? std::sqrt(top * (1.0 - top) / double(count_ - 1)) : 0.0};
  return r;
}

}  // namespace scout::eval

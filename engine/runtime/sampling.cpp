#include "engine/runtime/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "engine/util/error.h"

namespace scout::runtime {

StopMatch find_new_stop_string(const std::string& text, const std::vector<std::string>& stops, size_t old_size,
                               size_t longest) {
  const size_t from = old_size >= longest ? old_size - longest + 1 : 0;
  StopMatch best;
  for (const auto& s : stops) {
    if (s.empty()) continue;
    const size_t at = text.find(s, from);
    if (at < best.at) best = {at, s};
  }
  return best;
}

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }

int32_t argmax(std::span<const float> logits) {
  if (logits.empty()) throw Error("argmax of an empty vector");
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = i;
  return int32_t(best);
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {
  if (!(params.temperature >= 0.0f) || !std::isfinite(params.temperature))
    throw Error("sampling: temperature must be >= 0");
  if (params.top_k < 0) throw Error("sampling: top_k must be >= 0");
  if (!(params.top_p > 0.0f && params.top_p <= 1.0f)) throw Error("sampling: top_p must be in (0, 1]");
  if (!(params.min_p >= 0.0f && params.min_p <= 1.0f)) throw Error("sampling: min_p must be in [0, 1]");
}

int32_t Sampler::sample(std::span<const float> logits) {
  if (params_.temperature == 0.0f) return argmax(logits);
  const int32_t n = int32_t(logits.size());
  // Candidates by descending logit (ties: lower id first), cut to top_k.
  order_.resize(size_t(n));
  std::iota(order_.begin(), order_.end(), 0);
  const int32_t k = params_.top_k > 0 ? std::min(params_.top_k, n) : n;
  auto by_logit = [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b); };
  std::partial_sort(order_.begin(), order_.begin() + k, order_.end(), by_logit);
  order_.resize(size_t(k));

  // Softmax of logits / temperature over the candidates.
  const double inv_t = 1.0 / double(params_.temperature);
  const double top = double(logits[size_t(order_[0])]) * inv_t;
  probs_.resize(order_.size());
  double sum = 0.0;
  for (size_t i = 0; i < order_.size(); ++i) sum += probs_[i] = std::exp(double(logits[size_t(order_[i])]) * inv_t - top);
  for (auto& p : probs_) p /= sum;

  size_t keep = probs_.size();
  if (params_.top_p < 1.0f) {
    double mass = 0.0;
    for (size_t i = 0; i < probs_.size(); ++i) {
      mass += probs_[i];
      if (mass >= double(params_.top_p)) {
        keep = i + 1;
        break;
      }
    }
  }
  if (params_.min_p > 0.0f) {
    const double floor = double(params_.min_p) * probs_[0];
    size_t i = 1;
    while (i < keep && probs_[i] >= floor) ++i;
    keep = i;
  }

  double kept = 0.0;
  for (size_t i = 0; i < keep; ++i) kept += probs_[i];
  const double u = rng_.uniform() * kept;
  double acc = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    acc += probs_[i];
    if (u < acc) return order_[i];
  }
  return order_[keep - 1];
}

}  // namespace scout::runtime

#include "harness/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace scout::harness {

double leaderboard_normalize(double value, double baseline) {
  return std::max(0.0, value - baseline) / (1.0 - baseline);
}

std::map<std::string, double> mean_over_docs(std::span<const DocResult* const> docs,
                                             const std::vector<std::string>& names) {
  std::map<std::string, double> out;
  for (const auto& name : names) {
    double sum = 0;
    int64_t n = 0;
    for (const DocResult* d : docs)
      if (auto it = d->metrics.find(name); it != d->metrics.end()) {
        sum += it->second;
        ++n;
      }
    out[name] = n ? sum / double(n) : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

namespace {
// Groups in first-appearance order.
std::vector<std::vector<const DocResult*>> split_groups(std::span<const DocResult* const> docs) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const DocResult*>> by;
  for (const DocResult* d : docs) {
    auto& v = by[d->doc->group];
    if (v.empty()) order.push_back(d->doc->group);
    v.push_back(d);
  }
  std::vector<std::vector<const DocResult*>> out;
  for (const auto& g : order) out.push_back(std::move(by[g]));
  return out;
}
}  // namespace

std::map<std::string, double> mean_over_groups(std::span<const DocResult* const> docs,
                                               const std::vector<std::string>& names) {
  std::map<std::string, double> sums;
  std::map<std::string, int64_t> counts;
  for (const auto& group : split_groups(docs))
    for (const auto& [name, value] : mean_over_docs(group, names))
      if (!std::isnan(value)) {
        sums[name] += value;
        ++counts[name];
      }
  std::map<std::string, double> out;
  for (const auto& name : names)
    out[name] = counts[name] ? sums[name] / double(counts[name]) : std::numeric_limits<double>::quiet_NaN();
  return out;
}

std::map<std::string, Interval> bootstrap(std::span<const DocResult* const> docs, const Statistic& statistic,
                                          bool stratify_by_group, int64_t resamples, uint64_t seed) {
  std::map<std::string, Interval> out;
  if (docs.empty() || resamples <= 0) return out;
  std::vector<std::vector<const DocResult*>> strata;
  if (stratify_by_group)
    strata = split_groups(docs);
  else
    strata.emplace_back(docs.begin(), docs.end());

  std::mt19937_64 rng(seed);
  std::map<std::string, std::vector<double>> draws;
  std::vector<const DocResult*> sample;
  sample.reserve(docs.size());
  for (int64_t b = 0; b < resamples; ++b) {
    sample.clear();
    for (const auto& s : strata) {
      // Plain modulo rather than std::uniform_int_distribution, whose output differs between
      // standard libraries; the bias is below 1e-15 for any realistic stratum size.
      for (size_t i = 0; i < s.size(); ++i) sample.push_back(s[rng() % s.size()]);
    }
    for (const auto& [name, value] : statistic(sample))
      if (!std::isnan(value)) draws[name].push_back(value);
  }
  for (auto& [name, v] : draws) {
    std::sort(v.begin(), v.end());
    double mean = 0;
    for (double x : v) mean += x;
    mean /= double(v.size());
    double var = 0;
    for (double x : v) var += (x - mean) * (x - mean);
    auto pct = [&v](double q) {
      const double pos = q * double(v.size() - 1);
      const size_t lo = size_t(std::floor(pos)), hi = size_t(std::ceil(pos));
      return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
    };
    double se = v.size() > 1 ? std::sqrt(var / double(v.size() - 1)) : 0.0;
    if (se < 1e-12) se = 0;  // a constant statistic: rounding noise, not spread
    out[name] = Interval{se, pct(0.025), pct(0.975)};
  }
  return out;
}

}  // namespace scout::harness

#pragma once
// Aggregation arithmetic shared by every task: means over documents (micro), means of group
// means (macro), the Open LLM Leaderboard's rescaling against the random baseline, and
// percentile-bootstrap confidence intervals.
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "harness/task.h"

namespace scout::harness {

// max(0, value - baseline) / (1 - baseline): 0 at chance (or below), 1 at a perfect score.
double leaderboard_normalize(double value, double baseline);

// Mean over documents of each named per-document metric (documents lacking one are skipped).
std::map<std::string, double> mean_over_docs(std::span<const DocResult* const> docs,
                                             const std::vector<std::string>& names);
// Mean over groups (in first-appearance order) of the groups' means.
std::map<std::string, double> mean_over_groups(std::span<const DocResult* const> docs,
                                               const std::vector<std::string>& names);

struct Interval {
  double std_error = 0;  // standard deviation of the bootstrap distribution
  double low = 0;        // 2.5th percentile
  double high = 0;       // 97.5th percentile
};

using Statistic = std::function<std::map<std::string, double>(std::span<const DocResult* const>)>;

// Resamples documents with replacement (within each stratum when `stratify_by_group`, so
// macro averages keep every group), recomputes the statistic `resamples` times with a fixed
// seed, and returns percentile intervals per metric. Deterministic for equal inputs.
std::map<std::string, Interval> bootstrap(std::span<const DocResult* const> docs, const Statistic& statistic,
                                          bool stratify_by_group, int64_t resamples, uint64_t seed);

}  // namespace scout::harness

#pragma once
// Two runs of the same tasks compared sample by sample: which answers flipped, the accuracy
// delta with a paired bootstrap confidence interval, and McNemar's exact test. Used to
// measure what a quantization costs per task (FP16 run against a Q4_K_M run, say).
//
// Samples pair on (task, doc_id, repeat). Accuracy here is the mean per-sample score over
// the paired samples (a micro mean): for tasks whose headline metric is a macro average or a
// leaderboard-normalized value, the delta is of the plain sample accuracy, not of that metric.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace scout::harness {

struct FlippedSample {
  std::string doc_id;
  int64_t repeat = 0;
  double score_a = 0, score_b = 0;
  std::optional<std::string> answer_a, answer_b, target;
};

struct TaskComparison {
  std::string task;
  int64_t n_paired = 0;          // samples scored in both runs
  int64_t only_a = 0, only_b = 0;  // samples in one run only (left out of every number)
  double accuracy_a = 0, accuracy_b = 0;
  double delta = 0;              // accuracy_b - accuracy_a
  double ci_low = 0, ci_high = 0;  // paired bootstrap 95% interval of delta
  // McNemar over binary scores (0 or 1): samples right only in A, right only in B, and the
  // exact two-sided p-value. Unset when some paired score is not 0 or 1.
  std::optional<int64_t> right_only_a, right_only_b;
  std::optional<double> mcnemar_p;
  std::vector<FlippedSample> flipped;  // paired samples whose scores differ, in A's order
};

struct CompareRunsOptions {
  int64_t resamples = 10'000;
  uint64_t seed = 0;
  std::optional<std::string> task;  // only this task
};

// Tasks present in both runs, in run A's order. Throws scout::Error for an unknown run id.
std::vector<TaskComparison> compare_runs(store::Store& db_a, int64_t run_a, store::Store& db_b, int64_t run_b,
                                         const CompareRunsOptions& options = {});

// Exact two-sided McNemar p-value for b and c discordant pairs: 2 * P(X <= min(b, c)) with
// X ~ Binomial(b + c, 1/2), capped at 1 (1 when b + c = 0).
double mcnemar_exact_p(int64_t b, int64_t c);

// Percentile bootstrap of sum(diff) / sum(count) over units resampled with replacement.
// Deterministic for a seed. Returns {2.5th, 97.5th} percentiles (linear interpolation).
std::pair<double, double> paired_bootstrap_ci(const std::vector<double>& diff_sums,
                                              const std::vector<double>& counts, int64_t resamples, uint64_t seed);

}  // namespace scout::harness

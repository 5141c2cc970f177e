#include "harness/compare_runs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "engine/util/error.h"

namespace scout::harness {
namespace {

bool is_binary(double s) { return s == 0.0 || s == 1.0; }

double percentile(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const size_t lo = size_t(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

std::vector<std::string> task_order(const std::vector<store::Sample>& samples) {
  std::vector<std::string> order;
  for (const auto& s : samples)
    if (std::find(order.begin(), order.end(), s.task) == order.end()) order.push_back(s.task);
  return order;
}

store::Run require_run(store::Store& db, int64_t id) {
  auto r = db.find_run(id);
  if (!r) throw Error(fmt::format("{}: no run {}", db.path().string(), id));
  return *r;
}

TaskComparison compare_task(const std::string& task, const std::vector<const store::Sample*>& a,
                            const std::map<store::SampleKey, const store::Sample*>& b, const CompareRunsOptions& o) {
  TaskComparison t;
  t.task = task;
  // Per document (the bootstrap unit: repeats of one document move together).
  std::map<std::string, size_t> doc_unit;
  std::vector<double> diff_sums, counts;
  double sum_a = 0, sum_b = 0;
  int64_t right_a = 0, right_b = 0;
  bool binary = true;
  for (const store::Sample* sa : a) {
    auto it = b.find({sa->doc_id, sa->repeat});
    if (it == b.end() || !sa->score || !it->second->score) {
      ++t.only_a;
      continue;
    }
    const store::Sample& sb = *it->second;
    const double x = *sa->score, y = *sb.score;
    ++t.n_paired;
    sum_a += x;
    sum_b += y;
    binary = binary && is_binary(x) && is_binary(y);
    right_a += x == 1.0 && y == 0.0;
    right_b += x == 0.0 && y == 1.0;
    auto [u, fresh] = doc_unit.try_emplace(sa->doc_id, diff_sums.size());
    if (fresh) {
      diff_sums.push_back(0);
      counts.push_back(0);
    }
    diff_sums[u->second] += y - x;
    counts[u->second] += 1;
    if (x != y) t.flipped.push_back({sa->doc_id, sa->repeat, x, y, sa->answer, sb.answer, sa->target});
  }
  t.only_b = int64_t(b.size()) - t.n_paired;
  if (t.n_paired == 0) return t;
  t.accuracy_a = sum_a / double(t.n_paired);
  t.accuracy_b = sum_b / double(t.n_paired);
  t.delta = t.accuracy_b - t.accuracy_a;
  std::tie(t.ci_low, t.ci_high) = paired_bootstrap_ci(diff_sums, counts, o.resamples, o.seed);
  if (binary) {
    t.right_only_a = right_a;
    t.right_only_b = right_b;
    t.mcnemar_p = mcnemar_exact_p(right_a, right_b);
  }
  return t;
}

}  // namespace

double mcnemar_exact_p(int64_t b, int64_t c) {
  if (b < 0 || c < 0) throw Error("McNemar: negative count");
  const int64_t n = b + c, k = std::min(b, c);
  if (n == 0) return 1.0;
  // Sum the binomial tail in log space so large n neither overflows nor underflows.
  double tail = 0;
  for (int64_t i = 0; i <= k; ++i)
    tail += std::exp(std::lgamma(double(n) + 1) - std::lgamma(double(i) + 1) - std::lgamma(double(n - i) + 1) -
                     double(n) * std::log(2.0));
  return std::min(1.0, 2.0 * tail);
}

std::pair<double, double> paired_bootstrap_ci(const std::vector<double>& diff_sums, const std::vector<double>& counts,
                                              int64_t resamples, uint64_t seed) {
  if (diff_sums.empty() || diff_sums.size() != counts.size() || resamples < 1)
    throw Error("paired bootstrap: no units or bad sizes");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, diff_sums.size() - 1);
  std::vector<double> deltas;
  deltas.reserve(size_t(resamples));
  for (int64_t r = 0; r < resamples; ++r) {
    double d = 0, n = 0;
    for (size_t i = 0; i < diff_sums.size(); ++i) {
      const size_t j = pick(rng);
      d += diff_sums[j];
      n += counts[j];
    }
    deltas.push_back(d / n);
  }
  return {percentile(deltas, 0.025), percentile(deltas, 0.975)};
}

std::vector<TaskComparison> compare_runs(store::Store& db_a, int64_t run_a, store::Store& db_b, int64_t run_b,
                                         const CompareRunsOptions& options) {
  require_run(db_a, run_a);
  require_run(db_b, run_b);
  const auto samples_a = db_a.samples_for_run(run_a);
  const auto samples_b = db_b.samples_for_run(run_b);
  std::map<std::string, std::map<store::SampleKey, const store::Sample*>> by_task_b;
  for (const auto& s : samples_b) by_task_b[s.task][{s.doc_id, s.repeat}] = &s;
  std::vector<TaskComparison> out;
  for (const auto& task : task_order(samples_a)) {
    if (options.task && *options.task != task) continue;
    auto b = by_task_b.find(task);
    if (b == by_task_b.end()) continue;
    std::vector<const store::Sample*> a;
    for (const auto& s : samples_a)
      if (s.task == task) a.push_back(&s);
    out.push_back(compare_task(task, a, b->second, options));
  }
  return out;
}

}  // namespace scout::harness

// compare-runs: McNemar's exact test and the paired bootstrap by hand-worked values, and the
// pairing of two stored runs' samples.
#include "harness/compare_runs.h"

#include <gtest/gtest.h>

#include "common/test_paths.h"
#include "engine/util/error.h"

namespace scout::harness {
namespace {

TEST(McNemar, ExactTwoSidedByHand) {
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
  // n = 7, k = 1: 2 * (C(7,0) + C(7,1)) / 2^7 = 16 / 128.
  EXPECT_NEAR(mcnemar_exact_p(1, 6), 0.125, 1e-12);
  EXPECT_NEAR(mcnemar_exact_p(6, 1), 0.125, 1e-12);
  // n = 10, k = 0: 2 / 1024.
  EXPECT_NEAR(mcnemar_exact_p(0, 10), 2.0 / 1024.0, 1e-15);
  // n = 12, k = 2: 2 * (1 + 12 + 66) / 4096.
  EXPECT_NEAR(mcnemar_exact_p(2, 10), 158.0 / 4096.0, 1e-12);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(5, 5), 1.0);  // capped
  // Large counts stay finite and ordered.
  const double p = mcnemar_exact_p(500, 600);
  EXPECT_GT(p, 0.0);
  EXPECT_LT(p, 0.01);
  EXPECT_THROW(mcnemar_exact_p(-1, 2), Error);
}

TEST(PairedBootstrap, ConstantDifferenceHasAPointInterval) {
  const auto [lo, hi] = paired_bootstrap_ci({0.5, 0.5, 1.0}, {1, 1, 2}, 200, 7);
  EXPECT_DOUBLE_EQ(lo, 0.5);
  EXPECT_DOUBLE_EQ(hi, 0.5);
}

TEST(PairedBootstrap, DeterministicAndCoversTheEstimate) {
  std::vector<double> d, n;
  for (int i = 0; i < 50; ++i) {
    d.push_back(i % 5 == 0 ? 1.0 : i % 7 == 0 ? -1.0 : 0.0);
    n.push_back(1);
  }
  const auto a = paired_bootstrap_ci(d, n, 2000, 3);
  const auto b = paired_bootstrap_ci(d, n, 2000, 3);
  EXPECT_EQ(a, b);
  // Estimate (10 - 4) / 50 = 0.12 lies inside; the interval has width.
  EXPECT_LT(a.first, 0.12);
  EXPECT_GT(a.second, 0.12);
  EXPECT_THROW(paired_bootstrap_ci({}, {}, 10, 0), Error);
}

store::Sample sample(std::string task, std::string doc, double score, std::string answer) {
  store::Sample s;
  s.task = std::move(task);
  s.doc_id = std::move(doc);
  s.score = score;
  s.answer = std::move(answer);
  s.target = "A";
  return s;
}

// A fresh store holding two empty runs, A and B.
struct TwoRuns {
  store::Store db;
  int64_t a = 0, b = 0;
  explicit TwoRuns(const std::string& name) : db(store::Store::open(test::scratch_dir(name) / "r.db")) {
    store::RunSpec spec{.tasks = {"t"}, .scout_version = "test"};
    spec.config = {{"which", "a"}};
    a = db.begin_run(spec);
    spec.config = {{"which", "b"}};
    b = db.begin_run(spec);
  }
};

TEST(CompareRuns, PairsSamplesAndCountsFlips) {
  TwoRuns runs("compare_runs");
  auto& [db, a, b] = runs;
  db.insert_samples(a, std::vector{sample("t", "d1", 1, "A"), sample("t", "d2", 1, "A"), sample("t", "d3", 0, "B"),
                                   sample("t", "d4", 0, "C"), sample("t", "d5", 1, "A"), sample("u", "x", 1, "A")});
  db.insert_samples(b, std::vector{sample("t", "d1", 1, "A"), sample("t", "d2", 0, "D"), sample("t", "d3", 1, "A"),
                                   sample("t", "d4", 1, "A"), sample("t", "d9", 1, "A")});
  const auto ts = compare_runs(db, a, db, b, {.resamples = 500});
  ASSERT_EQ(ts.size(), 1u);  // task u is only in A
  const auto& t = ts[0];
  EXPECT_EQ(t.task, "t");
  EXPECT_EQ(t.n_paired, 4);
  EXPECT_EQ(t.only_a, 1);  // d5
  EXPECT_EQ(t.only_b, 1);  // d9
  EXPECT_DOUBLE_EQ(t.accuracy_a, 0.5);
  EXPECT_DOUBLE_EQ(t.accuracy_b, 0.75);
  EXPECT_DOUBLE_EQ(t.delta, 0.25);
  EXPECT_LE(t.ci_low, 0.25);
  EXPECT_GE(t.ci_high, 0.25);
  ASSERT_TRUE(t.mcnemar_p && t.right_only_a && t.right_only_b);
  EXPECT_EQ(*t.right_only_a, 1);
  EXPECT_EQ(*t.right_only_b, 2);
  EXPECT_DOUBLE_EQ(*t.mcnemar_p, 1.0);  // 2 * (1 + 3) / 8, capped
  ASSERT_EQ(t.flipped.size(), 3u);
  EXPECT_EQ(t.flipped[0].doc_id, "d2");
  EXPECT_EQ(t.flipped[0].answer_b, "D");
  EXPECT_EQ(t.flipped[2].doc_id, "d4");
  EXPECT_THROW(compare_runs(db, a, db, 999, {}), Error);
}

TEST(CompareRuns, NonBinaryScoresHaveNoMcNemar) {
  TwoRuns runs("compare_runs_nb");
  auto& [db, a, b] = runs;
  db.insert_samples(a, std::vector{sample("t", "d1", 0.5, "x"), sample("t", "d2", 1, "y")});
  db.insert_samples(b, std::vector{sample("t", "d1", 1, "x"), sample("t", "d2", 1, "y")});
  const auto ts = compare_runs(db, a, db, b, {.resamples = 100});
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_FALSE(ts[0].mcnemar_p.has_value());
  EXPECT_DOUBLE_EQ(ts[0].delta, 0.25);
  EXPECT_EQ(ts[0].flipped.size(), 1u);
}

}  // namespace
}  // namespace scout::harness

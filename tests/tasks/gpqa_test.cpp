// GPQA from the encrypted zip: simple-evals permutations and repeats, the leaderboard's
// preprocessing, shuffle stream and (acc_norm - 0.25) / 0.75, Meta's prompt.
#include <gtest/gtest.h>

#include "task_test_helpers.h"
#include "tasks/loaders.h"

namespace scout::tasks {
namespace {

using namespace testing;

TEST(Gpqa, DiamondAndMainFromTheEncryptedZip) {
  SCOUT_REQUIRE_DATA("gpqa");
  EXPECT_EQ(make_task("gpqa_diamond", "meta-card").docs().size(), 198u);  // SOURCE.md
  EXPECT_EQ(make_task("gpqa_main", "meta-card").docs().size(), 448u);
}

TEST(Gpqa, SimpleEvalsPermutationsAreRandomZeroOverTheRepeatedList) {
  SCOUT_REQUIRE_DATA("gpqa");
  const auto t = make_task("gpqa_diamond", "simple-evals");
  // random.Random(0).sample(range(4), 4) over examples * 4: draws 0, 198, 396, 594 belong to
  // document 0's four repeats (values printed by CPython).
  const std::vector<std::vector<int64_t>> want = {{3, 1, 0, 2}, {2, 1, 0, 3}, {3, 2, 0, 1}, {3, 1, 2, 0}};
  const auto& d0 = t.docs()[0];
  for (int r = 0; r < 4; ++r) EXPECT_EQ(t.prepare(d0, r).order, want[size_t(r)]) << "repeat " << r;
  EXPECT_EQ(t.prepare(t.docs()[1], 0).order, (std::vector<int64_t>{3, 1, 2, 0}));
  // [Correct, Incorrect 1..3] permuted by [3, 1, 0, 2]: the correct answer is shown third.
  const auto ps = t.prepare(d0, 0);
  EXPECT_EQ(ps.target, "C");
  const std::string& text = ps.prompt.messages.at(0).content;
  EXPECT_TRUE(text.starts_with("Answer the following multiple choice question. The last line of your response should "
                               "be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of "
                               "ABCD. Think step by step before answering.\n\n"));
  EXPECT_NE(text.find("\n\nA) " + d0.fields["choices"][3].get<std::string>() + "\nB) "), std::string::npos);
  EXPECT_EQ(ps.settings.temperature, 0.5);
  EXPECT_EQ(ps.settings.max_tokens, 1024);
}

TEST(Gpqa, RepeatsAreAveragedPerQuestion) {
  SCOUT_REQUIRE_DATA("gpqa");
  harness::TaskSettings s;
  s.limit = 2;
  const auto t = make_task("gpqa_diamond", "simple-evals", s);
  // Question 0 right in 2 of 4 repeats (0.5), question 1 in 4 of 4 (1): mean 0.75.
  std::vector<store::Sample> samples;
  for (int r = 0; r < 4; ++r) {
    const auto g0 = t.prepare(t.docs()[0], r).target, g1 = t.prepare(t.docs()[1], r).target;
    samples.push_back(score_output(t, t.docs()[0], r, "Answer: " + (r < 2 ? g0 : std::string(g0 == "A" ? "B" : "A"))));
    samples.push_back(score_output(t, t.docs()[1], r, "Thinking.\nAnswer: " + g1));
  }
  const auto ms = t.aggregate(samples);
  EXPECT_DOUBLE_EQ(metric(ms, "gpqa_diamond", "exact_match").value, 0.75);
  EXPECT_EQ(metric(ms, "gpqa_diamond", "exact_match").n, 2);
}

TEST(Gpqa, LeaderboardPreprocessShuffleAndNormalization) {
  EXPECT_EQ(gpqa_leaderboard_preprocess(" a [title] b  [x]c "), "a. b c");
  EXPECT_EQ(gpqa_leaderboard_preprocess("x   y"), "x  y");  // one pass, as str.replace
  SCOUT_REQUIRE_DATA("gpqa");
  harness::TaskSettings s;
  s.limit = 3;
  const auto t = make_task("gpqa_diamond", "open-llm-leaderboard-v2", s);
  // random.seed(0) then random.shuffle per document: [2,0,1,3], [0,1,3,2], [0,2,1,3] over
  // [Incorrect 1, 2, 3, Correct]: the correct option lands at D, C, D.
  EXPECT_EQ(t.prepare(t.docs()[0], 0).target, "D");
  EXPECT_EQ(t.prepare(t.docs()[1], 0).target, "C");
  EXPECT_EQ(t.prepare(t.docs()[2], 0).target, "D");
  const auto ps = t.prepare(t.docs()[0], 0);
  EXPECT_EQ(ps.continuations, (std::vector<std::string>{" (A)", " (B)", " (C)", " (D)"}));
  EXPECT_TRUE(ps.prompt.messages.at(0).content.starts_with("What is the correct answer to this question:"));
  EXPECT_TRUE(ps.prompt.messages.at(0).content.ends_with("\nAnswer: "));
  // Two of three right: acc_norm 2/3, normalized (2/3 - 1/4) / (3/4) = 5/9.
  std::vector<store::Sample> samples = {score_pick(t, t.docs()[0], 3), score_pick(t, t.docs()[1], 2),
                                        score_pick(t, t.docs()[2], 0)};
  const auto ms = t.aggregate(samples);
  EXPECT_NEAR(metric(ms, "gpqa_diamond", "acc_norm").value, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(metric(ms, "gpqa_diamond", "acc_norm_normalized").value, 5.0 / 9.0, 1e-12);
}

TEST(Gpqa, MetaCardPromptAndExtraction) {
  SCOUT_REQUIRE_DATA("gpqa");
  const auto t = make_task("gpqa_diamond", "meta-card");
  const auto ps = t.prepare(t.docs()[0], 0);
  const auto& text = ps.prompt.messages.at(0).content;
  EXPECT_TRUE(text.starts_with("Given the following question and four candidate answers (A, B, C and D), choose the "
                               "best answer.\n\nQuestion: "));
  EXPECT_TRUE(text.ends_with("The best answer is [the_answer_letter].\nwhere the [the_answer_letter] is one of A, B, C "
                             "or D.\n\nLet's think step by step."));
  EXPECT_EQ(score_output(t, t.docs()[0], 0, "## Step 1: ...\nThe best answer is " + ps.target + ".").score, 1.0);
}

}  // namespace
}  // namespace scout::tasks

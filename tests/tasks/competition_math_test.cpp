// MATH-500, MATH Level 5 and AIME on the real data: ids, golds, the prompts the protocols
// declare, and scoring of known outputs (equivalence, Minerva normalization, integers,
// repeats averaged).
#include <gtest/gtest.h>

#include <set>

#include "task_test_helpers.h"

namespace scout::tasks {
namespace {

using namespace testing;

TEST(Math500, IdsGoldsAndTheArtificialAnalysisPrompt) {
  SCOUT_REQUIRE_DATA("math500");
  const auto t = make_task("math500", "artificial-analysis");
  ASSERT_EQ(t.docs().size(), 500u);
  const auto& d = t.docs()[0];
  EXPECT_EQ(d.id, "test/precalculus/807.json");
  EXPECT_EQ(d.fields["answer"], "\\left( 3, \\frac{\\pi}{2} \\right)");
  EXPECT_EQ(t.repeats(), 3);
  const auto ps = t.prepare(d, 0);
  EXPECT_EQ(ps.prompt.messages.at(0).content,
            "Solve the following math problem step by step. Put your answer inside \\boxed{}.\n\n" +
                d.fields["problem"].get<std::string>() + "\n\nRemember to put your answer inside \\boxed{}.");
}

TEST(Math500, EquivalentAnswersScoreAndMissingOnesAreCounted) {
  SCOUT_REQUIRE_DATA("math500");
  harness::TaskSettings s;
  s.limit = 1;
  s.repeats = 2;
  const auto t = make_task("math500", "artificial-analysis", s);
  const auto& d = t.docs()[0];
  const auto right = score_output(t, d, 0, "So the point is $\\boxed{(3, \\frac{\\pi}{2})}$.");
  EXPECT_EQ(right.answer, "(3, \\frac{\\pi}{2})");
  EXPECT_EQ(right.score, 1.0);
  const auto none = score_output(t, d, 1, "(3, pi/2)");
  EXPECT_EQ(none.answer, std::nullopt);
  const auto ms = t.aggregate(std::vector<store::Sample>{right, none});
  EXPECT_DOUBLE_EQ(metric(ms, "math500", "exact_match").value, 0.5);  // one doc, repeats 1 and 0
  EXPECT_EQ(metric(ms, "math500", "answer_not_found").value, 1.0);
  const auto se = make_task("math500", "simple-evals", s);
  EXPECT_EQ(score_output(se, d, 0, "r = 3, theta = pi/2\nAnswer: (3, \\frac{\\pi}{2})").score, 1.0);
  EXPECT_EQ(score_output(se, d, 0, "Answer: (3, \\pi)").score, 0.0);
}

TEST(MathHard, LevelFiveSubsetMinervaGoldAndPrompt) {
  SCOUT_REQUIRE_DATA("math");
  const auto t = make_task("math_hard", "open-llm-leaderboard-v2");
  ASSERT_EQ(t.docs().size(), 1324u);  // SOURCE.md: Level 5
  std::map<std::string, int> per_type;
  for (const auto& d : t.docs()) ++per_type[d.group];
  EXPECT_EQ(per_type.size(), 7u);
  EXPECT_EQ(per_type["Algebra"], 307);
  const auto& d = t.docs()[0];
  EXPECT_EQ(d.id, "3");            // row 3 of the 5,000-problem file
  EXPECT_EQ(d.fields["answer"], "i");  // normalize_final_answer(remove_boxed("\boxed{i}"))
  const auto ps = t.prepare(d, 0);
  ASSERT_EQ(ps.prompt.messages.size(), 9u);  // 4 Minerva shots as turns + the problem
  EXPECT_TRUE(ps.prompt.messages[0].content.starts_with("Problem:\nFind the domain of the expression"));
  EXPECT_TRUE(ps.prompt.messages[1].content.ends_with("Final Answer: The final answer is $[2,5)$. I hope it is correct."));
  EXPECT_EQ(ps.prompt.messages[8].content, "Problem:\n" + d.fields["problem"].get<std::string>() + "\n\nSolution:");
  EXPECT_EQ(ps.settings.stop, (std::vector<std::string>{"Problem:"}));
  EXPECT_EQ(ps.settings.max_tokens, 1024);
  EXPECT_EQ(score_output(t, d, 0, "... = i$.\nFinal Answer: The final answer is $i$. I hope it is correct.").score, 1.0);
  EXPECT_EQ(score_output(t, d, 0, "Final Answer: The final answer is $-i$. I hope it is correct.").score, 0.0);
  EXPECT_EQ(score_output(t, d, 0, "The answer is \\boxed{i}.").answer, std::nullopt);  // no Minerva sentence
}

TEST(Aime, IntegerAnswersAndRepeatsAveraged) {
  SCOUT_REQUIRE_DATA("aime");
  const auto t25 = make_task("aime25", "artificial-analysis");
  ASSERT_EQ(t25.docs().size(), 30u);
  EXPECT_EQ(t25.repeats(), 10);
  const std::vector<std::string> first = {"70", "588", "16", "117", "279"};  // SOURCE.md
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(t25.docs()[i].fields["answer"], first[i]);
  const auto t24 = make_task("aime24", "artificial-analysis");
  EXPECT_EQ(t24.docs()[0].fields["answer"], "204");

  harness::TaskSettings s;
  s.limit = 2;
  const auto t = make_task("aime25", "artificial-analysis", s);
  // Problem 0 (70) right in 3 of 10 repeats, problem 1 (588) in all 10: (0.3 + 1) / 2 = 0.65.
  std::vector<store::Sample> samples;
  for (int r = 0; r < 10; ++r) {
    samples.push_back(score_output(t, t.docs()[0], r, r < 3 ? "so \\boxed{070}" : "so \\boxed{71}"));
    samples.push_back(score_output(t, t.docs()[1], r, "thus $\\boxed{588}$"));
  }
  const auto ms = t.aggregate(samples);
  EXPECT_DOUBLE_EQ(metric(ms, "aime25", "exact_match").value, 0.65);
  EXPECT_EQ(metric(ms, "aime25", "exact_match").details["n_samples"], 20);
}

}  // namespace
}  // namespace scout::tasks

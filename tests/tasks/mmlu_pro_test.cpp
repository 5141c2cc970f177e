// MMLU-Pro on the real data: loading, the meta-card prompt and macro average, and the
// leaderboard's 5-shot prompt and (acc - 0.1) / 0.9 normalization.
#include <gtest/gtest.h>

#include <set>

#include "task_test_helpers.h"

namespace scout::tasks {
namespace {

using namespace testing;

TEST(MmluPro, LoadsTheTestAndValidationSplits) {
  SCOUT_REQUIRE_DATA("mmlu_pro");
  const auto t = make_task("mmlu_pro", "meta-card");
  EXPECT_EQ(t.docs().size(), 12032u);      // SOURCE.md
  EXPECT_EQ(t.dataset().shots.size(), 70u);
  std::set<std::string> groups;
  for (const auto& d : t.docs()) groups.insert(d.group);
  EXPECT_EQ(groups.size(), 14u);
  EXPECT_EQ(t.docs()[0].id, "0");  // row index; question_id 70 stays a field
  EXPECT_EQ(t.docs()[0].fields["question_id"], 70);
}

TEST(MmluPro, MetaCardPromptForTheFirstQuestion) {
  SCOUT_REQUIRE_DATA("mmlu_pro");
  harness::TaskSettings s;
  s.limit = 1;
  const auto t = make_task("mmlu_pro", "meta-card", s);
  const auto ps = t.prepare(t.docs()[0], 0);
  ASSERT_TRUE(ps.prompt.chat);
  ASSERT_EQ(ps.prompt.messages.size(), 1u);
  EXPECT_EQ(ps.prompt.messages[0].content,
            "Given the following question and candidate answers, choose the best answer.\n"
            "Question: Typical advertising regulatory bodies suggest, for example that adverts must not: encourage "
            "_________, cause unnecessary ________ or _____, and must not cause _______ offence.\n"
            "A. Safe practices, Fear, Jealousy, Trivial\n"
            "B. Unsafe practices, Distress, Joy, Trivial\n"
            "C. Safe practices, Wants, Jealousy, Trivial\n"
            "D. Safe practices, Distress, Fear, Trivial\n"
            "E. Unsafe practices, Wants, Jealousy, Serious\n"
            "F. Safe practices, Distress, Jealousy, Serious\n"
            "G. Safe practices, Wants, Fear, Serious\n"
            "H. Unsafe practices, Wants, Fear, Trivial\n"
            "I. Unsafe practices, Distress, Fear, Serious\n\n"
            "Your response should end with \"The best answer is [the_answer_letter].\" where the "
            "[the_answer_letter] is a letter from the provided choices.\n\n"
            "Let's think step by step.");
  EXPECT_EQ(ps.target, "I");  // answer_index 8
  EXPECT_EQ(ps.settings.max_tokens, 2048);
  EXPECT_EQ(ps.settings.temperature, 0.0);
}

TEST(MmluPro, MacroAverageOverCategories) {
  SCOUT_REQUIRE_DATA("mmlu_pro");
  harness::TaskSettings s;
  s.limit_per_group = 2;  // 2 questions in each of the 14 categories
  const auto t = make_task("mmlu_pro", "meta-card", s);
  ASSERT_EQ(t.docs().size(), 28u);
  // Right on both questions of the first category, one of the second, none elsewhere:
  // macro = (1 + 0.5 + 12 * 0) / 14, micro would be 3 / 28.
  std::vector<store::Sample> samples;
  std::map<std::string, int> seen;
  std::vector<std::string> order;
  for (const auto& d : t.docs()) {
    if (!seen.count(d.group)) order.push_back(d.group);
    const int k = seen[d.group]++;
    const auto gold = t.prepare(d, 0).target;
    const bool right = d.group == order[0] || (d.group == order[1] && k == 0);
    const std::string letter = right ? gold : (gold == "A" ? "B" : "A");
    samples.push_back(score_output(t, d, 0, "Reasoning... The best answer is " + letter + "."));
  }
  const auto ms = t.aggregate(samples);
  EXPECT_NEAR(metric(ms, "mmlu_pro", "exact_match").value, 1.5 / 14, 1e-12);
  EXPECT_DOUBLE_EQ(metric(ms, "mmlu_pro/" + order[0], "exact_match").value, 1.0);
  EXPECT_DOUBLE_EQ(metric(ms, "mmlu_pro/" + order[1], "exact_match").value, 0.5);
  EXPECT_EQ(metric(ms, "mmlu_pro", "answer_not_found").value, 0.0);
}

TEST(MmluPro, LeaderboardFiveShotPromptAndNormalization) {
  SCOUT_REQUIRE_DATA("mmlu_pro");
  harness::TaskSettings s;
  s.limit = 20;
  const auto t = make_task("mmlu_pro", "open-llm-leaderboard-v2", s);
  const auto ps = t.prepare(t.docs()[0], 0);
  // Five shots as user/assistant turns (the first five validation questions), then the question.
  ASSERT_EQ(ps.prompt.messages.size(), 11u);
  for (int i = 0; i < 5; ++i) {
    const auto& shot = t.dataset().shots[size_t(i)];
    EXPECT_EQ(ps.prompt.messages[size_t(2 * i + 1)].content,
              std::string(1, char('A' + shot.fields["gold"].get<int>())));
    EXPECT_TRUE(ps.prompt.messages[size_t(2 * i)].content.ends_with("\nAnswer:"));
  }
  EXPECT_EQ(ps.continuations.front(), " A");
  EXPECT_EQ(ps.continuations.size(), 9u);
  // 11 of 20 right: acc 0.55, leaderboard (0.55 - 0.1) / 0.9 = 0.5.
  std::vector<store::Sample> samples;
  for (size_t i = 0; i < 20; ++i) {
    const auto& d = t.docs()[i];
    const auto gold = size_t(t.prepare(d, 0).gold_position);
    samples.push_back(score_pick(t, d, i < 11 ? gold : (gold + 1) % d.fields["choices"].size()));
  }
  const auto ms = t.aggregate(samples);
  EXPECT_NEAR(metric(ms, "mmlu_pro", "acc").value, 0.55, 1e-12);
  EXPECT_NEAR(metric(ms, "mmlu_pro", "acc_normalized").value, 0.5, 1e-12);
}

}  // namespace
}  // namespace scout::tasks

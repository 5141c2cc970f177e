// BBH: the cot-prompts files parsed, the leaderboard's 24 multiple-choice subtasks with their
// 3-shot prompt, per-subtask normalization then mean, and the CoT exact-match variant.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "task_test_helpers.h"
#include "tasks/loaders.h"

namespace scout::tasks {
namespace {

using namespace testing;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Bbh, ParsesEveryCotPromptFile) {
  SCOUT_REQUIRE_DATA("bbh");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::datasets_dir() / "bbh" / "cot-prompts")) {
    const auto p = parse_cot_prompt(read_file(e.path()));
    EXPECT_FALSE(p.description.empty()) << e.path();
    ASSERT_EQ(p.exemplars.size(), 3u) << e.path();
    for (const auto& x : p.exemplars) {
      EXPECT_FALSE(x.input.empty());
      EXPECT_FALSE(x.target.empty());
      EXPECT_TRUE(x.cot.find("So the answer is") != std::string::npos);
    }
    ++files;
  }
  EXPECT_EQ(files, 27);
  const auto date = parse_cot_prompt(read_file(test::datasets_dir() / "bbh/cot-prompts/date_understanding.txt"));
  EXPECT_EQ(date.description, "Infer the date from context.");
  EXPECT_EQ(date.exemplars[0].input,
            "Today is Christmas Eve of 1937. What is the date 10 days ago in MM/DD/YYYY?\nOptions:\n(A) 12/14/2026\n"
            "(B) 12/14/1950\n(C) 12/14/2007\n(D) 12/14/1937\n(E) 07/14/1938\n(F) 12/14/1988");
  EXPECT_EQ(date.exemplars[0].target, "(D)");
  const auto count = parse_cot_prompt(read_file(test::datasets_dir() / "bbh/cot-prompts/object_counting.txt"));
  EXPECT_EQ(count.exemplars[1].target, "11");  // the leaderboard yaml's second sample
}

TEST(Bbh, LeaderboardLoadsTwentyFourSubtasksWithTheirShots) {
  SCOUT_REQUIRE_DATA("bbh");
  const auto t = make_task("bbh", "open-llm-leaderboard-v2");
  std::set<std::string> groups;
  for (const auto& d : t.docs()) groups.insert(d.group);
  EXPECT_EQ(groups.size(), 24u);
  EXPECT_EQ(t.docs().size(), 6511u - 3 * 250);  // all 27 files but dyck, multistep, word_sorting
  EXPECT_EQ(t.dataset().shots.size(), 72u);
  // Every shot's answer is one of its subtask's fixed options.
  for (const auto& s : t.dataset().shots) EXPECT_GE(s.fields["gold"].get<int>(), 0) << s.id;
}

TEST(Bbh, PlainTextPromptGluesTheDescriptionToTheFirstShotAsLmEvalDoes) {
  SCOUT_REQUIRE_DATA("bbh");
  harness::TaskSettings s;
  s.chat = false;
  s.limit = 1;
  const auto t = make_task("bbh", "open-llm-leaderboard-v2", s);
  const auto ps = t.prepare(t.docs()[0], 0);
  EXPECT_EQ(ps.prompt.text,
            "Evaluate the result of a random Boolean expression.Q: not ( ( not not True ) ) is\nA: False\n\n"
            "Q: True and False and not True and True is\nA: False\n\n"
            "Q: not not ( not ( False ) ) is\nA: True\n\n"
            "Q: not ( True ) and ( True ) is\nA:");
  EXPECT_EQ(ps.continuations, (std::vector<std::string>{" False", " True"}));
  EXPECT_EQ(ps.target, "A");  // "False" is option 0
}

TEST(Bbh, ChatPromptHasTheDescriptionAsSystemAndShotsAsTurns) {
  SCOUT_REQUIRE_DATA("bbh");
  harness::TaskSettings s;
  s.limit = 1;
  const auto t = make_task("bbh", "open-llm-leaderboard-v2", s);
  const auto ps = t.prepare(t.docs()[0], 0);
  ASSERT_EQ(ps.prompt.messages.size(), 8u);
  EXPECT_EQ(ps.prompt.messages[0], (harness::ChatMessage{"system", "Evaluate the result of a random Boolean expression."}));
  EXPECT_EQ(ps.prompt.messages[1], (harness::ChatMessage{"user", "Q: not ( ( not not True ) ) is\nA:"}));
  EXPECT_EQ(ps.prompt.messages[2], (harness::ChatMessage{"assistant", "False"}));
  EXPECT_EQ(ps.prompt.messages[7], (harness::ChatMessage{"user", "Q: not ( True ) and ( True ) is\nA:"}));
}

TEST(Bbh, NormalizedPerSubtaskThenAveraged) {
  SCOUT_REQUIRE_DATA("bbh");
  harness::TaskSettings s;
  s.limit_per_group = 2;
  const auto t = make_task("bbh", "open-llm-leaderboard-v2", s);
  ASSERT_EQ(t.docs().size(), 48u);
  // boolean_expressions (2 options) both right: acc_norm 1 → normalized 1.
  // date_understanding (6 options) one of two: 0.5 → (0.5 - 1/6) / (5/6) = 0.4.
  // Every other subtask wrong: 0, floored at 0. BBH score = (1 + 0.4) / 24.
  std::vector<store::Sample> samples;
  std::map<std::string, int> k;
  for (const auto& d : t.docs()) {
    const auto ps = t.prepare(d, 0);
    const size_t gold = size_t(ps.gold_position);
    const bool right = d.group == "boolean_expressions" || (d.group == "date_understanding" && k[d.group]++ == 0);
    samples.push_back(score_pick(t, d, right ? gold : (gold + 1) % ps.continuations.size()));
  }
  const auto ms = t.aggregate(samples);
  EXPECT_NEAR(metric(ms, "bbh", "acc_norm_normalized").value, 1.4 / 24, 1e-12);
  EXPECT_NEAR(metric(ms, "bbh/date_understanding", "acc_norm_normalized").value, 0.4, 1e-12);
  EXPECT_NEAR(metric(ms, "bbh", "acc_norm").value, 3.0 / 48, 1e-12);  // micro, not normalized
}

TEST(Bbh, ReasoningAboutColoredObjectsUsesEighteenOptions) {
  SCOUT_REQUIRE_DATA("bbh");
  harness::TaskSettings s;
  s.limit_per_group = 1;
  const auto t = make_task("bbh", "open-llm-leaderboard-v2", s);
  for (const auto& d : t.docs())
    if (d.group == "reasoning_about_colored_objects") {
      EXPECT_EQ(t.prepare(d, 0).continuations.size(), 18u);
    }
}

TEST(Bbh, CotExactMatchOnTheAnswerPhrase) {
  SCOUT_REQUIRE_DATA("bbh");
  harness::TaskSettings s;
  s.limit_per_group = 1;
  const auto t = make_task("bbh", "bbh-paper-cot", s);
  ASSERT_EQ(t.docs().size(), 27u);
  const auto& d = t.docs()[0];  // boolean_expressions: target False
  const auto ps = t.prepare(d, 0);
  EXPECT_TRUE(ps.prompt.text.starts_with("Evaluate the result of a random Boolean expression.\n\nQ: not ( ( not not True ) ) is\nA: Let's think step by step.\n"));
  EXPECT_TRUE(ps.prompt.text.ends_with("\n\nQ: not ( True ) and ( True ) is\nA: Let's think step by step."));
  EXPECT_EQ(score_output(t, d, 0, " not ( True ) = False. So the answer is false.").score, 1.0);  // case ignored
  EXPECT_EQ(score_output(t, d, 0, "So the answer is True.").score, 0.0);
  EXPECT_EQ(score_output(t, d, 0, "I give up").answer, std::nullopt);
}

}  // namespace
}  // namespace scout::tasks

// MuSR: the Random(42) shuffle of the local copy undone (checked row by row against the copy
// in original order), the Python list literal of the choices, the leaderboard prompt and the
// per-subtask normalization with 2 / 5 / 3 options.
#include <gtest/gtest.h>

#include <fstream>

#include "task_test_helpers.h"
#include "tasks/loaders.h"

namespace scout::tasks {
namespace {

using namespace testing;

TEST(Musr, PythonStringListLiterals) {
  EXPECT_EQ(parse_python_string_list("['a', \"b's\", 'c\\'d', '\\u00e9\\n']"),
            (std::vector<std::string>{"a", "b's", "c'd", "\xC3\xA9\n"}));
  EXPECT_EQ(parse_python_string_list("[]"), std::vector<std::string>{});
  EXPECT_THROW(parse_python_string_list("['a' 'b']"), Error);
  EXPECT_THROW(parse_python_string_list("['open"), Error);
  EXPECT_THROW(parse_python_string_list("a, b"), Error);
}

TEST(Musr, RestoredOrderEqualsTheOriginalOrderCopy) {
  SCOUT_REQUIRE_DATA("musr/full_order_cases_format");
  const auto t = make_task("musr", "open-llm-leaderboard-v2");
  ASSERT_EQ(t.docs().size(), 756u);  // 250 + 256 + 250
  size_t i = 0;
  for (const char* name : {"murder_mysteries", "object_placements", "team_allocation"}) {
    std::ifstream f(test::datasets_dir() / "musr" / "full_order_cases_format" / (std::string(name) + ".json"));
    const auto cases = nlohmann::json::parse(f).at("cases");
    for (size_t k = 0; k < cases.size(); ++k, ++i) {
      const auto& d = t.docs()[i];
      const auto& args = cases[k].at("input_args");
      ASSERT_EQ(d.id, std::string(name) + "/" + std::to_string(k));
      ASSERT_EQ(d.fields["narrative"], args[0]) << d.id;
      ASSERT_EQ(d.fields["question"], args[1]) << d.id;
      ASSERT_EQ(d.fields["choices"], args[2]) << d.id;
      ASSERT_EQ(d.fields["gold"], cases[k].at("expected_output")) << d.id;
    }
  }
}

TEST(Musr, LeaderboardPrompt) {
  SCOUT_REQUIRE_DATA("musr");
  harness::TaskSettings s;
  s.limit = 1;
  const auto t = make_task("musr", "open-llm-leaderboard-v2", s);
  const auto& d = t.docs()[0];
  const auto ps = t.prepare(d, 0);
  const auto& text = ps.prompt.messages.at(0).content;
  EXPECT_TRUE(text.starts_with("In an adrenaline inducing bungee jumping site, Mack's thrill-seeking adventure"));
  EXPECT_TRUE(text.ends_with("\n\n" + d.fields["question"].get<std::string>() + "\n\n1 - Mackenzie\n2 - Ana\n\nAnswer:"));
  EXPECT_EQ(ps.continuations, (std::vector<std::string>{" Mackenzie", " Ana"}));
}

TEST(Musr, NormalizedPerSubtaskWithTheLargestOptionCount) {
  SCOUT_REQUIRE_DATA("musr");
  harness::TaskSettings s;
  s.limit_per_group = 5;
  const auto t = make_task("musr", "open-llm-leaderboard-v2", s);
  // murder 4/5 right: (0.8 - 1/2) / (1/2) = 0.6; object 3/5: (0.6 - 1/5) / (4/5) = 0.5;
  // team 2/5: (0.4 - 1/3) / (2/3) = 0.1. MuSR = (0.6 + 0.5 + 0.1) / 3 = 0.4.
  const std::map<std::string, int> right = {{"murder_mysteries", 4}, {"object_placements", 3}, {"team_allocation", 2}};
  std::map<std::string, int> k;
  std::vector<store::Sample> samples;
  for (const auto& d : t.docs()) {
    const auto ps = t.prepare(d, 0);
    const size_t gold = size_t(ps.gold_position);
    const bool ok = k[d.group]++ < right.at(d.group);
    samples.push_back(score_pick(t, d, ok ? gold : (gold + 1) % ps.continuations.size()));
  }
  const auto ms = t.aggregate(samples);
  EXPECT_NEAR(metric(ms, "musr/murder_mysteries", "acc_norm_normalized").value, 0.6, 1e-12);
  EXPECT_NEAR(metric(ms, "musr/object_placements", "acc_norm_normalized").value, 0.5, 1e-12);
  EXPECT_NEAR(metric(ms, "musr/team_allocation", "acc_norm_normalized").value, 0.1, 1e-12);
  EXPECT_NEAR(metric(ms, "musr", "acc_norm_normalized").value, 0.4, 1e-12);
}

}  // namespace
}  // namespace scout::tasks

// IFEval wired as a task: ids are the data set's keys, the scorer is tasks/ifeval's checkers
// and the aggregation gives prompt- and instruction-level accuracies and their mean.
#include <gtest/gtest.h>

#include "task_test_helpers.h"

namespace scout::tasks {
namespace {

using namespace testing;

TEST(IfevalTask, PromptAndInstructionLevelAccuracies) {
  SCOUT_REQUIRE_DATA("ifeval");
  const auto t = make_task("ifeval", "open-llm-leaderboard-v2");
  ASSERT_EQ(t.docs().size(), 541u);
  const auto* d1001 = t.find_doc("1001");  // punctuation:no_comma
  const auto* d1019 = t.find_doc("1019");  // change_case:english_lowercase
  const auto* d3084 = t.find_doc("3084");  // punctuation:no_comma + startend:end_checker "in India."
  ASSERT_TRUE(d1001 && d1019 && d3084);
  EXPECT_EQ(t.prepare(*d1001, 0).prompt.messages.at(0).content, d1001->fields["prompt"]);
  const std::vector<store::Sample> samples = {
      score_output(t, *d1001, 0, "Thou shalt go to Tokyo and then to Kyoto."),  // 1 of 1 followed
      score_output(t, *d1019, 0, "Is It Fun?"),                                 // 0 of 1
      score_output(t, *d3084, 0, "Gujarat glows, odd and bright in India."),    // comma: 1 of 2
  };
  EXPECT_EQ(samples[0].score, 1.0);  // prompt_level_strict_acc
  EXPECT_EQ(samples[1].score, 0.0);
  EXPECT_EQ(samples[2].score, 0.0);
  const auto ms = t.aggregate(samples);
  // Prompt level 1/3; instruction level (1 + 0 + 1) / 4 = 1/2; leaderboard mean 5/12.
  EXPECT_NEAR(metric(ms, "ifeval", "prompt_level_strict_acc").value, 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(metric(ms, "ifeval", "inst_level_strict_acc").value, 0.5, 1e-12);
  EXPECT_NEAR(metric(ms, "ifeval", "prompt_inst_strict_mean").value, 5.0 / 12.0, 1e-12);
  EXPECT_EQ(metric(ms, "ifeval", "prompt_inst_strict_mean").n, 3);
  // Per instruction type: no_comma followed in 1001, broken in 3084; lowercase broken; the
  // end phrase kept.
  EXPECT_NEAR(metric(ms, "ifeval/punctuation:no_comma", "inst_level_strict_acc").value, 0.5, 1e-12);
  EXPECT_EQ(metric(ms, "ifeval/punctuation:no_comma", "inst_level_strict_acc").n, 2);
  EXPECT_EQ(metric(ms, "ifeval/change_case:english_lowercase", "inst_level_strict_acc").value, 0.0);
  EXPECT_EQ(metric(ms, "ifeval/startend:end_checker", "inst_level_loose_acc").value, 1.0);
  size_t type_rows = 0;
  for (const auto& m : ms) type_rows += m.task.starts_with("ifeval/") && m.name == "inst_level_strict_acc";
  EXPECT_EQ(type_rows, 3u);
}

}  // namespace
}  // namespace scout::tasks

// score (external JSONL predictions) and rescore (stored outputs, store updated in place).
#include <gtest/gtest.h>

#include <sstream>

#include "harness/runner.h"
#include "harness/scoring.h"
#include "harness/store/sqlite.h"
#include "harness/testing/fake_backend.h"
#include "task_test_helpers.h"

namespace scout::tasks {
namespace {

using namespace testing;

TEST(ScorePredictions, Math500ByUniqueIdWithJsonShape) {
  SCOUT_REQUIRE_DATA("math500");
  const auto t = make_task("math500", "artificial-analysis");
  std::istringstream in(
      "{\"doc_id\": \"test/precalculus/807.json\", \"response\": \"so \\\\boxed{(3,\\\\frac{\\\\pi}{2})}\"}\n"
      "\n"
      "{\"doc_id\": \"" + t.docs()[1].id + "\", \"response\": \"no idea\"}\n");
  const auto r = harness::score_predictions(t, in);
  EXPECT_EQ(r["n"], 2);
  EXPECT_DOUBLE_EQ(r["metrics"]["exact_match"].get<double>(), 0.5);
  EXPECT_EQ(r["metrics"]["answer_not_found"], 1.0);
  ASSERT_EQ(r["samples"].size(), 2u);
  EXPECT_EQ(r["samples"][0]["doc_id"], "test/precalculus/807.json");
  EXPECT_EQ(r["samples"][0]["answer"], "(3,\\frac{\\pi}{2})");
  EXPECT_EQ(r["samples"][0]["score"], 1.0);
  EXPECT_TRUE(r["samples"][1]["answer"].is_null());
  EXPECT_EQ(r["missing_doc_ids"].size(), 498u);
}

TEST(ScorePredictions, IfevalKeysMayBeIntegers) {
  SCOUT_REQUIRE_DATA("ifeval");
  const auto t = make_task("ifeval", "open-llm-leaderboard-v2");
  std::istringstream in("{\"doc_id\": 1001, \"response\": \"No commas here at all.\"}\n");
  const auto r = harness::score_predictions(t, in);
  EXPECT_EQ(r["samples"][0]["doc_id"], "1001");
  EXPECT_EQ(r["samples"][0]["score"], 1.0);
  const auto& inst = r["samples"][0]["instructions"];
  ASSERT_EQ(inst.size(), 1u);
  EXPECT_EQ(inst[0]["id"], "punctuation:no_comma");
  EXPECT_EQ(inst[0]["strict"], true);
  EXPECT_EQ(inst[0]["loose"], true);
}

TEST(ScorePredictions, Errors) {
  SCOUT_REQUIRE_DATA("math500");
  const auto t = make_task("math500", "artificial-analysis");
  std::istringstream unknown("{\"doc_id\": \"nope\", \"response\": \"x\"}\n");
  EXPECT_THROW(harness::score_predictions(t, unknown), Error);
  std::istringstream twice("{\"doc_id\": \"test/precalculus/807.json\", \"response\": \"x\"}\n"
                           "{\"doc_id\": \"test/precalculus/807.json\", \"response\": \"y\"}\n");
  EXPECT_THROW(harness::score_predictions(t, twice), Error);
  std::istringstream bad("{\"id\": 1}\n");
  EXPECT_THROW(harness::score_predictions(t, bad), Error);
  SCOUT_REQUIRE_DATA("gpqa");
  const auto ll = make_task("gpqa_diamond", "open-llm-leaderboard-v2");
  std::istringstream any("{\"doc_id\": \"0\", \"response\": \"(A)\"}\n");
  EXPECT_THROW(harness::score_predictions(ll, any), Error);
}

TEST(Rescore, UpdatesStoredScoresAndMetrics) {
  SCOUT_REQUIRE_DATA("math500");
  const auto dir = test::scratch_dir("rescore");
  auto st = store::Store::open(dir / "r.db");
  harness::FakeBackend fake;
  fake.set_default([](const harness::GenerateRequest&) { return std::string("I think \\boxed{7}"); });
  harness::Runner runner(st, fake, catalog().protocols, catalog().components);
  harness::RunOptions o;
  harness::TaskSettings s;
  s.limit = 3;
  s.repeats = 1;
  o.tasks = {{"math500", "artificial-analysis", s}};
  o.data_dir = test::datasets_dir();
  o.model_sha256 = "m";
  o.progress = false;
  const auto r = runner.run(o);
  EXPECT_EQ(r.tasks[0].n_samples, 3);
  // Replace document 0's stored output with a right answer, as a fixed extractor would find it.
  {
    store::Statement q(st.db(), "UPDATE samples SET output = ? WHERE run_id = ? AND doc_id = ?");
    q.bind_all(std::string("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}"), r.run_id,
               std::string("test/precalculus/807.json"));
    q.run();
  }
  harness::DataDir data(test::datasets_dir());
  const auto out = harness::rescore_run(st, r.run_id, catalog().protocols, catalog().components, data);
  ASSERT_EQ(out["tasks"].size(), 1u);
  EXPECT_EQ(out["tasks"][0]["changed"], 1);
  EXPECT_NEAR(out["tasks"][0]["metrics"]["exact_match"].get<double>(), 1.0 / 3.0, 1e-12);
  for (const auto& m : st.metrics_for_run(r.run_id))
    if (m.task == "math500" && m.name == "exact_match") EXPECT_NEAR(m.value, 1.0 / 3.0, 1e-12);
  for (const auto& smp : st.samples_for_run(r.run_id))
    if (smp.doc_id == "test/precalculus/807.json") EXPECT_EQ(smp.score, 1.0);
  EXPECT_THROW(harness::rescore_run(st, 999, catalog().protocols, catalog().components, data), Error);
}

}  // namespace
}  // namespace scout::tasks

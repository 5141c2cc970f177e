// EvalTask: prompts built from protocol data (text and chat, shots, instruction), option
// orders, log-likelihood scoring (acc vs acc_norm), aggregation and the leaderboard
// normalization, all checked against hand-computed expectations.
#include <gtest/gtest.h>

#include "common/test_paths.h"
#include "engine/util/error.h"
#include "harness/metrics.h"
#include "harness/task_helpers.h"

namespace scout::harness {
namespace {

using testing::toy_components;
using testing::toy_protocol;

struct Fixture : ::testing::Test {
  Components components = toy_components();
  DataDir data{test::scratch_dir("task_test")};
};

TEST_F(Fixture, TextPromptWithInstructionAndOneShot) {
  const auto p = toy_protocol({{"instruction", "Colours.\n\n"},
                               {"shots", {{"count", 1}, {"target", "{gold_label}"}}}});
  EvalTask task(p, components, data, {});
  const auto ps = task.prepare(task.docs()[1], 0);
  EXPECT_FALSE(ps.prompt.chat);
  EXPECT_EQ(ps.prompt.text,
            "Colours.\n\n"
            "Q: Coal?\nA. black\nB. white\nAnswer: A\n\n"
            "Q: Grass?\nA. blue\nB. green\nC. red\nD. pink\nAnswer:");
  EXPECT_EQ(ps.target, "B");
  EXPECT_EQ(ps.gold_position, 1);
}

TEST_F(Fixture, ChatPromptPutsShotsInTurnsAndInstructionInSystem) {
  const auto p = toy_protocol({{"chat", true},
                               {"instruction", "Colours."},
                               {"shots", {{"count", 1}, {"select", "first_n_same_group"}, {"target", "{gold_text}"}}}});
  EvalTask task(p, components, data, {});
  const auto ps = task.prepare(task.docs()[0], 0);  // group g1: the g1 shot is s1
  ASSERT_TRUE(ps.prompt.chat);
  ASSERT_EQ(ps.prompt.messages.size(), 4u);
  EXPECT_EQ(ps.prompt.messages[0], (ChatMessage{"system", "Colours."}));
  EXPECT_EQ(ps.prompt.messages[1], (ChatMessage{"user", "Q: Sun?\nA. blue\nB. yellow\nAnswer:"}));
  EXPECT_EQ(ps.prompt.messages[2], (ChatMessage{"assistant", "yellow"}));
  EXPECT_EQ(ps.prompt.messages[3].role, "user");
}

TEST_F(Fixture, TooFewShotsIsAnError) {
  const auto p = toy_protocol({{"shots", {{"count", 3}}}});
  EvalTask task(p, components, data, {});
  EXPECT_THROW(task.prepare(task.docs()[0], 0), Error);
}

TEST_F(Fixture, SimpleEvalsOrderIsDrawnOverTheWholeSetIndependentOfLimit) {
  // Random(0).sample(range(4), 4) gives [3,1,0,2], [3,1,2,0], [2,3,0,1] (repeat 0, docs 0..2)
  // and then [2,0,3,1] (repeat 1, doc 0).
  const auto p = toy_protocol({{"repeats", 2}, {"choices", {{"order", "python_sample_per_example"}, {"seed", 0}}}});
  for (std::optional<int64_t> limit : {std::optional<int64_t>(), std::optional<int64_t>(1)}) {
    TaskSettings s;
    s.limit = limit;
    EvalTask task(p, components, data, s);
    const auto r0 = task.prepare(task.docs()[0], 0);
    EXPECT_EQ(r0.order, (std::vector<int64_t>{3, 1, 0, 2}));
    EXPECT_EQ(r0.option_texts, (std::vector<std::string>{"black", "red", "blue", "green"}));
    EXPECT_EQ(r0.target, "C");  // gold "blue" is shown third
    EXPECT_EQ(task.prepare(task.docs()[0], 1).order, (std::vector<int64_t>{2, 0, 3, 1}));
  }
  EvalTask full(p, components, data, {});
  EXPECT_EQ(full.prepare(full.docs()[2], 0).order, (std::vector<int64_t>{2, 3, 0, 1}));
}

TEST_F(Fixture, SeededOrderDependsOnRunSeedAndIsReproducible) {
  const auto p = toy_protocol({{"choices", {{"order", "seeded"}}}});
  TaskSettings a, b;
  a.seed = 1;
  b.seed = 2;
  EvalTask ta(p, components, data, a), ta2(p, components, data, a), tb(p, components, data, b);
  std::vector<std::vector<int64_t>> oa, ob;
  for (const auto& d : ta.docs()) {
    EXPECT_EQ(ta.prepare(d, 0).order, ta2.prepare(d, 0).order);
    oa.push_back(ta.prepare(d, 0).order);
    ob.push_back(tb.prepare(d, 0).order);
  }
  EXPECT_NE(oa, ob);
}

TEST_F(Fixture, GenerationScoringAndSettings) {
  const auto p = toy_protocol({{"generation", {{"max_tokens", 100}, {"temperature", 0.7}}}});
  TaskSettings s;
  s.max_tokens = 10;
  EvalTask task(p, components, data, s);
  const auto ps = task.prepare(task.docs()[0], 0);
  EXPECT_EQ(ps.settings.max_tokens, 10);
  EXPECT_DOUBLE_EQ(ps.settings.temperature, 0.7);
  EXPECT_EQ(ps.settings.seed, sample_seed(0, "toy", "q0", 0));
  const auto good = task.score_generation(task.docs()[0], ps, "so... Answer: A", "prompt");
  EXPECT_EQ(good.answer, "A");
  EXPECT_EQ(good.score, 1.0);
  const auto none = task.score_generation(task.docs()[0], ps, "no idea", "prompt");
  EXPECT_EQ(none.answer, std::nullopt);
  EXPECT_EQ(none.score, 0.0);
}

TEST_F(Fixture, LoglikelihoodAccVersusAccNorm) {
  const auto p = toy_protocol({{"request", "loglikelihood"},
                               {"choices", {{"continuation", "{text}"}}},
                               {"metrics", {"acc_norm", "acc"}},
                               {"primary_metric", "acc_norm"}});
  EvalTask task(p, components, data, {});
  const auto& doc = task.docs()[1];  // blue green red pink, gold = green
  const auto ps = task.prepare(doc, 0);
  EXPECT_EQ(ps.continuations, (std::vector<std::string>{" blue", " green", " red", " pink"}));
  // Sums blue -3.0, green -3.5, red -3.3, pink -3.6: acc picks blue (the largest sum).
  // Per character (delimiter excluded): blue -0.75, green -0.7, red -1.1, pink -0.9:
  // acc_norm picks green, the gold answer.
  const std::vector<double> lp = {-3.0, -3.5, -3.3, -3.6};
  const std::vector<char> greedy = {0, 0, 0, 0};
  const auto s = task.score_loglikelihood(doc, ps, lp, greedy, "ctx");
  EXPECT_EQ(s.extra["metrics"]["acc"], 0.0);
  EXPECT_EQ(s.extra["metrics"]["acc_norm"], 1.0);
  EXPECT_EQ(s.score, 1.0);  // the first metric, acc_norm
  EXPECT_EQ(s.answer, "B");
  // Rescoring from the stored log-likelihoods reproduces the verdict.
  EXPECT_EQ(task.rescore(s).score, 1.0);
}

std::vector<store::Sample> samples_with(const EvalTask& task, const std::vector<double>& scores) {
  std::vector<store::Sample> out;
  for (size_t i = 0; i < scores.size(); ++i) {
    store::Sample s;
    s.task = task.name();
    s.doc_id = task.docs()[i].id;
    s.score = scores[i];
    s.answer = "A";
    s.extra = {{"metrics", {{"exact_match", scores[i]}}}};
    out.push_back(s);
  }
  return out;
}

const store::Metric& find(const std::vector<store::Metric>& ms, const std::string& task, const std::string& name) {
  for (const auto& m : ms)
    if (m.task == task && m.name == name) return m;
  throw std::runtime_error("no metric " + task + " " + name);
}

TEST_F(Fixture, MicroAndMacroAggregation) {
  // Scores q0 = 1, q1 = 0 (group g1: 0.5), q2 = 1 (g2: 1). Micro 2/3, macro (0.5 + 1) / 2.
  EvalTask micro(toy_protocol({}), components, data, {});
  const auto m1 = micro.aggregate(samples_with(micro, {1, 0, 1}));
  EXPECT_DOUBLE_EQ(find(m1, "toy", "exact_match").value, 2.0 / 3.0);
  EXPECT_EQ(find(m1, "toy", "exact_match").n, 3);
  EXPECT_DOUBLE_EQ(find(m1, "toy/g1", "exact_match").value, 0.5);
  EXPECT_DOUBLE_EQ(find(m1, "toy/g2", "exact_match").value, 1.0);
  EvalTask macro(toy_protocol({{"aggregation", "macro"}}), components, data, {});
  EXPECT_DOUBLE_EQ(find(macro.aggregate(samples_with(macro, {1, 0, 1})), "toy", "exact_match").value, 0.75);
}

TEST_F(Fixture, RepeatsAreAveragedPerDocumentFirst) {
  EvalTask task(toy_protocol({{"repeats", 2}}), components, data, {});
  auto s = samples_with(task, {1, 1, 0});
  auto extra = samples_with(task, {0, 1, 0});  // repeat 1: q0 = 0 → q0 averages 0.5
  for (auto& e : extra) e.repeat = 1;
  s.insert(s.end(), extra.begin(), extra.end());
  const auto ms = task.aggregate(s);
  EXPECT_DOUBLE_EQ(find(ms, "toy", "exact_match").value, (0.5 + 1 + 0) / 3);
  EXPECT_EQ(find(ms, "toy", "exact_match").details["n_samples"], 6);
}

TEST_F(Fixture, LeaderboardNormalizationPerGroupThenMean) {
  // g1 has 4-option docs (baseline 1/4), g2 too; per-group exact_match g1 = 0.5, g2 = 1.
  // normalized: g1 (0.5 - 0.25) / 0.75 = 1/3, g2 (1 - 0.25) / 0.75 = 1 → mean 2/3.
  EvalTask task(toy_protocol({{"normalization", {{"baseline", "choices"}, {"per_group", true}}}}), components, data, {});
  const auto ms = task.aggregate(samples_with(task, {1, 0, 1}));
  EXPECT_NEAR(find(ms, "toy", "exact_match_normalized").value, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(find(ms, "toy/g1", "exact_match_normalized").value, 1.0 / 3.0, 1e-12);
  // A fixed baseline on the micro value: (2/3 - 0.25) / 0.75 = 5/9.
  EvalTask fixed(toy_protocol({{"normalization", {{"baseline", 0.25}}}}), components, data, {});
  EXPECT_NEAR(find(fixed.aggregate(samples_with(fixed, {1, 0, 1})), "toy", "exact_match_normalized").value, 5.0 / 9.0,
              1e-12);
  // Below chance is floored at 0.
  EXPECT_DOUBLE_EQ(find(fixed.aggregate(samples_with(fixed, {0, 0, 0})), "toy", "exact_match_normalized").value, 0.0);
}

TEST_F(Fixture, AnswerNotFoundIsCounted) {
  EvalTask task(toy_protocol({}), components, data, {});
  auto s = samples_with(task, {1, 0, 0});
  s[1].answer.reset();
  s[2].answer.reset();
  const auto& m = find(task.aggregate(s), "toy", "answer_not_found");
  EXPECT_EQ(m.value, 2.0);
  EXPECT_EQ(m.n, 3);
}

TEST(Metrics, NormalizeFormula) {
  EXPECT_DOUBLE_EQ(leaderboard_normalize(0.5, 0.25), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(leaderboard_normalize(0.2, 0.25), 0.0);
  EXPECT_DOUBLE_EQ(leaderboard_normalize(1.0, 0.1), 1.0);
  EXPECT_NEAR(leaderboard_normalize(0.55, 0.1), 0.5, 1e-15);
}

TEST(Metrics, BootstrapIsDeterministicAndBracketsTheMean) {
  std::vector<Doc> docs(100);
  std::vector<DocResult> results(100);
  std::vector<const DocResult*> ptrs;
  for (size_t i = 0; i < 100; ++i) {
    docs[i].id = std::to_string(i);
    results[i].doc = &docs[i];
    results[i].metrics["m"] = i % 2 ? 1.0 : 0.0;
    ptrs.push_back(&results[i]);
  }
  const Statistic mean = [](std::span<const DocResult* const> d) { return mean_over_docs(d, {"m"}); };
  const auto a = bootstrap(ptrs, mean, false, 1000, 7);
  const auto b = bootstrap(ptrs, mean, false, 1000, 7);
  EXPECT_EQ(a.at("m").low, b.at("m").low);
  EXPECT_LT(a.at("m").low, 0.5);
  EXPECT_GT(a.at("m").high, 0.5);
  // Binomial standard error sqrt(0.25 / 100) = 0.05; the bootstrap estimate is close to it.
  EXPECT_NEAR(a.at("m").std_error, 0.05, 0.008);
  EXPECT_GT(a.at("m").high - a.at("m").low, 0.15);
  EXPECT_LT(a.at("m").high - a.at("m").low, 0.25);
}

}  // namespace
}  // namespace scout::harness

// The named extractors and scorers on hand-written model outputs, with the patterns the
// built-in protocols actually declare.
#include <gtest/gtest.h>

#include "task_test_helpers.h"
#include "tasks/common/extractors.h"
#include "tasks/common/scorers.h"

namespace scout::tasks {
namespace {

using testing::catalog;

std::optional<std::string> run_extractor(const std::string& task, const std::string& protocol, const std::string& out) {
  const auto& p = catalog().protocols.get(task, protocol);
  return catalog().components.extractor(p.extractor.at("name").get<std::string>())(out, p.extractor);
}

TEST(Extractors, SimpleEvalsTakesTheFirstAnswerLine) {
  EXPECT_EQ(run_extractor("gpqa_diamond", "simple-evals", "Answer: B\nwait... Answer: C"), "B");
  EXPECT_EQ(run_extractor("gpqa_diamond", "simple-evals", "so answer:$D$"), "D");
  EXPECT_EQ(run_extractor("gpqa_diamond", "simple-evals", "Answer: E"), std::nullopt);
  EXPECT_EQ(run_extractor("gpqa_diamond", "simple-evals", "I think B"), std::nullopt);
}

TEST(Extractors, MetaBestAnswerTakesTheLastMatch) {
  EXPECT_EQ(run_extractor("mmlu_pro", "meta-card", "The best answer is C. Hmm, no: the best answer is J."), "J");
  EXPECT_EQ(run_extractor("mmlu_pro", "meta-card", "The best answer is **(F)**"), "F");
  EXPECT_EQ(run_extractor("gpqa_diamond", "meta-card", "The best answer is E"), std::nullopt);  // A-D only
  EXPECT_EQ(run_extractor("gpqa_diamond", "meta-card", "The best answer is Because"), std::nullopt);
}

TEST(Extractors, ArtificialAnalysisAnswerLineToleratesMarkdown) {
  EXPECT_EQ(run_extractor("gpqa_diamond", "artificial-analysis", "**Answer:** C"), "C");
  EXPECT_EQ(run_extractor("gpqa_diamond", "artificial-analysis", "Answer: A\n...\nAnswer: B."), "B");
  EXPECT_EQ(run_extractor("gpqa_diamond", "artificial-analysis", "Answer: Clearly"), std::nullopt);
}

TEST(Extractors, AfterPhraseBoxedAnswerLineMinerva) {
  EXPECT_EQ(extract_after_phrase("Step... So the answer is (B).\nQ: next", "the answer is ", false), "(B)");
  EXPECT_EQ(extract_after_phrase("So the answer is True", "the answer is ", false), "True");
  EXPECT_EQ(extract_after_phrase("no conclusion", "the answer is ", false), std::nullopt);
  EXPECT_EQ(run_extractor("math500", "artificial-analysis", "\\boxed{1} then $\\boxed{\\frac{1}{2}}$"), "\\frac{1}{2}");
  EXPECT_EQ(run_extractor("math500", "artificial-analysis", "no box"), std::nullopt);
  EXPECT_EQ(run_extractor("math500", "simple-evals", "Answer: 42\nAnswer: 7"), "42");
  EXPECT_EQ(run_extractor("math_hard", "open-llm-leaderboard-v2",
                          "x=5.\nFinal Answer: The final answer is $5$. I hope it is correct."),
            "$5$");
  EXPECT_EQ(run_extractor("math_hard", "open-llm-leaderboard-v2", "The answer is 5."), std::nullopt);
  EXPECT_EQ(extract_regex("a1 b2 c3", "([a-z])\\d", true), "c");
  EXPECT_THROW(extract_regex("x", "no group", false), Error);
}

TEST(Scorers, PlainIntegers) {
  EXPECT_EQ(parse_plain_integer("025"), 25);
  EXPECT_EQ(parse_plain_integer("$1,000$"), 1000);
  EXPECT_EQ(parse_plain_integer("\\text{70}"), 70);
  EXPECT_EQ(parse_plain_integer("x = 12."), 12);
  EXPECT_EQ(parse_plain_integer("-4"), -4);
  EXPECT_EQ(parse_plain_integer("3.5"), std::nullopt);
  EXPECT_EQ(parse_plain_integer("\\frac{1}{2}"), std::nullopt);
  EXPECT_EQ(parse_plain_integer(""), std::nullopt);
}

harness::SampleScore run_scorer(const std::string& name, const nlohmann::json& args, const harness::Doc& doc,
                                const std::string& target, const std::optional<std::string>& answer) {
  harness::PreparedSample ps;
  ps.target = target;
  const harness::ScoreContext ctx{doc, ps, args};
  return catalog().components.scorer(name)(ctx, answer, answer.value_or(""));
}

TEST(Scorers, EachScorerOnKnownAnswers) {
  harness::Doc doc;
  doc.id = "d";
  doc.fields = {{"answer", "\\frac{1}{2}"}};
  const nlohmann::json args = {{"name", "x"}};
  EXPECT_EQ(run_scorer("choice_label", args, doc, "B", "b").metrics.at("exact_match"), 1.0);
  EXPECT_EQ(run_scorer("choice_label", args, doc, "B", "C").metrics.at("exact_match"), 0.0);
  EXPECT_EQ(run_scorer("choice_label", args, doc, "B", std::nullopt).metrics.at("exact_match"), 0.0);
  EXPECT_EQ(run_scorer("math_equiv", args, doc, "", "0.5").metrics.at("exact_match"), 1.0);
  EXPECT_EQ(run_scorer("math_equiv", args, doc, "", "\\dfrac12").metrics.at("exact_match"), 1.0);
  EXPECT_EQ(run_scorer("math_equiv", args, doc, "", "2").metrics.at("exact_match"), 0.0);
  EXPECT_EQ(run_scorer("exact_match", {{"ignore_case", true}}, doc, "True", "true").metrics.at("exact_match"), 1.0);
  EXPECT_EQ(run_scorer("exact_match", args, doc, "True", "true").metrics.at("exact_match"), 0.0);
  harness::Doc aime;
  aime.id = "a";
  aime.fields = {{"answer", "025"}};
  EXPECT_EQ(run_scorer("integer_match", args, aime, "025", "25").metrics.at("exact_match"), 1.0);
  EXPECT_EQ(run_scorer("integer_match", args, aime, "025", "26").metrics.at("exact_match"), 0.0);
  EXPECT_EQ(run_scorer("integer_match", {{"metric", "pass"}}, aime, "025", "25").metrics.at("pass"), 1.0);
  // Minerva: the gold is stored normalized; "$\frac{2}{3}$" normalizes to "\frac{2}{3}".
  harness::Doc minerva;
  minerva.id = "m";
  minerva.fields = {{"answer", "\\frac{2}{3}"}};
  EXPECT_EQ(run_scorer("minerva_math", args, minerva, "", "$\\frac{2}{3}$").metrics.at("exact_match"), 1.0);
  EXPECT_EQ(run_scorer("minerva_math", args, minerva, "", "$\\frac{4}{6}$").metrics.at("exact_match"), 1.0);
  EXPECT_EQ(run_scorer("minerva_math", args, minerva, "", "$0.7$").metrics.at("exact_match"), 0.0);
}

TEST(BuiltinProtocols, AllParseAndEveryNamedPartExists) {
  const auto& c = catalog();
  EXPECT_GE(c.protocols.tasks().size(), 10u);
  for (const auto& t : c.protocols.tasks()) {
    bool has_default = false;
    for (const auto* p : c.protocols.protocols_of(t)) {
      has_default = has_default || p->is_default;
      EXPECT_NO_THROW(c.components.loader(p->dataset.at("loader").get<std::string>())) << t << "/" << p->name;
      EXPECT_NO_THROW(c.components.extractor(p->extractor.at("name").get<std::string>())) << t << "/" << p->name;
      if (p->kind == harness::RequestKind::generate) EXPECT_NO_THROW(c.components.scorer(p->scorer.at("name").get<std::string>()));
      EXPECT_FALSE(p->source.empty());
    }
    EXPECT_TRUE(has_default) << t;
  }
  for (const auto& s : {"quick", "card"})
    for (const auto& e : c.protocols.suite(s).entries) EXPECT_NO_THROW(c.protocols.get(e.task, e.protocol));
}

}  // namespace
}  // namespace scout::tasks

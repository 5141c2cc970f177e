// The prompt template language and protocol/suite parsing (errors name the problem).
#include <gtest/gtest.h>

#include "engine/util/error.h"
#include "harness/protocol.h"
#include "harness/template.h"

namespace scout::harness {
namespace {

TEST(Template, SubstitutesAndEscapesBraces) {
  const nlohmann::json vars = {{"q", "2+2?"}, {"n", 4}};
  EXPECT_EQ(render_template("Q: {q} ({n} options) in \\boxed{{}}", vars), "Q: 2+2? (4 options) in \\boxed{}");
  EXPECT_EQ(render_template("{{q}}", vars), "{q}");
  EXPECT_EQ(render_template("", vars), "");
}

TEST(Template, UnknownFieldsAndBadBracesAreErrors) {
  EXPECT_THROW(render_template("{missing}", nlohmann::json::object()), Error);
  EXPECT_THROW(check_template("a { b"), Error);
  EXPECT_THROW(check_template("a } b"), Error);
  EXPECT_THROW(check_template("{}"), Error);
  EXPECT_NO_THROW(check_template("{a}{{b}}"));
}

nlohmann::json minimal() {
  return {{"task", "t"},          {"protocol", "p"},           {"source", "here"},
          {"dataset", {{"loader", "l"}}}, {"doc_template", "{q}"}, {"request", "generate"},
          {"metrics", {"exact_match"}},   {"primary_metric", "exact_match"}};
}

TEST(Protocol, ParsesDefaultsAndHashesContent) {
  const Protocol p = parse_protocol(minimal(), "t/p.json");
  EXPECT_EQ(p.kind, RequestKind::generate);
  EXPECT_EQ(p.repeats, 1);
  EXPECT_EQ(p.choices.order, "dataset");
  EXPECT_EQ(p.generation.max_tokens, 256);
  EXPECT_EQ(p.sha256.size(), 64u);
  auto j = minimal();
  j["repeats"] = 3;
  EXPECT_NE(parse_protocol(j, "x").sha256, p.sha256);
}

TEST(Protocol, RejectsUnknownKeysAndBadValues) {
  auto typo = minimal();
  typo["repeat"] = 2;  // misspelt "repeats"
  EXPECT_THROW(parse_protocol(typo, "x"), Error);
  auto bad_order = minimal();
  bad_order["choices"] = {{"order", "random"}};
  EXPECT_THROW(parse_protocol(bad_order, "x"), Error);
  auto bad_norm = minimal();
  bad_norm["normalization"] = {{"baseline", 1.5}};
  EXPECT_THROW(parse_protocol(bad_norm, "x"), Error);
  auto loglik_repeats = minimal();
  loglik_repeats["request"] = "loglikelihood";
  loglik_repeats["repeats"] = 2;
  EXPECT_THROW(parse_protocol(loglik_repeats, "x"), Error);
  auto bad_template = minimal();
  bad_template["doc_template"] = "{q";
  EXPECT_THROW(parse_protocol(bad_template, "x"), Error);
}

TEST(ProtocolRegistry, DefaultsDuplicatesAndSuites) {
  ProtocolRegistry reg;
  auto a = minimal();
  a["default"] = true;
  reg.add(parse_protocol(a, "a"));
  auto b = minimal();
  b["protocol"] = "q";
  reg.add(parse_protocol(b, "b"));
  EXPECT_EQ(reg.default_for("t").name, "p");
  EXPECT_EQ(reg.get("t", "q").name, "q");
  EXPECT_THROW(reg.get("t", "zzz"), Error);
  EXPECT_THROW(reg.get("nope", "p"), Error);
  EXPECT_THROW(reg.add(parse_protocol(a, "again")), Error);
  reg.add_json_text(R"({"suite": "s", "entries": [{"task": "t", "protocol": "q", "limit": 3}]})", "s.json");
  EXPECT_EQ(reg.suite("s").entries.at(0).limit, 3);
  EXPECT_THROW(reg.add_json_text(R"({"suite": "z", "entries": [{"task": "t", "lmit": 3}]})", "z.json"), Error);
}

}  // namespace
}  // namespace scout::harness

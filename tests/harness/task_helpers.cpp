#include "harness/task_helpers.h"

#include <re2/re2.h>

namespace scout::harness::testing {

Components toy_components() {
  Components c;
  c.add_loader("toy", [](DataDir&, const nlohmann::json& args) {
    Dataset ds;
    for (const char* part : {"docs", "shots"})
      for (const auto& j : args.value(part, nlohmann::json::array())) {
        Doc d;
        d.id = j.at("id").get<std::string>();
        d.group = j.value("group", std::string());
        d.fields = j;
        (std::string(part) == "docs" ? ds.docs : ds.shots).push_back(std::move(d));
      }
    return ds;
  });
  c.add_extractor("letter", [](std::string_view out, const nlohmann::json&) -> std::optional<std::string> {
    std::string letter;
    if (RE2::PartialMatch(re2::StringPiece(out.data(), out.size()), "Answer: ([A-D])", &letter)) return letter;
    return std::nullopt;
  });
  c.add_scorer("letter", [](const ScoreContext& ctx, const std::optional<std::string>& a, std::string_view) {
    SampleScore s;
    s.metrics["exact_match"] = a && *a == ctx.sample.target ? 1.0 : 0.0;
    return s;
  });
  return c;
}

nlohmann::json toy_docs() {
  return {{"docs",
           {{{"id", "q0"}, {"group", "g1"}, {"question", "Sky?"}, {"choices", {"blue", "red", "green", "black"}}, {"gold", 0}},
            {{"id", "q1"}, {"group", "g1"}, {"question", "Grass?"}, {"choices", {"blue", "green", "red", "pink"}}, {"gold", 1}},
            {{"id", "q2"}, {"group", "g2"}, {"question", "Snow?"}, {"choices", {"grey", "black", "white", "gold"}}, {"gold", 2}}}},
          {"shots",
           {{{"id", "s0"}, {"group", "g2"}, {"question", "Coal?"}, {"choices", {"black", "white"}}, {"gold", 0}},
            {{"id", "s1"}, {"group", "g1"}, {"question", "Sun?"}, {"choices", {"blue", "yellow"}}, {"gold", 1}}}}};
}

Protocol toy_protocol(const nlohmann::json& extra) {
  nlohmann::json j = {{"task", "toy"},
                      {"protocol", "test"},
                      {"source", "tests"},
                      {"dataset", nlohmann::json{{"loader", "toy"}}},
                      {"doc_template", "Q: {question}\n{choices_block}\nAnswer:"},
                      {"request", "generate"},
                      {"extractor", {{"name", "letter"}}},
                      {"scorer", {{"name", "letter"}}},
                      {"metrics", {"exact_match"}},
                      {"primary_metric", "exact_match"}};
  j["dataset"].update(toy_docs());
  if (extra.is_object()) j.update(extra);
  return parse_protocol(j, "toy");
}

}  // namespace scout::harness::testing

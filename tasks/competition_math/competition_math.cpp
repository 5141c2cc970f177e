// Competition mathematics data sets:
//   math500    OpenAI's MATH-500 (PRM800K test subset): id = unique_id, gold = "answer"
//   math_hard  MATH (Hendrycks et al.) Level 5, the Open LLM Leaderboard's MATH-Hard: 1,324
//              problems; gold = Minerva-normalized content of the solution's last \boxed{}
//   aime       AIME 2024 / 2025 ({"year": "aime24"|"aime25"}): integer answers
// Few-shot exemplars, where a protocol uses them, are data in the protocol ("shots" argument).
#include <fmt/format.h>

#include "engine/util/error.h"
#include "tasks/loaders.h"
#include "tasks/math/extract.h"
#include "tasks/math/normalize.h"

namespace scout::tasks {
namespace {

std::string text_of(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Inline exemplars from the protocol: [{"problem", "solution", ...}].
std::vector<harness::Doc> inline_shots(const nlohmann::json& args) {
  std::vector<harness::Doc> shots;
  if (!args.contains("shots")) return shots;
  for (size_t i = 0; i < args.at("shots").size(); ++i) {
    harness::Doc d;
    d.id = fmt::format("shot{}", i);
    d.fields = args.at("shots")[i];
    shots.push_back(std::move(d));
  }
  return shots;
}

harness::Dataset load_math500(harness::DataDir& data, const nlohmann::json& args) {
  const auto rows = read_first(data, {{"math500/test.jsonl", "", ""}, {"math500/test.json", "", ""}}, "MATH-500");
  harness::Dataset ds;
  for (const auto& r : rows) {
    harness::Doc d;
    d.id = r.at("unique_id").get<std::string>();
    d.group = r.value("subject", std::string());
    d.fields = {{"problem", r.at("problem")}, {"answer", text_of(r.at("answer"))}, {"level", r.value("level", 0)}};
    ds.docs.push_back(std::move(d));
  }
  ds.shots = inline_shots(args);
  return ds;
}

// lm-eval leaderboard math process_docs: answer = normalize_final_answer(remove_boxed(
// last_boxed_only_string(solution))), "[invalidanswer]" where the box cannot be read.
std::string minerva_gold(const std::string& solution) {
  const auto boxed = math::last_boxed_only_string(solution);
  const auto inner = boxed ? math::remove_boxed(*boxed) : std::nullopt;
  return math::normalize_final_answer(inner ? *inner : std::string(math::kInvalidAnswer));
}

harness::Dataset load_math_hard(harness::DataDir& data, const nlohmann::json& args) {
  const auto rows = read_first(data, {{"math/test.jsonl", "", ""}, {"math_hard/test.jsonl", "", ""}}, "MATH test");
  const std::string level = args.value("level", std::string("Level 5"));
  harness::Dataset ds;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.at("level").get<std::string>() != level) continue;
    harness::Doc d;
    d.id = std::to_string(i);  // row index in the full 5,000-problem test file
    d.group = r.at("type").get<std::string>();
    const std::string solution = r.at("solution").get<std::string>();
    d.fields = {{"problem", r.at("problem")}, {"solution", solution}, {"answer", minerva_gold(solution)}};
    ds.docs.push_back(std::move(d));
  }
  ds.shots = inline_shots(args);
  ds.info = {{"level", level}, {"docs", ds.docs.size()}};
  return ds;
}

harness::Dataset load_aime(harness::DataDir& data, const nlohmann::json& args) {
  const std::string year = args.at("year").get<std::string>();
  if (year != "aime24" && year != "aime25") throw Error("aime loader: year must be aime24 or aime25");
  const auto rows = read_first(data, {{"aime/" + year + "/test.jsonl", "", ""}, {year + "/test.jsonl", "", ""}},
                               "AIME " + year);
  harness::Dataset ds;
  for (size_t i = 0; i < rows.size(); ++i) {
    harness::Doc d;
    d.id = std::to_string(i);
    d.fields = {{"problem", rows[i].at("problem")}, {"answer", text_of(rows[i].at("answer"))}};
    ds.docs.push_back(std::move(d));
  }
  return ds;
}

}  // namespace

void register_competition_math(harness::Components& c) {
  c.add_loader("math500", load_math500);
  c.add_loader("math_hard", load_math_hard);
  c.add_loader("aime", load_aime);
}

}  // namespace scout::tasks

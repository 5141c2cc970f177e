#include "tasks/common/scorers.h"

#include <cctype>

#include "engine/util/error.h"
#include "engine/util/text.h"
#include "tasks/math/equivalence.h"
#include "tasks/math/normalize.h"

namespace scout::tasks {
namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string metric_name(const nlohmann::json& args) { return args.value("metric", std::string("exact_match")); }

std::string gold_answer(const harness::ScoreContext& ctx) {
  const auto& f = ctx.doc.fields;
  if (!f.contains("answer")) throw Error("document " + ctx.doc.id + " has no \"answer\" to score against");
  return f.at("answer").is_string() ? f.at("answer").get<std::string>() : f.at("answer").dump();
}

harness::SampleScore verdict(const nlohmann::json& args, bool correct, nlohmann::json extra = nlohmann::json::object()) {
  harness::SampleScore s;
  s.metrics[metric_name(args)] = correct ? 1.0 : 0.0;
  s.extra = std::move(extra);
  return s;
}

// Removes every "\cmd{" wrapper of the given commands, keeping the braced content.
std::string unwrap_commands(std::string s) {
  for (const char* cmd : {"\\text{", "\\textbf{", "\\mathbf{", "\\mathrm{", "\\boxed{"}) {
    size_t at;
    while ((at = s.find(cmd)) != std::string::npos) {
      const size_t open = at + std::char_traits<char>::length(cmd) - 1;
      int depth = 0;
      size_t close = open;
      for (; close < s.size(); ++close) {
        if (s[close] == '{') ++depth;
        if (s[close] == '}' && --depth == 0) break;
      }
      if (close >= s.size()) break;
      s = s.substr(0, at) + s.substr(open + 1, close - open - 1) + s.substr(close + 1);
    }
  }
  return s;
}

}  // namespace

std::optional<int64_t> parse_plain_integer(std::string_view in) {
  std::string s = unwrap_commands(std::string(in));
  std::string t;
  for (char c : s)
    if (c != '$' && c != ' ' && c != ',' && c != '\t' && c != '\n') t += c;
  if (const size_t eq = t.rfind('='); eq != std::string::npos) t = t.substr(eq + 1);
  while (!t.empty() && t.back() == '.') t.pop_back();
  for (const char* junk : {"\\!", "\\,", "\\;"}) {
    size_t at;
    while ((at = t.find(junk)) != std::string::npos) t.erase(at, 2);
  }
  if (!t.empty() && t[0] == '+') t.erase(0, 1);
  const size_t digits_from = !t.empty() && t[0] == '-' ? 1 : 0;
  if (t.size() == digits_from || t.size() - digits_from > 18) return std::nullopt;
  for (size_t i = digits_from; i < t.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
  return std::stoll(t);
}

void register_scorers(harness::Components& c) {
  c.add_scorer("choice_label", [](const harness::ScoreContext& ctx, const std::optional<std::string>& answer,
                                  std::string_view) {
    const bool ok = answer && !ctx.sample.target.empty() && upper(trim(*answer)) == upper(ctx.sample.target);
    return verdict(ctx.args, ok);
  });
  c.add_scorer("exact_match", [](const harness::ScoreContext& ctx, const std::optional<std::string>& answer,
                                 std::string_view) {
    if (!answer) return verdict(ctx.args, false);
    std::string a = trim(*answer), t = trim(ctx.sample.target);
    if (ctx.args.value("ignore_case", false)) {
      a = upper(a);
      t = upper(t);
    }
    return verdict(ctx.args, a == t);
  });
  c.add_scorer("math_equiv", [](const harness::ScoreContext& ctx, const std::optional<std::string>& answer,
                                std::string_view) {
    if (!answer) return verdict(ctx.args, false);
    const auto r = math::compare_answers(gold_answer(ctx), *answer);
    return verdict(ctx.args, r.equivalent,
                   {{"reason", r.reason}, {"gold_canonical", r.gold_canonical}, {"answer_canonical", r.predicted_canonical}});
  });
  c.add_scorer("minerva_math", [](const harness::ScoreContext& ctx, const std::optional<std::string>& answer,
                                  std::string_view) {
    if (!answer) return verdict(ctx.args, false);
    const std::string normalized = math::normalize_final_answer(*answer);
    const std::string gold = gold_answer(ctx);
    bool ok = trim(normalized) == trim(gold);
    std::string how = ok ? "equal after normalization" : "";
    if (!ok) {
      const auto r = math::compare_answers(gold, normalized);
      ok = r.equivalent;
      how = r.reason;
    }
    return verdict(ctx.args, ok, {{"normalized_answer", normalized}, {"reason", how}});
  });
  c.add_scorer("integer_match", [](const harness::ScoreContext& ctx, const std::optional<std::string>& answer,
                                   std::string_view) {
    const auto gold = parse_plain_integer(gold_answer(ctx));
    if (!gold) throw Error("document " + ctx.doc.id + ": gold answer is not an integer");
    const auto got = answer ? parse_plain_integer(*answer) : std::nullopt;
    nlohmann::json extra = {{"answer_integer", got ? nlohmann::json(*got) : nlohmann::json(nullptr)}};
    return verdict(ctx.args, got && *got == *gold, std::move(extra));
  });
}

}  // namespace scout::tasks

#include "tasks/common/extractors.h"

#include <re2/re2.h>

#include <cctype>
#include <map>
#include <memory>
#include <mutex>

#include "engine/util/error.h"
#include "engine/util/text.h"
#include "tasks/math/extract.h"

namespace scout::tasks {
namespace {

bool wants_last(const nlohmann::json& args, bool fallback) {
  if (!args.contains("occurrence")) return fallback;
  const std::string o = args.at("occurrence").get<std::string>();
  if (o != "first" && o != "last") throw Error("extractor occurrence must be first or last, not " + o);
  return o == "last";
}

// Compiled patterns are cached: protocols use a handful, extraction runs per sample.
const RE2& compiled(std::string_view pattern) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<RE2>, std::less<>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    auto re = std::make_unique<RE2>(std::string(pattern), RE2::Quiet);
    if (!re->ok()) throw Error("extractor regex \"" + std::string(pattern) + "\": " + re->error());
    if (re->NumberOfCapturingGroups() < 1) throw Error("extractor regex \"" + std::string(pattern) + "\" has no capture group");
    it = cache.emplace(std::string(pattern), std::move(re)).first;
  }
  return *it->second;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::string> extract_regex(std::string_view text, std::string_view pattern, bool last) {
  const RE2& re = compiled(pattern);
  std::optional<std::string> found;
  size_t pos = 0;
  re2::StringPiece groups[2];
  while (pos <= text.size() &&
         re.Match(re2::StringPiece(text.data(), text.size()), pos, text.size(), RE2::UNANCHORED, groups, 2)) {
    found = std::string(groups[1].data(), groups[1].size());
    if (!last) break;
    const size_t end = size_t(groups[0].data() - text.data()) + groups[0].size();
    pos = end > pos ? end : pos + 1;
  }
  return found;
}

std::optional<std::string> extract_after_phrase(std::string_view text, std::string_view phrase, bool last) {
  const std::string hay = lower_ascii(text), needle = lower_ascii(phrase);
  const size_t at = last ? hay.rfind(needle) : hay.find(needle);
  if (at == std::string::npos) return std::nullopt;
  std::string_view rest = text.substr(at + phrase.size());
  rest = rest.substr(0, rest.find('\n'));
  std::string answer = trim(rest);
  if (!answer.empty() && answer.back() == '.') answer.pop_back();
  answer = trim(answer);
  if (answer.empty()) return std::nullopt;
  return answer;
}

void register_extractors(harness::Components& c) {
  c.add_extractor("none", [](std::string_view out, const nlohmann::json&) -> std::optional<std::string> {
    return trim(out);
  });
  c.add_extractor("regex", [](std::string_view out, const nlohmann::json& a) {
    return extract_regex(out, a.at("pattern").get<std::string>(), wants_last(a, false));
  });
  c.add_extractor("after_phrase", [](std::string_view out, const nlohmann::json& a) {
    return extract_after_phrase(out, a.value("phrase", std::string("the answer is ")), wants_last(a, false));
  });
  c.add_extractor("last_boxed", [](std::string_view out, const nlohmann::json&) {
    auto b = math::extract_last_boxed(out);
    if (b) *b = trim(*b);
    return b;
  });
  c.add_extractor("answer_line", [](std::string_view out, const nlohmann::json& a) {
    auto r = math::extract_answer_line(out, wants_last(a, true) ? math::Occurrence::kLast : math::Occurrence::kFirst);
    if (r) *r = trim(*r);
    return r;
  });
  c.add_extractor("minerva", [](std::string_view out, const nlohmann::json&) {
    return math::extract_minerva_answer(out);
  });
  c.add_extractor("aime_integer", [](std::string_view out, const nlohmann::json&) -> std::optional<std::string> {
    if (auto v = math::extract_aime_integer(out)) return std::to_string(*v);
    return std::nullopt;
  });
}

}  // namespace scout::tasks

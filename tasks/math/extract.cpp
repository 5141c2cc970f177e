#include "tasks/math/extract.h"

#include <re2/re2.h>

#include <cctype>
#include <vector>

#include "tasks/math/text_util.h"

namespace scout::tasks::math {

std::optional<std::string> last_boxed_only_string(std::string_view text) {
  // The "\boxed " form wins whenever it occurs anywhere, as in the reference.
  constexpr std::string_view kSpaced = "\\boxed ";
  if (size_t last = text.rfind(kSpaced); last != std::string_view::npos) {
    std::string_view tail = text.substr(last + kSpaced.size());
    return std::string(kSpaced) + std::string(tail.substr(0, tail.find('$')));
  }
  size_t start = text.rfind("\\boxed");
  if (start == std::string_view::npos) start = text.rfind("\\fbox");
  if (start == std::string_view::npos) return std::nullopt;
  // Count every brace from the command on; the box ends where the count returns to 0.
  int open = 0;
  for (size_t i = start; i < text.size(); ++i) {
    if (text[i] == '{') ++open;
    if (text[i] == '}' && --open == 0) return std::string(text.substr(start, i - start + 1));
  }
  return std::nullopt;
}

std::optional<std::string> remove_boxed(std::string_view boxed) {
  constexpr std::string_view kSpaced = "\\boxed ";
  if (boxed.find(kSpaced) != std::string_view::npos) {
    if (!starts_with(boxed, kSpaced)) return std::nullopt;
    return std::string(boxed.substr(kSpaced.size()));
  }
  constexpr std::string_view kBraced = "\\boxed{";
  if (!starts_with(boxed, kBraced) || boxed.empty() || boxed.back() != '}') return std::nullopt;
  return std::string(boxed.substr(kBraced.size(), boxed.size() - kBraced.size() - 1));
}

std::optional<std::string> extract_last_boxed(std::string_view text) {
  size_t boxed = text.rfind("\\boxed");
  size_t fbox = text.rfind("\\fbox");
  size_t start;
  size_t name_length;
  if (boxed != std::string_view::npos && (fbox == std::string_view::npos || boxed > fbox)) {
    start = boxed;
    name_length = 6;
  } else if (fbox != std::string_view::npos) {
    start = fbox;
    name_length = 5;
  } else {
    return std::nullopt;
  }
  size_t brace = start + name_length;
  while (brace < text.size() && std::isspace(static_cast<unsigned char>(text[brace]))) ++brace;
  if (brace >= text.size() || text[brace] != '{') return std::nullopt;
  auto close = matching_brace(text, brace);
  if (!close) return std::nullopt;
  return std::string(text.substr(brace + 1, *close - brace - 1));
}

std::optional<std::string> extract_minerva_answer(std::string_view text) {
  // The reference appends the closing sentence so that a truncated final line still
  // matches, and its '.' wildcards are unescaped (any character but a newline).
  static const RE2 pattern("Final Answer: The final answer is(.*?). I hope it is correct.");
  std::string haystack = std::string(text) + "I hope it is correct.";
  std::string answer;
  if (!RE2::PartialMatch(haystack, pattern, &answer)) return std::nullopt;
  return trim(answer);
}

std::optional<std::string> extract_answer_line(std::string_view text, Occurrence which) {
  static const RE2 pattern("(?i)Answer\\s*:\\s*([^\\n]+)");
  re2::StringPiece input(text.data(), text.size());
  std::string captured;
  std::optional<std::string> result;
  while (RE2::FindAndConsume(&input, pattern, &captured)) {
    result = captured;
    if (which == Occurrence::kFirst) break;
  }
  return result;
}

namespace {

// Drops the wrappers a model puts around an integer answer; nullopt unless what remains
// is an optionally signed run of digits.
std::optional<std::int64_t> parse_integer_answer(std::string_view candidate) {
  std::string s(candidate);
  static const RE2 wrappers("\\\\(?:text|textbf|mathbf|mathrm|boxed)\\s*\\{([^{}]*)\\}");
  while (RE2::GlobalReplace(&s, wrappers, "\\1") > 0) {
  }
  std::string compact;
  for (char c : s) {
    if (c == '$' || c == ',' || std::isspace(static_cast<unsigned char>(c)) || c == '{' || c == '}') continue;
    compact += c;
  }
  if (size_t eq = compact.rfind('='); eq != std::string::npos) compact = compact.substr(eq + 1);
  while (!compact.empty() && compact.back() == '.') compact.pop_back();
  static const RE2 integer("([-+]?)0*(\\d{1,18})");
  std::string sign;
  std::string digits;
  if (!RE2::FullMatch(compact, integer, &sign, &digits)) return std::nullopt;
  std::int64_t value = std::stoll(digits);
  return sign == "-" ? -value : value;
}

}  // namespace

std::optional<std::int64_t> extract_aime_integer(std::string_view text) {
  std::vector<std::optional<std::string>> candidates = {
      extract_last_boxed(text), extract_answer_line(text, Occurrence::kLast),
      extract_minerva_answer(text)};
  for (const auto& candidate : candidates) {
    if (!candidate) continue;
    if (auto value = parse_integer_answer(*candidate)) return value;
  }
  // Last resort: the last integer written anywhere in the response.
  static const RE2 number("(-?\\d[\\d,]*)");
  re2::StringPiece input(text.data(), text.size());
  std::string token;
  std::optional<std::int64_t> last;
  while (RE2::FindAndConsume(&input, number, &token)) {
    if (auto value = parse_integer_answer(token)) last = value;
  }
  return last;
}

}  // namespace scout::tasks::math

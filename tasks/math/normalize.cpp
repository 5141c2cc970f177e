#include "tasks/math/normalize.h"

#include <re2/re2.h>

#include <array>
#include <utility>
#include <vector>

#include "tasks/math/text_util.h"

namespace scout::tasks::math {
namespace {

// Minerva's fixed lists, in the reference's order (order matters: "an " before "a ",
// "\text{}^2" before "\text{}").
constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kMinervaSubstitutions = {{
    {"an ", ""},
    {"a ", ""},
    {".$", "$"},
    {"\\$", ""},
    {"\\ ", ""},
    {" ", ""},
    {"mbox", "text"},
    {",\\text{and}", ","},
    {"\\text{and}", ","},
    {"\\text{m}", "\\text{}"},
}};

constexpr std::array<std::string_view, 42> kMinervaRemovedExpressions = {
    "square", "ways", "integers", "dollars", "mph", "inches", "ft", "hours", "km", "units",
    "\\ldots", "sue", "points", "feet", "minutes", "digits", "cents", "degrees", "cm", "gm",
    "pounds", "meters", "meals", "edges", "students", "childrentickets", "multiples",
    "\\text{s}", "\\text{.}", "\\text{\ns}", "\\text{}^2", "\\text{}^3", "\\text{\n}",
    "\\text{}", "\\mathrm{th}", "^\\circ", "^{\\circ}", "\\;", ",\\!", "{,}", "\"", "\\dots",
};

bool all_ascii_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

}  // namespace

std::string normalize_final_answer(std::string_view final_answer) {
  std::string s(final_answer.substr(final_answer.rfind('=') == std::string_view::npos
                                        ? 0
                                        : final_answer.rfind('=') + 1));
  for (const auto& [before, after] : kMinervaSubstitutions) s = replace_all(s, before, after);
  for (std::string_view expr : kMinervaRemovedExpressions) s = replace_all(s, expr, "");

  // Unwrap math mode, text, bold, overlines and boxes (Python re semantics: '.' stops
  // at newlines, lazy groups, every match replaced).
  static const RE2 dollars("(.*?)(\\$)(.*?)(\\$)(.*)");
  static const RE2 text("(\\\\text\\{)(.*?)(\\})");
  static const RE2 textbf("(\\\\textbf\\{)(.*?)(\\})");
  static const RE2 overline("(\\\\overline\\{)(.*?)(\\})");
  static const RE2 boxed("(\\\\boxed\\{)(.*)(\\})");
  RE2::GlobalReplace(&s, dollars, "$\\3$");
  RE2::GlobalReplace(&s, text, "\\2");
  RE2::GlobalReplace(&s, textbf, "\\2");
  RE2::GlobalReplace(&s, overline, "\\2");
  RE2::GlobalReplace(&s, boxed, "\\2");

  // Shorthand TeX: \fracab -> \frac{a}{b}, \sqrta -> \sqrt{a}.
  static const RE2 frac("(frac)([^{])(.)");
  static const RE2 sqrt("(sqrt)([^{])");
  RE2::GlobalReplace(&s, frac, "frac{\\2}{\\3}");
  RE2::GlobalReplace(&s, sqrt, "sqrt{\\2}");
  s = replace_all(s, "$", "");

  if (all_ascii_digits(replace_all(s, ",", ""))) s = replace_all(s, ",", "");
  return s;
}

namespace {

// Hendrycks helpers. Each returns nullopt where the Python original raises.

std::optional<std::string> fix_fracs(const std::string& string) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t hit = string.find("\\frac", pos);
    parts.push_back(string.substr(pos, hit == std::string::npos ? std::string::npos : hit - pos));
    if (hit == std::string::npos) break;
    pos = hit + 5;
  }
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& sub = parts[i];
    out += "\\frac";
    if (sub.empty()) return std::nullopt;  // substr[0] raises IndexError
    if (sub[0] == '{') {
      out += sub;
      continue;
    }
    if (sub.size() < 2) return string;  // the caught assertion returns the input
    char a = sub[0];
    char b = sub[1];
    std::string rest = sub.substr(2);
    if (b != '{') {
      out += std::string("{") + a + "}{" + b + "}" + rest;
    } else {
      out += std::string("{") + a + "}" + b + rest;
    }
  }
  return out;
}

// True when `s` is what Python's str(int(s)) prints back, i.e. a canonical integer.
bool canonical_int(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  if (s.empty() || !all_ascii_digits(s)) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  return true;
}

std::string fix_a_slash_b(const std::string& string) {
  size_t slash = string.find('/');
  if (slash == std::string::npos || string.find('/', slash + 1) != std::string::npos) return string;
  std::string a = string.substr(0, slash);
  std::string b = string.substr(slash + 1);
  // int() then the round-trip assertion: only canonical integers ("-0" fails: it prints "0").
  if (!canonical_int(a) || !canonical_int(b) || a == "-0" || b == "-0") return string;
  return "\\frac{" + a + "}{" + b + "}";
}

std::optional<std::string> remove_right_units(const std::string& string) {
  constexpr std::string_view kMarker = "\\text{ ";
  size_t first = string.find(kMarker);
  if (first == std::string::npos) return string;
  if (string.find(kMarker, first + kMarker.size()) != std::string::npos) return std::nullopt;
  return string.substr(0, first);
}

std::optional<std::string> fix_sqrt(const std::string& string) {
  if (!contains(string, "\\sqrt")) return string;
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t hit = string.find("\\sqrt", pos);
    parts.push_back(string.substr(pos, hit == std::string::npos ? std::string::npos : hit - pos));
    if (hit == std::string::npos) break;
    pos = hit + 5;
  }
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& split = parts[i];
    if (split.empty()) return std::nullopt;  // split[0] raises IndexError
    if (split[0] != '{') {
      out += std::string("\\sqrt{") + split[0] + "}" + split.substr(1);
    } else {
      out += "\\sqrt" + split;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> strip_string(std::string_view answer) {
  std::string s(answer);
  s = replace_all(s, "\n", "");
  s = replace_all(s, "\\!", "");
  s = replace_all(s, "\\\\", "\\");
  s = replace_all(s, "tfrac", "frac");
  s = replace_all(s, "dfrac", "frac");
  s = replace_all(s, "\\left", "");
  s = replace_all(s, "\\right", "");
  s = replace_all(s, "^{\\circ}", "");
  s = replace_all(s, "^\\circ", "");
  s = replace_all(s, "\\$", "");
  auto without_units = remove_right_units(s);
  if (!without_units) return std::nullopt;
  s = replace_all(*without_units, "\\%", "");
  s = replace_all(s, "%", "");
  s = replace_all(s, " .", " 0.");
  s = replace_all(s, "{.", "{0.");
  if (s.empty()) return s;
  if (s[0] == '.') s = "0" + s;
  // "k = 5" -> "5" when there is exactly one '=' and a short left side.
  if (size_t eq = s.find('='); eq != std::string::npos && s.find('=', eq + 1) == std::string::npos && eq <= 2) {
    s = s.substr(eq + 1);
  }
  auto with_sqrt = fix_sqrt(s);
  if (!with_sqrt) return std::nullopt;
  s = replace_all(*with_sqrt, " ", "");
  auto with_fracs = fix_fracs(s);
  if (!with_fracs) return std::nullopt;
  s = *with_fracs;
  if (s == "0.5") s = "\\frac{1}{2}";
  return fix_a_slash_b(s);
}

bool hendrycks_is_equiv(std::optional<std::string_view> a, std::optional<std::string_view> b) {
  if (!a && !b) return true;
  if (!a || !b) return false;
  auto sa = strip_string(*a);
  auto sb = strip_string(*b);
  if (!sa || !sb) return *a == *b;
  return *sa == *sb;
}

}  // namespace scout::tasks::math

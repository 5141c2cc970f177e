#include "tasks/math/canonical.h"

#include <re2/re2.h>

#include <algorithm>
#include <vector>

#include "tasks/math/extract.h"
#include "tasks/math/text_util.h"

namespace scout::tasks::math {
namespace {

// Unit words that math-verify strips from the end of an answer after a digit, '}' or
// space (plural "s"/"es" included). Kept verbatim, oddities and all ("integerpoint" is two
// words run together there, and single letters such as "c" or "t" make "2c" read as 2),
// because the point is to agree with it.
constexpr std::string_view kUnitWords[] = {
    "integerpoint", "feet", "sue", "digit", "pound", "meal", "edge", "student",
    "children ticket", "multiple", "east", "degree", "mph", "kmph", "ft", "m square",
    "m east", "sq m", "deg", "mile", "q .", "monkey", "prime", "ratio", "profit of rs", "rd",
    "o", "gm", "p . m", "lb", "tile", "per", "dm", "lt", "gain", "ab", "way", "west", "a .",
    "b .", "c .", "d .", "e .", "f .", "g .", "h .", "t", "h", "no change", "men", "soldier",
    "pie", "bc", "excess", "st", "inches", "noon", "cent", "by", "gal", "kmh", "c", "acre",
    "rise", "a . m", "th", "π r 2", "sq", "mark", "l", "toy", "coin", "sq . m", "gallon",
    "° f", "profit", "minw", "yr", "women", "am", "pm", "hr", "cu cm", "square", "v â € ™",
    "are", "rupee", "rounds", "cubic", "cc", "mtr", "s", "ohm", "number", "kmph", "day",
    "hour", "minute", "min", "second", "man", "woman", "sec", "cube", "mt", "sq inch", "mp",
    "∏ cm ³", "hectare", "more", "sec", "unit", "cu . m", "cm 2", "rs .", "rs", "kg", "g",
    "month", "km", "m", "cm", "mm", "apple", "liter", "loss", "yard", "pure", "year",
    "increase", "decrease", "d", "less", "Surface", "litre", "pi sq m", "s .", "metre",
    "meter", "inch", "kmph", "sec", "deg",
};

bool is_unit_word(std::string_view tail) {
  for (std::string_view unit : kUnitWords) {
    if (tail == unit) return true;
    if (tail.size() == unit.size() + 1 && starts_with(tail, unit) && tail.back() == 's') return true;
    if (tail.size() == unit.size() + 2 && starts_with(tail, unit) && ends_with(tail, "es")) return true;
  }
  return false;
}

// One pass of "(\d|\}|\s)\s*UNIT(s|es)?\s*$" -> "\1": the leftmost anchor wins.
std::string drop_unit_word(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!(is_digit(s[i]) || s[i] == '}' || is_space(s[i]))) continue;
    std::string tail = trim(std::string_view(s).substr(i + 1));
    if (!tail.empty() && is_unit_word(tail)) return s.substr(0, i + 1);
  }
  return s;
}

// A trailing \text{...} or \mbox{...} (optionally squared: ^2, {^2}) is a unit.
std::string drop_trailing_text_unit(const std::string& s) {
  static const RE2 ending("(?s).*\\}(?:\\^\\d|\\{\\^\\d\\})?");
  if (!RE2::FullMatch(s, ending)) return s;
  size_t text = s.find("\\text{");
  size_t mbox = s.find("\\mbox{");
  size_t start = std::min(text, mbox);
  if (start == std::string::npos) return s;
  std::string kept = trim(std::string_view(s).substr(0, start));
  return kept.empty() ? s : kept;
}

bool letter_at(const std::string& s, size_t i) { return i < s.size() && is_alpha(s[i]); }

// "and"/"or" as list separators: ",?\s*(and|or)" not touching other letters -> ",".
std::string replace_and_or(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t word = std::string::npos;
    size_t length = 0;
    // Find the next keyword whose start of match (after backing over spaces and one
    // comma) is not preceded by a letter.
    for (size_t k = i; k < s.size(); ++k) {
      size_t len = s.compare(k, 3, "and") == 0 ? 3 : (s.compare(k, 2, "or") == 0 ? 2 : 0);
      if (len == 0 || letter_at(s, k + len)) continue;
      size_t start = k;
      while (start > i && is_space(s[start - 1])) --start;
      if (start > i && s[start - 1] == ',') --start;
      // The regex tries the earliest start first; later starts only drop leading spaces.
      size_t chosen = std::string::npos;
      for (size_t b = start; b <= k; ++b) {
        if (b > start && !is_space(s[b - 1]) && s[b - 1] != ',') continue;
        if (b == 0 || !is_alpha(s[b - 1])) {
          chosen = b;
          break;
        }
      }
      if (chosen == std::string::npos) continue;
      word = chosen;
      length = k + len - chosen;
      break;
    }
    if (word == std::string::npos) {
      out += s.substr(i);
      break;
    }
    out += s.substr(i, word - i);
    out += ',';
    i = word + length;
  }
  return out;
}

void global_replace(std::string& s, const RE2& re, std::string_view rewrite) {
  RE2::GlobalReplace(&s, re, re2::StringPiece(rewrite.data(), rewrite.size()));
}

std::string basic_latex_cleanup(std::string s) {
  s = replace_all(s, "\\mathrm{T}", "T");
  s = replace_all(s, "\\mathrm{d}", "d");
  s = replace_all(s, "{\\rm d}", "d");
  static const RE2 left(
      "\\\\m?left(\\\\\\{|\\{|\\\\\\||\\||\\[|\\(|\\\\lbrace|\\\\lbrack|\\\\vert|\\\\lvert|\\\\lceil|"
      "\\\\lfloor|\\\\langle|\\\\lgroup)");
  static const RE2 right(
      "\\\\m?right(\\\\\\}|\\}|\\\\\\||\\||\\]|\\)|\\\\rbrace|\\\\rbrack|\\\\vert|\\\\rvert|\\\\rceil|"
      "\\\\rfloor|\\\\rangle|\\\\rgroup)");
  global_replace(s, left, "\\1");
  global_replace(s, right, "\\1");

  // Commands that carry no value: ordinal "th", negative thin spaces, empty text, money
  // and math-mode dollars, quotes, \displaystyle.
  static const RE2 noise("\\\\mathrm\\{th\\}|\\\\!\\s*|\\\\text\\s*\\{\\s*\\}|\\\\\\$|\\$|\\\\displaystyle");
  global_replace(s, noise, "");
  std::string unquoted;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((s[i] == '"' || s[i] == '\'') && (i == 0 || s[i - 1] != '\\')) continue;
    unquoted += s[i];
  }
  s = unquoted;

  static const RE2 to_text("\\\\math(?:rm|it|bf)|\\\\text(?:normal|bf|it|rm)");
  static const RE2 to_frac("\\\\(?:d|t|c)frac");
  static const RE2 empty_group_comma("\\s*\\{\\s*,\\s*\\}");
  static const RE2 text_and_or(",?\\s*\\\\text\\{\\s*(?:and|or)\\s*\\}");
  static const RE2 ldots(",?\\\\ldots");
  static const RE2 percent_words("\\s*\\b(?:percentage|percent|pct)\\b");
  static const RE2 percent_text("\\\\text\\{(?:percentage|percent|pct)\\}");
  global_replace(s, to_text, "\\\\text");
  global_replace(s, to_frac, "\\\\frac");
  s = replace_all(s, "{.", "{0.");
  static const RE2 space_dot("(\\s)\\.");
  global_replace(s, space_dot, " 0.");
  global_replace(s, empty_group_comma, ",");
  global_replace(s, text_and_or, ",");
  s = replace_and_or(s);
  // A backslash followed by a space is a space (but "\\ " is a line break).
  std::string spaced;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && is_space(s[i + 1]) && (i == 0 || s[i - 1] != '\\')) {
      spaced += ' ';
      ++i;
      continue;
    }
    spaced += s[i];
  }
  s = spaced;
  s = replace_all(s, "infinity", "\\infty");
  global_replace(s, ldots, " ");
  global_replace(s, percent_text, "%");
  global_replace(s, percent_words, "\\\\%");
  // Bare "inf" (not \infty, not "infinity") is infinity too.
  std::string inf_fixed;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "inf") == 0 && (i == 0 || s[i - 1] != '\\') && s.compare(i, 8, "infinity") != 0) {
      inf_fixed += "\\infty";
      i += 2;
      continue;
    }
    inf_fixed += s[i];
  }
  s = replace_all(inf_fixed, " sqrt", "\\sqrt");
  s = replace_all(s, "\n", " ");
  s = replace_all(s, "\t", " ");
  if (!contains(s, "matrix")) {
    static const RE2 double_backslash("\\\\\\\\([a-zA-Z])");
    global_replace(s, double_backslash, "\\\\\\1");
  }
  return s;
}

// hendrycks-style shorthand repair, tolerant of spaces: "\sqrt 3" -> "\sqrt{3}".
std::string fix_sqrt_shorthand(const std::string& s) {
  size_t hit = s.find("\\sqrt");
  if (hit == std::string::npos) return s;
  std::string out = s.substr(0, hit);
  while (hit != std::string::npos) {
    size_t next = s.find("\\sqrt", hit + 5);
    std::string piece = s.substr(hit + 5, next == std::string::npos ? std::string::npos : next - hit - 5);
    size_t first = 0;
    while (first < piece.size() && is_space(piece[first])) ++first;
    piece.erase(0, first);
    out += "\\sqrt";
    if (!piece.empty() && piece[0] != '{' && piece[0] != '[') {
      out += '{';
      out += piece[0];
      out += '}';
      out.append(piece, 1);
    } else {
      out += piece;
    }
    hit = next;
  }
  return out;
}

// "\frac12" -> "\frac{1}{2}", "\frac1{2}" -> "\frac{1}{2}"; leading spaces tolerated.
std::string fix_frac_shorthand(const std::string& s) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t hit = s.find("\\frac", pos);
    parts.push_back(s.substr(pos, hit == std::string::npos ? std::string::npos : hit - pos));
    if (hit == std::string::npos) break;
    pos = hit + 5;
  }
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string sub = parts[i];
    size_t first = 0;
    while (first < sub.size() && is_space(sub[first])) ++first;
    sub = sub.substr(first);
    out += "\\frac";
    if (!sub.empty() && sub[0] == '{') {
      out += sub;
    } else if (sub.size() < 2) {
      return s;
    } else if (sub[1] != '{') {
      // Appended piecewise: GCC 12 misreports -Wrestrict on chained operator+ here.
      out += '{';
      out += sub[0];
      out += "}{";
      out += sub[1];
      out += '}';
      out.append(sub, 2);
    } else {
      out += '{';
      out += sub[0];
      out += '}';
      out.append(sub, 1);
    }
  }
  return out;
}

bool canonical_integer(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return s.size() == 1 || s[0] != '0';
}

std::string fix_integer_slash(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos || s.find('/', slash + 1) != std::string::npos) return s;
  std::string a = s.substr(0, slash);
  std::string b = s.substr(slash + 1);
  if (!canonical_integer(a) || !canonical_integer(b) || a == "-0" || b == "-0") return s;
  return "\\frac{" + a + "}{" + b + "}";
}

std::string fix_malformed_operators(std::string s) {
  static const RE2 paren_power("\\^\\s?\\((.*?)\\)");
  static const RE2 paren_sqrt("sqrt\\s?\\((.*?)\\)");
  static const RE2 frac_digits("\\\\frac\\s?(\\d)\\s?(\\d+)");
  static const RE2 log_digits("\\\\log_\\s?(\\d)\\s?(\\d+)");
  static const RE2 frac_brace_digit("\\\\frac\\s?\\{(.*?)\\}\\s?(\\d)");
  static const RE2 frac_digit_brace("\\\\frac\\s?(\\d)\\s?\\{(.*?)\\}");
  static const RE2 sqrt_digit("\\\\sqrt\\s?(\\d)");
  global_replace(s, paren_power, "^{\\1}");
  global_replace(s, paren_sqrt, "\\\\sqrt{\\1}");
  global_replace(s, frac_digits, "\\\\frac{\\1}{\\2}");
  global_replace(s, log_digits, "\\\\log_{\\1}{\\2}");
  global_replace(s, frac_brace_digit, "\\\\frac{\\1}{\\2}");
  global_replace(s, frac_digit_brace, "\\\\frac{\\1}{\\2}");
  global_replace(s, sqrt_digit, "\\\\sqrt{\\1}");
  s = replace_all(s, " sqrt", "\\sqrt");
  s = fix_sqrt_shorthand(s);
  s = fix_frac_shorthand(s);
  return fix_integer_slash(s);
}

}  // namespace

std::string canonicalize_answer(std::string_view answer) {
  std::string s(answer);
  if (contains(s, "\\boxed") || contains(s, "\\fbox")) {
    if (auto inner = extract_last_boxed(s)) s = *inner;
  }
  s = basic_latex_cleanup(s);

  // Units: a trailing \text{...}, then up to two trailing unit words.
  s = drop_trailing_text_unit(trim(s));
  for (int pass = 0; pass < 2; ++pass) {
    std::string dropped = drop_unit_word(s);
    if (!dropped.empty()) s = dropped;
  }

  if (!s.empty() && s[0] == '.') s = "0" + s;
  if (s == "0.5") s = "\\frac{1}{2}";
  return trim(fix_malformed_operators(s));
}

}  // namespace scout::tasks::math

#include "tasks/ifeval/unicode.h"

#include <algorithm>
#include <iterator>

namespace scout::tasks::ifeval::py {
namespace {

struct CodeRange {
  char32_t lo, hi;
};
struct CodePair {
  char32_t from, to;
};
struct LowerExpansion {
  char32_t from;
  char32_t to[3];
};

#include "tasks/ifeval/data/unicode_tables.inc"

template <std::size_t N>
bool in_ranges(const CodeRange (&table)[N], char32_t c) {
  auto it = std::upper_bound(std::begin(table), std::end(table), c,
                             [](char32_t value, const CodeRange& r) { return value < r.lo; });
  return it != std::begin(table) && c <= std::prev(it)->hi;
}

// Pairs sorted by `from`; returns the mapped value or `c` itself.
template <std::size_t N>
char32_t map_pair(const CodePair (&table)[N], char32_t c) {
  auto it = std::lower_bound(std::begin(table), std::end(table), c,
                             [](const CodePair& p, char32_t value) { return p.from < value; });
  return (it != std::end(table) && it->from == c) ? it->to : c;
}

constexpr char32_t kCapitalSigma = 0x3A3;
constexpr char32_t kSmallSigma = 0x3C3;
constexpr char32_t kFinalSigma = 0x3C2;

// CPython's handle_capital_sigma: Σ lowers to ς at the end of a cased word.
bool is_final_sigma(TextView text, std::size_t i) {
  std::size_t j = i;
  char32_t c = 0;
  bool found = false;
  while (j > 0) {
    c = text[--j];
    if (!is_case_ignorable(c)) {
      found = true;
      break;
    }
  }
  if (!found || !is_cased(c)) return false;
  for (std::size_t k = i + 1; k < text.size(); ++k) {
    if (!is_case_ignorable(text[k])) return !is_cased(text[k]);
  }
  return true;
}

void append_lower(Text& out, TextView text, std::size_t i) {
  char32_t c = text[i];
  if (c == kCapitalSigma) {
    out.push_back(is_final_sigma(text, i) ? kFinalSigma : kSmallSigma);
    return;
  }
  auto it = std::lower_bound(std::begin(kPyLowerMulti), std::end(kPyLowerMulti), c,
                             [](const LowerExpansion& e, char32_t v) { return e.from < v; });
  if (it != std::end(kPyLowerMulti) && it->from == c) {
    for (char32_t x : it->to)
      if (x != 0) out.push_back(x);
    return;
  }
  out.push_back(map_pair(kPyLowerSingle, c));
}

bool in_set(TextView chars, char32_t c) { return chars.find(c) != TextView::npos; }

}  // namespace

Text decode_utf8(std::string_view s) {
  Text out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto lead = static_cast<unsigned char>(s[i]);
    int extra = lead < 0x80 ? 0 : (lead >> 5) == 0x6 ? 1 : (lead >> 4) == 0xE ? 2 : (lead >> 3) == 0x1E ? 3 : -1;
    char32_t c = extra <= 0 ? lead : lead & (0x3F >> extra);
    bool ok = extra >= 0 && i + static_cast<std::size_t>(extra) < s.size();
    for (int k = 1; ok && k <= extra; ++k) {
      auto cont = static_cast<unsigned char>(s[i + k]);
      ok = (cont & 0xC0) == 0x80;
      c = (c << 6) | (cont & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(c);
    i += extra + 1;
  }
  return out;
}

std::string encode_utf8(TextView text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

bool is_space(char32_t c) { return in_ranges(kPySpace, c); }
bool is_re_word(char32_t c) { return in_ranges(kReWord, c); }
bool is_decimal(char32_t c) { return in_ranges(kPyDecimal, c); }
bool is_rx_word(char32_t c) { return in_ranges(kRxWord, c); }
bool is_rx_space(char32_t c) { return in_ranges(kRxSpace, c); }
bool is_rx_digit(char32_t c) { return in_ranges(kRxDigit, c); }
bool has_upper_flag(char32_t c) { return in_ranges(kPyUpper, c); }
bool has_lower_flag(char32_t c) { return in_ranges(kPyLower, c); }
bool has_title_flag(char32_t c) { return in_ranges(kPyTitle, c); }
bool is_cased(char32_t c) { return has_upper_flag(c) || has_lower_flag(c) || has_title_flag(c); }
bool is_case_ignorable(char32_t c) { return in_ranges(kPyCaseIgnorable, c); }

bool re_ignorecase_equal(char32_t pattern, char32_t text) {
  // sre compiles a cased literal to its simple lowercase (plus a few extra equivalents) and
  // compares it with the lowercased text character; an uncased literal matches itself only.
  if (!in_ranges(kSreCased, pattern)) return pattern == text;
  char32_t lo = map_pair(kSreLower, pattern);
  char32_t text_lo = map_pair(kSreLower, text);
  if (text_lo == lo) return true;
  auto range = std::equal_range(std::begin(kSreFixes), std::end(kSreFixes), CodePair{lo, 0},
                                [](const CodePair& a, const CodePair& b) { return a.from < b.from; });
  return std::any_of(range.first, range.second, [&](const CodePair& p) { return p.to == text_lo; });
}

bool rx_ignorecase_equal_ascii(char letter, char32_t text) {
  char32_t lower = static_cast<char32_t>(letter >= 'A' && letter <= 'Z' ? letter + 32 : letter);
  if (text < 0x80) return (text >= 'A' && text <= 'Z' ? text + 32 : text) == lower;
  auto range = std::equal_range(std::begin(kRxAsciiFold), std::end(kRxAsciiFold),
                                CodePair{lower, 0},
                                [](const CodePair& a, const CodePair& b) { return a.from < b.from; });
  return std::any_of(range.first, range.second, [&](const CodePair& p) { return p.to == text; });
}

Text lower(TextView text) {
  Text out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) append_lower(out, text, i);
  return out;
}

bool is_upper(TextView text) {
  bool cased = false;
  for (char32_t c : text) {
    if (has_lower_flag(c) || has_title_flag(c)) return false;
    if (has_upper_flag(c)) cased = true;
  }
  return cased;
}

bool is_lower(TextView text) {
  bool cased = false;
  for (char32_t c : text) {
    if (has_upper_flag(c) || has_title_flag(c)) return false;
    if (has_lower_flag(c)) cased = true;
  }
  return cased;
}

TextView lstrip(TextView text) {
  std::size_t start = 0;
  while (start < text.size() && is_space(text[start])) ++start;
  return text.substr(start);
}

TextView strip(TextView text) { return rstrip(lstrip(text)); }

TextView rstrip(TextView text) {
  std::size_t end = text.size();
  while (end > 0 && is_space(text[end - 1])) --end;
  return text.substr(0, end);
}

TextView lstrip_chars(TextView text, TextView chars) {
  std::size_t start = 0;
  while (start < text.size() && in_set(chars, text[start])) ++start;
  return text.substr(start);
}

TextView rstrip_chars(TextView text, TextView chars) {
  std::size_t end = text.size();
  while (end > 0 && in_set(chars, text[end - 1])) --end;
  return text.substr(0, end);
}

TextView strip_chars(TextView text, TextView chars) { return rstrip_chars(lstrip_chars(text, chars), chars); }

std::vector<TextView> split_whitespace(TextView text) {
  std::vector<TextView> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i == text.size()) break;
    std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::vector<TextView> split(TextView text, TextView separator) {
  std::vector<TextView> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = text.find(separator, start);
    if (pos == TextView::npos) break;
    out.push_back(text.substr(start, pos - start));
    start = pos + separator.size();
  }
  out.push_back(text.substr(start));
  return out;
}

Text join(const std::vector<TextView>& parts, TextView separator) {
  Text out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out.append(separator);
    out.append(parts[i]);
  }
  return out;
}

Text replace_all(TextView text, TextView from, TextView to) {
  Text out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = text.find(from, start);
    if (pos == TextView::npos) break;
    out.append(text.substr(start, pos - start));
    out.append(to);
    start = pos + from.size();
  }
  out.append(text.substr(start));
  return out;
}

bool starts_with(TextView text, TextView prefix) { return text.substr(0, prefix.size()) == prefix; }
bool ends_with(TextView text, TextView suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}
bool contains(TextView text, TextView needle) { return text.find(needle) != TextView::npos; }

}  // namespace scout::tasks::ifeval::py

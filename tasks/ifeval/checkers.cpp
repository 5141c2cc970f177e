#include "tasks/ifeval/checkers.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "tasks/ifeval/json_syntax.h"
#include "tasks/ifeval/langdetect.h"
#include "tasks/ifeval/punkt.h"
#include "tasks/ifeval/word_tokenize.h"

namespace scout::tasks::ifeval {
namespace {

using nlohmann::json;
using py::Text;
using py::TextView;

// ---- kwargs --------------------------------------------------------------------------------

enum class Relation { kLessThan, kAtLeast };

bool compare(std::size_t actual, Relation relation, long long threshold) {
  auto value = static_cast<long long>(actual);
  return relation == Relation::kLessThan ? value < threshold : value >= threshold;
}

// Reads one instruction's kwargs and rejects any it does not consume.
class Kwargs {
 public:
  Kwargs(std::string_view id, const json& kwargs) : id_(id) {
    if (kwargs.is_null()) return;
    if (!kwargs.is_object()) fail("kwargs must be a JSON object");
    for (const auto& [key, value] : kwargs.items())
      if (!value.is_null()) values_.emplace(key, value);
  }

  long long integer(const std::string& name) {
    const json& v = take(name);
    if (v.is_number_integer()) return v.get<long long>();
    if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) return static_cast<long long>(v.get<double>());
    fail("kwarg '" + name + "' must be an integer");
  }

  std::string text(const std::string& name) {
    const json& v = take(name);
    if (!v.is_string()) fail("kwarg '" + name + "' must be a string");
    return v.get<std::string>();
  }

  std::vector<std::string> texts(const std::string& name) {
    const json& v = take(name);
    if (!v.is_array() || v.empty()) fail("kwarg '" + name + "' must be a non-empty list of strings");
    std::vector<std::string> out;
    for (const json& item : v) {
      if (!item.is_string()) fail("kwarg '" + name + "' must be a list of strings");
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  Relation relation(const std::string& name) {
    std::string r = text(name);
    if (r == "less than") return Relation::kLessThan;
    if (r == "at least") return Relation::kAtLeast;
    fail("kwarg '" + name + "' must be 'less than' or 'at least', not '" + r + "'");
  }

  // Every kwarg given must have been used (the reference raises TypeError otherwise).
  void finish() const {
    for (const auto& [key, value] : values_)
      if (!used_.count(key)) fail("unexpected kwarg '" + key + "'");
  }

 private:
  const json& take(const std::string& name) {
    auto it = values_.find(name);
    if (it == values_.end()) fail("missing kwarg '" + name + "'");
    used_.insert(name);
    return it->second;
  }
  [[noreturn]] void fail(const std::string& message) const { throw IfevalError(id_ + ": " + message); }

  std::string id_;
  std::map<std::string, json> values_;
  std::set<std::string> used_;
};

// ---- Patterns from kwargs ------------------------------------------------------------------

// The reference splices kwargs (keywords, section splitter, postscript marker) into regexes.
// The data set's values are plain words, so we support literals where '.' keeps its regex
// meaning (any character but '\n') and a backslash escapes the next character; any other
// regex syntax is rejected rather than approximated.
class Fragment {
 public:
  Fragment(std::string_view id, TextView source) {
    static constexpr std::u32string_view kMeta = U"^$*+?{}[]|()";
    for (std::size_t i = 0; i < source.size(); ++i) {
      char32_t c = source[i];
      if (c == U'\\') {
        if (++i == source.size()) throw IfevalError(std::string(id) + ": pattern ends with a backslash");
        chars_.push_back(source[i]);
        wildcard_.push_back(false);
      } else if (kMeta.find(c) != std::u32string_view::npos) {
        throw IfevalError(std::string(id) + ": regex syntax in '" + py::encode_utf8(source) + "' is not supported");
      } else {
        chars_.push_back(c);
        wildcard_.push_back(c == U'.');
      }
    }
  }

  std::size_t size() const { return chars_.size(); }

  // Does the fragment match at t[i]? (re semantics; IGNORECASE optional)
  bool matches_at(TextView t, std::size_t i, bool ignore_case) const {
    if (t.size() - std::min(i, t.size()) < chars_.size()) return false;
    for (std::size_t k = 0; k < chars_.size(); ++k) {
      char32_t c = t[i + k];
      if (wildcard_[k] ? c == U'\n' : !(ignore_case ? py::re_ignorecase_equal(chars_[k], c) : chars_[k] == c)) return false;
    }
    return true;
  }

 private:
  std::vector<char32_t> chars_;
  std::vector<bool> wildcard_;
};

bool re_boundary(TextView t, std::size_t i) {
  bool before = i > 0 && py::is_re_word(t[i - 1]);
  bool after = i < t.size() && py::is_re_word(t[i]);
  return before != after;
}

// re.search(keyword, value, re.IGNORECASE)
bool search_ignorecase(const Fragment& f, TextView t) {
  for (std::size_t i = 0; i + f.size() <= t.size(); ++i)
    if (f.matches_at(t, i, true)) return true;
  return false;
}

// len(re.findall(keyword, value, re.IGNORECASE)): non-overlapping; an empty pattern matches
// at every position.
std::size_t count_ignorecase(const Fragment& f, TextView t) {
  if (f.size() == 0) return t.size() + 1;
  std::size_t count = 0;
  for (std::size_t i = 0; i + f.size() <= t.size();) {
    if (f.matches_at(t, i, true)) {
      ++count;
      i += f.size();
    } else {
      ++i;
    }
  }
  return count;
}

// re.search(r"\b" + word + r"\b", value, re.IGNORECASE)
bool search_whole_word(const Fragment& f, TextView t) {
  for (std::size_t i = 0; i + f.size() <= t.size(); ++i)
    if (re_boundary(t, i) && f.matches_at(t, i, true) && re_boundary(t, i + f.size())) return true;
  return false;
}

Text to_text(const std::string& s) { return py::decode_utf8(s); }

// ---- Checkers ------------------------------------------------------------------------------

CheckFn keywords_existence(Kwargs& kw, std::string_view id) {
  std::vector<Fragment> keywords;
  for (const std::string& k : kw.texts("keywords")) keywords.emplace_back(id, to_text(k));
  return [keywords](TextView value) {
    return std::all_of(keywords.begin(), keywords.end(), [&](const Fragment& f) { return search_ignorecase(f, value); });
  };
}

CheckFn keywords_frequency(Kwargs& kw, std::string_view id) {
  Fragment keyword(id, py::strip(to_text(kw.text("keyword"))));
  long long frequency = kw.integer("frequency");
  Relation relation = kw.relation("relation");
  return [=](TextView value) { return compare(count_ignorecase(keyword, value), relation, frequency); };
}

CheckFn keywords_forbidden(Kwargs& kw, std::string_view id) {
  std::vector<Fragment> words;
  for (const std::string& w : kw.texts("forbidden_words")) words.emplace_back(id, to_text(w));
  return [words](TextView value) {
    return std::none_of(words.begin(), words.end(), [&](const Fragment& f) { return search_whole_word(f, value); });
  };
}

// Counter(value.lower())[letter]. The reference draws a random letter when the kwarg is not a
// single ASCII letter; we count the character given (see docs/IFEVAL.md).
CheckFn keywords_letter_frequency(Kwargs& kw, std::string_view id) {
  Text letter = py::lower(py::strip(to_text(kw.text("letter"))));
  if (letter.size() != 1) throw IfevalError(std::string(id) + ": 'letter' must be one character");
  long long frequency = kw.integer("let_frequency");
  Relation relation = kw.relation("let_relation");
  char32_t c = letter[0];
  return [=](TextView value) {
    Text lowered = py::lower(value);
    return compare(static_cast<std::size_t>(std::count(lowered.begin(), lowered.end(), c)), relation, frequency);
  };
}

// instructions_util.LANGUAGE_CODES: the reference fails (KeyError) on any other code.
bool is_ifeval_language(const std::string& code) {
  static const std::set<std::string> kCodes = {"en", "es", "pt", "ar", "hi", "fr", "ru", "de", "ja", "it",
                                               "bn", "uk", "th", "ur", "ta", "te", "bg", "ko", "pl", "he",
                                               "fa", "vi", "ne", "sw", "kn", "mr", "gu", "pa", "ml", "fi"};
  return kCodes.count(code) > 0;
}

CheckFn response_language(Kwargs& kw, std::string_view id) {
  std::string language = kw.text("language");
  if (!is_ifeval_language(language)) throw IfevalError(std::string(id) + ": unsupported language '" + language + "'");
  return [language](TextView value) {
    std::optional<std::string> detected = detect_language(value);
    return !detected || *detected == language;  // undetectable text counts as followed
  };
}

CheckFn number_sentences(Kwargs& kw, std::string_view) {
  long long threshold = kw.integer("num_sentences");
  Relation relation = kw.relation("relation");
  return [=](TextView value) { return compare(count_sentences(value), relation, threshold); };
}

// re.split(r"\s?\*\*\*\s?", value)
std::vector<TextView> split_on_dividers(TextView t) {
  std::vector<TextView> parts;
  std::size_t start = 0, i = 0;
  auto stars_at = [&](std::size_t p) { return t.substr(p, 3) == U"***"; };
  while (i < t.size()) {
    std::size_t stars;
    if (py::is_space(t[i]) && stars_at(i + 1)) stars = i + 1;
    else if (stars_at(i)) stars = i;
    else {
      ++i;
      continue;
    }
    std::size_t end = stars + 3;
    if (end < t.size() && py::is_space(t[end])) ++end;
    parts.push_back(t.substr(start, i - start));
    start = i = end;
  }
  parts.push_back(t.substr(start));
  return parts;
}

CheckFn number_paragraphs(Kwargs& kw, std::string_view) {
  long long expected = kw.integer("num_paragraphs");
  return [=](TextView value) {
    std::vector<TextView> paragraphs = split_on_dividers(value);
    long long count = static_cast<long long>(paragraphs.size());
    for (std::size_t i = 0; i < paragraphs.size(); ++i) {
      if (!py::strip(paragraphs[i]).empty()) continue;
      if (i == 0 || i + 1 == paragraphs.size()) --count;
      else return false;  // an empty paragraph between two dividers
    }
    return count == expected;
  };
}

CheckFn number_words(Kwargs& kw, std::string_view) {
  long long threshold = kw.integer("num_words");
  Relation relation = kw.relation("relation");
  return [=](TextView value) { return compare(count_words(value), relation, threshold); };
}

CheckFn nth_paragraph_first_word(Kwargs& kw, std::string_view id) {
  long long expected = kw.integer("num_paragraphs");
  long long nth = kw.integer("nth_paragraph");
  if (nth < 1) throw IfevalError(std::string(id) + ": 'nth_paragraph' must be at least 1");
  Text first_word = py::lower(to_text(kw.text("first_word")));
  return [=](TextView value) {
    std::vector<TextView> paragraphs = py::split(value, U"\n\n");
    long long count = static_cast<long long>(paragraphs.size());
    for (TextView p : paragraphs)
      if (py::strip(p).empty()) --count;
    // The reference indexes the raw split (empty pieces included) with a count of non-empty ones.
    if (nth > count) return false;
    TextView paragraph = py::strip(paragraphs[static_cast<std::size_t>(nth - 1)]);
    if (paragraph.empty()) return false;
    TextView word = py::split_whitespace(paragraph)[0];
    word = py::lstrip_chars(py::lstrip_chars(word, U"'"), U"\"");
    Text got;
    for (char32_t c : word) {
      if (std::u32string_view(U".,?!'\"").find(c) != std::u32string_view::npos) break;
      got += py::lower(TextView(&c, 1));
    }
    return count == expected && got == first_word;
  };
}

// len(re.findall(r"\[.*?\]", value))
std::size_t count_placeholders(TextView t) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != U'[') continue;
    std::size_t j = i + 1;
    while (j < t.size() && t[j] != U']' && t[j] != U'\n') ++j;
    if (j < t.size() && t[j] == U']') ++count;
    // Resume after the ']'; on failure every '[' before this newline fails the same way.
    i = j;
  }
  return count;
}

CheckFn number_placeholders(Kwargs& kw, std::string_view) {
  long long minimum = kw.integer("num_placeholders");
  return [=](TextView value) { return static_cast<long long>(count_placeholders(value)) >= minimum; };
}

// At t[j]: `\s?c` -- an optional whitespace then `c`; returns the index after `c` or npos.
std::size_t optional_space_then(TextView t, std::size_t j, char32_t c) {
  if (j < t.size() && py::is_space(t[j]) && j + 1 < t.size() && t[j + 1] == c) return j + 2;
  if (j < t.size() && t[j] == c) return j + 1;
  return TextView::npos;
}

// Whether `steps` (pairs of "optional whitespace first?" and a character) match from some
// position of t; encodes r"\s*p\.\s?p\.\s?s" and r"\s*p\.\s?s\." (\s* and .*$ never fail).
bool search_marker(TextView t, const std::vector<std::pair<bool, char32_t>>& steps) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::size_t j = i;
    bool ok = true;
    for (auto [space_allowed, c] : steps) {
      j = space_allowed ? optional_space_then(t, j, c) : (j < t.size() && t[j] == c ? j + 1 : TextView::npos);
      if (j == TextView::npos) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

CheckFn postscript(Kwargs& kw, std::string_view id) {
  std::string marker(py::encode_utf8(py::strip(to_text(kw.text("postscript_marker")))));
  if (marker == "P.P.S") {
    return [](TextView value) {
      return search_marker(py::lower(value), {{false, U'p'}, {false, U'.'}, {true, U'p'}, {false, U'.'}, {true, U's'}});
    };
  }
  if (marker == "P.S.") {
    return [](TextView value) {
      return search_marker(py::lower(value), {{false, U'p'}, {false, U'.'}, {true, U's'}, {false, U'.'}});
    };
  }
  Fragment fragment(id, py::lower(to_text(marker)));
  return [fragment](TextView value) {
    Text lowered = py::lower(value);
    for (std::size_t i = 0; i + fragment.size() <= lowered.size(); ++i)
      if (fragment.matches_at(lowered, i, false)) return true;
    return false;
  };
}

// re.findall(r"^\s*\*[^\*].*$", v, re.M) and r"^\s*-.*$": note \s* may run over newlines and
// [^\*] may be a newline, so one match can span lines.
std::size_t count_bullets(TextView t, bool star) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i <= t.size()) {
    bool line_start = i == 0 || t[i - 1] == U'\n';
    std::size_t j = i;
    while (line_start && j < t.size() && py::is_space(t[j])) ++j;
    bool hit = line_start && j < t.size() &&
               (star ? (t[j] == U'*' && j + 1 < t.size() && t[j + 1] != U'*') : t[j] == U'-');
    if (!hit) {
      ++i;
      continue;
    }
    std::size_t end = std::min(t.size(), j + (star ? 2 : 1));
    while (end < t.size() && t[end] != U'\n') ++end;  // .*$
    ++count;
    i = end;
  }
  return count;
}

CheckFn number_bullet_lists(Kwargs& kw, std::string_view) {
  long long expected = kw.integer("num_bullets");
  return [=](TextView value) {
    return static_cast<long long>(count_bullets(value, true) + count_bullets(value, false)) == expected;
  };
}

CheckFn constrained_response(Kwargs&, std::string_view) {
  return [](TextView value) {
    TextView v = py::strip(value);
    return py::contains(v, U"My answer is yes.") || py::contains(v, U"My answer is no.") ||
           py::contains(v, U"My answer is maybe.");
  };
}

// Non-empty highlights among re.findall(r"\*[^\n\*]*\*") plus those among
// re.findall(r"\*\*[^\n\*]*\*\*") (a **bold** span counts once as "**" pairs are empty).
std::size_t count_highlights(TextView t, std::size_t stars) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i + 2 * stars <= t.size()) {
    if (t.substr(i, stars) != std::u32string_view(U"**").substr(0, stars)) {
      ++i;
      continue;
    }
    std::size_t j = i + stars;
    while (j < t.size() && t[j] != U'\n' && t[j] != U'*') ++j;
    if (t.substr(j, stars) != std::u32string_view(U"**").substr(0, stars)) {
      ++i;
      continue;
    }
    if (!py::strip(t.substr(i + stars, j - i - stars)).empty()) ++count;
    i = j + stars;
  }
  return count;
}

CheckFn number_highlighted_sections(Kwargs& kw, std::string_view) {
  long long minimum = kw.integer("num_highlights");
  return [=](TextView value) {
    return static_cast<long long>(count_highlights(value, 1) + count_highlights(value, 2)) >= minimum;
  };
}

// len(re.split(r"\s?" + splitter + r"\s?\d+\s?", value)) - 1
std::size_t count_sections(const Fragment& splitter, TextView t) {
  auto tail = [&](std::size_t p) -> std::size_t {  // \s?\d+\s? ; npos when it fails
    std::size_t d;
    if (p < t.size() && py::is_space(t[p]) && p + 1 < t.size() && py::is_decimal(t[p + 1])) d = p + 1;
    else if (p < t.size() && py::is_decimal(t[p])) d = p;
    else return TextView::npos;
    while (d < t.size() && py::is_decimal(t[d])) ++d;
    if (d < t.size() && py::is_space(t[d])) ++d;
    return d;
  };
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < t.size()) {
    std::size_t end = TextView::npos;
    if (py::is_space(t[i]) && splitter.matches_at(t, i + 1, false)) end = tail(i + 1 + splitter.size());
    if (end == TextView::npos && splitter.matches_at(t, i, false)) end = tail(i + splitter.size());
    if (end == TextView::npos) {
      ++i;
      continue;
    }
    ++count;
    i = end;
  }
  return count;
}

CheckFn multiple_sections(Kwargs& kw, std::string_view id) {
  Text splitter_text(py::strip(to_text(kw.text("section_spliter"))));
  if (splitter_text.empty()) throw IfevalError(std::string(id) + ": 'section_spliter' is empty");
  Fragment splitter(id, splitter_text);
  long long minimum = kw.integer("num_sections");
  return [=](TextView value) { return static_cast<long long>(count_sections(splitter, value)) >= minimum; };
}

CheckFn json_format(Kwargs&, std::string_view) {
  return [](TextView value) {
    TextView v = py::strip(value);
    for (std::u32string_view prefix : {U"```json", U"```Json", U"```JSON", U"```"}) {
      if (py::starts_with(v, prefix)) v.remove_prefix(prefix.size());  // chained removeprefix
    }
    if (py::ends_with(v, U"```")) v.remove_suffix(3);
    return python_json_loads_accepts(py::strip(v));
  };
}

// any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", value))
// A match cannot cross a newline, and greedy [^\n]+ runs to the line's last ">>", so each line
// holds at most one match: from its first "<<" to its last ">>", if at least one character
// separates them.
bool has_title(TextView t) {
  std::size_t line_start = 0;
  while (line_start <= t.size()) {
    std::size_t line_end = std::min(t.find(U'\n', line_start), t.size());
    TextView line = t.substr(line_start, line_end - line_start);
    std::size_t open = line.find(U"<<");
    std::size_t close = line.rfind(U">>");
    if (open != TextView::npos && close != TextView::npos && close >= open + 3) {
      TextView title = py::rstrip_chars(py::lstrip_chars(line.substr(open, close + 2 - open), U"<"), U">");
      if (!py::strip(title).empty()) return true;
    }
    line_start = line_end + 1;
  }
  return false;
}

CheckFn title(Kwargs&, std::string_view) { return [](TextView value) { return has_title(value); }; }

CheckFn two_responses(Kwargs&, std::string_view) {
  return [](TextView value) {
    std::vector<TextView> pieces = py::split(value, U"******");
    std::vector<TextView> valid;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      if (!py::strip(pieces[i]).empty()) valid.push_back(pieces[i]);
      else if (i != 0 && i + 1 != pieces.size()) return false;
    }
    return valid.size() == 2 && py::strip(valid[0]) != py::strip(valid[1]);
  };
}

CheckFn repeat_prompt(Kwargs& kw, std::string_view) {
  Text prompt = py::lower(py::strip(to_text(kw.text("prompt_to_repeat"))));
  return [prompt](TextView value) { return py::starts_with(py::lower(py::strip(value)), prompt); };
}

CheckFn end_checker(Kwargs& kw, std::string_view) {
  Text phrase = py::lower(py::strip(to_text(kw.text("end_phrase"))));
  return [phrase](TextView value) {
    return py::ends_with(py::lower(py::strip_chars(py::strip(value), U"\"")), phrase);
  };
}

CheckFn quotation(Kwargs&, std::string_view) {
  return [](TextView value) {
    TextView v = py::strip(value);
    return v.size() > 1 && v.front() == U'"' && v.back() == U'"';
  };
}

CheckFn capital_word_frequency(Kwargs& kw, std::string_view) {
  long long threshold = kw.integer("capital_frequency");
  Relation relation = kw.relation("capital_relation");
  return [=](TextView value) {
    std::size_t capital = 0;
    for (const Text& word : nltk_word_tokenize(value))
      if (py::is_upper(word)) ++capital;
    return compare(capital, relation, threshold);
  };
}

CheckFn english_capital(Kwargs&, std::string_view) {
  return [](TextView value) {
    if (!py::is_upper(value)) return false;
    std::optional<std::string> detected = detect_language(value);
    return !detected || *detected == "en";
  };
}

CheckFn english_lowercase(Kwargs&, std::string_view) {
  return [](TextView value) {
    if (!py::is_lower(value)) return false;
    std::optional<std::string> detected = detect_language(value);
    return !detected || *detected == "en";
  };
}

CheckFn no_comma(Kwargs&, std::string_view) {
  return [](TextView value) { return !py::contains(value, U","); };
}

using Factory = CheckFn (*)(Kwargs&, std::string_view);

// lm-eval's INSTRUCTION_DICT order.
const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> kRegistry = {
      {"keywords:existence", keywords_existence},
      {"keywords:frequency", keywords_frequency},
      {"keywords:forbidden_words", keywords_forbidden},
      {"keywords:letter_frequency", keywords_letter_frequency},
      {"language:response_language", response_language},
      {"length_constraints:number_sentences", number_sentences},
      {"length_constraints:number_paragraphs", number_paragraphs},
      {"length_constraints:number_words", number_words},
      {"length_constraints:nth_paragraph_first_word", nth_paragraph_first_word},
      {"detectable_content:number_placeholders", number_placeholders},
      {"detectable_content:postscript", postscript},
      {"detectable_format:number_bullet_lists", number_bullet_lists},
      {"detectable_format:constrained_response", constrained_response},
      {"detectable_format:number_highlighted_sections", number_highlighted_sections},
      {"detectable_format:multiple_sections", multiple_sections},
      {"detectable_format:json_format", json_format},
      {"detectable_format:title", title},
      {"combination:two_responses", two_responses},
      {"combination:repeat_prompt", repeat_prompt},
      {"startend:end_checker", end_checker},
      {"change_case:capital_word_frequency", capital_word_frequency},
      {"change_case:english_capital", english_capital},
      {"change_case:english_lowercase", english_lowercase},
      {"punctuation:no_comma", no_comma},
      {"startend:quotation", quotation},
  };
  return kRegistry;
}

}  // namespace

const std::vector<std::string>& instruction_ids() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> out;
    for (const auto& [id, factory] : registry()) out.push_back(id);
    return out;
  }();
  return ids;
}

CheckFn make_checker(std::string_view instruction_id, const nlohmann::json& kwargs) {
  for (const auto& [id, factory] : registry()) {
    if (id != instruction_id) continue;
    Kwargs kw(id, kwargs);
    CheckFn fn = factory(kw, id);
    kw.finish();
    return fn;
  }
  throw IfevalError("unknown IFEval instruction id '" + std::string(instruction_id) + "'");
}

}  // namespace scout::tasks::ifeval

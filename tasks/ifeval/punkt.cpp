#include "tasks/ifeval/punkt.h"

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace scout::tasks::ifeval {
namespace {

using py::Text;
using py::TextView;

#include "tasks/ifeval/data/punkt_english.inc"

// Ortho-context flags (nltk.tokenize.punkt._ORTHO_*).
constexpr int kOrthoBegUc = 1 << 1;
constexpr int kOrthoMidUc = 1 << 2;
constexpr int kOrthoUnkUc = 1 << 3;
constexpr int kOrthoBegLc = 1 << 4;
constexpr int kOrthoMidLc = 1 << 5;
constexpr int kOrthoUnkLc = 1 << 6;
constexpr int kOrthoUc = kOrthoBegUc | kOrthoMidUc | kOrthoUnkUc;
constexpr int kOrthoLc = kOrthoBegLc | kOrthoMidLc | kOrthoUnkLc;

struct PunktParameters {
  std::unordered_set<Text> abbrev_types;
  std::unordered_set<Text> collocations;  // "first\tsecond": types never contain whitespace
  std::unordered_set<Text> sent_starters;
  std::unordered_map<Text, int> ortho_context;

  int ortho(const Text& type) const {
    auto it = ortho_context.find(type);
    return it == ortho_context.end() ? 0 : it->second;
  }
};

const PunktParameters& english_parameters() {
  static const PunktParameters params = [] {
    PunktParameters p;
    std::string_view data(kPunktEnglish, sizeof(kPunktEnglish) - 1);
    while (!data.empty()) {
      std::size_t eol = data.find('\n');
      std::string_view line = data.substr(0, eol);
      data.remove_prefix(eol == std::string_view::npos ? data.size() : eol + 1);
      if (line.size() < 2) continue;
      std::string_view rest = line.substr(2);
      switch (line[0]) {
        case 'A': p.abbrev_types.insert(py::decode_utf8(rest)); break;
        case 'S': p.sent_starters.insert(py::decode_utf8(rest)); break;
        case 'C': p.collocations.insert(py::decode_utf8(rest)); break;
        case 'O': {
          std::size_t tab = rest.rfind('\t');
          p.ortho_context[py::decode_utf8(rest.substr(0, tab))] = std::stoi(std::string(rest.substr(tab + 1)));
          break;
        }
        default: break;
      }
    }
    return p;
  }();
  return params;
}

// ---- PunktLanguageVars: the regexes, hand-compiled (nltk compiles them with the `regex` module).

// _re_non_word_chars: characters that cannot appear within words.
bool is_non_word(char32_t c) {
  static constexpr std::u32string_view kChars = U")\";}]*:@'({[\u2018\u2019\u201c\u201d\u00ab\u00bb?!";
  return kChars.find(c) != std::u32string_view::npos;
}

// _re_word_start excludes these from starting a word token.
bool is_word_start_excluded(char32_t c) {
  static constexpr std::u32string_view kChars = U"(\"`{[:;&#*@)}]-,";
  return kChars.find(c) != std::u32string_view::npos;
}

// Closing punctuation moved onto the preceding sentence (re_boundary_realignment).
bool is_realign_closer(char32_t c) {
  static constexpr std::u32string_view kChars = U"\"')]}\u2018\u2019\u201c\u201d\u00ab\u00bb";
  return kChars.find(c) != std::u32string_view::npos;
}

char32_t at(TextView t, std::size_t i) { return i < t.size() ? t[i] : 0; }

// _re_multi_char_punct at i: `\-{2,}|\.{2,}|(?:\.\s){2,}\.`; returns the match length or 0.
std::size_t multi_char_punct(TextView t, std::size_t i) {
  auto run_of = [&](char32_t c) {
    std::size_t j = i;
    while (j < t.size() && t[j] == c) ++j;
    return j - i;
  };
  if (at(t, i) == U'-' && at(t, i + 1) == U'-') return run_of(U'-');
  if (at(t, i) == U'.' && at(t, i + 1) == U'.') return run_of(U'.');
  if (at(t, i) != U'.') return 0;
  std::size_t pairs = 0;
  while (at(t, i + 2 * pairs) == U'.' && i + 2 * pairs + 1 < t.size() && py::is_rx_space(t[i + 2 * pairs + 1])) ++pairs;
  if (pairs >= 2 && at(t, i + 2 * pairs) == U'.') return 2 * pairs + 1;
  if (pairs >= 3) return 2 * pairs - 1;  // backtrack one pair: its '.' closes the match
  return 0;
}

// The lookahead that ends a word token in _word_tokenize_fmt.
bool word_ends_at(TextView t, std::size_t e) {
  if (e >= t.size()) return true;
  char32_t c = t[e];
  if (py::is_rx_space(c) || is_non_word(c) || multi_char_punct(t, e) > 0) return true;
  if (c != U',') return false;
  std::size_t f = e + 1;
  return f >= t.size() || py::is_rx_space(t[f]) || is_non_word(t[f]) || multi_char_punct(t, f) > 0;
}

// PunktLanguageVars.word_tokenize: findall over one line (no '\n' inside).
std::vector<TextView> punkt_word_tokenize(TextView line) {
  std::vector<TextView> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    char32_t c = line[i];
    std::size_t len = multi_char_punct(line, i);
    if (len == 0 && !py::is_rx_space(c)) {
      len = 1;
      if (!is_word_start_excluded(c)) {
        while (!word_ends_at(line, i + len)) ++len;  // \S+? stops at the first word end
      }
    }
    if (len == 0) {
      ++i;  // whitespace: nothing matches here
      continue;
    }
    tokens.push_back(line.substr(i, len));
    i += len;
  }
  return tokens;
}

// ---- PunktToken ---------------------------------------------------------------------------

// _RE_NUMERIC `^-?[\.,]?\d[\d,\.-]*\.?$` as a full match.
bool is_numeric_token(TextView t) {
  std::size_t i = 0;
  if (at(t, i) == U'-') ++i;
  if (at(t, i) == U'.' || at(t, i) == U',') ++i;
  if (i >= t.size() || !py::is_rx_digit(t[i])) return false;
  for (++i; i < t.size(); ++i) {
    char32_t c = t[i];
    if (!(py::is_rx_digit(c) || c == U',' || c == U'.' || c == U'-')) return false;
  }
  return true;
}

struct Token {
  Text tok;
  Text type;
  bool period_final = false;
  bool sentbreak = false;
  bool abbr = false;
  bool ellipsis = false;

  explicit Token(TextView text) : tok(text), period_final(!text.empty() && text.back() == U'.') {
    Text low = py::lower(text);
    type = is_numeric_token(low) ? Text(U"##number##") : low;
  }
  Text type_no_period() const {
    if (type.size() > 1 && type.back() == U'.') return type.substr(0, type.size() - 1);
    return type;
  }
  Text type_no_sentperiod() const { return sentbreak ? type_no_period() : type; }
  bool first_upper() const { return !tok.empty() && py::is_upper(TextView(tok).substr(0, 1)); }
  bool first_lower() const { return !tok.empty() && py::is_lower(TextView(tok).substr(0, 1)); }
  bool is_ellipsis() const {  // `\.\.+$`
    if (tok.size() < 2) return false;
    for (char32_t c : tok)
      if (c != U'.') return false;
    return true;
  }
  bool is_initial() const {  // `[^\W\d]\.$`
    return tok.size() == 2 && py::is_rx_word(tok[0]) && !py::is_rx_digit(tok[0]) && tok[1] == U'.';
  }
};

// PunktBaseClass._tokenize_words (the paragraph/line flags are not used when tokenizing).
std::vector<Token> tokenize_words(TextView text) {
  std::vector<Token> tokens;
  for (TextView line : py::split(text, U"\n")) {
    if (py::strip(line).empty()) continue;
    for (TextView tok : punkt_word_tokenize(line)) tokens.emplace_back(tok);
  }
  return tokens;
}

void first_pass(Token& t, const PunktParameters& p) {
  const Text& tok = t.tok;
  if (tok == U"." || tok == U"?" || tok == U"!") {
    t.sentbreak = true;
  } else if (t.is_ellipsis()) {
    t.ellipsis = true;
  } else if (t.period_final && !py::ends_with(tok, U"..")) {
    Text stem = py::lower(TextView(tok).substr(0, tok.size() - 1));
    Text last_part(py::split(stem, U"-").back());
    if (p.abbrev_types.count(stem) || p.abbrev_types.count(last_part)) {
      t.abbr = true;
    } else {
      t.sentbreak = true;
    }
  }
}

enum class Starter { kYes, kNo, kUnknown };

// PunktSentenceTokenizer._ortho_heuristic: does `t` start a sentence?
Starter ortho_heuristic(const Token& t, const PunktParameters& p) {
  static constexpr std::u32string_view kPunctuation = U";:,.!?";
  if (t.tok.size() == 1 && kPunctuation.find(t.tok[0]) != std::u32string_view::npos) return Starter::kNo;
  int ortho = p.ortho(t.type_no_sentperiod());
  if (t.first_upper() && (ortho & kOrthoLc) && !(ortho & kOrthoMidUc)) return Starter::kYes;
  if (t.first_lower() && ((ortho & kOrthoUc) || !(ortho & kOrthoBegLc))) return Starter::kNo;
  return Starter::kUnknown;
}

// PunktSentenceTokenizer._second_pass_annotation for the pair (t1, t2).
void second_pass(Token& t1, const Token& t2, const PunktParameters& p) {
  if (!t1.period_final) return;
  Text typ = t1.type_no_period();
  Text next_typ = t2.type_no_sentperiod();
  bool is_initial = t1.is_initial();

  if (p.collocations.count(typ + U"\t" + next_typ)) {
    t1.sentbreak = false;
    t1.abbr = true;
    return;
  }
  if ((t1.abbr || t1.ellipsis) && !is_initial) {
    if (ortho_heuristic(t2, p) == Starter::kYes) {
      t1.sentbreak = true;
      return;
    }
    if (t2.first_upper() && p.sent_starters.count(next_typ)) {
      t1.sentbreak = true;
      return;
    }
  }
  if (is_initial || typ == U"##number##") {
    Starter starter = ortho_heuristic(t2, p);
    if (starter == Starter::kNo) {
      t1.sentbreak = false;
      t1.abbr = true;
      return;
    }
    if (starter == Starter::kUnknown && is_initial && t2.first_upper() && !(p.ortho(next_typ) & kOrthoLc)) {
      t1.sentbreak = false;
      t1.abbr = true;
    }
  }
}

// text_contains_sentbreak: is any token but the last a sentence break once annotated?
bool text_contains_sentbreak(TextView text) {
  const PunktParameters& p = english_parameters();
  std::vector<Token> tokens = tokenize_words(text);
  for (Token& t : tokens) first_pass(t, p);
  // Streaming in nltk: token i's second pass sees token i+1 after its first pass only.
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    second_pass(tokens[i], tokens[i + 1], p);
    if (tokens[i].sentbreak) return true;
  }
  return false;
}

// ---- Sentence boundaries ------------------------------------------------------------------

// One match of period_context_re: a sentence-end character followed by either non-word
// punctuation or whitespace and a next token.
struct PeriodContext {
  std::size_t start = 0;            // the '.', '?' or '!'
  std::size_t after_end = 0;        // end of the after_tok group
  std::optional<std::size_t> next;  // start of next_tok, when after_tok is whitespace + token
};

std::vector<PeriodContext> period_contexts(TextView text) {
  std::vector<PeriodContext> out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char32_t c = text[i];
    if (c != U'.' && c != U'?' && c != U'!') continue;
    if (i + 1 < text.size() && is_non_word(text[i + 1])) {
      out.push_back({i, i + 2, std::nullopt});
      continue;
    }
    std::size_t j = i + 1;
    while (j < text.size() && py::is_rx_space(text[j])) ++j;
    if (j == i + 1 || j == text.size()) continue;
    std::size_t k = j;
    while (k < text.size() && !py::is_rx_space(text[k])) ++k;
    out.push_back({i, k, j});
  }
  return out;
}

// The position of the last string.whitespace character (ASCII only), or 0 when there is none
// (nltk's _get_last_whitespace_index returns 0 for "not found" and for index 0 alike).
std::size_t last_ascii_whitespace(TextView text) {
  static constexpr std::u32string_view kAsciiWhitespace = U" \t\n\r\x0b\x0c";
  for (std::size_t i = text.size(); i > 0; --i) {
    if (kAsciiWhitespace.find(text[i - 1]) != std::u32string_view::npos) return i - 1;
  }
  return 0;
}

struct Span {
  std::size_t start, stop;
};

// _match_potential_end_contexts + _slices_from_text.
std::vector<Span> slices_from_text(TextView text) {
  std::vector<Span> slices;
  std::size_t last_break = 0;
  auto consider = [&](const PeriodContext& m, Span word) {
    Text context(text.substr(word.start, word.stop - word.start));
    context.append(text.substr(m.start, m.after_end - m.start));
    if (!text_contains_sentbreak(context)) return;
    slices.push_back({last_break, m.start + 1});
    last_break = m.next ? *m.next : m.start + 1;
  };

  Span previous_slice{0, 0};
  const PeriodContext* previous = nullptr;
  std::vector<PeriodContext> matches = period_contexts(text);
  for (const PeriodContext& m : matches) {
    TextView before = text.substr(previous_slice.stop, m.start - previous_slice.stop);
    std::size_t space = last_ascii_whitespace(before);
    std::size_t word_start = space ? space + previous_slice.stop + 1 : previous_slice.start;
    Span word{word_start, m.start};
    if (previous && previous_slice.stop <= word.start) consider(*previous, previous_slice);
    previous = &m;
    previous_slice = word;
  }
  if (previous) consider(*previous, previous_slice);
  slices.push_back({last_break, py::rstrip(text).size()});
  return slices;
}

// re_boundary_realignment.match on a sentence: closing punctuation (lazily) followed by
// whitespace, "--" or the end. Returns {number of closers, match end} or nullopt.
std::optional<std::pair<std::size_t, std::size_t>> realignment_match(TextView s) {
  std::size_t k = 0;
  while (k < s.size() && is_realign_closer(s[k])) {
    ++k;
    if (k < s.size() && py::is_rx_space(s[k])) {
      std::size_t end = k;
      while (end < s.size() && py::is_rx_space(s[end])) ++end;
      return std::make_pair(k, end);
    }
    if (py::starts_with(s.substr(k), U"--") || k == s.size()) return std::make_pair(k, k);
  }
  return std::nullopt;
}

std::vector<Span> realign_boundaries(TextView text, const std::vector<Span>& slices) {
  std::vector<Span> out;
  std::size_t realign = 0;
  for (std::size_t i = 0; i < slices.size(); ++i) {
    Span s1{slices[i].start + realign, slices[i].stop};
    bool s1_nonempty = s1.start < s1.stop;
    if (i + 1 == slices.size()) {
      if (s1_nonempty) out.push_back(s1);
      continue;
    }
    const Span& s2 = slices[i + 1];
    TextView second = s2.start < s2.stop ? text.substr(s2.start, s2.stop - s2.start) : TextView();
    if (auto m = realignment_match(second)) {
      out.push_back({s1.start, s2.start + m->first});
      realign = m->second;
    } else {
      realign = 0;
      if (s1_nonempty) out.push_back(s1);
    }
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> punkt_sentence_spans(py::TextView text) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (const Span& s : realign_boundaries(text, slices_from_text(text))) spans.emplace_back(s.start, s.stop);
  return spans;
}

std::size_t count_sentences(py::TextView text) { return punkt_sentence_spans(text).size(); }

}  // namespace scout::tasks::ifeval

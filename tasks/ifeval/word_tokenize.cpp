#include "tasks/ifeval/word_tokenize.h"

#include <array>
#include <functional>
#include <string_view>

#include "tasks/ifeval/punkt.h"

namespace scout::tasks::ifeval {
namespace {

using py::Text;
using py::TextView;

// Each rule below is one `re.sub` of nltk's NLTKWordTokenizer (nltk/tokenize/destructive.py),
// hand-compiled. All but the contraction rules run on the `regex` module (through nltk.redos),
// hence the is_rx_* classes; the contractions use the stdlib `re`.

bool in(std::u32string_view chars, char32_t c) { return chars.find(c) != std::u32string_view::npos; }
char32_t at(TextView t, std::size_t i) { return i < t.size() ? t[i] : 0; }

// `[chars]` -> r" \g<0> "
Text pad_chars(TextView t, std::u32string_view chars) {
  Text out;
  out.reserve(t.size() + 8);
  for (char32_t c : t) {
    if (in(chars, c)) {
      out.push_back(U' ');
      out.push_back(c);
      out.push_back(U' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Pads every maximal run of `c` of at least `min_run` characters with spaces.
Text pad_runs(TextView t, char32_t c, std::size_t min_run) {
  Text out;
  std::size_t i = 0;
  while (i < t.size()) {
    std::size_t j = i;
    while (j < t.size() && t[j] == c) ++j;
    if (j - i >= min_run) {
      out.push_back(U' ');
      out.append(t.substr(i, j - i));
      out.push_back(U' ');
      i = j;
    } else if (j > i) {
      out.append(t.substr(i, j - i));
      i = j;
    } else {
      out.push_back(t[i++]);
    }
  }
  return out;
}

// A left-to-right, non-overlapping re.sub: `match(t, i)` returns the match length at i (0: none)
// and `emit` appends the replacement for t[i, i+len).
Text substitute(TextView t, const std::function<std::size_t(TextView, std::size_t)>& match,
                const std::function<void(Text&, TextView)>& emit) {
  Text out;
  out.reserve(t.size() + 8);
  std::size_t i = 0;
  while (i < t.size()) {
    std::size_t len = match(t, i);
    if (len == 0) {
      out.push_back(t[i++]);
      continue;
    }
    emit(out, t.substr(i, len));
    i += len;
  }
  return out;
}

// ---- STARTING_QUOTES ----------------------------------------------------------------------

Text starting_quotes(TextView text) {
  // ([«“‘„]|[`]+) -> " \1 "
  Text t = pad_chars(text, U"\u00ab\u201c\u2018\u201e");
  t = pad_runs(t, U'`', 1);
  // ^\" -> ``
  if (!t.empty() && t[0] == U'"') t = U"``" + t.substr(1);
  // (``) -> " \1 "
  t = py::replace_all(t, U"``", U" `` ");
  // ([ \(\[{<])(\"|\'{2}) -> "\1 `` "
  t = substitute(
      t,
      [](TextView s, std::size_t i) -> std::size_t {
        if (!in(U" ([{<", s[i])) return 0;
        if (at(s, i + 1) == U'"') return 2;
        if (at(s, i + 1) == U'\'' && at(s, i + 2) == U'\'') return 3;
        return 0;
      },
      [](Text& out, TextView m) {
        out.push_back(m[0]);
        out.append(U" `` ");
      });
  // (?i)(?<!\w)(\')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w) -> "\1 "
  auto clitic_follows = [](TextView s, std::size_t i) {
    static constexpr std::array<std::string_view, 8> kClitics = {"re", "ve", "ll", "m", "t", "s", "d", "n"};
    for (std::string_view clitic : kClitics) {
      std::size_t j = i;
      bool ok = true;
      for (char letter : clitic) {
        if (j >= s.size() || !py::rx_ignorecase_equal_ascii(letter, s[j])) {
          ok = false;
          break;
        }
        ++j;
      }
      if (ok && (py::is_rx_word(s[j - 1]) != (j < s.size() && py::is_rx_word(s[j])))) return true;
    }
    return false;
  };
  return substitute(
      t,
      [&](TextView s, std::size_t i) -> std::size_t {
        if (s[i] != U'\'') return 0;
        if (i > 0 && py::is_rx_word(s[i - 1])) return 0;
        if (i + 1 >= s.size() || !py::is_rx_word(s[i + 1])) return 0;
        return clitic_follows(s, i + 1) ? 0 : 1;
      },
      [](Text& out, TextView) { out.append(U"' "); });
}

// ---- PUNCTUATION --------------------------------------------------------------------------

// ([^\.])(\.)([closers]*)\s*$ : the final period. `spaced` selects the replacement
// r"\1 \2 \3 " (first rule) versus r"\1 \2\3 " (the later one).
Text final_period(TextView t, std::u32string_view closers, bool spaced) {
  std::vector<bool> blank_from(t.size() + 1, true);
  for (std::size_t j = t.size(); j > 0; --j) blank_from[j - 1] = blank_from[j] && py::is_rx_space(t[j - 1]);
  for (std::size_t i = 0; i + 1 < t.size(); ++i) {
    if (t[i] == U'.' || t[i + 1] != U'.') continue;
    std::size_t j = i + 2;
    while (j < t.size() && in(closers, t[j])) ++j;
    if (!blank_from[j]) continue;
    Text out(t.substr(0, i + 1));
    out.append(spaced ? U" . " : U" .");
    out.append(t.substr(i + 2, j - i - 2));
    out.push_back(U' ');
    return out;
  }
  return Text(t);
}

Text punctuation(TextView text) {
  Text t = final_period(text, U"])}>\"'\u00bb\u201d\u2019 ", true);
  // ([:,])([^\d]) -> " \1 \2"
  t = substitute(
      t,
      [](TextView s, std::size_t i) -> std::size_t {
        return (in(U":,", s[i]) && i + 1 < s.size() && !py::is_rx_digit(s[i + 1])) ? 2 : 0;
      },
      [](Text& out, TextView m) {
        out.push_back(U' ');
        out.push_back(m[0]);
        out.push_back(U' ');
        out.push_back(m[1]);
      });
  // ([:,])$ -> " \1 "   ($ also matches before a final newline)
  std::size_t n = t.size();
  std::size_t pos = std::u32string::npos;
  if (n >= 1 && in(U":,", t[n - 1])) pos = n - 1;
  else if (n >= 2 && t[n - 1] == U'\n' && in(U":,", t[n - 2])) pos = n - 2;
  if (pos != std::u32string::npos) {
    Text padded = t.substr(0, pos);
    padded.push_back(U' ');
    padded.push_back(t[pos]);
    padded.push_back(U' ');
    t = padded + t.substr(pos + 1);
  }
  t = pad_runs(t, U'.', 2);                             // \.{2,}
  t = pad_chars(t, U";@#$%&");                          // [;@#$%&]
  t = pad_chars(t, U"\u2012\u2013\u2014\u2015");        // [\u2012-\u2015]
  t = final_period(t, U"])}>\"'", false);               // the final period again
  t = pad_chars(t, U"?!");                              // [?!]
  // ([^'])' -> "\1 ' "
  t = substitute(
      t,
      [](TextView s, std::size_t i) -> std::size_t {
        return (s[i] != U'\'' && at(s, i + 1) == U'\'' && at(s, i + 2) == U' ') ? 3 : 0;
      },
      [](Text& out, TextView m) {
        out.push_back(m[0]);
        out.append(U" ' ");
      });
  return pad_chars(t, U"*");                            // [*]
}

// ---- ENDING_QUOTES ------------------------------------------------------------------------

Text collapse_spaces(TextView t) {  // \s+ -> " "
  Text out;
  for (std::size_t i = 0; i < t.size();) {
    if (py::is_rx_space(t[i])) {
      while (i < t.size() && py::is_rx_space(t[i])) ++i;
      out.push_back(U' ');
    } else {
      out.push_back(t[i++]);
    }
  }
  return out;
}

// ([^' ])(alternatives) -> "\1 \2 " where each alternative is followed by a space.
Text split_clitic(TextView t, const std::vector<std::u32string_view>& alternatives) {
  return substitute(
      t,
      [&](TextView s, std::size_t i) -> std::size_t {
        if (s[i] == U'\'' || s[i] == U' ') return 0;
        for (std::u32string_view alt : alternatives) {
          if (s.substr(i + 1, alt.size()) == alt && at(s, i + 1 + alt.size()) == U' ') return alt.size() + 2;
        }
        return 0;
      },
      [](Text& out, TextView m) {
        out.push_back(m[0]);
        out.push_back(U' ');
        out.append(m.substr(1, m.size() - 2));
        out.push_back(U' ');
      });
}

Text ending_quotes(TextView text) {
  Text t = pad_chars(text, U"\u00bb\u201d\u2019");
  t = py::replace_all(t, U"''", U" '' ");
  t = py::replace_all(t, U"\"", U" '' ");
  t = collapse_spaces(t);
  t = split_clitic(t, {U"'s", U"'S", U"'m", U"'M", U"'d", U"'D", U"'"});
  return split_clitic(t, {U"'ll", U"'LL", U"'re", U"'RE", U"'ve", U"'VE", U"n't", U"N'T"});
}

// ---- Contractions (stdlib re, IGNORECASE) ---------------------------------------------------

bool re_boundary(TextView t, std::size_t i) {
  bool before = i > 0 && py::is_re_word(t[i - 1]);
  bool after = i < t.size() && py::is_re_word(t[i]);
  return before != after;
}

// Length of `literal` matched case-insensitively (re semantics) at t[i], or 0.
std::size_t match_ignorecase(TextView t, std::size_t i, std::u32string_view literal) {
  if (t.size() - i < literal.size()) return 0;
  for (std::size_t k = 0; k < literal.size(); ++k) {
    if (!py::re_ignorecase_equal(literal[k], t[i + k])) return 0;
  }
  return literal.size();
}

struct Contraction {
  std::u32string_view first, second;
  bool space_after;  // (?=\s) instead of \b
};

// \b(first)(second)\b -> " \1 \2 "
Text split_contraction(TextView t, const Contraction& c) {
  return substitute(
      t,
      [&](TextView s, std::size_t i) -> std::size_t {
        if (!re_boundary(s, i)) return 0;
        if (!match_ignorecase(s, i, c.first) || !match_ignorecase(s, i + c.first.size(), c.second)) return 0;
        std::size_t end = i + c.first.size() + c.second.size();
        bool tail = c.space_after ? (end < s.size() && py::is_space(s[end])) : re_boundary(s, end);
        return tail ? end - i : 0;
      },
      [&](Text& out, TextView m) {
        out.push_back(U' ');
        out.append(m.substr(0, c.first.size()));
        out.push_back(U' ');
        out.append(m.substr(c.first.size()));
        out.push_back(U' ');
      });
}

// (?i) ('t)(is)\b -> " \1 \2 "
Text split_archaic_t(TextView t, std::u32string_view word) {
  return substitute(
      t,
      [&](TextView s, std::size_t i) -> std::size_t {
        if (s[i] != U' ' || !match_ignorecase(s, i + 1, U"'t") || !match_ignorecase(s, i + 3, word)) return 0;
        std::size_t end = i + 3 + word.size();
        return re_boundary(s, end) ? end - i : 0;
      },
      [&](Text& out, TextView m) {
        out.push_back(U' ');
        out.append(m.substr(1, 2));
        out.push_back(U' ');
        out.append(m.substr(3));
        out.push_back(U' ');
      });
}

Text contractions(TextView text) {
  static const std::array<Contraction, 8> kContractions2 = {{
      {U"can", U"not", false},
      {U"d", U"'ye", false},
      {U"gim", U"me", false},
      {U"gon", U"na", false},
      {U"got", U"ta", false},
      {U"lem", U"me", false},
      {U"more", U"'n", false},
      {U"wan", U"na", true},
  }};
  Text t(text);
  for (const Contraction& c : kContractions2) t = split_contraction(t, c);
  t = split_archaic_t(t, U"is");
  return split_archaic_t(t, U"was");
}

}  // namespace

std::vector<Text> treebank_tokenize(py::TextView sentence) {
  Text t = starting_quotes(sentence);
  t = punctuation(t);
  t = pad_chars(t, U"][(){}<>");
  t = py::replace_all(t, U"--", U" -- ");
  t = U" " + t + U" ";
  t = ending_quotes(t);
  t = contractions(t);
  std::vector<Text> tokens;
  for (TextView tok : py::split_whitespace(t)) tokens.emplace_back(tok);
  return tokens;
}

std::vector<Text> nltk_word_tokenize(py::TextView text) {
  std::vector<Text> tokens;
  for (auto [start, stop] : punkt_sentence_spans(text)) {
    if (start >= stop) continue;  // an empty sentence yields no tokens
    for (Text& tok : treebank_tokenize(text.substr(start, stop - start))) tokens.push_back(std::move(tok));
  }
  return tokens;
}

std::size_t count_words(py::TextView text) {
  std::size_t count = 0;
  bool in_word = false;
  for (char32_t c : text) {
    bool word = py::is_rx_word(c);
    if (word && !in_word) ++count;
    in_word = word;
  }
  return count;
}

}  // namespace scout::tasks::ifeval

#include "engine/tokenizer/pretokenize.h"

#include <array>
#include <utility>

namespace scout::tok {
namespace {

struct NamedKind {
  std::string_view name;
  PreTokenizer kind;
};
// llama.cpp's names for the same regexes (src/llama-vocab.cpp).
constexpr std::array kNames = {
    NamedKind{"", PreTokenizer::GPT2},           NamedKind{"default", PreTokenizer::GPT2},
    NamedKind{"gpt2", PreTokenizer::GPT2},       NamedKind{"gpt-2", PreTokenizer::GPT2},
    NamedKind{"phi-2", PreTokenizer::GPT2},      NamedKind{"mpt", PreTokenizer::GPT2},
    NamedKind{"olmo", PreTokenizer::GPT2},       NamedKind{"smollm", PreTokenizer::SMOLLM},
    NamedKind{"starcoder", PreTokenizer::SMOLLM}, NamedKind{"refact", PreTokenizer::SMOLLM},
    NamedKind{"llama3", PreTokenizer::LLAMA3},   NamedKind{"llama-v3", PreTokenizer::LLAMA3},
    NamedKind{"llama-bpe", PreTokenizer::LLAMA3}, NamedKind{"llama4", PreTokenizer::LLAMA4},
    NamedKind{"gpt-4o", PreTokenizer::LLAMA4},
};

constexpr uint32_t kNone = 0xFFFFFFFF;  // "no character": outside the piece being scanned

constexpr uint8_t kNotWord = kLetter | kNumber | kWhitespace;
// Regex character sets, as class tests.
constexpr uint8_t kUpperSet = kLetterUpper | kLetterOther | kMark;  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
constexpr uint8_t kLowerSet = kLetterLower | kLetterOther | kMark;  // [\p{Ll}\p{Lm}\p{Lo}\p{M}]

// Scans one piece [lo, hi) of decoded text. Positions are code point indices; a look at a
// position outside the piece sees no character, like a regex at the end of its input.
class Scanner {
 public:
  Scanner(const DecodedText& t, size_t lo, size_t hi) : t_(t), lo_(lo), hi_(hi) {}

  // Appends the end index of every word in the piece.
  template <typename MatchFn>
  void split(MatchFn match, std::vector<size_t>& ends) const {
    size_t pos = lo_;
    while (pos < hi_) {
      size_t end = match(*this, pos);
      if (end <= pos) end = pos + 1;  // nothing matched: the character stands alone
      ends.push_back(end);
      pos = end;
    }
  }

  uint32_t cp(size_t i) const { return i < hi_ ? t_.cps[i] : kNone; }
  uint8_t cls(size_t i) const { return i < hi_ ? t_.classes[i] : 0; }
  bool in(size_t i) const { return i < hi_; }
  bool is(size_t i, uint8_t set) const { return (cls(i) & set) != 0; }
  // [^\s\p{L}\p{N}]
  bool is_other(size_t i) const { return in(i) && (cls(i) & kNotWord) == 0; }
  bool is_newline(size_t i) const { return cp(i) == '\r' || cp(i) == '\n'; }
  // [^\r\n\p{L}\p{N}]
  bool is_prefix(size_t i) const { return in(i) && !is_newline(i) && !is(i, kLetter | kNumber); }

  size_t skip(size_t i, uint8_t set) const {
    while (is(i, set)) ++i;
    return i;
  }
  size_t skip_other(size_t i) const {
    while (is_other(i)) ++i;
    return i;
  }

  // 's|'t|'re|'ve|'m|'ll|'d at i (ASCII letters, optionally either case); end or i.
  size_t contraction(size_t i, bool any_case) const {
    if (cp(i) != '\'') return i;
    auto lower = [&](size_t k) {
      uint32_t c = cp(k);
      return (any_case && c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
    };
    const uint32_t c1 = lower(i + 1);
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return i + 2;
    const uint32_t c2 = lower(i + 2);
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return i + 3;
    return i;
  }

  // The whitespace alternatives shared by all families, at i (a whitespace character):
  // \s*[\r\n]+ (when newline_run), else \s+(?!\S), else \s+.
  size_t whitespace(size_t i, bool newline_run) const {
    size_t end = i;
    size_t after_last_newline = 0;
    while (is(end, kWhitespace)) {
      if (is_newline(end)) after_last_newline = end + 1;
      ++end;
    }
    if (newline_run && after_last_newline != 0) return after_last_newline;
    // \s+(?!\S): leave the last space to prefix the word that follows it.
    if (end - i > 1 && in(end)) return end - 1;
    return end;
  }

 private:
  const DecodedText& t_;
  size_t lo_, hi_;
};

size_t match_gpt2(const Scanner& s, size_t p) {
  if (size_t e = s.contraction(p, false); e != p) return e;
  const size_t q = (s.cp(p) == ' ') ? p + 1 : p;  // the optional leading space
  if (s.is(q, kLetter)) return s.skip(q, kLetter);
  if (s.is(q, kNumber)) return s.skip(q, kNumber);
  if (s.is_other(q)) return s.skip_other(q);
  if (s.is(p, kWhitespace)) return s.whitespace(p, false);
  return p + 1;
}

size_t match_llama3(const Scanner& s, size_t p) {
  if (size_t e = s.contraction(p, true); e != p) return e;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (s.is(p, kLetter)) return s.skip(p, kLetter);
  if (s.is_prefix(p) && s.is(p + 1, kLetter)) return s.skip(p + 1, kLetter);
  // \p{N}{1,3}
  if (s.is(p, kNumber)) {
    size_t e = p;
    while (e < p + 3 && s.is(e, kNumber)) ++e;
    return e;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  const size_t q = (s.cp(p) == ' ') ? p + 1 : p;
  if (s.is_other(q)) {
    size_t e = s.skip_other(q);
    while (s.is_newline(e)) ++e;
    return e;
  }
  if (s.is(p, kWhitespace)) return s.whitespace(p, true);
  return p + 1;
}

// U*L+ starting at i (U* greedy, giving back characters until L+ can match); end or npos.
size_t upper_then_lower(const Scanner& s, size_t i) {
  const size_t u_end = s.skip(i, kUpperSet);
  if (s.is(u_end, kLowerSet)) return s.skip(u_end, kLowerSet);
  // Backtrack: the last character of the U run that is also in L becomes the whole L+.
  for (size_t k = u_end; k > i; --k) {
    if (s.is(k - 1, kLowerSet)) return k;
  }
  return std::string_view::npos;
}

size_t match_llama4(const Scanner& s, size_t p) {
  const bool prefix = s.is_prefix(p);
  // [^\r\n\p{L}\p{N}]?U*L+C?  (with the optional prefix first, then without)
  size_t e = prefix ? upper_then_lower(s, p + 1) : std::string_view::npos;
  if (e == std::string_view::npos) e = upper_then_lower(s, p);
  if (e != std::string_view::npos) return s.contraction(e, true);
  // [^\r\n\p{L}\p{N}]?U+L*C?
  if (prefix && s.is(p + 1, kUpperSet)) return s.contraction(s.skip(s.skip(p + 1, kUpperSet), kLowerSet), true);
  if (s.is(p, kUpperSet)) return s.contraction(s.skip(s.skip(p, kUpperSet), kLowerSet), true);
  // \p{N}{1,3}
  if (s.is(p, kNumber)) {
    size_t n = p;
    while (n < p + 3 && s.is(n, kNumber)) ++n;
    return n;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n/]*
  const size_t q = (s.cp(p) == ' ') ? p + 1 : p;
  if (s.is_other(q)) {
    size_t n = s.skip_other(q);
    while (s.is_newline(n) || s.cp(n) == '/') ++n;
    return n;
  }
  if (s.is(p, kWhitespace)) return s.whitespace(p, true);
  return p + 1;
}

// Cuts [0, n) into pieces: each \p{N} code point alone, and the runs between them.
void split_digits(const DecodedText& t, std::vector<std::pair<size_t, size_t>>& pieces) {
  size_t start = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t.classes[i] & kNumber) {
      if (i > start) pieces.emplace_back(start, i);
      pieces.emplace_back(i, i + 1);
      start = i + 1;
    }
  }
  if (start < t.size()) pieces.emplace_back(start, t.size());
}

}  // namespace

std::optional<PreTokenizer> pre_tokenizer_from_name(std::string_view name) {
  for (const auto& n : kNames) {
    if (n.name == name) return n.kind;
  }
  return std::nullopt;
}

std::string_view pre_tokenizer_name(PreTokenizer kind) {
  switch (kind) {
    case PreTokenizer::GPT2: return "gpt2";
    case PreTokenizer::SMOLLM: return "smollm";
    case PreTokenizer::LLAMA3: return "llama3";
    case PreTokenizer::LLAMA4: return "llama4";
  }
  return "?";
}

std::string_view supported_pre_tokenizer_names() {
  return "gpt2, gpt-2, phi-2, mpt, olmo, default, smollm, starcoder, refact, llama3, llama-v3, "
         "llama-bpe, llama4, gpt-4o";
}

void pre_tokenize(PreTokenizer kind, std::string_view text, std::vector<std::string_view>& words,
                  DecodedText& t) {
  decode_utf8(text, t);
  std::vector<std::pair<size_t, size_t>> pieces;
  if (kind == PreTokenizer::SMOLLM) {
    split_digits(t, pieces);
  } else if (t.size() > 0) {
    pieces.emplace_back(0, t.size());
  }
  std::vector<size_t> ends;
  ends.reserve(t.size() / 3 + 1);
  for (auto [lo, hi] : pieces) {
    Scanner s(t, lo, hi);
    switch (kind) {
      case PreTokenizer::GPT2:
      case PreTokenizer::SMOLLM: s.split(match_gpt2, ends); break;
      case PreTokenizer::LLAMA3: s.split(match_llama3, ends); break;
      case PreTokenizer::LLAMA4: s.split(match_llama4, ends); break;
    }
  }
  size_t start = 0;
  for (size_t end : ends) {
    const uint32_t b = t.offsets[start], e = t.offsets[end];
    words.push_back(text.substr(b, e - b));
    start = end;
  }
}

std::vector<std::string_view> pre_tokenize(PreTokenizer kind, std::string_view text) {
  std::vector<std::string_view> words;
  DecodedText scratch;
  pre_tokenize(kind, text, words, scratch);
  return words;
}

}  // namespace scout::tok

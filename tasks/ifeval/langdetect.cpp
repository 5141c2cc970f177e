#include "tasks/ifeval/langdetect.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "harness/data/pyrandom.h"

namespace scout::tasks::ifeval {

// ---- langdetect ------------------------------------------------------------------------------
namespace {

using py::Text;
using py::TextView;

struct CodeRange {
  char32_t lo, hi;
};
struct CodePair {
  char32_t from, to;
};

#include "tasks/ifeval/data/langdetect_data.inc"

bool in_block(const CodeRange& block, char32_t c) { return block.lo <= c && c <= block.hi; }

// An n-gram of 1..3 code points packed into one key (no n-gram contains U+0000).
std::uint64_t gram_key(TextView gram) {
  std::uint64_t key = 0;
  for (char32_t c : gram) key = (key << 21) | c;
  return key;
}

struct Profiles {
  std::vector<std::string> languages;
  // n-gram -> (language index, probability) for the languages whose profile has it.
  std::unordered_map<std::uint64_t, std::vector<std::pair<int, double>>> grams;
};

std::vector<std::string_view> split_on(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

long long to_int(std::string_view s) { return std::stoll(std::string(s)); }

const Profiles& profiles() {
  static const Profiles loaded = [] {
    Profiles p;
    std::vector<std::array<long long, 3>> n_words;
    std::string_view data(kLangdetectProfiles, sizeof(kLangdetectProfiles) - 1);
    bool header = true;
    while (!data.empty()) {
      std::size_t eol = data.find('\n');
      std::string_view line = data.substr(0, eol);
      data.remove_prefix(eol == std::string_view::npos ? data.size() : eol + 1);
      std::size_t tab = line.find('\t');
      if (header) {  // L<TAB>lang:n1,n2,n3 ...
        for (std::string_view entry : split_on(line.substr(tab + 1), ' ')) {
          std::size_t colon = entry.find(':');
          p.languages.emplace_back(entry.substr(0, colon));
          auto counts = split_on(entry.substr(colon + 1), ',');
          n_words.push_back({to_int(counts[0]), to_int(counts[1]), to_int(counts[2])});
        }
        header = false;
        continue;
      }
      Text gram = py::decode_utf8(line.substr(0, tab));
      auto& entries = p.grams[gram_key(gram)];
      for (std::string_view entry : split_on(line.substr(tab + 1), ' ')) {
        std::size_t colon = entry.find(':');
        int lang = static_cast<int>(to_int(entry.substr(0, colon)));
        double freq = static_cast<double>(to_int(entry.substr(colon + 1)));
        // DetectorFactory.add_profile: 1.0 * freq / n_words[len - 1]
        entries.emplace_back(lang, freq / static_cast<double>(n_words[lang][gram.size() - 1]));
      }
    }
    return p;
  }();
  return loaded;
}

// Detector.URL_RE `https?://[-_.?&~;+=/#0-9A-Za-z]{1,2076}` and MAIL_RE, each replaced by ' '.
bool is_ascii_alnum(char32_t c) { return (c >= U'0' && c <= U'9') || (c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z'); }
bool is_url_char(char32_t c) { return is_ascii_alnum(c) || std::u32string_view(U"-_.?&~;+=/#").find(c) != std::u32string_view::npos; }
bool is_mail_local(char32_t c) { return is_ascii_alnum(c) || c == U'-' || c == U'_' || c == U'.'; }
bool is_mail_domain(char32_t c) { return is_ascii_alnum(c) || c == U'-' || c == U'_'; }

std::size_t run_length(TextView t, std::size_t from, bool (*pred)(char32_t), std::size_t cap) {
  std::size_t n = 0;
  while (from + n < t.size() && n < cap && pred(t[from + n])) ++n;
  return n;
}

std::size_t url_match(TextView t, std::size_t s) {
  std::size_t p = s;
  if (t.substr(p, 4) != U"http") return 0;
  p += 4;
  if (p < t.size() && t[p] == U's') ++p;
  if (t.substr(p, 3) != U"://") return 0;
  p += 3;
  std::size_t run = run_length(t, p, is_url_char, 2076);
  return run ? p + run - s : 0;
}

// `[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}` with re's backtracking.
std::size_t mail_match(TextView t, std::size_t s) {
  std::size_t local = run_length(t, s, is_mail_local, 65);
  if (local == 0 || local > 64 || s + local >= t.size() || t[s + local] != U'@') return 0;
  std::size_t domain_start = s + local + 1;
  std::size_t domain = run_length(t, domain_start, is_mail_domain, 255);
  if (domain == 0) return 0;
  std::size_t tail = run_length(t, domain_start + domain, is_mail_local, 255);
  if (tail > 0) return domain_start + domain + tail - s;
  // Backtrack: the last domain character becomes the tail.
  return domain >= 2 ? domain_start + domain - s : 0;
}

Text replace_matches(TextView t, std::size_t (*match)(TextView, std::size_t)) {
  Text out;
  std::size_t i = 0;
  while (i < t.size()) {
    std::size_t len = match(t, i);
    if (len) {
      out.push_back(U' ');
      i += len;
    } else {
      out.push_back(t[i++]);
    }
  }
  return out;
}

// NGram.normalize_vi: base letter + combining mark -> precomposed Vietnamese letter.
Text normalize_vi(TextView t) {
  std::u32string_view bases(kViBases, std::size(kViBases));
  std::u32string_view marks(kViMarks, std::size(kViMarks));
  Text out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::size_t base = bases.find(t[i]);
    std::size_t mark = i + 1 < t.size() ? marks.find(t[i + 1]) : std::u32string_view::npos;
    if (base != std::u32string_view::npos && mark != std::u32string_view::npos) {
      out.push_back(kViComposed[mark][base]);
      ++i;
    } else {
      out.push_back(t[i]);
    }
  }
  return out;
}

// NGram.normalize
char32_t normalize_char(char32_t c) {
  if (c <= 0x7F) {
    bool letter = (c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z');
    return letter ? c : U' ';
  }
  if (in_block(kLatin1SupplementBlock, c)) {
    return std::find(std::begin(kLatin1Excluded), std::end(kLatin1Excluded), c) != std::end(kLatin1Excluded) ? U' ' : c;
  }
  if (in_block(kLatinExtendedBBlock, c)) {
    if (c == 0x219) return 0x15F;  // Romanian s/t with comma below -> with cedilla
    if (c == 0x21B) return 0x163;
    return c;
  }
  if (in_block(kGeneralPunctuationBlock, c)) return U' ';
  if (in_block(kArabicBlock, c)) return c == 0x6CC ? 0x64A : c;
  if (in_block(kLatinExtendedAdditionalBlock, c)) return c >= 0x1EA0 ? 0x1EC3 : c;
  if (in_block(kHiraganaBlock, c)) return 0x3042;
  if (in_block(kKatakanaBlock, c)) return 0x30A2;
  if (in_block(kBopomofoBlock, c) || in_block(kBopomofoExtendedBlock, c)) return 0x3105;
  if (in_block(kCjkUnifiedIdeographsBlock, c)) {
    auto it = std::lower_bound(std::begin(kCjkMap), std::end(kCjkMap), c,
                               [](const CodePair& p, char32_t v) { return p.from < v; });
    return (it != std::end(kCjkMap) && it->from == c) ? it->to : c;
  }
  if (in_block(kHangulSyllablesBlock, c)) return 0xAC00;
  return c;
}

bool is_upper_char(char32_t c) { return py::has_upper_flag(c); }

// Detector.append: URL/mail removal, Vietnamese normalisation, at most 10000 characters,
// runs of ' ' collapsed.
Text prepare_text(TextView input) {
  Text t = replace_matches(input, url_match);
  t = replace_matches(t, mail_match);
  t = normalize_vi(t);
  Text out;
  char32_t previous = 0;
  std::size_t limit = std::min<std::size_t>(t.size(), 10000);
  for (std::size_t i = 0; i < limit; ++i) {
    char32_t c = t[i];
    if (c != U' ' || previous != U' ') out.push_back(c);
    previous = c;
  }
  return out;
}

// Detector.cleaning_text. langdetect compares unicode_block(ch) (an int) with the string
// 'Latin Extended Additional', which is never equal, so every ch >= U+0300 counts as non-Latin.
void clean_text(Text& t) {
  std::size_t latin = 0, non_latin = 0;
  for (char32_t c : t) {
    if (c >= U'A' && c <= U'z') ++latin;
    else if (c >= 0x300) ++non_latin;
  }
  if (latin * 2 >= non_latin) return;
  Text kept;
  for (char32_t c : t)
    if (c < U'A' || c > U'z') kept.push_back(c);
  t = std::move(kept);
}

// Detector._extract_ngrams with NGram.add_char.
std::vector<const std::vector<std::pair<int, double>>*> extract_ngrams(TextView text, const Profiles& p) {
  std::vector<const std::vector<std::pair<int, double>>*> result;
  Text grams = U" ";
  bool capital_word = false;
  for (char32_t raw : text) {
    char32_t c = normalize_char(raw);
    char32_t last = grams.back();
    bool added = true;
    if (last == U' ') {
      grams.assign(1, U' ');
      capital_word = false;
      if (c == U' ') added = false;
    } else if (grams.size() >= 3) {
      grams.erase(0, 1);
    }
    if (added) {
      grams.push_back(c);
      if (is_upper_char(c)) {
        if (is_upper_char(last)) capital_word = true;
      } else {
        capital_word = false;
      }
    }
    if (capital_word) continue;
    for (std::size_t n = 1; n <= 3; ++n) {
      if (grams.size() < n) break;
      TextView w = TextView(grams).substr(grams.size() - n);
      if (w == U" ") continue;
      auto it = p.grams.find(gram_key(w));
      if (it != p.grams.end()) result.push_back(&it->second);
    }
  }
  return result;
}

double normalize_prob(std::vector<double>& prob) {
  double sum = 0.0;
  for (double x : prob) sum += x;  // Python 3.11 sum(): plain left-to-right addition
  double max_p = 0.0;
  for (double& x : prob) {
    x /= sum;
    if (max_p < x) max_p = x;
  }
  return max_p;
}

}  // namespace

std::optional<std::string> detect_language(py::TextView input) {
  const Profiles& p = profiles();
  Text text = prepare_text(input);
  clean_text(text);
  auto ngrams = extract_ngrams(text, p);
  if (ngrams.empty()) return std::nullopt;  // LangDetectException: no features in text

  constexpr double kAlphaDefault = 0.5, kAlphaWidth = 0.05, kBaseFreq = 10000;
  constexpr int kTrials = 7, kIterationLimit = 1000;
  constexpr double kConvThreshold = 0.99999, kProbThreshold = 0.1;
  const std::size_t n_lang = p.languages.size();
  std::vector<double> lang_prob(n_lang, 0.0);
  harness::PyRandom rng(0);  // langdetect's DetectorFactory seed
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<double> prob(n_lang, 1.0 / static_cast<double>(n_lang));
    double alpha = kAlphaDefault + rng.gauss(0.0, 1.0) * kAlphaWidth;
    double weight = alpha / kBaseFreq;
    for (int i = 0;; ++i) {
      const auto& entries = *ngrams[rng.randbelow(ngrams.size())];
      // prob[i] *= weight + P(gram | lang); languages without the gram contribute 0.0.
      std::size_t next = 0;
      for (std::size_t lang = 0; lang < n_lang; ++lang) {
        double word_prob = 0.0;
        if (next < entries.size() && static_cast<std::size_t>(entries[next].first) == lang) word_prob = entries[next++].second;
        prob[lang] *= weight + word_prob;
      }
      if (i % 5 == 0 && (normalize_prob(prob) > kConvThreshold || i >= kIterationLimit)) break;
    }
    for (std::size_t j = 0; j < n_lang; ++j) lang_prob[j] += prob[j] / kTrials;
  }
  // Detector._sort_probability then [0]: highest probability above 0.1, first language on ties.
  std::optional<std::size_t> best;
  for (std::size_t j = 0; j < n_lang; ++j) {
    if (lang_prob[j] > kProbThreshold && (!best || lang_prob[j] > lang_prob[*best])) best = j;
  }
  return best ? p.languages[*best] : std::string("unknown");
}

}  // namespace scout::tasks::ifeval

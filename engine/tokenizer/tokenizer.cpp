#include "engine/tokenizer/tokenizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "engine/tokenizer/byte_level.h"
#include "engine/tokenizer/pretokenize.h"
#include "engine/util/error.h"

namespace scout::tok {
namespace {

// Long inputs are pre-tokenized in pieces of about this many bytes so the decoded-text scratch
// stays small; the cut is placed where no pre-tokenizer regex can match across it.
constexpr size_t kChunkBytes = 64 * 1024;
// Inputs at least this long reuse the BPE result of repeated words.
constexpr size_t kCacheMinBytes = 4 * 1024;
constexpr size_t kCacheMaxWords = 1 << 18;

bool is_ascii_graphic(char c) { return c > 0x20 && c < 0x7F; }
bool is_ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// A cut between text[i-1] and text[i] is safe when text[i-2..i] is "<graphic>\n<alnum>": the
// newline is a whitespace run of one (so it splits the same whether or not the next character
// is visible), and no alternative of any supported pattern continues past a newline into a
// letter or digit (Llama 4's [\r\n/]* could continue into '/', hence alnum only).
size_t safe_cut(std::string_view text, size_t from) {
  for (size_t i = std::max<size_t>(from, 2); i < text.size(); ++i) {
    if (text[i - 1] == '\n' && is_ascii_alnum(text[i]) && is_ascii_graphic(text[i - 2])) return i;
  }
  return text.size();
}

}  // namespace

// Per-call BPE memo for long inputs: words repeat a lot in real text.
class Tokenizer::WordCache {
 public:
  const std::vector<TokenId>* find(std::string_view word) const {
    auto it = map_.find(word);
    return it == map_.end() ? nullptr : &it->second;
  }
  void put(std::string_view word, std::vector<TokenId> ids) {
    if (map_.size() >= kCacheMaxWords) map_.clear();
    map_.emplace(std::string(word), std::move(ids));
  }

 private:
  std::unordered_map<std::string, std::vector<TokenId>, StringHash, std::equal_to<>> map_;
};

struct Tokenizer::Scratch {
  DecodedText decoded;
  std::vector<std::string_view> words;
  std::vector<TokenId> word_ids;
  // BPE state, one slot per byte of the word.
  std::vector<uint32_t> sym, len;
  std::vector<int32_t> prev, next;
  struct Candidate {
    uint32_t rank;
    int32_t left, right;
    uint32_t left_sym, right_sym, result;
  };
  std::vector<Candidate> heap;
  WordCache* cache = nullptr;
};

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  if (vocab_.types.size() != vocab_.tokens.size()) {
    throw Error(fmt::format("tokenizer: {} token types for {} tokens", vocab_.types.size(),
                            vocab_.tokens.size()));
  }
  build_pieces();
  build_merges();
  build_specials();
}

Tokenizer Tokenizer::load(const std::string& gguf_path) { return Tokenizer(Vocab::load(gguf_path)); }

void Tokenizer::build_pieces() {
  pieces_.resize(vocab_.size());
  token_of_bytes_.reserve(vocab_.size());
  for (size_t i = 0; i < vocab_.size(); ++i) {
    const std::string& text = vocab_.tokens[i];
    std::optional<std::string> bytes = byte_level_decode(text);
    // Special tokens are stored as plain text; normal ones in the byte-level alphabet.
    pieces_[i] = (vocab_.is_special(static_cast<TokenId>(i)) || !bytes) ? text : *bytes;
    // Lookups by byte-level text, like llama.cpp's text_to_token: any token whose stored text
    // is valid byte-level text (special ones included) can be found; a later duplicate wins.
    if (bytes) token_of_bytes_[*bytes] = static_cast<TokenId>(i);
  }
}

uint32_t Tokenizer::intern_symbol(const std::string& bytes) {
  auto [it, added] = symbol_ids_.try_emplace(bytes, static_cast<uint32_t>(sym_token_.size()));
  if (added) {
    auto tok = token_of_bytes_.find(bytes);
    sym_token_.push_back(tok == token_of_bytes_.end() ? kNoToken : tok->second);
  }
  return it->second;
}

void Tokenizer::build_merges() {
  for (int b = 0; b < 256; ++b) byte_symbol_[b] = intern_symbol(std::string(1, static_cast<char>(b)));
  merges_.reserve(vocab_.merges.size());
  for (size_t rank = 0; rank < vocab_.merges.size(); ++rank) {
    const std::string& m = vocab_.merges[rank];
    const size_t space = m.find(' ', 1);  // an operand may not be empty
    if (space == std::string::npos) continue;
    auto left = byte_level_decode(std::string_view(m).substr(0, space));
    auto right = byte_level_decode(std::string_view(m).substr(space + 1));
    if (!left || !right || right->empty()) continue;  // can never apply to byte-level text
    const uint32_t l = intern_symbol(*left), r = intern_symbol(*right);
    const uint32_t result = intern_symbol(*left + *right);
    // The first (lowest-rank) occurrence of a pair wins.
    merges_.try_emplace(uint64_t{l} << 32 | r, Merge{static_cast<uint32_t>(rank), result});
  }
}

void Tokenizer::build_specials() {
  for (size_t i = 0; i < vocab_.size(); ++i) {
    const auto id = static_cast<TokenId>(i);
    if (vocab_.is_special(id) && !vocab_.tokens[i].empty()) specials_.push_back({id, vocab_.tokens[i]});
  }
  // Longest first; equal lengths by id, so the order is deterministic.
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const Special& a, const Special& b) { return a.text.size() > b.text.size(); });
  trie_.assign(1, TrieNode{});
  for (size_t s = 0; s < specials_.size(); ++s) {
    uint32_t node = 0;
    for (char c : specials_[s].text) {
      auto& kids = trie_[node].children;
      const auto byte = static_cast<uint8_t>(c);
      auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(byte, uint32_t{0}));
      if (it != kids.end() && it->first == byte) {
        node = it->second;
        continue;
      }
      const auto child = static_cast<uint32_t>(trie_.size());
      kids.insert(it, {byte, child});
      trie_.emplace_back();
      node = child;
    }
    if (trie_[node].special < 0) trie_[node].special = static_cast<int32_t>(s);
  }
}

// llama.cpp's rule: take the special tokens one at a time, longest first, and cut each one's
// leftmost non-overlapping occurrences out of whatever text earlier tokens left uncut. Done
// here in one pass over the text (a trie finds every occurrence) plus a priority sort.
std::vector<Tokenizer::SpecialSpan> Tokenizer::find_specials(std::string_view text,
                                                             bool parse_special) const {
  struct Hit {
    uint32_t special;
    size_t pos;
  };
  std::vector<Hit> hits;
  if (specials_.empty()) return {};
  const auto& roots = trie_[0].children;
  bool starts[256] = {};
  for (const auto& [byte, node] : roots) starts[byte] = true;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!starts[static_cast<uint8_t>(text[i])]) continue;
    uint32_t node = 0;
    for (size_t j = i; j < text.size(); ++j) {
      const auto& kids = trie_[node].children;
      const auto byte = static_cast<uint8_t>(text[j]);
      auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(byte, uint32_t{0}));
      if (it == kids.end() || it->first != byte) break;
      node = it->second;
      if (const int32_t s = trie_[node].special; s >= 0) {
        const TokenType t = vocab_.types[static_cast<size_t>(specials_[s].id)];
        if (parse_special || t == TokenType::USER_DEFINED) hits.push_back({static_cast<uint32_t>(s), i});
      }
    }
  }
  if (hits.empty()) return {};
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.special != b.special ? a.special < b.special : a.pos < b.pos;
  });
  std::map<size_t, std::pair<size_t, uint32_t>> taken;  // begin -> (end, special), disjoint
  size_t last_end = 0;
  uint32_t last_special = UINT32_MAX;
  for (const Hit& h : hits) {
    const size_t end = h.pos + specials_[h.special].text.size();
    if (h.special != last_special) last_special = h.special, last_end = 0;
    if (h.pos < last_end) continue;  // overlaps this token's previous occurrence
    auto it = taken.lower_bound(end);
    if (it != taken.begin() && std::prev(it)->second.first > h.pos) continue;  // already cut
    taken.emplace(h.pos, std::make_pair(end, h.special));
    last_end = end;
  }
  std::vector<SpecialSpan> spans;
  spans.reserve(taken.size());
  for (const auto& [begin, what] : taken) spans.push_back({begin, what.first, specials_[what.second].id});
  return spans;
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && vocab_.bos != kNoToken) out.push_back(vocab_.bos);
  encode_append(text, parse_special, out);
  return out;
}

void Tokenizer::encode_append(std::string_view text, bool parse_special, std::vector<TokenId>& out) const {
  Scratch scratch;
  WordCache cache;
  if (text.size() >= kCacheMinBytes) scratch.cache = &cache;
  size_t pos = 0;
  for (const SpecialSpan& s : find_specials(text, parse_special)) {
    encode_text(text.substr(pos, s.begin - pos), out, scratch);
    out.push_back(s.id);
    pos = s.end;
  }
  encode_text(text.substr(pos), out, scratch);
}

void Tokenizer::encode_text(std::string_view text, std::vector<TokenId>& out, Scratch& scratch) const {
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.size() - start <= kChunkBytes ? text.size() : safe_cut(text, start + kChunkBytes);
    scratch.words.clear();
    pre_tokenize(vocab_.pre_kind, text.substr(start, end - start), scratch.words, scratch.decoded);
    for (std::string_view word : scratch.words) {
      if (scratch.cache == nullptr || word.size() == 1) {
        encode_word(word, out, scratch);
        continue;
      }
      if (const auto* ids = scratch.cache->find(word)) {
        out.insert(out.end(), ids->begin(), ids->end());
        continue;
      }
      scratch.word_ids.clear();
      encode_word(word, scratch.word_ids, scratch);
      out.insert(out.end(), scratch.word_ids.begin(), scratch.word_ids.end());
      scratch.cache->put(word, scratch.word_ids);
    }
    start = end;
  }
}

void Tokenizer::encode_word(std::string_view word, std::vector<TokenId>& out, Scratch& scratch) const {
  if (word.size() == 1) {
    emit_bytes(word, out);
    return;
  }
  if (vocab_.ignore_merges) {
    if (auto it = token_of_bytes_.find(word); it != token_of_bytes_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  merge_word(word, out, scratch);
}

// Classic BPE: repeatedly merge the adjacent pair with the lowest merge rank (the leftmost on
// ties) until no adjacent pair has a merge. A min-heap holds the candidate pairs; entries made
// stale by an earlier merge are recognised and skipped when popped.
void Tokenizer::merge_word(std::string_view word, std::vector<TokenId>& out, Scratch& s) const {
  const auto n = static_cast<int32_t>(word.size());
  s.sym.resize(n), s.len.assign(n, 1), s.prev.resize(n), s.next.resize(n);
  for (int32_t i = 0; i < n; ++i) {
    s.sym[i] = byte_symbol_[static_cast<uint8_t>(word[i])];
    s.prev[i] = i - 1;
    s.next[i] = i + 1 < n ? i + 1 : -1;
  }
  using Candidate = Scratch::Candidate;
  auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  s.heap.clear();
  auto consider = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    auto it = merges_.find(uint64_t{s.sym[l]} << 32 | s.sym[r]);
    if (it == merges_.end()) return;
    s.heap.push_back({it->second.rank, l, r, s.sym[l], s.sym[r], it->second.result});
    std::push_heap(s.heap.begin(), s.heap.end(), later);
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);

  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), later);
    const Candidate c = s.heap.back();
    s.heap.pop_back();
    const bool current = s.len[c.left] > 0 && s.len[c.right] > 0 && s.next[c.left] == c.right &&
                         s.sym[c.left] == c.left_sym && s.sym[c.right] == c.right_sym;
    if (!current) continue;
    s.sym[c.left] = c.result;
    s.len[c.left] += s.len[c.right];
    s.len[c.right] = 0;
    s.next[c.left] = s.next[c.right];
    if (s.next[c.right] >= 0) s.prev[s.next[c.right]] = c.left;
    consider(s.prev[c.left], c.left);
    consider(c.left, s.next[c.left]);
  }

  for (int32_t i = 0; i >= 0; i = s.next[i]) {
    const TokenId tok = sym_token_[s.sym[i]];
    if (tok != kNoToken) {
      out.push_back(tok);
    } else {
      // A merge produced text that is not a token (a malformed vocabulary): fall back to the
      // byte tokens, so nothing is lost.
      emit_bytes(word.substr(static_cast<size_t>(i), s.len[i]), out);
    }
  }
}

void Tokenizer::emit_bytes(std::string_view bytes, std::vector<TokenId>& out) const {
  for (char c : bytes) {
    const TokenId tok = sym_token_[byte_symbol_[static_cast<uint8_t>(c)]];
    if (tok != kNoToken) out.push_back(tok);
  }
}

const std::string& Tokenizer::token_to_piece(TokenId id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) {
    throw Error(fmt::format("token id {} is outside the vocabulary (0..{})", id, pieces_.size() - 1));
  }
  return pieces_[static_cast<size_t>(id)];
}

TokenId Tokenizer::piece_to_token(std::string_view piece) const {
  auto it = token_of_bytes_.find(piece);
  return it == token_of_bytes_.end() ? kNoToken : it->second;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
  std::string out;
  for (TokenId id : ids) {
    const std::string& piece = token_to_piece(id);
    if (skip_special && vocab_.is_special(id)) continue;
    out += piece;
  }
  return out;
}

}  // namespace scout::tok

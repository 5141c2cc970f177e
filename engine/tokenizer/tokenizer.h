#pragma once
// Byte-level BPE tokenizer (GPT-2 / Llama 3 / Llama 4 / SmolLM2 family) over a GGUF vocabulary.
//
// encode: special tokens are cut out of the text first (longest first, as llama.cpp does),
// every other stretch is pre-tokenized into words (pretokenize.h), and each word is merged by
// BPE rank starting from its bytes. decode is the exact inverse: concatenating the pieces of
// encode(x) gives back x byte for byte, invalid UTF-8 included.
//
// A Tokenizer is immutable after construction; encode/decode are safe to call concurrently.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/tokenizer/vocab.h"

namespace scout::tok {

class Tokenizer {
 public:
  explicit Tokenizer(Vocab vocab);
  // Vocab::load + construct. Throws scout::Error (see Vocab::from_gguf).
  static Tokenizer load(const std::string& gguf_path);

  const Vocab& vocab() const { return vocab_; }
  size_t n_vocab() const { return vocab_.size(); }

  // add_bos: put vocab().bos first (when the vocabulary has one). vocab().add_bos says whether
  //          the model expects it, as llama.cpp's add_special does.
  // parse_special: text matching a CONTROL token (e.g. "<|eot|>") becomes that token. Off, it
  //          is encoded as ordinary text. USER_DEFINED tokens are matched either way, as in
  //          llama.cpp and Hugging Face tokenizers.
  std::vector<TokenId> encode(std::string_view text, bool add_bos, bool parse_special) const;
  // Appends the tokens of `text` (no BOS) to `out`; for streaming many documents.
  void encode_append(std::string_view text, bool parse_special, std::vector<TokenId>& out) const;

  // The bytes of the tokens, concatenated. Special tokens contribute their text unless
  // skip_special. Throws scout::Error for an id outside the vocabulary.
  std::string decode(std::span<const TokenId> ids, bool skip_special = false) const;
  // The bytes one token stands for (its text for special tokens). Throws for a bad id.
  const std::string& token_to_piece(TokenId id) const;
  // The token whose bytes are exactly `piece` (normal tokens only), or kNoToken.
  TokenId piece_to_token(std::string_view piece) const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using BytesMap = std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>>;
  struct Merge {
    uint32_t rank;
    uint32_t result;  // symbol id of the merged pair
  };
  struct Special {
    TokenId id;
    std::string text;
  };
  struct TrieNode {
    std::vector<std::pair<uint8_t, uint32_t>> children;  // byte -> node, sorted
    int32_t special = -1;                                 // index into specials_ ending here
  };
  class WordCache;
  struct Scratch;

  void build_pieces();
  void build_merges();
  void build_specials();
  uint32_t intern_symbol(const std::string& bytes);

  // Special-token matching: [begin, end) spans of `text` taken by specials, and their ids.
  struct SpecialSpan {
    size_t begin, end;
    TokenId id;
  };
  std::vector<SpecialSpan> find_specials(std::string_view text, bool parse_special) const;
  void encode_text(std::string_view text, std::vector<TokenId>& out, Scratch& scratch) const;
  void encode_word(std::string_view word, std::vector<TokenId>& out, Scratch& scratch) const;
  void merge_word(std::string_view word, std::vector<TokenId>& out, Scratch& scratch) const;
  void emit_bytes(std::string_view bytes, std::vector<TokenId>& out) const;

  Vocab vocab_;
  std::vector<std::string> pieces_;  // token id -> bytes
  BytesMap token_of_bytes_;          // bytes -> token, for tokens stored as byte-level text

  // BPE runs on symbols: interned byte strings (single bytes and every merge's operands and
  // result). sym_token_ is the token with those bytes, or kNoToken.
  std::unordered_map<std::string, uint32_t> symbol_ids_;
  std::vector<TokenId> sym_token_;
  uint32_t byte_symbol_[256] = {};
  std::unordered_map<uint64_t, Merge> merges_;  // (left symbol << 32 | right symbol) -> merge

  std::vector<Special> specials_;  // CONTROL / USER_DEFINED / UNKNOWN, longest first
  std::vector<TrieNode> trie_;
};

}  // namespace scout::tok

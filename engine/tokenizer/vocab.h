#pragma once
// A byte-level BPE vocabulary as a GGUF file describes it (tokenizer.ggml.* metadata).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/pretokenize.h"

namespace scout::gguf {
class File;
}

namespace scout::tok {

using TokenId = int32_t;
constexpr TokenId kNoToken = -1;

// GGUF token types (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  UNDEFINED = 0,
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
};

struct Vocab {
  std::string model;              // tokenizer.ggml.model; always "gpt2" once loaded
  std::string pre;                // tokenizer.ggml.pre as written ("" when absent)
  PreTokenizer pre_kind = PreTokenizer::GPT2;
  // Llama 3 style: a word that is itself a token is emitted whole, without running merges
  // (tokenizer.json's "ignore_merges"; llama.cpp sets it for the llama3 pre-tokenizer).
  bool ignore_merges = false;

  std::vector<std::string> tokens;  // token text as stored: byte-level (GPT-2) encoded
  std::vector<TokenType> types;     // same length as tokens
  std::vector<std::string> merges;  // "left right", rank = index

  TokenId bos = kNoToken;
  TokenId eos = kNoToken;
  TokenId eot = kNoToken;  // end of turn: tokenizer.ggml.eot_token_id, else found by its text
  TokenId pad = kNoToken;
  TokenId unk = kNoToken;
  // Tokens that end generation: eos, eot and the other end-of-turn/message markers present
  // (<|eom|>, <|eom_id|>, <|im_end|>, ...), sorted.
  std::vector<TokenId> eog;
  bool add_bos = false;  // tokenizer.ggml.add_bos_token, else the pre-tokenizer's default
  bool add_eos = false;

  std::string chat_template;  // tokenizer.chat_template ("" when absent)

  // Reads the tokenizer metadata. Throws scout::Error naming the file and key when the
  // tokenizer is not byte-level BPE ("gpt2"), the pre-tokenizer is unknown, or arrays are
  // missing or inconsistent.
  static Vocab from_gguf(const gguf::File& file);
  static Vocab load(const std::string& gguf_path);

  size_t size() const { return tokens.size(); }
  // Chooses the pre-tokenizer by its GGUF name (and the settings llama.cpp ties to it:
  // ignore_merges, the add_bos default). Throws scout::Error for an unknown name.
  void set_pre(std::string_view name);
  bool is_special(TokenId id) const;  // CONTROL, USER_DEFINED or UNKNOWN
  bool is_eog(TokenId id) const;      // one of `eog`
  // The id whose stored text is exactly `text`, or kNoToken.
  TokenId find(std::string_view text) const;
};

}  // namespace scout::tok

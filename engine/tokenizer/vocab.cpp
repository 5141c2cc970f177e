#include "engine/tokenizer/vocab.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "engine/gguf/gguf.h"
#include "engine/util/error.h"

namespace scout::tok {
namespace {

// Texts that mark the end of a turn, most specific first, for files without eot_token_id
// (llama.cpp recognises the same texts).
constexpr std::array<std::string_view, 8> kEotTexts = {
    "<|eot|>", "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<EOT>",
};

// Further end-of-generation markers (llama.cpp's EOG list for these families).
constexpr std::array<std::string_view, 4> kEomTexts = {"<|eom|>", "<|eom_id|>", "<|end_of_text|>", "<|im_end|>"};

TokenId optional_id(const gguf::File& f, std::string_view key, size_t n_tokens) {
  const gguf::Value* v = f.find(key);
  if (!v) return kNoToken;
  const int64_t id = v->as_int();
  if (id < 0 || static_cast<size_t>(id) >= n_tokens) {
    throw Error(fmt::format("{}: metadata {} = {} is outside the vocabulary (0..{})", f.path(), key,
                            id, n_tokens - 1));
  }
  return static_cast<TokenId>(id);
}

std::vector<TokenType> read_types(const gguf::File& f, size_t n_tokens) {
  std::vector<TokenType> types(n_tokens, TokenType::NORMAL);
  const gguf::Value* v = f.find("tokenizer.ggml.token_type");
  if (!v) return types;  // all normal
  const std::vector<int64_t> raw = v->as_ints();
  if (raw.size() != n_tokens) {
    throw Error(fmt::format("{}: tokenizer.ggml.token_type has {} entries for {} tokens", f.path(),
                            raw.size(), n_tokens));
  }
  for (size_t i = 0; i < n_tokens; ++i) {
    if (raw[i] < 0 || raw[i] > static_cast<int64_t>(TokenType::BYTE)) {
      throw Error(fmt::format("{}: token {} has unknown type {}", f.path(), i, raw[i]));
    }
    types[i] = static_cast<TokenType>(raw[i]);
  }
  return types;
}

}  // namespace

Vocab Vocab::from_gguf(const gguf::File& f) {
  Vocab v;
  const gguf::Value* model = f.find("tokenizer.ggml.model");
  if (!model) throw Error(fmt::format("{}: no tokenizer (metadata tokenizer.ggml.model is absent)", f.path()));
  v.model = model->as_string();
  if (v.model != "gpt2") {
    throw Error(fmt::format(
        "{}: tokenizer.ggml.model is '{}'; only byte-level BPE ('gpt2', as in Llama 3/4 and SmolLM2) "
        "is supported",
        f.path(), v.model));
  }
  v.tokens = f.get("tokenizer.ggml.tokens").as_strings();
  if (v.tokens.empty()) throw Error(fmt::format("{}: tokenizer.ggml.tokens is empty", f.path()));
  v.types = read_types(f, v.tokens.size());
  v.merges = f.get("tokenizer.ggml.merges").as_strings();

  const gguf::Value* pre = f.find("tokenizer.ggml.pre");
  try {
    v.set_pre(pre ? pre->as_string() : std::string());
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", f.path(), e.what()));
  }

  const size_t n = v.tokens.size();
  v.bos = optional_id(f, "tokenizer.ggml.bos_token_id", n);
  v.eos = optional_id(f, "tokenizer.ggml.eos_token_id", n);
  v.eot = optional_id(f, "tokenizer.ggml.eot_token_id", n);
  v.pad = optional_id(f, "tokenizer.ggml.padding_token_id", n);
  v.unk = optional_id(f, "tokenizer.ggml.unknown_token_id", n);
  if (const gguf::Value* b = f.find("tokenizer.ggml.add_bos_token")) v.add_bos = b->as_bool();
  if (const gguf::Value* e = f.find("tokenizer.ggml.add_eos_token")) v.add_eos = e->as_bool();
  if (v.eot == kNoToken) {
    for (std::string_view text : kEotTexts) {
      if (TokenId id = v.find(text); id != kNoToken) {
        v.eot = id;
        break;
      }
    }
  }
  for (TokenId id : {v.eos, v.eot}) {
    if (id != kNoToken) v.eog.push_back(id);
  }
  for (std::string_view text : kEomTexts) {
    if (TokenId id = v.find(text); id != kNoToken) v.eog.push_back(id);
  }
  std::sort(v.eog.begin(), v.eog.end());
  v.eog.erase(std::unique(v.eog.begin(), v.eog.end()), v.eog.end());
  if (const gguf::Value* t = f.find("tokenizer.chat_template")) v.chat_template = t->as_string();
  return v;
}

Vocab Vocab::load(const std::string& gguf_path) { return from_gguf(*gguf::File::open(gguf_path)); }

void Vocab::set_pre(std::string_view name) {
  const auto kind = pre_tokenizer_from_name(name);
  if (!kind) {
    throw Error(fmt::format("unsupported pre-tokenizer tokenizer.ggml.pre = '{}' (supported: {})", name,
                            supported_pre_tokenizer_names()));
  }
  pre = std::string(name);
  pre_kind = *kind;
  // Llama 3's tokenizer.json sets ignore_merges and prepends BOS; llama.cpp mirrors both
  // (an explicit add_bos_token in the file still wins, see from_gguf).
  ignore_merges = pre_kind == PreTokenizer::LLAMA3;
  add_bos = pre_kind == PreTokenizer::LLAMA3;
}

bool Vocab::is_special(TokenId id) const {
  const TokenType t = types.at(static_cast<size_t>(id));
  return t == TokenType::CONTROL || t == TokenType::USER_DEFINED || t == TokenType::UNKNOWN;
}

bool Vocab::is_eog(TokenId id) const { return std::binary_search(eog.begin(), eog.end(), id); }

TokenId Vocab::find(std::string_view text) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == text) return static_cast<TokenId>(i);
  }
  return kNoToken;
}

}  // namespace scout::tok

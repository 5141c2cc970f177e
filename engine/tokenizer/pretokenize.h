#pragma once
// Pre-tokenizers: split text into the "words" that byte-level BPE then encodes one at a time.
//
// Each family is a hand-written scanner equivalent to the regex the model's tokenizer.json
// uses (RE2 has no look-ahead, and a scanner is several times faster than a regex engine).
// Every regex alternative is tried in order at each position, exactly as a backtracking
// engine would, so the split points equal those of the Hugging Face tokenizers.
#include <optional>
#include <string_view>
#include <vector>

#include "engine/tokenizer/unicode.h"

namespace scout::tok {

enum class PreTokenizer {
  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  GPT2,
  // SmolLM / StarCoder: every \p{N} becomes its own piece first, then GPT2 on the rest.
  SMOLLM,
  // Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
  //          ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  LLAMA3,
  // Llama 4 (the GPT-4o pattern), with U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and
  // L = [\p{Ll}\p{Lm}\p{Lo}\p{M}], C = (?i:'s|'t|'re|'ve|'m|'ll|'d):
  //   [^\r\n\p{L}\p{N}]?U*L+C?|[^\r\n\p{L}\p{N}]?U+L*C?|\p{N}{1,3}|
  //    ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
  LLAMA4,
};

// Maps a GGUF `tokenizer.ggml.pre` value to a family (the names llama.cpp accepts for these
// regexes); nullopt when the name is unknown. An empty name or "default" means GPT2.
std::optional<PreTokenizer> pre_tokenizer_from_name(std::string_view name);
std::string_view pre_tokenizer_name(PreTokenizer kind);
// The names pre_tokenizer_from_name accepts, for error messages.
std::string_view supported_pre_tokenizer_names();

// Splits `text` into words (views into `text`, in order, covering it exactly). `scratch` is
// reused between calls to avoid allocations.
void pre_tokenize(PreTokenizer kind, std::string_view text, std::vector<std::string_view>& words,
                  DecodedText& scratch);
std::vector<std::string_view> pre_tokenize(PreTokenizer kind, std::string_view text);

}  // namespace scout::tok

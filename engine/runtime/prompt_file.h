#pragma once
// Prompts as the CLI and the reference tools exchange them (the ref-logits contract,
// scripts/llamacpp/ref_logits.cpp): one prompt per line, escapes \n \t \\, empty lines
// skipped; and token ids written as text ("1 2 3", "[1, 2, 3]") to bypass the tokenizer.
#include <string>
#include <string_view>
#include <vector>

#include "engine/runtime/engine.h"

namespace scout::runtime {

// The two-character escapes \n, \t and \\ become newline, tab and backslash; any other
// backslash is kept as it is.
std::string unescape_prompt(std::string_view s);

// The lines of `text` split on '\n' only (nothing trimmed), empty lines skipped.
std::vector<std::string> non_empty_lines(std::string_view text);

// Reads a prompt file: non_empty_lines, each unescaped. Throws scout::Error when unreadable.
std::vector<std::string> read_prompt_file(const std::string& path);

// Parses non-negative integers separated by spaces, tabs, commas, newlines or brackets.
// Throws scout::Error naming the offending text.
Tokens parse_token_list(std::string_view text);

}  // namespace scout::runtime

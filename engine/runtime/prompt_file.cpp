#include "engine/runtime/prompt_file.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "engine/util/error.h"

namespace scout::runtime {

std::string unescape_prompt(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char c = s[i + 1];
      if (c == 'n' || c == 't' || c == '\\') {
        r += c == 'n' ? '\n' : c == 't' ? '\t' : '\\';
        ++i;
        continue;
      }
    }
    r += s[i];
  }
  return r;
}

std::vector<std::string> non_empty_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<std::string> read_prompt_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> prompts;
  for (const auto& line : non_empty_lines(ss.str())) prompts.push_back(unescape_prompt(line));
  return prompts;
}

Tokens parse_token_list(std::string_view text) {
  auto separator = [](char c) {
    return c == ' ' || c == '\t' || c == ',' || c == '[' || c == ']' || c == '\r' || c == '\n';
  };
  Tokens out;
  size_t i = 0;
  while (i < text.size()) {
    if (separator(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && !separator(text[j])) ++j;
    int32_t id = 0;
    const auto [end, ec] = std::from_chars(text.data() + i, text.data() + j, id);
    if (ec != std::errc() || end != text.data() + j || id < 0)
      throw Error("bad token id '" + std::string(text.substr(i, j - i)) + "'");
    out.push_back(id);
    i = j;
  }
  return out;
}

}  // namespace scout::runtime

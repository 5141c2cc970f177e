#include <fmt/format.h>

#include "engine/util/error.h"
#include "harness/data/pyrandom.h"
#include "tasks/loaders.h"

namespace scout::tasks {

nlohmann::json read_first(harness::DataDir& data, const std::vector<DataSource>& candidates, std::string_view what) {
  std::string tried;
  for (const auto& c : candidates) {
    if (data.exists(c.file)) return data.records(c.file, c.entry, c.password);
    tried += fmt::format("\n  {}{}", (data.root() / c.file).string(), c.entry.empty() ? "" : " (zip entry " + c.entry + ")");
  }
  throw Error(fmt::format("{}: no data file found; looked for:{}\n(set --data-dir to the folder holding the data sets)",
                          what, tried));
}

std::vector<std::string> parse_python_string_list(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  auto fail = [&](const char* why) -> std::vector<std::string> {
    throw Error(fmt::format("not a Python list of strings ({} at offset {}): {}", why, i, std::string(text.substr(0, 80))));
  };
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r')) ++i;
  };
  auto append_utf8 = [](std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s += char(cp);
    } else if (cp < 0x800) {
      s += char(0xC0 | (cp >> 6));
      s += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += char(0xE0 | (cp >> 12));
      s += char(0x80 | ((cp >> 6) & 0x3F));
      s += char(0x80 | (cp & 0x3F));
    } else {
      s += char(0xF0 | (cp >> 18));
      s += char(0x80 | ((cp >> 12) & 0x3F));
      s += char(0x80 | ((cp >> 6) & 0x3F));
      s += char(0x80 | (cp & 0x3F));
    }
  };
  skip_space();
  if (i >= text.size() || text[i] != '[') return fail("no '['");
  ++i;
  for (;;) {
    skip_space();
    if (i < text.size() && text[i] == ']') {
      ++i;
      break;
    }
    if (i >= text.size() || (text[i] != '\'' && text[i] != '"')) return fail("expected a quoted string");
    const char quote = text[i++];
    std::string s;
    for (;;) {
      if (i >= text.size()) return fail("unterminated string");
      const char c = text[i++];
      if (c == quote) break;
      if (c != '\\') {
        s += c;
        continue;
      }
      if (i >= text.size()) return fail("dangling backslash");
      const char e = text[i++];
      switch (e) {
        case 'n': s += '\n'; break;
        case 't': s += '\t'; break;
        case 'r': s += '\r'; break;
        case '\\': s += '\\'; break;
        case '\'': s += '\''; break;
        case '"': s += '"'; break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + n > text.size()) return fail("short escape");
          append_utf8(s, uint32_t(std::stoul(std::string(text.substr(i, n)), nullptr, 16)));
          i += n;
          break;
        }
        default: s += '\\'; s += e;
      }
    }
    out.push_back(std::move(s));
    skip_space();
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    skip_space();
    if (i < text.size() && text[i] == ']') {
      ++i;
      break;
    }
    return fail("expected ',' or ']'");
  }
  return out;
}

std::vector<int64_t> musr_original_order(int64_t n) {
  // partition.py: random.Random(42).shuffle(examples); shuffling the index list the same way
  // tells which original row landed at each position.
  harness::PyRandom rng(42);
  return rng.shuffle_indices(n);
}

}  // namespace scout::tasks

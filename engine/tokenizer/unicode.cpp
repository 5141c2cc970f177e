#include "engine/tokenizer/unicode.h"

#include <memory>

namespace scout::tok {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;

// One byte per code point (1.1 MB), expanded once from the run table: a lookup is then a
// single load, which matters because every input code point is classified.
const uint8_t* class_table() {
  static const std::unique_ptr<uint8_t[]> table = [] {
    auto t = std::make_unique<uint8_t[]>(kMaxCodePoint + 1);
    using unicode_detail::kClassRunCount;
    using unicode_detail::kClassRuns;
    for (size_t r = 0; r < kClassRunCount; ++r) {
      uint32_t end = r + 1 < kClassRunCount ? kClassRuns[r + 1].first : kMaxCodePoint + 1;
      for (uint32_t cp = kClassRuns[r].first; cp < end; ++cp) t[cp] = kClassRuns[r].flags;
    }
    return t;
  }();
  return table.get();
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

uint8_t char_class(uint32_t cp) { return cp <= kMaxCodePoint ? class_table()[cp] : 0; }

const char* unicode_version() { return unicode_detail::kUnicodeVersion; }

size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len;
  uint32_t min_cp;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min_cp = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min_cp = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min_cp = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  uint32_t cp = b0 & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if (!is_continuation(c)) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
  if (cp < min_cp || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void decode_utf8(std::string_view text, DecodedText& out) {
  out.cps.clear();
  out.offsets.clear();
  out.classes.clear();
  out.cps.reserve(text.size());
  out.offsets.reserve(text.size() + 1);
  out.classes.reserve(text.size());
  const uint8_t* table = class_table();
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    out.offsets.push_back(static_cast<uint32_t>(i));
    if (b0 < 0x80) {  // ASCII fast path
      out.cps.push_back(b0);
      out.classes.push_back(table[b0]);
      ++i;
      continue;
    }
    const size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      out.cps.push_back(kInvalidBase + b0);
      out.classes.push_back(0);
      ++i;
      continue;
    }
    uint32_t cp = b0 & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    out.cps.push_back(cp);
    out.classes.push_back(table[cp]);
    i += len;
  }
  out.offsets.push_back(static_cast<uint32_t>(text.size()));
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp >= kInvalidBase) {
    out.push_back(static_cast<char>(cp - kInvalidBase));
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace scout::tok

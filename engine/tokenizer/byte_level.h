#pragma once
// GPT-2's reversible byte <-> Unicode mapping: byte-level BPE vocabularies store each byte as
// a printable code point (printable ASCII and most of Latin-1 map to themselves, the other 68
// bytes to U+0100..U+0143), so token texts are valid, space-free strings.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scout::tok {

// The code point that stands for `byte`.
uint32_t byte_to_code_point(uint8_t byte);
// The byte a code point stands for, or -1 when it stands for none.
int code_point_to_byte(uint32_t cp);

// Raw bytes -> byte-level text ("Hello world" -> "HelloĠworld").
std::string byte_level_encode(std::string_view bytes);
// Byte-level text -> raw bytes; nullopt when the text holds a code point that is not one of
// the 256 byte stand-ins (or is not valid UTF-8).
std::optional<std::string> byte_level_decode(std::string_view text);

}  // namespace scout::tok

#pragma once
// llama.cpp's "file type" (general.file_type): the quantization mix a GGUF was made with.
#include <cstdint>
#include <optional>
#include <string>

namespace scout::quant {
// "F16", "Q4_K_M", …; "unknown(N)" for ids llama.cpp does not define.
std::string file_type_name(int64_t id);
std::optional<int64_t> file_type_from_name(const std::string& name);  // case-insensitive
}  // namespace scout::quant

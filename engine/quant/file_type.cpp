#include "engine/quant/file_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace scout::quant {
namespace {
// Ids as llama.cpp's enum llama_ftype assigns them (gaps are removed types).
constexpr std::array<std::pair<int64_t, const char*>, 24> kFileTypes{{
    {0, "F32"}, {1, "F16"}, {2, "Q4_0"}, {3, "Q4_1"}, {7, "Q8_0"}, {8, "Q5_0"}, {9, "Q5_1"},
    {10, "Q2_K"}, {11, "Q3_K_S"}, {12, "Q3_K_M"}, {13, "Q3_K_L"}, {14, "Q4_K_S"}, {15, "Q4_K_M"},
    {16, "Q5_K_S"}, {17, "Q5_K_M"}, {18, "Q6_K"}, {19, "IQ2_XXS"}, {20, "IQ2_XS"}, {21, "Q2_K_S"},
    {22, "IQ3_XS"}, {23, "IQ3_XXS"}, {24, "IQ1_S"}, {25, "IQ4_NL"}, {32, "BF16"},
}};
}  // namespace

std::string file_type_name(int64_t id) {
  for (const auto& [k, name] : kFileTypes)
    if (k == id) return name;
  return "unknown(" + std::to_string(id) + ")";
}

std::optional<int64_t> file_type_from_name(const std::string& name) {
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  for (const auto& [k, n] : kFileTypes)
    if (upper == n) return k;
  return std::nullopt;
}
}  // namespace scout::quant

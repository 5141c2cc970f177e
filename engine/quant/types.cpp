#include "engine/quant/types.h"

#include <array>
#include <cctype>

#include "engine/util/error.h"

namespace scout::quant {
namespace {
using T = GgmlType;
constexpr std::array<TypeTraits, 32> kTypes{{
    {T::F32, "f32", 1, 4, true},         {T::F16, "f16", 1, 2, true},
    {T::Q4_0, "q4_0", 32, 18, true},     {T::Q4_1, "q4_1", 32, 20, true},
    {T::Q5_0, "q5_0", 32, 22, true},     {T::Q5_1, "q5_1", 32, 24, true},
    {T::Q8_0, "q8_0", 32, 34, true},     {T::Q8_1, "q8_1", 32, 36, false},
    {T::Q2_K, "q2_K", 256, 84, false},   {T::Q3_K, "q3_K", 256, 110, false},
    {T::Q4_K, "q4_K", 256, 144, true},   {T::Q5_K, "q5_K", 256, 176, true},
    {T::Q6_K, "q6_K", 256, 210, true},   {T::Q8_K, "q8_K", 256, 292, true},
    {T::IQ2_XXS, "iq2_xxs", 256, 66, false}, {T::IQ2_XS, "iq2_xs", 256, 74, false},
    {T::IQ3_XXS, "iq3_xxs", 256, 98, false}, {T::IQ1_S, "iq1_s", 256, 50, false},
    {T::IQ4_NL, "iq4_nl", 32, 18, false},    {T::IQ3_S, "iq3_s", 256, 110, false},
    {T::IQ2_S, "iq2_s", 256, 82, false},     {T::IQ4_XS, "iq4_xs", 256, 136, false},
    {T::I8, "i8", 1, 1, false},          {T::I16, "i16", 1, 2, false},
    {T::I32, "i32", 1, 4, false},        {T::I64, "i64", 1, 8, false},
    {T::F64, "f64", 1, 8, false},        {T::IQ1_M, "iq1_m", 256, 56, false},
    {T::BF16, "bf16", 1, 2, true},       {T::TQ1_0, "tq1_0", 256, 54, false},
    {T::TQ2_0, "tq2_0", 256, 66, false}, {T::MXFP4, "mxfp4", 32, 17, false},
}};
}  // namespace

const TypeTraits* find_type(uint32_t id) {
  for (const auto& t : kTypes)
    if (static_cast<uint32_t>(t.type) == id) return &t;
  return nullptr;
}

const TypeTraits& traits(GgmlType t) { return *find_type(static_cast<uint32_t>(t)); }

std::optional<GgmlType> type_from_name(std::string_view name) {
  for (const auto& t : kTypes) {
    if (t.name.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(name[i])) ==
             std::tolower(static_cast<unsigned char>(t.name[i]));
    if (same) return t.type;
  }
  return std::nullopt;
}

std::string type_label(GgmlType t) {
  const TypeTraits* tr = find_type(static_cast<uint32_t>(t));
  return tr ? std::string(tr->name) : "type id " + std::to_string(static_cast<uint32_t>(t));
}

void require_whole_blocks(GgmlType t, int64_t n, std::string_view what) {
  const int64_t block = traits(t).block_size;
  if (n < 0 || n % block != 0)
    throw Error(std::string(what) + ": " + std::to_string(n) + " elements is not a whole number of " +
                type_label(t) + " blocks of " + std::to_string(block));
}

std::optional<uint64_t> row_bytes(GgmlType t, int64_t n) {
  const TypeTraits& tr = traits(t);
  if (n < 0 || n % tr.block_size != 0) return std::nullopt;
  return static_cast<uint64_t>(n / tr.block_size) * static_cast<uint64_t>(tr.type_size);
}

}  // namespace scout::quant

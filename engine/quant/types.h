#pragma once
// ggml tensor types: ids as stored in GGUF, block sizes and byte sizes exactly as ggml defines
// them. Every id ggml has ever assigned is known (so the GGUF reader can size any tensor);
// `computable` marks the types scout-eval dequantizes and computes on.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scout::quant {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

struct TypeTraits {
  GgmlType type;
  std::string_view name;   // ggml's name, e.g. "q4_K"
  int64_t block_size;      // elements per block
  int64_t type_size;       // bytes per block
  bool computable;         // scout-eval can dequantize it
};

// Traits for a raw type id; nullptr for ids ggml never assigned (or removed).
const TypeTraits* find_type(uint32_t id);
const TypeTraits& traits(GgmlType t);
std::optional<GgmlType> type_from_name(std::string_view name);  // case-insensitive

// ggml's name of a type, or "type id N" for an id ggml never assigned.
std::string type_label(GgmlType t);
// Throws scout::Error "<what>: N elements is not a whole number of <type> blocks of B".
void require_whole_blocks(GgmlType t, int64_t n, std::string_view what);

// Bytes of a row of n elements; nullopt when n is not a multiple of the block size.
std::optional<uint64_t> row_bytes(GgmlType t, int64_t n);

}  // namespace scout::quant

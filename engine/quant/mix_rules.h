#pragma once
// llama-quantize's per-tensor type choice (the "mix rules") for the llama and llama4
// architectures, as llama.cpp b11312 (src/llama-quant.cpp) decides it: which tensors are never
// quantized, the promotions of output / token_embd / attn_v / attn_k / attn_output / ffn_down
// per file type, use_more_bits by layer, the n_expert == 8 and 70B cases, and the fallback
// types when a row is not a whole number of blocks. Written from the rules, not copied.
//
// The rules are stateful in llama.cpp: attn_v promotions count attn_v tensors in the order
// llama-quantize visits them, and dense models count ffn_down tensors the same way. So a
// MixPlanner must see the tensors in that order: llama_quantize_order() gives it (tensors
// outside any block first, then block by block, names in byte order within each group), which
// is also the order llama-quantize writes them in.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/quant/types.h"

namespace scout::gguf {
class File;
}

namespace scout::quant {

// ---------------------------------------------------------------- file types (llama_ftype)

// llama_ftype ids (general.file_type). Every mix the rules know; whether scout-eval can
// *write* one depends on having the quantizers for the types it picks (see can_quantize).
namespace ftype {
inline constexpr int64_t ALL_F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q8_0 = 7, Q5_0 = 8, Q5_1 = 9,
                         Q2_K = 10, Q3_K_S = 11, Q3_K_M = 12, Q3_K_L = 13, Q4_K_S = 14, Q4_K_M = 15,
                         Q5_K_S = 16, Q5_K_M = 17, Q6_K = 18, IQ2_XXS = 19, IQ2_XS = 20, Q2_K_S = 21,
                         IQ3_XS = 22, IQ3_XXS = 23, IQ1_S = 24, IQ4_NL = 25, IQ3_S = 26, IQ3_M = 27,
                         IQ2_S = 28, IQ2_M = 29, IQ4_XS = 30, IQ1_M = 31, BF16 = 32, TQ1_0 = 36,
                         TQ2_0 = 37, MXFP4_MOE = 38;
}  // namespace ftype

struct MixFileType {
  int64_t id;
  std::string_view name;   // as llama-quantize spells it: "Q4_K_M", "F16", …
  GgmlType default_type;   // llama_ftype_get_default_type
};

// Every file type the rules cover, in llama-quantize's listing order.
const std::vector<MixFileType>& mix_file_types();
// By llama-quantize's name, case-insensitive; also its aliases Q3_K, Q4_K, Q5_K (the _M mixes).
std::optional<int64_t> mix_file_type_from_name(std::string_view name);
const MixFileType* find_mix_file_type(int64_t id);  // nullptr when unknown
std::string mix_file_type_name(int64_t id);         // "Q4_K_M"; "ftype N" when unknown

// ---------------------------------------------------------------- what the rules look at

// The model facts the rules use (llama.cpp's hparams and model type).
struct MixModel {
  std::string arch;        // "llama" | "llama4"
  int64_t n_layer = 0;     // block_count
  int64_t n_head = 0;      // layer 0's head count
  int64_t n_head_kv = 0;   // layer 0's KV head count
  int64_t n_expert = 0;    // expert_count (0 for dense models)

  int64_t n_gqa() const { return n_head_kv > 0 ? n_head / n_head_kv : 0; }
  // llama.cpp's LLM_TYPE_70B: llama arch, not 8 experts, 80 layers, grouped-query attention.
  bool is_70b() const;
};

// Reads MixModel from GGUF metadata. Throws scout::Error naming the file for an architecture
// other than llama/llama4 or missing block_count/head_count.
MixModel mix_model_from_gguf(const gguf::File& f);

struct MixTensor {
  std::string name;
  std::vector<int64_t> dims;  // ggml order (dims[0] = row length)
  GgmlType type = GgmlType::F32;
};

struct MixOptions {
  int64_t ftype = ftype::Q4_K_M;
  bool pure = false;         // llama-quantize --pure: the default type everywhere (plus fallbacks)
  bool has_imatrix = false;  // the rules differ slightly with an importance matrix
};

// llama-quantize's "is this tensor quantized at all" test for llama/llama4 names: 2-D/3-D,
// name ending in "weight", not a norm, not ffn_gate_inp (the router), not positional/token-type
// embeddings. (1-D tensors such as rope_freqs and the norms never are.)
bool tensor_allows_quantization(std::string_view name, size_t n_dims);

// llama-quantize's fallback when the row length is not a multiple of `target`'s block size:
// Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K/TQ* -> Q4_0, IQ* -> IQ4_NL; F16 if even the
// fallback does not fit. Returns `target` when it fits.
GgmlType fallback_type(GgmlType target, int64_t row_length);

// The order llama-quantize visits and writes tensors in (indices into `tensors`).
std::vector<size_t> llama_quantize_order(const std::vector<MixTensor>& tensors);

struct MixChoice {
  GgmlType type = GgmlType::F32;  // the type written
  bool quantizable = false;       // tensor_allows_quantization
  bool fell_back = false;         // the rule's type did not fit the row length
  GgmlType rule_type = GgmlType::F32;  // the type before the fallback
};

// Applies the rules tensor by tensor, keeping llama-quantize's counters. Construct with the
// complete tensor list; call choose() once per tensor in llama_quantize_order().
class MixPlanner {
 public:
  MixPlanner(MixModel model, MixOptions opts, const std::vector<MixTensor>& all);
  MixChoice choose(const MixTensor& t);

 private:
  GgmlType rule(GgmlType new_type, const MixTensor& t);
  MixModel m_;
  MixOptions o_;
  bool tied_ = true;  // no output.weight: token_embd is treated as the output tensor
  int n_attn_v_ = 0, i_attn_v_ = 0;
  int i_ffn_down_ = 0, i_ffn_gate_ = 0, i_ffn_up_ = 0;
};

// The whole plan: one choice per tensor, indexed like `tensors` (computed in
// llama_quantize_order). Throws scout::Error for an unknown file type or a tensor whose layer
// the MoE rules cannot find.
std::vector<MixChoice> plan_mix(const MixModel& model, const MixOptions& opts,
                                const std::vector<MixTensor>& tensors);

}  // namespace scout::quant

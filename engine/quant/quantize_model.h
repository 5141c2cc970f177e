#pragma once
// Whole-model quantization, GGUF to GGUF, as llama-quantize does it (llama and llama4):
// per-tensor types from the mix rules (engine/quant/mix_rules.h), the reference quantizers
// (byte-exact with ggml's), metadata copied with general.quantization_version and
// general.file_type set, tensors in llama-quantize's order. With the same input and type the
// output file is byte-identical to llama-quantize's (see docs/QUANTIZATION.md for the cases
// where it is not).
//
// Streams: the input is memory-mapped, each output tensor is produced when the writer reaches
// it (rows spread over TBB threads; the bytes do not depend on the thread count), written to
// OUT.partial and renamed at the end, so a failure leaves no output file.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/quant/mix_rules.h"
#include "engine/quant/types.h"

namespace scout::gguf {
class File;
}

namespace scout::quant {

struct QuantizeOptions {
  std::string input;
  std::string output;
  int64_t ftype = ftype::Q4_K_M;   // llama_ftype id; see mix_file_type_from_name
  int threads = 0;                 // 0 = every hardware thread
  // A tensor already quantized (Q4_1, Q8_0, …) is dequantized to float and quantized again
  // only with this set (llama-quantize --allow-requantize): it compounds the two errors.
  // Conversions to F32/F16/BF16 are always allowed (they lose nothing beyond the source's
  // quantization), and a tensor whose type does not change is copied byte for byte.
  bool allow_requantize = false;
  bool pure = false;               // --pure: no mix rules, the default type for every tensor
};

enum class TensorAction { Copy, Convert };

struct TensorPlan {
  std::string name;
  std::vector<int64_t> dims;
  GgmlType from = GgmlType::F32;
  GgmlType to = GgmlType::F32;
  TensorAction action = TensorAction::Copy;
  bool quantizable = false;       // llama-quantize would quantize it at all
  bool fell_back = false;         // the mix rule's type did not fit the row length
  GgmlType rule_type = GgmlType::F32;
  uint64_t bytes_in = 0, bytes_out = 0;
  size_t input_index = 0;         // position in the input file's tensor list
  // Why scout-eval cannot carry this conversion out (no quantizer for the type, a type it
  // cannot dequantize, requantization not allowed); empty when it can.
  std::string blocker;
};

struct QuantizePlan {
  MixModel model;
  int64_t ftype = 0;
  std::vector<TensorPlan> tensors;  // in output (llama-quantize) order
  uint64_t bytes_in = 0, bytes_out = 0;  // tensor data, without padding
  int64_t n_elements = 0;
};

// The plan for an opened input (nothing is written). Throws scout::Error for an unsupported
// architecture or an unknown file type; conversions scout-eval cannot do are marked in
// TensorPlan::blocker (so a dry run can show any mix), and first_blocker() names one.
QuantizePlan plan_quantization(const gguf::File& in, const QuantizeOptions& opts);
const TensorPlan* first_blocker(const QuantizePlan& plan);

// Called as conversion advances: (input bytes done, input bytes in all). Calls are serialized
// but may come from any worker thread.
using QuantizeProgress = std::function<void(uint64_t done, uint64_t total)>;

// Plans, then writes opts.output. Returns the plan that was carried out.
QuantizePlan quantize_model(const QuantizeOptions& opts, const QuantizeProgress& progress = {});

// Converts `rows` rows of `n_per_row` elements from type `from` to type `to` (dequantize to
// float, quantize), rows spread over the current TBB arena. Exposed for tests.
void convert_rows(GgmlType from, const uint8_t* src, GgmlType to, uint8_t* dst, int64_t n_per_row, int64_t rows,
                  const std::function<void(int64_t rows_done)>& on_rows = {});

}  // namespace scout::quant

#include "engine/quant/quantize_model.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <span>

#include "engine/gguf/gguf.h"
#include "engine/quant/dequantize.h"
#include "engine/quant/quantize.h"
#include "engine/util/error.h"

namespace scout::quant {
namespace {

// ggml's GGML_QNT_VERSION, which llama-quantize writes as general.quantization_version.
constexpr uint32_t kQuantizationVersion = 2;

bool is_quantized(GgmlType t) { return traits(t).block_size > 1; }

// The F16C row conversion (engine/util/half_row.cpp) can return with the upper halves of the
// YMM registers dirty (GCC emits no vzeroupper before its tail call), and then every SSE
// instruction of the scalar quantizers pays a transition penalty: measured 3.5x slower K-quant
// quantization on this machine. Clearing the state after each dequantized row is nearly free.
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx"))) void zero_upper_avx() { __builtin_ia32_vzeroupper(); }
void (*const clear_upper)() = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx") ? &zero_upper_avx : nullptr;
}();
#else
void (*const clear_upper)() = nullptr;
#endif

// Keys llama-quantize drops (it writes one file, not a split set) or writes itself.
bool dropped_key(const std::string& k) {
  return k == "split.no" || k == "split.count" || k == "split.tensors.count" ||
         k == "general.quantization_version" || k == "general.file_type";
}

}  // namespace

void convert_rows(GgmlType from, const uint8_t* src, GgmlType to, uint8_t* dst, int64_t n_per_row, int64_t rows,
                  const std::function<void(int64_t)>& on_rows) {
  const uint64_t in_row = row_bytes(from, n_per_row).value();
  const uint64_t out_row = row_bytes(to, n_per_row).value();
  // About 64K elements per task: enough work to amortize scheduling, small enough to balance.
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, n_per_row));
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, rows, grain), [&](const tbb::blocked_range<int64_t>& r) {
    std::vector<float> row(static_cast<size_t>(n_per_row));
    for (int64_t i = r.begin(); i < r.end(); ++i) {
      dequantize_row(from, src + uint64_t(i) * in_row, row.data(), n_per_row);
      if (clear_upper) clear_upper();
      quantize_row(to, row.data(), dst + uint64_t(i) * out_row, n_per_row);
    }
    if (on_rows) on_rows(r.end() - r.begin());
  });
}

QuantizePlan plan_quantization(const gguf::File& in, const QuantizeOptions& opts) {
  const MixFileType* ft = find_mix_file_type(opts.ftype);
  if (!ft) throw Error("unknown quantization type (llama ftype " + std::to_string(opts.ftype) + ")");
  QuantizePlan plan;
  plan.model = mix_model_from_gguf(in);
  plan.ftype = opts.ftype;

  std::vector<MixTensor> mt;
  mt.reserve(in.tensors().size());
  for (const auto& t : in.tensors()) mt.push_back({t.name, t.dims, t.type});
  MixOptions mo;
  mo.ftype = opts.ftype;
  mo.pure = opts.pure;
  const auto choices = plan_mix(plan.model, mo, mt);

  for (size_t i : llama_quantize_order(mt)) {
    const gguf::TensorInfo& t = in.tensors()[i];
    const MixChoice& c = choices[i];
    TensorPlan p;
    p.name = t.name;
    p.dims = t.dims;
    p.from = t.type;
    p.to = c.type;
    p.quantizable = c.quantizable;
    p.fell_back = c.fell_back;
    p.rule_type = c.rule_type;
    p.input_index = i;
    p.bytes_in = t.n_bytes;
    p.action = p.from == p.to ? TensorAction::Copy : TensorAction::Convert;
    if (p.action == TensorAction::Convert) {
      if (!can_quantize(p.to))
        p.blocker = mix_file_type_name(opts.ftype) + " puts " + p.name + " in " + type_label(p.to) +
                    ", which scout-eval cannot quantize to (it can: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, "
                    "Q8_0, Q4_K, Q5_K, Q6_K)";
      else if (!can_dequantize(p.from))
        p.blocker = in.path() + ": tensor " + p.name + " is " + type_label(p.from) +
                    ", which scout-eval cannot dequantize";
      else if (is_quantized(p.from) && is_quantized(p.to) && !opts.allow_requantize)
        p.blocker = in.path() + ": tensor " + p.name + " is already quantized (" + type_label(p.from) +
                    "); requantizing it to " + type_label(p.to) +
                    " compounds the errors: pass --allow-requantize to do it anyway";
      p.bytes_out = row_bytes(p.to, p.dims.at(0)).value() * uint64_t(t.n_rows());
    } else {
      p.bytes_out = p.bytes_in;
    }
    plan.bytes_in += p.bytes_in;
    plan.bytes_out += p.bytes_out;
    plan.n_elements += t.n_elements;
    plan.tensors.push_back(std::move(p));
  }
  return plan;
}

const TensorPlan* first_blocker(const QuantizePlan& plan) {
  for (const auto& p : plan.tensors)
    if (!p.blocker.empty()) return &p;
  return nullptr;
}

QuantizePlan quantize_model(const QuantizeOptions& opts, const QuantizeProgress& progress) {
  if (opts.output.empty()) throw Error("no output file given");
  if (opts.output == opts.input) throw Error(opts.output + ": the output must not overwrite the input");
  auto in = gguf::File::open(opts.input);
  QuantizePlan plan = plan_quantization(*in, opts);
  if (const TensorPlan* b = first_blocker(plan)) throw Error(b->blocker);

  gguf::Writer w;
  for (const auto& kv : in->metadata()) {
    if (dropped_key(kv.key)) continue;
    if (kv.key == "general.alignment") {
      // Keep the input's alignment (and the key where it was). llama-quantize always pads to
      // 32 whatever the key says; for the usual 32 the files agree.
      w.set_alignment(uint32_t(kv.value.as_int()));
      continue;
    }
    w.set(kv.key, kv.value);
  }
  w.set("general.quantization_version", gguf::Value::of_u32(kQuantizationVersion));
  w.set("general.file_type", gguf::Value::of_u32(uint32_t(opts.ftype)));

  std::atomic<uint64_t> done{0};
  std::mutex progress_mu;
  auto report = [&](uint64_t bytes) {
    const uint64_t now = done.fetch_add(bytes) + bytes;
    if (!progress) return;
    std::unique_lock lock(progress_mu, std::try_to_lock);
    if (lock.owns_lock()) progress(std::min(now, plan.bytes_in), plan.bytes_in);
  };

  for (const TensorPlan& p : plan.tensors) {
    const gguf::TensorInfo& t = in->tensors()[p.input_index];
    const uint8_t* src = t.data;
    if (p.action == TensorAction::Copy) {
      const uint64_t n = t.n_bytes;
      w.add_tensor(p.name, p.to, p.dims, [src, n, &report](std::span<uint8_t> out) {
        std::copy(src, src + n, out.data());
        report(n);
      });
      continue;
    }
    const int64_t n_per_row = p.dims[0];
    const int64_t rows = t.n_rows();
    const uint64_t in_row = row_bytes(p.from, n_per_row).value();
    const GgmlType from = p.from, to = p.to;
    w.add_tensor(p.name, p.to, p.dims, [=, &report](std::span<uint8_t> out) {
      convert_rows(from, src, to, out.data(), n_per_row, rows,
                   [&report, in_row](int64_t n) { report(uint64_t(n) * in_row); });
    });
  }

  const int threads = opts.threads > 0 ? opts.threads : tbb::task_arena::automatic;
  tbb::task_arena arena(threads);
  arena.execute([&] { w.write(opts.output); });
  if (progress) progress(plan.bytes_in, plan.bytes_in);
  return plan;
}

}  // namespace scout::quant

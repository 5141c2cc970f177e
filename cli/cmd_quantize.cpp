// scout-eval quantize: GGUF -> GGUF with llama-quantize's per-tensor type mix (llama, llama4).
//
//   scout-eval quantize IN.gguf OUT.gguf --type Q4_K_M [-t N] [--allow-requantize] [--pure]
//   scout-eval quantize IN.gguf --type Q4_K_M --dry-run      (the plan only)
#include <fmt/format.h>

#include <map>
#include <memory>

#include "cli/commands.h"
#include "engine/gguf/gguf.h"
#include "engine/quant/quantize.h"
#include "engine/quant/quantize_model.h"
#include "engine/util/error.h"
#include "engine/util/progress.h"

namespace scout::cli {
namespace {

struct QuantizeArgs {
  std::string input, output, type, imatrix;
  int threads = 0;
  bool allow_requantize = false, pure = false, dry_run = false, verbose = false;
};

double mib(uint64_t b) { return double(b) / (1024.0 * 1024.0); }

// The mixes whose every type has a reference quantizer (the rest can only be planned: --dry-run).
constexpr const char* kWritable = "F32, F16, BF16, Q8_0, Q6_K, Q5_K_M, Q5_K_S, Q4_K_M, Q4_K_S, Q5_1, Q5_0, Q4_1, Q4_0";

void print_tensor(const quant::TensorPlan& p, size_t i, size_t n) {
  std::string dims;
  for (size_t k = 0; k < p.dims.size(); ++k) dims += (k ? ", " : "") + std::to_string(p.dims[k]);
  std::string note;
  if (!p.quantizable) note = " (kept)";
  else if (p.fell_back) note = fmt::format(" (fallback from {})", quant::type_label(p.rule_type));
  if (!p.blocker.empty()) note += " [scout-eval cannot write this]";
  fmt::print("[{:4}/{:4}] {:<36} [{}] {} -> {}{}  {:.3f} -> {:.3f} MiB\n", i + 1, n, p.name, dims,
             quant::type_label(p.from), quant::type_label(p.to), note, mib(p.bytes_in), mib(p.bytes_out));
}

void print_summary(const quant::QuantizePlan& plan) {
  std::map<std::string, int> by_type;
  for (const auto& p : plan.tensors) by_type[quant::type_label(p.to)]++;
  std::string types;
  for (const auto& [t, n] : by_type) types += fmt::format("{}{} {}", types.empty() ? "" : ", ", n, t);
  const double n = double(std::max<int64_t>(1, plan.n_elements));
  fmt::print("{} ({}) -> {}: {} tensors: {}\n", plan.model.arch, fmt::format("{} layers", plan.model.n_layer),
             quant::mix_file_type_name(plan.ftype), plan.tensors.size(), types);
  fmt::print("tensor data: {:.2f} MiB ({:.2f} bits/weight) -> {:.2f} MiB ({:.2f} bits/weight)\n",
             mib(plan.bytes_in), double(plan.bytes_in) * 8.0 / n, mib(plan.bytes_out),
             double(plan.bytes_out) * 8.0 / n);
}

int run_quantize(const QuantizeArgs& a) {
  const auto ftype = quant::mix_file_type_from_name(a.type);
  if (!ftype) throw Error("unknown --type " + a.type + " (scout-eval writes: " + std::string(kWritable) + ")");
  if (!a.imatrix.empty())
    throw Error("--imatrix is not supported yet: scout-eval's quantizers have no importance-weighted variant");
  quant::QuantizeOptions o;
  o.input = a.input;
  o.output = a.output;
  o.ftype = *ftype;
  o.threads = a.threads;
  o.allow_requantize = a.allow_requantize;
  o.pure = a.pure;

  if (a.dry_run) {
    auto in = gguf::File::open(a.input);
    const auto plan = quant::plan_quantization(*in, o);
    for (size_t i = 0; i < plan.tensors.size(); ++i) print_tensor(plan.tensors[i], i, plan.tensors.size());
    print_summary(plan);
    if (const auto* b = quant::first_blocker(plan)) fmt::print("cannot write this mix: {}\n", b->blocker);
    return 0;
  }
  if (a.output.empty()) throw Error("give an output file (or --dry-run)");

  std::unique_ptr<Progress> bar;
  uint64_t last_mib = 0;
  const auto plan = quant::quantize_model(o, [&](uint64_t done, uint64_t total) {
    if (!bar) bar = std::make_unique<Progress>("quantizing", int64_t(total >> 20) + 1, "MiB");
    const uint64_t m = done >> 20;
    if (m != last_mib || done == total) {
      last_mib = m;
      bar->set(done == total ? int64_t(total >> 20) + 1 : int64_t(m));
    }
  });
  if (bar) bar->finish();
  if (a.verbose)
    for (size_t i = 0; i < plan.tensors.size(); ++i) print_tensor(plan.tensors[i], i, plan.tensors.size());
  print_summary(plan);
  auto out = gguf::File::open(a.output);
  fmt::print("file: {} bytes -> {} bytes ({})\n", gguf::File::open(a.input)->file_size(), out->file_size(),
             a.output);
  return 0;
}

}  // namespace

void add_quantize(CLI::App& app, Action& run) {
  auto a = std::make_shared<QuantizeArgs>();
  auto* cmd = app.add_subcommand(
      "quantize", "Quantize a llama/llama4 GGUF with llama-quantize's per-tensor type mix");
  cmd->add_option("input", a->input, "Input GGUF (F32/F16/BF16 or quantized tensors)")->required();
  cmd->add_option("output", a->output, "Output GGUF (written atomically)");
  cmd->add_option("--type", a->type,
                  "Target mix, as llama-quantize names it: F32, F16, BF16, Q8_0, Q6_K, Q5_K_M, Q5_K_S, "
                  "Q4_K_M, Q4_K_S, Q5_1, Q5_0, Q4_1, Q4_0 (aliases Q4_K, Q5_K)")
      ->required();
  cmd->add_option("-t,--threads", a->threads, "Worker threads (default: all)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--allow-requantize", a->allow_requantize,
                "Requantize tensors that are already quantized (dequantize, then quantize)");
  cmd->add_flag("--pure", a->pure, "No mix rules: the type's default for every quantized tensor");
  cmd->add_flag("--dry-run", a->dry_run, "Print the per-tensor plan and sizes; write nothing");
  cmd->add_flag("-v,--verbose", a->verbose, "Print every tensor's conversion");
  cmd->add_option("--imatrix", a->imatrix, "Importance matrix (llama.cpp format): not supported yet");
  cmd->callback([&run, a] { run = [a] { return run_quantize(*a); }; });
}

}  // namespace scout::cli

// scout-eval inspect MODEL.gguf: what a GGUF holds and whether scout-eval can run it.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_json.h"
#include "engine/model/hparams.h"
#include "engine/util/sha256.h"

namespace scout::cli {
namespace {

struct Verdict {
  bool supported = false;       // an architecture the engine runs
  std::string arch_error;       // why hyperparameters could not be read
  std::vector<std::string> problems;
  bool ok() const { return supported && arch_error.empty() && problems.empty(); }
};

Verdict validate(const gguf::File& f, model::HParams* hp) {
  Verdict v;
  const std::string arch = f.architecture();
  v.supported = arch == "llama" || arch == "llama4";
  if (!v.supported) return v;
  try {
    *hp = model::load_hparams(f);
    v.problems = model::check_tensors(f, *hp);
  } catch (const Error& e) {
    v.arch_error = e.what();
  }
  return v;
}

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double x = double(b);
  int u = 0;
  while (x >= 1024 && u < 4) x /= 1024, ++u;
  return fmt::format("{:.2f} {}", x, units[u]);
}

std::string count_string(int64_t n) {
  if (n >= 1000000000) return fmt::format("{:.2f}B", double(n) / 1e9);
  if (n >= 1000000) return fmt::format("{:.1f}M", double(n) / 1e6);
  return fmt::format("{:.1f}K", double(n) / 1e3);
}

void print_hparams(const model::HParams& hp) {
  fmt::print("hyperparameters:\n");
  fmt::print("  vocab {}  context {}  embedding {}  layers {}\n", hp.n_vocab, hp.n_ctx_train, hp.n_embd, hp.n_layer);
  fmt::print("  attention: {} heads, {} KV heads, head dim {}, rope base {}, rms eps {:g}{}\n", hp.n_head,
             hp.n_head_kv, hp.head_dim, hp.rope_freq_base, hp.rms_eps, hp.has_rope_freqs ? ", rope_freqs" : "");
  fmt::print("  feed-forward {}", hp.n_ff);
  if (hp.n_expert > 0)
    fmt::print(", experts {} (top {}) of width {}{}", hp.n_expert, hp.n_expert_used, hp.n_ff_exp,
               hp.arch == model::Arch::Llama4 ? " + shared expert" : "");
  fmt::print("\n");
  if (hp.arch == model::Arch::Llama4)
    fmt::print("  iRoPE: every {}th layer NoPE with global attention, others chunked ({} tokens); MoE every {} layer(s)\n",
               hp.nope_layer_step, hp.attn_chunk, hp.moe_layer_step);
  fmt::print("  output head: {}\n  parameters: {}\n", hp.tied_output ? "tied to token_embd" : "separate",
             count_string(hp.n_params()));
}

void print_tokenizer(const gguf::File& f) {
  const gguf::Value* model = f.find("tokenizer.ggml.model");
  if (!model) {
    fmt::print("tokenizer: none\n");
    return;
  }
  auto count = [&](const char* key) {
    const gguf::Value* v = f.find(key);
    return v && v->type == gguf::ValueType::ARRAY ? int64_t(v->items.size()) : int64_t(0);
  };
  auto id = [&](const char* key) {
    const gguf::Value* v = f.find(key);
    return v && v->is_integer() ? std::to_string(v->i) : std::string("-");
  };
  const gguf::Value* pre = f.find("tokenizer.ggml.pre");
  const gguf::Value* tmpl = f.find("tokenizer.chat_template");
  fmt::print("tokenizer: {} (pre-tokenizer {}), {} tokens, {} merges, bos {}, eos {}, chat template {}\n",
             model->summary(), pre ? pre->summary() : "-", count("tokenizer.ggml.tokens"),
             count("tokenizer.ggml.merges"), id("tokenizer.ggml.bos_token_id"), id("tokenizer.ggml.eos_token_id"),
             tmpl ? fmt::format("({} bytes)", tmpl->s.size()) : "none");
}

int print_text(const gguf::File& f, const Verdict& v, const model::HParams& hp, bool all_metadata) {
  fmt::print("file: {} ({})\n", f.path(), human_bytes(f.file_size()));
  fmt::print("GGUF v{}, alignment {}, {} metadata keys, {} tensors\n", f.version(), f.alignment(),
             f.metadata().size(), f.tensors().size());
  fmt::print("architecture: {}\n", f.architecture().empty() ? "(none)" : f.architecture());
  if (v.supported && v.arch_error.empty()) print_hparams(hp);
  print_tokenizer(f);
  fmt::print("metadata:\n");
  for (const auto& kv : f.metadata()) {
    if (!all_metadata && kv.key.rfind("tokenizer.", 0) == 0 && kv.value.type == gguf::ValueType::ARRAY) continue;
    fmt::print("  {:<44} {:<7} {}\n", kv.key, gguf::value_type_name(kv.value.type), kv.value.summary(4));
  }
  fmt::print("tensors:\n  {:<36} {:<6} {:<22} {:>12}\n", "name", "type", "shape", "bytes");
  std::map<std::string, std::pair<int, uint64_t>> per_type;
  for (const auto& t : f.tensors()) {
    const auto name = std::string(quant::traits(t.type).name);
    fmt::print("  {:<36} {:<6} {:<22} {:>12}\n", t.name, name, t.shape_string(), t.n_bytes);
    per_type[name].first += 1;
    per_type[name].second += t.n_bytes;
  }
  fmt::print("bytes per type:\n");
  for (const auto& [name, c] : per_type)
    fmt::print("  {:<6} {:>5} tensors {:>14}\n", name, c.first, human_bytes(c.second));
  if (!v.supported) {
    fmt::print("verdict: valid GGUF; architecture '{}' is not one scout-eval runs (llama, llama4)\n", f.architecture());
    return 0;
  }
  if (!v.arch_error.empty()) {
    fmt::print("verdict: INVALID: {}\n", v.arch_error);
    return 3;
  }
  if (!v.problems.empty()) {
    fmt::print("verdict: INVALID: {} problem(s)\n", v.problems.size());
    for (const auto& p : v.problems) fmt::print("  - {}\n", p);
    return 3;
  }
  fmt::print("verdict: OK (valid GGUF, complete {} model)\n", f.architecture());
  return 0;
}

int print_json(const gguf::File& f, const Verdict& v, const model::HParams& hp, bool all_metadata, bool hash) {
  nlohmann::json j;
  j["file"] = f.path();
  j["version"] = f.version();
  j["architecture"] = f.architecture();
  j["metadata"] = gguf::metadata_json(f, all_metadata ? SIZE_MAX : 64);
  auto& ts = j["tensors"] = nlohmann::json::array();
  for (const auto& t : f.tensors()) {
    ts.push_back({{"name", t.name}, {"type", std::string(quant::traits(t.type).name)}, {"shape", t.dims},
                  {"bytes", t.n_bytes}, {"offset", t.offset}});
    if (hash) ts.back()["sha256"] = sha256_hex(t.data, t.n_bytes);
  }
  if (v.supported && v.arch_error.empty())
    j["hparams"] = {{"n_vocab", hp.n_vocab}, {"n_ctx_train", hp.n_ctx_train}, {"n_embd", hp.n_embd},
                    {"n_layer", hp.n_layer}, {"n_head", hp.n_head}, {"n_head_kv", hp.n_head_kv},
                    {"head_dim", hp.head_dim}, {"n_ff", hp.n_ff}, {"n_expert", hp.n_expert},
                    {"n_expert_used", hp.n_expert_used}, {"n_ff_exp", hp.n_ff_exp},
                    {"moe_layer_step", hp.moe_layer_step}, {"rope_freq_base", hp.rope_freq_base},
                    {"rms_eps", hp.rms_eps}, {"n_params", hp.n_params()}};
  j["supported"] = v.supported;
  j["problems"] = v.problems;
  if (!v.arch_error.empty()) j["problems"].push_back(v.arch_error);
  j["valid"] = v.ok() || !v.supported;
  // GGUF strings need not be valid UTF-8: replace bad bytes rather than fail.
  fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  return !v.supported || v.ok() ? 0 : 3;
}

}  // namespace

void add_inspect(CLI::App& app, Action& run) {
  auto* cmd = app.add_subcommand("inspect", "Show a GGUF's architecture, hyperparameters, tokenizer, tensors; validate it");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto all = std::make_shared<bool>(false);
  auto hash = std::make_shared<bool>(false);
  cmd->add_option("model", *path, "GGUF file")->required();
  cmd->add_flag("--json", *json, "Print one JSON object");
  cmd->add_flag("--all-metadata", *all, "Print every metadata array in full");
  cmd->add_flag("--hash", *hash, "With --json: the SHA-256 of each tensor's bytes");
  cmd->callback([&run, path, json, all, hash] {
    run = [path, json, all, hash] {
      auto f = gguf::File::open(*path);
      model::HParams hp;
      const Verdict v = validate(*f, &hp);
      return *json ? print_json(*f, v, hp, *all, *hash) : print_text(*f, v, hp, *all);
    };
  });
}

}  // namespace scout::cli

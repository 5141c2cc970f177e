// scout-eval logits: full-sequence logits of prompts, in the format of llama.cpp's ref-logits
// (scripts/llamacpp/ref_logits.cpp), so the two engines can be compared file for file.
//
//   DIR/i.tokens.json   JSON array of the prompt's token ids
//   DIR/i.logits.f32    little-endian float32, row-major [n_tokens x n_vocab]
//   DIR/meta.json       model, n_vocab, add_bos and the run settings (informative)
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "engine/runtime/engine.h"
#include "engine/runtime/prompt_file.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/util/error.h"
#include "engine/util/progress.h"

namespace scout::cli {
namespace {

struct LogitsOptions {
  std::string model, prompt_file, token_file, tokens, out;
  int threads = 0;
  int64_t ctx = 0, batch = 512;
  int64_t attn_chunk = -1, attn_temp_floor = -1;  // llama4 overrides for testing (-1 = the model's)
  bool kv_f32 = false;
};

void write_bytes(const std::filesystem::path& path, const void* data, size_t n) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), std::streamsize(n));
  if (!out) throw Error("cannot write " + path.string());
}

std::vector<runtime::Tokens> load_prompts(const LogitsOptions& o, const runtime::Engine& engine) {
  std::vector<runtime::Tokens> prompts;
  if (!o.tokens.empty()) prompts.push_back(runtime::parse_token_list(o.tokens));
  if (!o.token_file.empty())
    for (const auto& line : runtime::read_prompt_file(o.token_file)) prompts.push_back(runtime::parse_token_list(line));
  if (!o.prompt_file.empty()) {
    const tok::Tokenizer* t = engine.tokenizer();
    if (!t) throw Error("--prompt-file needs the model's tokenizer: " + engine.tokenizer_error());
    for (const auto& text : runtime::read_prompt_file(o.prompt_file)) {
      auto ids = t->encode(text, t->vocab().add_bos, /*parse_special=*/true);
      prompts.emplace_back(ids.begin(), ids.end());
    }
  }
  if (prompts.empty()) throw Error("no prompts (give --prompt-file, --token-file or --tokens)");
  return prompts;
}

int run_logits(const LogitsOptions& o) {
  runtime::EngineOptions eo;
  eo.n_threads = o.threads;
  eo.n_ctx = o.ctx;  // 0: the model's training context (the KV cache grows only as needed)
  eo.kv_type = o.kv_f32 ? model::KvType::F32 : model::KvType::F16;
  eo.n_batch = o.batch;
  if (o.attn_chunk >= 0 || o.attn_temp_floor >= 0)
    eo.model.adjust_hparams = [o](model::HParams& hp) {
      if (o.attn_chunk >= 0) hp.attn_chunk = o.attn_chunk;
      if (o.attn_temp_floor >= 0) hp.attn_temp_floor = o.attn_temp_floor;
    };
  auto engine = runtime::Engine::load(o.model, eo);
  const auto prompts = load_prompts(o, *engine);
  int64_t total = 0;
  for (const auto& p : prompts) total += int64_t(p.size());

  const std::filesystem::path dir(o.out);
  std::filesystem::create_directories(dir);
  const int64_t n_vocab = engine->hparams().n_vocab;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const std::string ids = nlohmann::json(prompts[i]).dump() + "\n";
    write_bytes(dir / fmt::format("{}.tokens.json", i), ids.data(), ids.size());
  }

  std::unique_ptr<Progress> bar;
  if (total >= 256) bar = std::make_unique<Progress>("prompt tokens", total, "tok");
  engine->prompt_logits(
      prompts,
      [&](size_t i, std::vector<float>&& logits) {
        write_bytes(dir / fmt::format("{}.logits.f32", i), logits.data(), logits.size() * sizeof(float));
      },
      [&](int64_t done, int64_t) {
        if (bar) bar->set(done);
      });
  if (bar) bar->finish();

  const tok::Tokenizer* t = engine->tokenizer();
  nlohmann::json meta = {{"model", o.model},
                         {"n_vocab", n_vocab},
                         {"add_bos", t ? t->vocab().add_bos : false},
                         {"bos", t ? t->vocab().bos : -1},
                         {"n_prompts", prompts.size()},
                         {"n_ctx", engine->n_ctx()},
                         {"n_batch", o.batch},
                         {"kv_type", o.kv_f32 ? "f32" : "f16"},
                         {"threads", engine->n_threads()},
                         {"tool", "scout-eval logits"}};
  const std::string m = meta.dump() + "\n";
  write_bytes(dir / "meta.json", m.data(), m.size());
  fmt::print(stderr, "wrote {} prompts ({} tokens) to {}\n", prompts.size(), total, o.out);
  return 0;
}

}  // namespace

void add_logits(CLI::App& app, Action& run) {
  auto* cmd = app.add_subcommand("logits", "Write every position's logits for prompts (llama.cpp ref-logits format)");
  auto o = std::make_shared<LogitsOptions>();
  cmd->add_option("-m,--model", o->model, "GGUF model")->required()->check(CLI::ExistingFile);
  cmd->add_option("--prompt-file", o->prompt_file,
                  "One prompt per line (\\n \\t \\\\ unescaped, special-token text parsed, BOS added as the vocab says)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--token-file", o->token_file, "One prompt per line as token ids (used as given)")->check(CLI::ExistingFile);
  cmd->add_option("--tokens", o->tokens, "One prompt as token ids, e.g. \"1 2 3\" (used as given)");
  cmd->add_option("-o,--out", o->out, "Output directory")->required();
  cmd->add_option("-t,--threads", o->threads, "Threads (default: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-c,--ctx", o->ctx, "Context size per prompt (default: the model's training context)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-b,--batch", o->batch, "Tokens per forward pass")->default_val(512)->check(CLI::PositiveNumber);
  cmd->add_flag("--kv-f32", o->kv_f32, "Keep the KV cache in F32 (default F16, as llama.cpp)");
  cmd->add_option("--attn-chunk", o->attn_chunk, "Testing: llama4 attention chunk instead of the model's (0 = none)")
      ->group("Testing");
  cmd->add_option("--attn-temp-floor", o->attn_temp_floor,
                  "Testing: llama4 NoPE temperature floor scale instead of 8192 (0 = no temperature)")
      ->group("Testing");
  cmd->callback([&run, o] { run = [o] { return run_logits(*o); }; });
}

}  // namespace scout::cli

// scout-eval model init: deterministic random-weight models for tests and benchmarks.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "engine/model/random_model.h"
#include "engine/util/progress.h"

namespace scout::cli {

void add_model(CLI::App& app, Action& run) {
  auto* model = app.add_subcommand("model", "Model utilities");
  model->require_subcommand(1);
  auto* init = model->add_subcommand("init", "Write a deterministic random-weight model");
  auto opt = std::make_shared<model::RandomModelOptions>();
  auto dtype = std::make_shared<std::string>("f16");
  std::string presets_help = "Preset:";
  for (const auto& p : model::presets()) presets_help += "\n  " + p.arch + "/" + p.name + ": " + p.description;
  init->add_option("--arch", opt->arch, "Architecture: llama4 or llama")->default_val("llama4");
  init->add_option("--preset", opt->preset, presets_help)->default_val("tiny-scout");
  init->add_option("--layers", opt->layers, "Number of layers (default: the preset's)")->check(CLI::PositiveNumber);
  init->add_option("--seed", opt->seed, "Random seed")->default_val(0);
  init->add_option("--dtype", *dtype, "Weight type: f32, f16 or bf16")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}))->default_val("f16");
  init->add_option("--vocab-from", opt->vocab_from, "Copy the tokenizer from this GGUF");
  init->add_option("-o,--output", opt->output, "Output GGUF")->required();
  init->callback([&run, opt, dtype] {
    run = [opt, dtype] {
      opt->dtype = *quant::type_from_name(*dtype);
      std::unique_ptr<Progress> bar;
      model::write_random_model(*opt, [&bar](size_t done, size_t total) {
        if (!bar) bar = std::make_unique<Progress>("writing tensors", int64_t(total), "tensors");
        bar->set(int64_t(done));
      });
      if (bar) bar->finish();
      fmt::print(stderr, "wrote {}\n", opt->output);
      return 0;
    };
  });
}

}  // namespace scout::cli

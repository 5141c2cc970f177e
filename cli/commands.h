#pragma once
// Each subcommand lives in its own cli/cmd_*.cpp and registers itself here.
#include <CLI/CLI.hpp>

#include <functional>

namespace scout::cli {
// Adds the subcommand and returns the action main() runs when it is chosen (exit code).
using Action = std::function<int()>;
void add_inspect(CLI::App& app, Action& run);
void add_model(CLI::App& app, Action& run);   // model init
void add_models(CLI::App& app, Action& run);  // models add|list
void add_report(CLI::App& app, Action& run);
void add_generate(CLI::App& app, Action& run);  // generate (native engine)
void add_logits(CLI::App& app, Action& run);    // logits (ref-logits format)
void add_tokenize(CLI::App& app, Action& run);
void add_bench_model(CLI::App& app, Action& run);
void add_run(CLI::App& app, Action& run);     // run (evaluation, resumable)
void add_score(CLI::App& app, Action& run);   // score, rescore
void add_tasks(CLI::App& app, Action& run);   // tasks (registry listing)
void add_quantize(CLI::App& app, Action& run);  // quantize (llama-quantize's type mix)
void add_compare_runs(CLI::App& app, Action& run);  // compare-runs (paired deltas, McNemar)
void add_compare_quant(CLI::App& app, Action& run);  // compare-quant (llama-perplexity --kl-divergence)
void add_serve(CLI::App& app, Action& run);  // serve (OpenAI-compatible HTTP server)
}  // namespace scout::cli

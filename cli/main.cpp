// scout-eval: evaluation and benchmark harness for Llama 4 Scout.
#include <cstdio>
#include <exception>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli/commands.h"
#include "engine/util/error.h"

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // A forward pass allocates and frees activation buffers of 0.1-100 MB per layer. Served
  // from fresh mmaps (glibc's default above 128 KiB-32 MiB) every one page-faults anew: 5-6%
  // of a small model's prefill. Keep them in the heap and keep freed heap memory mapped.
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  CLI::App app{"scout-eval: reproduce Llama 4 Scout's benchmarks, measure quantization, benchmark kernels"};
  app.require_subcommand(1);
  scout::cli::Action action;
  scout::cli::add_inspect(app, action);
  scout::cli::add_model(app, action);
  scout::cli::add_models(app, action);
  scout::cli::add_report(app, action);
  scout::cli::add_generate(app, action);
  scout::cli::add_logits(app, action);
  scout::cli::add_tokenize(app, action);
  scout::cli::add_bench_model(app, action);
  scout::cli::add_run(app, action);
  scout::cli::add_score(app, action);
  scout::cli::add_tasks(app, action);
  scout::cli::add_quantize(app, action);
  scout::cli::add_compare_runs(app, action);
  scout::cli::add_compare_quant(app, action);
  scout::cli::add_serve(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return action ? action() : 0;
  } catch (const scout::Error& e) {
    std::fprintf(stderr, "scout-eval: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scout-eval: internal error: %s\n", e.what());
    return 2;
  }
}

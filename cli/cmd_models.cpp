// scout-eval models add|list: record model files in the results store.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_json.h"
#include "engine/model/hparams.h"
#include "engine/quant/file_type.h"
#include "engine/util/sha256.h"
#include "harness/store/store.h"

namespace scout::cli {
namespace {

store::Model describe(const std::string& path) {
  auto f = gguf::File::open(path);
  store::Model m;
  m.path = path;
  m.sha256 = sha256_file_hex(path);
  m.file_size = int64_t(f->file_size());
  m.arch = f->architecture();
  m.file_type = f->find("general.file_type") ? quant::file_type_name(f->get_int("general.file_type")) : "unknown";
  m.metadata = gguf::metadata_json(*f, 0);  // scalars only: tokenizer arrays stay in the file
  try {
    m.n_params = model::load_hparams(*f).n_params();
  } catch (const Error&) {
    // Not an architecture the engine runs: recorded without a parameter count.
  }
  return m;
}

}  // namespace

void add_models(CLI::App& app, Action& run) {
  auto* models = app.add_subcommand("models", "Record model files in the results store");
  models->require_subcommand(1);
  auto db = std::make_shared<std::string>("results.db");
  auto paths = std::make_shared<std::vector<std::string>>();
  auto* add = models->add_subcommand("add", "Hash, inspect and record GGUF files");
  add->add_option("models", *paths, "GGUF files")->required();
  add->add_option("--db", *db, "Results database")->default_val("results.db");
  add->callback([&run, db, paths] {
    run = [db, paths] {
      auto st = store::Store::open(*db);
      for (const auto& p : *paths) {
        const store::Model m = describe(p);
        const int64_t id = st.upsert_model(m);
        fmt::print("model {}: {} ({} {}, sha256 {})\n", id, p, m.arch, m.file_type, m.sha256.substr(0, 16));
      }
      return 0;
    };
  });
  auto* list = models->add_subcommand("list", "List recorded models");
  list->add_option("--db", *db, "Results database")->default_val("results.db");
  list->callback([&run, db] {
    run = [db] {
      auto st = store::Store::open(*db);
      for (const auto& m : st.list_models())
        fmt::print("{}\t{}\t{}\t{}\t{}\n", m.id, m.arch, m.file_type, m.sha256, m.path);
      return 0;
    };
  });
}

}  // namespace scout::cli

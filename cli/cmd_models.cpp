// scout-eval models add|list: record model files in the results store.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "cli/model_record.h"
#include "harness/store/store.h"

namespace scout::cli {

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
        const store::Model m = describe_model_file(p);
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

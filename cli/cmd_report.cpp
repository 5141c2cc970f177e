// scout-eval report: write the Markdown report from the results store.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "engine/util/error.h"
#include "harness/store/store.h"
#include "reports/html.h"
#include "reports/markdown.h"

namespace scout::cli {

void add_report(CLI::App& app, Action& run) {
  auto* cmd = app.add_subcommand("report", "Write report.md and report.html from a results database");
  auto db = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("--db", *db, "Results database")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", *out, "Output directory")->required();
  cmd->callback([&run, db, out] {
    run = [db, out] {
      auto st = store::Store::open(*db);
      std::filesystem::create_directories(*out);
      auto write = [](const std::filesystem::path& path, const std::string& text) {
        std::ofstream f(path, std::ios::binary);
        f << text;
        if (!f) throw Error(path.string() + ": write failed");
        fmt::print(stderr, "wrote {}\n", path.string());
      };
      write(std::filesystem::path(*out) / "report.md", reports::markdown_report(st));
      write(std::filesystem::path(*out) / "report.html", reports::html_report(st));
      return 0;
    };
  });
}

}  // namespace scout::cli

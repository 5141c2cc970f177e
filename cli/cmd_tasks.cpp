// scout-eval tasks: the registry of tasks, their protocols (with sources) and the suites.
#include <fmt/format.h>

#include <memory>

#include "cli/cmd_eval_common.h"
#include "cli/commands.h"

namespace scout::cli {

void add_tasks(CLI::App& app, Action& run) {
  auto* cmd = app.add_subcommand("tasks", "List tasks, protocols and suites");
  auto json = std::make_shared<bool>(false);
  auto dir = std::make_shared<std::optional<std::string>>();
  cmd->add_flag("--json", *json, "As JSON (every protocol file in full)");
  cmd->add_option("--protocol-dir", *dir, "Load more protocol JSON files from this folder");
  cmd->callback([&run, json, dir] {
    run = [json, dir] {
      const EvalCatalog cat = load_catalog(*dir);
      if (*json) {
        nlohmann::json out = {{"tasks", nlohmann::json::object()}, {"suites", nlohmann::json::object()}};
        for (const auto& t : cat.protocols.tasks())
          for (const auto* p : cat.protocols.protocols_of(t)) out["tasks"][t][p->name] = p->raw;
        for (const auto& s : cat.protocols.suites()) {
          const auto& suite = cat.protocols.suite(s);
          auto& js = out["suites"][s];
          js["description"] = suite.description;
          for (const auto& e : suite.entries) js["entries"].push_back({{"task", e.task}, {"protocol", e.protocol}});
        }
        fmt::print("{}\n", out.dump(2));
        return 0;
      }
      for (const auto& t : cat.protocols.tasks()) {
        fmt::print("{}\n", t);
        for (const auto* p : cat.protocols.protocols_of(t))
          fmt::print("  {}{:<26} {}{}\n    source: {}\n", p->is_default ? "*" : " ", p->name, p->title,
                     p->card.empty() ? "" : fmt::format("  [card: {}]", p->card), p->source);
      }
      fmt::print("\nsuites:\n");
      for (const auto& s : cat.protocols.suites()) {
        const auto& suite = cat.protocols.suite(s);
        std::string entries;
        for (const auto& e : suite.entries) entries += fmt::format(" {}@{}", e.task, e.protocol);
        fmt::print("  {}: {}\n   {}\n", s, suite.description, entries);
      }
      fmt::print("\n(* = the task's default protocol)\n");
      return 0;
    };
  });
}

}  // namespace scout::cli

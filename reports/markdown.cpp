#include "reports/markdown.h"

#include <fmt/format.h>

#include "reports/model_card.h"

namespace scout::reports {
namespace {

std::string params_string(const std::optional<int64_t>& n) {
  if (!n) return "-";
  return *n >= 1000000000 ? fmt::format("{:.2f}B", double(*n) / 1e9) : fmt::format("{:.1f}M", double(*n) / 1e6);
}

void models_section(store::Store& db, std::string& out) {
  out += "## Models\n\n";
  const auto models = db.list_models();
  if (models.empty()) {
    out += "No models recorded.\n\n";
    return;
  }
  out += "| id | file | arch | type | parameters | size | sha256 |\n|---|---|---|---|---|---|---|\n";
  for (const auto& m : models)
    out += fmt::format("| {} | `{}` | {} | {} | {} | {:.1f} MiB | `{}…` |\n", m.id, m.path, m.arch, m.file_type,
                       params_string(m.n_params), double(m.file_size) / (1 << 20), m.sha256.substr(0, 12));
  out += "\n";
}

void card_section(std::string& out) {
  out += "## Llama 4 Scout model card: published vs measured\n\n";
  out += "| benchmark | card | protocol | measured | provenance |\n|---|---|---|---|---|\n";
  for (const auto& r : scout_card())
    out += fmt::format("| {} | {} | {} | {} | {} |\n", r.benchmark,
                       r.card_value >= 100 ? fmt::format("{:.0f}", r.card_value) : fmt::format("{:.1f}", r.card_value),
                       r.protocol,
                       r.task.empty() ? "not yet available" : "no run yet", r.provenance);
  out += "\n";
}

void runs_section(store::Store& db, std::string& out) {
  out += "## Runs\n\n";
  const auto runs = db.list_runs();
  if (runs.empty()) {
    out += "No evaluation runs recorded yet.\n\n";
    return;
  }
  out += "| run | protocol | tasks | status | seconds |\n|---|---|---|---|---|\n";
  for (const auto& r : runs) {
    std::string tasks;
    for (const auto& t : r.tasks) tasks += (tasks.empty() ? "" : ", ") + t;
    out += fmt::format("| {} | {} | {} | {} | {:.1f} |\n", r.id, r.protocol, tasks, store::to_string(r.status),
                       r.wall_seconds.value_or(0.0));
  }
  out += "\n";
}

}  // namespace

std::string markdown_report(store::Store& db) {
  std::string out = "# scout-eval report\n\n";
  out += fmt::format("Database: `{}`\n\n", db.path().string());
  models_section(db, out);
  card_section(out);
  runs_section(db, out);
  return out;
}

}  // namespace scout::reports

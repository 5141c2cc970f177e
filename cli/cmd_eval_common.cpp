#include "cli/cmd_eval_common.h"

#include <fmt/format.h>

#include <cmath>

#include "tasks/builtin.h"

namespace scout::cli {

EvalCatalog load_catalog(const std::optional<std::string>& protocol_dir) {
  EvalCatalog c;
  tasks::add_builtin_protocols(c.protocols);
  if (protocol_dir) c.protocols.load_dir(*protocol_dir);
  c.components = tasks::builtin_components();
  return c;
}

std::string format_metric(const store::Metric& m) {
  std::string s = std::isnan(m.value) ? "n/a" : fmt::format("{:.4f}", m.value);
  if (m.ci_low && m.ci_high) s += fmt::format(" (95% CI {:.4f}–{:.4f})", *m.ci_low, *m.ci_high);
  return s + fmt::format(", n={}", m.n);
}

const store::Metric* primary_metric(const std::vector<store::Metric>& metrics, const std::string& task,
                                    const harness::Protocol& protocol) {
  for (const auto& m : metrics)
    if (m.task == task && m.name == protocol.primary_metric) return &m;
  return nullptr;
}

}  // namespace scout::cli

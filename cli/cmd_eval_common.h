#pragma once
// What the evaluation subcommands (run, score, rescore, tasks) share: the protocol registry
// with the built-in protocols (plus --protocol-dir), the built-in components, and printing.
#include <optional>
#include <string>
#include <vector>

#include "harness/protocol.h"
#include "harness/store/store.h"
#include "harness/task.h"

namespace scout::cli {

struct EvalCatalog {
  harness::ProtocolRegistry protocols;
  harness::Components components;
};
// Built-in protocols and suites, then those under `protocol_dir` when given.
EvalCatalog load_catalog(const std::optional<std::string>& protocol_dir);

// "0.523 ± 0.031 (95% CI 0.49–0.55, n=198)" style line for a metric.
std::string format_metric(const store::Metric& m);

// The primary metric row of a task among `metrics`, if computed.
const store::Metric* primary_metric(const std::vector<store::Metric>& metrics, const std::string& task,
                                    const harness::Protocol& protocol);

}  // namespace scout::cli

#pragma once
// The built-in tasks: the named loaders, extractors, scorers and aggregators, and the protocol
// and suite files embedded in the binary at build time (tasks/protocols/**/*.json,
// tasks/suites/*.json).
#include <string_view>
#include <utility>
#include <vector>

#include "harness/protocol.h"
#include "harness/task.h"

namespace scout::tasks {

harness::Components builtin_components();

// (path relative to tasks/, file text) of every embedded protocol and suite file.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_protocol_files();

// Adds the embedded protocols and suites; throws on an invalid one.
void add_builtin_protocols(harness::ProtocolRegistry& registry);

}  // namespace scout::tasks

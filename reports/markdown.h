#pragma once
// The Markdown report: what the store holds, and the model card against what was measured.
#include <string>

#include "harness/store/store.h"

namespace scout::reports {
std::string markdown_report(store::Store& db);
}  // namespace scout::reports

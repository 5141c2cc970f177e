#pragma once
// The HTML report: one self-contained file (inline CSS and SVG, no scripts, no external
// resources) with the same content as the Markdown report plus plots: card vs measured per
// model, and per-group bars for each task.
#include <string>
#include <string_view>

#include "harness/store/store.h"

namespace scout::reports {
std::string html_report(store::Store& db);
// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(std::string_view s);
}  // namespace scout::reports

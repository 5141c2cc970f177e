#pragma once
// Shared set-up for the task tests: the built-in catalog, the real data directory, and
// helpers that push known model outputs through a task's extractor, scorer and aggregation.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/test_paths.h"
#include "engine/util/error.h"
#include "harness/protocol.h"
#include "harness/task.h"
#include "tasks/builtin.h"

namespace scout::tasks::testing {

struct Catalog {
  harness::ProtocolRegistry protocols;
  harness::Components components;
  Catalog() {
    add_builtin_protocols(protocols);
    components = builtin_components();
  }
};
const Catalog& catalog();

// Skips the test when the data set folder is absent.
#define SCOUT_REQUIRE_DATA(sub)                                                              \
  do {                                                                                       \
    if (!std::filesystem::exists(scout::test::datasets_dir() / (sub)))                       \
      GTEST_SKIP() << "no data at " << (scout::test::datasets_dir() / (sub)).string();       \
  } while (0)

harness::EvalTask make_task(const std::string& task, const std::string& protocol, harness::TaskSettings s = {});

// Scores `output` for (doc, repeat) as a run would.
store::Sample score_output(const harness::EvalTask& t, const harness::Doc& doc, int64_t repeat, const std::string& output);
// Scores log-likelihoods that make option `pick` the winner of both acc and acc_norm.
store::Sample score_pick(const harness::EvalTask& t, const harness::Doc& doc, size_t pick);

const store::Metric& metric(const std::vector<store::Metric>& ms, const std::string& task, const std::string& name);

}  // namespace scout::tasks::testing

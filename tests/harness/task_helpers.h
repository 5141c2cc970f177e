#pragma once
// A toy task for harness tests: a loader with multiple-choice and free-form documents built
// in memory, a letter extractor and scorer, so EvalTask and Runner are tested without data.
#include <nlohmann/json.hpp>

#include "harness/protocol.h"
#include "harness/task.h"

namespace scout::harness::testing {

// Loader "toy": args {"docs": [{"id", "group", ...fields}], "shots": [...]}.
Components toy_components();

// A protocol over the toy loader; `extra` is merged over the defaults.
Protocol toy_protocol(const nlohmann::json& extra);

// Three 4-option questions in two groups (gold = 0, 1, 2) and two shots.
nlohmann::json toy_docs();

}  // namespace scout::harness::testing

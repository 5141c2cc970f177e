#pragma once
// Recording `compare-quant` results: both model files and the comparison row, written
// together (docs/STORE.md, table quant_comparisons), and the JSON form the CLI prints.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "harness/store/store.h"

namespace scout::store {

// In one transaction: upserts `base` and `test` (by sha256), points `c` at their ids and
// inserts it. Returns the comparison's id; `c` gets its ids filled in.
int64_t record_quant_comparison(Store& store, const Model& base, const Model& test, QuantComparison& c);

// Every field of the row (ids, settings, statistics, delta_p) as one JSON object.
nlohmann::json quant_comparison_json(const QuantComparison& c);

}  // namespace scout::store

#pragma once
// Whether Python's json.loads accepts a text, which is all detectable_format:json_format asks.
// Python's decoder is more liberal than RFC 8259 in places (NaN, Infinity, -Infinity, lone
// surrogate escapes, any top-level value) and stricter in others (control characters inside
// strings; integers of more than 4300 digits fail int() since CPython 3.11).
#include "tasks/ifeval/unicode.h"

namespace scout::tasks::ifeval {

bool python_json_loads_accepts(py::TextView text);

}  // namespace scout::tasks::ifeval

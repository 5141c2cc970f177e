#pragma once
// A port of langdetect 1.0.9 (Python; Apache-2.0), the language identifier the IFEval reference
// calls. Same 55 n-gram profiles (data/langdetect_data.inc), same normalisation, same 7 random
// trials driven by Python's Mersenne Twister. langdetect is unseeded by default (its answer on
// borderline text varies run to run); we fix DetectorFactory.seed = 0, and so does the
// conformance script, so both sides draw the same numbers.
#include <cstdint>
#include <optional>
#include <string>

#include "tasks/ifeval/unicode.h"

namespace scout::tasks::ifeval {

// langdetect.detect(text) with seed 0: an ISO code such as "en", "zh-cn", or "unknown".
// nullopt where langdetect raises LangDetectException ("No features in text"), which the
// IFEval checkers count as the instruction being followed.
std::optional<std::string> detect_language(py::TextView text);

}  // namespace scout::tasks::ifeval

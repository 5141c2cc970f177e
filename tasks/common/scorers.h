#pragma once
// The scorers protocols name ("scorer": {"name": ..., "metric": <per-sample metric name,
// default "exact_match">, arguments}). Each gives 1 or 0 per sample:
//   choice_label   the extracted option label equals the gold label (case-insensitive)
//   exact_match    the extracted answer equals the target ({"ignore_case": bool})
//   math_equiv     tasks/math equivalence of the gold answer and the extracted one
//   minerva_math   lm-eval leaderboard MATH: Minerva-normalize the answer, then equal strings
//                  or equivalent (the doc's "answer" is already normalized by the loader)
//   integer_match  AIME: both sides read as plain integers ("025" == 25)
#include <optional>
#include <string>
#include <string_view>

#include "harness/task.h"

namespace scout::tasks {

// A plain integer after dropping $, spaces, thousands commas, \text{}/\mathbf{} wrappers,
// a leading "x =" and a trailing '.'; nullopt for anything else.
std::optional<int64_t> parse_plain_integer(std::string_view s);

void register_scorers(harness::Components& c);

}  // namespace scout::tasks

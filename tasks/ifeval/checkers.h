#pragma once
// The 25 IFEval instruction checkers, each deciding as lm-eval's
// lm_eval/tasks/ifeval/instructions.py `check_following` does (quirks included; see
// docs/IFEVAL.md). A checker is built once from its instruction id and kwargs, then applied to
// any number of response texts.
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/ifeval/unicode.h"

namespace scout::tasks::ifeval {

// A row, instruction id or kwarg the library does not understand.
class IfevalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// check_following(value) of one instruction, with its kwargs bound.
using CheckFn = std::function<bool(py::TextView response)>;

// The instruction ids of lm-eval's INSTRUCTION_DICT, in registry order.
const std::vector<std::string>& instruction_ids();

// Builds the checker for `instruction_id` from its kwargs (a JSON object; null values are
// ignored, as lm-eval drops falsy kwargs). Throws IfevalError for an unknown id, a missing or
// ill-typed kwarg, a kwarg the instruction does not take, or a relation other than
// "less than"/"at least".
CheckFn make_checker(std::string_view instruction_id, const nlohmann::json& kwargs);

}  // namespace scout::tasks::ifeval

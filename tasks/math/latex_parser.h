#pragma once
// A small recursive-descent parser from canonicalized answer LaTeX to an expression tree
// (internal). It covers what final answers contain: numbers, fractions, radicals, powers,
// implicit multiplication, functions, \pm lists, relations, sets, tuples, intervals,
// unions, matrices and \text{} words. Anything else is a parse failure, and the caller
// then compares the canonical strings only.
#include <optional>
#include <string>
#include <string_view>

#include "tasks/math/expr.h"

namespace scout::tasks::math {

struct ParseOutcome {
  NodePtr node;        // null on failure
  std::string error;   // why parsing stopped, for reasons and tests
};

ParseOutcome parse_answer_latex(std::string_view canonical);

}  // namespace scout::tasks::math

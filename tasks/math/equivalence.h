#pragma once
// Math answer equivalence (gold vs predicted final answer), modelled on math-verify's
// parse + verify so that scores line up with the reference used by modern MATH/AIME
// harnesses. Both answers are canonicalized (see canonical.h), parsed to an expression
// tree and compared:
//  - numbers exactly (128-bit rationals) or, for irrational values, numerically;
//    a decimal literal on either side compares at 6 decimal places (1/3 == 0.333333);
//  - 50\% equals 0.5 and 1/2; two integers compare ignoring a percent sign (50\% == 50);
//  - "x = 5" equals "5" (an assignment's value), equations compare up to a constant
//    factor, inequalities up to a positive one;
//  - sets and "a, b" lists are order-insensitive when the gold is a set; tuples and
//    coordinates are ordered; intervals compare endpoints and open/closed ends;
//  - matrices element-wise; \text{} words case-insensitively (spaces, parentheses dropped);
//  - expressions in variables by evaluation at fixed sample points (x^2+2x+1 == (x+1)^2).
// The relation is not symmetric (gold first), like math-verify's.
#include <string>
#include <string_view>

namespace scout::tasks::math {

struct EquivalenceResult {
  bool equivalent = false;
  std::string reason;               // which rule decided, e.g. "equal at 6 decimal places"
  std::string gold_canonical;       // the canonical strings that were parsed
  std::string predicted_canonical;
  bool gold_parsed = false;         // false: only canonical-string equality could apply
  bool predicted_parsed = false;
};

EquivalenceResult compare_answers(std::string_view gold, std::string_view predicted);

inline bool equivalent(std::string_view gold, std::string_view predicted) {
  return compare_answers(gold, predicted).equivalent;
}

}  // namespace scout::tasks::math

#pragma once
// Expression tree for parsed answers (internal). The shapes follow what math-verify's
// LaTeX parser builds, because the comparison rules key on them: a bare numeric literal
// is "atomic" (sympy Integer/Rational/Float), "0.5" is a decimal (Float), "50\%" keeps its
// written number, "(1,2)" is an open interval, "a, b" is a set that remembers its order.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tasks/math/rational.h"

namespace scout::tasks::math {

enum class NodeKind {
  kNumber,    // literal, or a folded integer fraction such as \frac{3}{4}
  kSymbol,    // a letter, Greek letter or \text{} word (lower-cased, as math-verify does)
  kConstant,  // "pi", "e", "i" (imaginary unit), "inf"
  kAdd,
  kMul,
  kPow,
  kNeg,
  kFunc,      // name in `text`: sin, cos, ..., log (kids: argument, base), abs, factorial, ...
  kRelation,  // chain a op b op c: kids are operands, ops the operators between them
  kFiniteSet, // written order kept; {a, b} or a bare comma list
  kTuple,
  kInterval,  // kids[0], kids[1] with open ends
  kUnion,
  kMatrix,    // rows x cols entries, row-major
  kReals,     // \mathbb{R}
  kEmptySet,
};

enum class RelOp { kEq, kLt, kLe, kGt, kGe };

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Node {
  NodeKind kind = NodeKind::kNumber;
  // kNumber: exact value when it fits in 128 bits, else only `approx`.
  std::optional<Rational> exact;
  long double approx = 0;
  bool decimal = false;  // written with a decimal point: compared at 6 decimal places
  bool percent = false;  // written as N\%: the value is N/100, `exact` holds N
  bool atomic = false;   // a bare (possibly negated) literal or integer fraction
  std::string text;      // symbol / constant / function name
  std::vector<NodePtr> kids;
  std::vector<RelOp> ops;
  bool left_open = false;
  bool right_open = false;
  size_t rows = 0;
  size_t cols = 0;
};

NodePtr make_number(Rational value, bool decimal, bool percent, bool atomic);
NodePtr make_inexact_number(long double value, bool decimal);
NodePtr make_symbol(std::string name);
NodePtr make_constant(std::string name);
NodePtr make_node(NodeKind kind, std::vector<NodePtr> kids);
NodePtr make_func(std::string name, std::vector<NodePtr> args);
NodePtr make_relation(std::vector<NodePtr> operands, std::vector<RelOp> ops);
NodePtr make_interval(NodePtr lo, NodePtr hi, bool left_open, bool right_open);

// A canonical printing used for structural equality (sympy's a == b) and reasons.
std::string to_string(const Node& node);

bool is_set_like(const Node& node);  // finite set, tuple, interval, union, reals, empty
bool is_relation(const Node& node);

}  // namespace scout::tasks::math

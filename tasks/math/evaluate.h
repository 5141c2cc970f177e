#pragma once
// Values of expression trees (internal): exact rationals where the arithmetic allows,
// otherwise complex long doubles, with free symbols bound to sample values.
#include <complex>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "tasks/math/expr.h"

namespace scout::tasks::math {

using Complex = std::complex<long double>;
using Bindings = std::map<std::string, long double>;

// Exact value of numbers combined by + - * / and integer powers; nullopt otherwise.
std::optional<Rational> exact_value(const Node& node);

// Numeric value; nullopt for unbound symbols, sets, NaN results or unsupported nodes.
// `binary64` rounds every literal and intermediate result to a double, which is how
// sympy Floats (15 digits) compute: 4.036*10^3 is then not exactly 4036.
std::optional<Complex> numeric_value(const Node& node, const Bindings& bindings = {}, bool binary64 = false);

// Whether a decimal literal (a sympy Float) occurs anywhere in the tree.
bool contains_decimal(const Node& node);

void collect_symbols(const Node& node, std::set<std::string>& out);

// Equality of two values at math-verify's precision (about 15 significant digits);
// infinities compare by sign.
bool values_close(Complex a, Complex b);

// Same value everywhere: exactly when both are exact, numerically when closed-form,
// and at a few fixed sample points when free symbols occur.
bool same_value(const Node& a, const Node& b);

// Whether a - k*b == 0 for one non-zero constant k at every sample point; `k_sign`
// receives the sign of k. Used to compare equations and inequalities.
bool proportional(const Node& a, const Node& b, int* k_sign);

}  // namespace scout::tasks::math

#pragma once
// String normalizations of the two reference MATH scorers, reproduced exactly:
//  - normalize_final_answer: Minerva (Lewkowycz et al. 2022, appendix D) as used by
//    lm-eval's minerva_math task;
//  - strip_string / hendrycks_is_equiv: the MATH paper's math_equivalence.py, which is
//    what "MATH-500-style" exact-string scoring uses.
#include <optional>
#include <string>
#include <string_view>

namespace scout::tasks::math {

// Minerva normalize_final_answer: keep the text after the last '=', apply the fixed
// substitutions and removals (units, \text{}, \ldots, ^\circ, ...), unwrap $..$, \text{},
// \textbf{}, \overline{}, \boxed{}, expand "\frac12"/"\sqrt2" shorthand, drop '$', and
// drop commas from digit strings ("100,000" -> "100000").
std::string normalize_final_answer(std::string_view final_answer);

// Hendrycks strip_string. nullopt where the Python reference raises (an "\sqrt" or
// "\frac" at the very end, or more than one "\text{ " unit marker); is_equiv then falls
// back to comparing the raw strings.
std::optional<std::string> strip_string(std::string_view answer);

// Hendrycks is_equiv: strip_string both and compare; raw equality if stripping raises.
// Either side missing (the reference's None) is not equivalent, both missing is.
bool hendrycks_is_equiv(std::optional<std::string_view> a, std::optional<std::string_view> b);

}  // namespace scout::tasks::math

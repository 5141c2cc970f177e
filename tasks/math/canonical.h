#pragma once
// Answer-string canonicalization before parsing (internal). Mirrors what math-verify's
// LaTeX normalization does to a boxed answer, so that our verdicts line up with it:
// last \boxed{} content, \left/\right and spacing commands dropped, \dfrac -> \frac,
// "and"/"or" -> ",", trailing \text{...} units and unit words dropped, "\frac12" and
// "\sqrt2" shorthand expanded, integer "a/b" -> \frac{a}{b}.
#include <string>
#include <string_view>

namespace scout::tasks::math {

std::string canonicalize_answer(std::string_view answer);

}  // namespace scout::tasks::math

// Unit tests for math answer extraction, the reference normalizations and equivalence.
// Expected normalization outputs were worked out by running the reference Python code
// (lm-eval minerva_math utils, hendrycks math_equivalence.py) on the same inputs.
#include <gtest/gtest.h>

#include "tasks/math/equivalence.h"
#include "tasks/math/extract.h"
#include "tasks/math/normalize.h"
#include "tasks/math/rational.h"

namespace scout::tasks::math {
namespace {

// ------------------------------------------------------------------ extractors

TEST(MathExtract, LastBoxedOnlyStringBalancesBraces) {
  EXPECT_EQ(last_boxed_only_string("so $\\boxed{\\frac{1}{2}}$."), "\\boxed{\\frac{1}{2}}");
  EXPECT_EQ(last_boxed_only_string("\\boxed{1} then \\boxed{2}"), "\\boxed{2}");
  EXPECT_EQ(last_boxed_only_string("only \\fbox{7} here"), "\\fbox{7}");
  EXPECT_EQ(last_boxed_only_string("no box"), std::nullopt);
  EXPECT_EQ(last_boxed_only_string("\\boxed{unclosed"), std::nullopt);
  // The spaced form wins wherever it occurs and stops at the next '$'.
  EXPECT_EQ(last_boxed_only_string("is $\\boxed 5$ and \\boxed{6}"), "\\boxed 5");
}

TEST(MathExtract, RemoveBoxedFollowsReferenceAssertions) {
  EXPECT_EQ(remove_boxed("\\boxed{\\frac{1}{2}}"), "\\frac{1}{2}");
  EXPECT_EQ(remove_boxed("\\boxed 5"), "5");
  EXPECT_EQ(remove_boxed("\\fbox{7}"), std::nullopt);  // the reference asserts on \fbox
}

TEST(MathExtract, LastBoxedContentTakesBoxedOrFbox) {
  EXPECT_EQ(extract_last_boxed("\\boxed{1} and \\fbox{ {2} }"), " {2} ");
  EXPECT_EQ(extract_last_boxed("\\fbox{1} and \\boxed {x^{2}}"), "x^{2}");
  EXPECT_EQ(extract_last_boxed("\\boxed{(1,2)"), std::nullopt);
  EXPECT_EQ(extract_last_boxed("nothing"), std::nullopt);
}

TEST(MathExtract, MinervaFinalAnswer) {
  EXPECT_EQ(extract_minerva_answer("work\nFinal Answer: The final answer is $\\frac{1}{2}$. I hope it is correct."),
            "$\\frac{1}{2}$");
  // Generation cut before "I hope it is correct." still matches: the reference appends
  // that sentence first. Without the ". " before it there is no match at all.
  EXPECT_EQ(extract_minerva_answer("Final Answer: The final answer is 7. "), "7");
  EXPECT_EQ(extract_minerva_answer("Final Answer: The final answer is 7"), std::nullopt);
  // First occurrence wins, as with re.search.
  EXPECT_EQ(extract_minerva_answer("Final Answer: The final answer is 1. I hope it is correct.\n"
                                   "Final Answer: The final answer is 2. I hope it is correct."),
            "1");
  EXPECT_EQ(extract_minerva_answer("The answer is 7."), std::nullopt);
}

TEST(MathExtract, AnswerLine) {
  const char* text = "Answer: restating the format\nwork...\nANSWER : 42 \nthe end";
  EXPECT_EQ(extract_answer_line(text), "42 ");
  EXPECT_EQ(extract_answer_line(text, Occurrence::kFirst), "restating the format");
  EXPECT_EQ(extract_answer_line("answer:\n  3/4"), "3/4");  // \s* crosses the newline
  EXPECT_EQ(extract_answer_line("no marker"), std::nullopt);
}

TEST(MathExtract, AimeInteger) {
  EXPECT_EQ(extract_aime_integer("so the answer is $\\boxed{025}$"), 25);
  EXPECT_EQ(extract_aime_integer("... \\boxed{\\text{ 70 }}"), 70);
  EXPECT_EQ(extract_aime_integer("Answer: $n = 588$."), 588);
  EXPECT_EQ(extract_aime_integer("Final Answer: The final answer is 1,000. I hope it is correct."), 1000);
  EXPECT_EQ(extract_aime_integer("we get 12 and then 204 total"), 204);
  EXPECT_EQ(extract_aime_integer("\\boxed{\\frac{1}{2}} but also 33"), 33);
  EXPECT_EQ(extract_aime_integer("no digits at all"), std::nullopt);
}

// ------------------------------------------------------------------ normalization

TEST(MathNormalize, MinervaNormalizeFinalAnswer) {
  EXPECT_EQ(normalize_final_answer("\\text{(A)}"), "(A)");
  EXPECT_EQ(normalize_final_answer("10\\text{ cm}"), "10");
  EXPECT_EQ(normalize_final_answer("x = \\frac12"), "\\frac{1}{2}");
  EXPECT_EQ(normalize_final_answer("\\$1,000"), "1000");
  EXPECT_EQ(normalize_final_answer("100,000"), "100000");
  EXPECT_EQ(normalize_final_answer("\\boxed{\\dfrac{3}{4}}"), "\\dfrac{3}{4}");
  EXPECT_EQ(normalize_final_answer("\\sqrt2+1"), "\\sqrt{2}+1");
  EXPECT_EQ(normalize_final_answer("$5$ dollars"), "5");
  EXPECT_EQ(normalize_final_answer("5^\\circ"), "5");
  EXPECT_EQ(normalize_final_answer("\\overline{3}"), "3");
  EXPECT_EQ(normalize_final_answer("\\textbf{yes}"), "yes");
  // Reference quirks kept on purpose: "a " and unit words vanish anywhere, and a list of
  // digits loses its commas.
  EXPECT_EQ(normalize_final_answer("a square of 9 units"), "of9");
  EXPECT_EQ(normalize_final_answer("1,2"), "12");
}

TEST(MathNormalize, HendrycksStripString) {
  EXPECT_EQ(strip_string("\\frac12"), "\\frac{1}{2}");
  EXPECT_EQ(strip_string("\\dfrac{3}{4}"), "\\frac{3}{4}");
  EXPECT_EQ(strip_string(" .5"), "\\frac{1}{2}");
  EXPECT_EQ(strip_string("k = 7"), "7");
  EXPECT_EQ(strip_string("abc = 7"), "abc=7");
  EXPECT_EQ(strip_string("\\left(1,2\\right)"), "(1,2)");
  EXPECT_EQ(strip_string("50\\%"), "50");
  EXPECT_EQ(strip_string("3/4"), "\\frac{3}{4}");
  EXPECT_EQ(strip_string("03/4"), "03/4");
  EXPECT_EQ(strip_string("10\\text{ cm}"), "10");
  EXPECT_EQ(strip_string("\\sqrt3"), "\\sqrt{3}");
  EXPECT_EQ(strip_string("\\$3.50"), "3.50");
  EXPECT_EQ(strip_string("90^\\circ"), "90");
  EXPECT_EQ(strip_string("\\frac1{72}"), "\\frac{1}{72}");
  EXPECT_EQ(strip_string("1\\\\2"), "1\\2");
  // Where the Python raises, is_equiv falls back to raw equality.
  EXPECT_EQ(strip_string("x\\sqrt"), std::nullopt);
  EXPECT_EQ(strip_string("a\\text{ b}\\text{ c}"), std::nullopt);
}

TEST(MathNormalize, HendrycksIsEquiv) {
  EXPECT_TRUE(hendrycks_is_equiv("\\frac12", "\\dfrac{1}{2}"));
  EXPECT_TRUE(hendrycks_is_equiv("0.5", "\\frac{1}{2}"));
  EXPECT_TRUE(hendrycks_is_equiv("x = 3", "3"));
  EXPECT_FALSE(hendrycks_is_equiv("1.5", "\\frac{3}{2}"));  // strings, not values
  EXPECT_TRUE(hendrycks_is_equiv("x\\sqrt", "x\\sqrt"));    // raises -> raw equality
  EXPECT_TRUE(hendrycks_is_equiv(std::nullopt, std::nullopt));
  EXPECT_FALSE(hendrycks_is_equiv("3", std::nullopt));
}

// ------------------------------------------------------------------ exact arithmetic

TEST(MathRational, ExactAndOverflowSafe) {
  auto half = Rational::from_decimal("0.5");
  ASSERT_TRUE(half);
  EXPECT_EQ(half->to_string(), "1/2");
  EXPECT_EQ(Rational::from_decimal("-.0000672")->to_string(), "-21/312500");
  EXPECT_EQ(Rational(2).pow(100)->to_string(), "1267650600228229401496703205376");
  EXPECT_FALSE(Rational(10).pow(40));  // does not fit: reported, not wrapped
  EXPECT_FALSE(Rational::make(1, 0));
  EXPECT_FALSE(Rational::from_decimal("123456789012345678901234567890123456789012"));
  EXPECT_TRUE(*Rational::make(1, 3) < *Rational::make(1, 2));
}

// ------------------------------------------------------------------ equivalence

struct Case {
  const char* gold;
  const char* pred;
  bool equivalent;
};

void expect_cases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    auto r = compare_answers(c.gold, c.pred);
    EXPECT_EQ(r.equivalent, c.equivalent) << "gold=" << c.gold << " pred=" << c.pred << " (" << r.reason
                                          << "; '" << r.gold_canonical << "' vs '" << r.predicted_canonical
                                          << "')";
  }
}

TEST(MathEquivalence, Numbers) {
  expect_cases({
      {"42", "42", true},          {"42", "42.0", true},          {"42", "042", true},
      {"42", "43", false},         {"-3", "- 3", true},           {"-3", "3", false},
      {"1,000", "1000", true},     {"10,\\!080", "10080", true},  {"58,500", "58.5", false},
      {".0000672", "6.72\\times10^{-5}", true},                   {"1.25", "\\frac{5}{4}", true},
      {"2^{10}", "1024", true},    {"2^{100}", "1267650600228229401496703205376", true},
      {"2^{100}", "2^{99}", false}, {"1500", "1.5\\times10^3", true}, {"1500", "1.5\\times10^4", false},
  });
}

TEST(MathEquivalence, FractionsAndMixedNumbers) {
  expect_cases({
      {"\\frac{1}{2}", "1/2", true},         {"\\frac12", "0.5", true},
      {"\\dfrac{3}{4}", "\\tfrac34", true},  {"-\\frac{1}{2}", "\\frac{-1}{2}", true},
      {"\\frac{14}{3}", "4\\frac{2}{3}", true}, {"3 \\frac{1}{2}", "3.5", true},
      {"\\frac{2}{3}", "\\frac{3}{2}", false},
  });
}

TEST(MathEquivalence, DecimalsCompareAtSixPlaces) {
  expect_cases({
      {"\\frac{1}{3}", "0.333333", true}, {"\\frac{1}{3}", "0.3333", false},
      {"\\frac{14}{3}", "4.666667", true}, {"\\frac{14}{3}", "4.67", false},
      {"\\sqrt2", "1.414214", true},      {"2\\pi", "6.283185", true},
      {"\\pi", "3.14159", false},  // rounds to 3.141593
  });
}

TEST(MathEquivalence, RadicalsPowersAndPi) {
  expect_cases({
      {"2\\sqrt{3}", "\\sqrt{12}", true},      {"\\sqrt[3]{8}", "2", true},
      {"\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", true}, {"3\\sqrt{13}", "13\\sqrt{3}", false},
      {"\\sqrt[3]{2}", "2^{1/3}", true},       {"-\\frac{\\pi}{6}", "-\\pi/6", true},
      {"\\frac{\\pi}{2}", "90^\\circ", false},  // degrees are not converted
  });
}

TEST(MathEquivalence, Percentages) {
  expect_cases({
      {"50\\%", "0.5", true},  {"50\\%", "50", true},  {"12.5\\%", "0.125", true},
      {"12.5\\%", "12.5", false}, {"25\\%", "\\frac{1}{4}", true}, {"20", "20 percent", true},
      {"25\\%", "26\\%", false},
  });
}

TEST(MathEquivalence, EquationsAndAssignments) {
  expect_cases({
      {"x=5", "5", true},   {"5", "x=5", true},   {"x=5", "y=5", false},
      {"y = 2x + 3", "2x+3", true}, {"y = 2x + 3", "y=2x-3", false},
      {"5x - 7y + 11z + 4 = 0", "-5x + 7y - 11z - 4 = 0", true},
      {"5x - 7y + 11z + 4 = 0", "10x - 14y + 22z + 8 = 0", true},
      {"x^2=4", "x=2", false},
  });
}

TEST(MathEquivalence, IntervalsSetsAndTuples) {
  expect_cases({
      {"(-\\infty, 3]", "(-\\infty,3)", false}, {"[1,2)", "[1, 2)", true},
      {"x \\in [-2,7]", "[-2,7]", true},       {"(0,9) \\cup (9,36)", "(9,36) \\cup (0,9)", true},
      {"(1,2)", "1 < x < 2", false},            {"1 < x < 2", "(1,2)", true},
      {"\\{1,2\\}", "\\{2,1\\}", true},         {"3, 5, 7", "7, 5, 3", true},
      {"3, 5, 7", "3, 5", false},               {"(1,2)", "(2,1)", false},
      {"(6,31,-1)", "(6,-1,31)", false},        {"\\left( \\frac{3}{2}, -13 \\right)", "(1.5, -13)", true},
      {"\\mathbb{R}", "(-\\infty,\\infty)", true},
  });
}

TEST(MathEquivalence, PlusMinusLists) {
  expect_cases({
      {"3 \\pm 2 \\sqrt{2}", "3-2\\sqrt{2}, 3+2\\sqrt{2}", true},
      {"3 \\pm 2 \\sqrt{2}", "3+2\\sqrt{2}", false},
      {"\\pm 2", "2, -2", true},
      {"\\{1\\pm\\sqrt{5},-2\\}", "-2, 1+\\sqrt{5}, 1-\\sqrt{5}", true},
  });
}

TEST(MathEquivalence, TextAndUnits) {
  expect_cases({
      {"\\text{Evelyn}", "evelyn", true}, {"\\text{(C)}", "C", true}, {"\\text{(C)}", "D", false},
      {"\\text{Navin}", "Nav", false},    {"10\\text{ cm}", "10", true}, {"864 \\mbox{ inches}^2", "864", true},
      {"\\$32,\\!348", "32348", true},    {"5", "5 feet", true},    {"30^\\circ", "30", true},
  });
}

TEST(MathEquivalence, ExpressionsMatricesAndComplex) {
  expect_cases({
      {"x^2+2x+1", "(x+1)^2", true}, {"x^2+2x+1", "(y+1)^2", false}, {"2k+2", "2(k+1)", true},
      {"\\cot x", "\\frac{\\cos x}{\\sin x}", true}, {"3R^2", "3r^2", true},
      {"\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}", true},
      {"\\begin{pmatrix} -7 \\\\ 16 \\\\ 5 \\end{pmatrix}", "(-7,16,5)", false},
      {"6+9i", "9i+6", true}, {"6+9i", "6-9i", false},
  });
}

TEST(MathEquivalence, ResultExplainsItself) {
  auto r = compare_answers("\\boxed{\\dfrac{1}{3}}", "0.333333");
  EXPECT_TRUE(r.equivalent);
  EXPECT_EQ(r.gold_canonical, "\\frac{1}{3}");
  EXPECT_EQ(r.reason, "equal at 6 decimal places");
  auto unparsed = compare_answers("\\text{see}^{\\weird}", "5");
  EXPECT_FALSE(unparsed.equivalent);
  EXPECT_FALSE(unparsed.gold_parsed);
  EXPECT_TRUE(equivalent("\\frac{1}{2}", "\\dfrac{1}{2}"));
}

}  // namespace
}  // namespace scout::tasks::math

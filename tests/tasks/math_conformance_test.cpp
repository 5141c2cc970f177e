// Agreement of our math equivalence with math-verify on a fixed corpus of (gold, predicted)
// pairs built from the real MATH-500 / MATH / AIME answers by scripts/math_conformance.py.
// Every disagreement is printed; docs/MATH-EQUIVALENCE.md explains each one.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/test_paths.h"
#include "tasks/math/equivalence.h"

namespace scout::tasks::math {
namespace {

struct Tally {
  int total = 0;
  int agree = 0;
};

TEST(MathConformance, AgreesWithMathVerifyOnCorpus) {
  auto path = scout::test::source_dir() / "tests" / "data" / "math" / "conformance.jsonl";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing " << path << " (run scripts/math_conformance.py)";
  Tally all;
  std::map<std::string, Tally> by_family;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto row = nlohmann::json::parse(line);
    std::string gold = row.at("gold");
    std::string pred = row.at("pred");
    bool expected = row.at("math_verify");
    EquivalenceResult ours = compare_answers(gold, pred);
    std::string category = row.at("category");
    std::string family = category.substr(0, category.find('/'));
    ++all.total;
    ++by_family[family].total;
    if (ours.equivalent == expected) {
      ++all.agree;
      ++by_family[family].agree;
      continue;
    }
    std::cout << "DISAGREE id=" << row.at("id").get<int>() << " [" << category << "] gold=" << gold
              << " pred=" << pred << " math-verify=" << expected << " ours=" << ours.equivalent
              << " (" << ours.reason << "; canonical '" << ours.gold_canonical << "' vs '"
              << ours.predicted_canonical << "')\n";
  }
  ASSERT_GE(all.total, 500);
  for (const auto& [family, tally] : by_family) {
    std::cout << "  " << family << ": " << tally.agree << "/" << tally.total << "\n";
  }
  double agreement = 100.0 * all.agree / all.total;
  std::cout << "agreement with math-verify: " << all.agree << "/" << all.total << " = " << agreement << "%\n";
  EXPECT_GE(agreement, 99.0);
}

}  // namespace
}  // namespace scout::tasks::math

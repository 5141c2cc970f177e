// Runs the C++ IFEval checkers over the reference-labelled corpus written by
// scripts/ifeval_conformance.py (lm-eval 0.4.13's checkers) and requires every strict and loose
// instruction verdict to agree.
#include <fstream>
#include <iostream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/test_paths.h"
#include "tasks/ifeval/ifeval.h"

namespace ifeval = scout::tasks::ifeval;
using nlohmann::json;

namespace {

std::string excerpt(const std::string& text) {
  std::string dumped = json(text).dump();
  return dumped.size() > 400 ? dumped.substr(0, 400) + "..." : dumped;
}

TEST(IfevalConformance, EveryVerdictMatchesTheReference) {
  std::ifstream in(scout::test::source_dir() / "tests" / "data" / "ifeval" / "conformance.jsonl");
  ASSERT_TRUE(in) << "missing tests/data/ifeval/conformance.jsonl (run scripts/ifeval_conformance.py)";
  std::size_t pairs = 0, verdicts = 0, disagreements = 0;
  std::string line;
  while (std::getline(in, line)) {
    json record = json::parse(line);
    ++pairs;
    ifeval::Row row = ifeval::parse_row(record["row"]);
    std::string response = record["response"].get<std::string>();
    ifeval::RowVerdict got = ifeval::evaluate(row, response);
    ASSERT_EQ(got.instructions.size(), record["strict"].size());
    for (std::size_t i = 0; i < got.instructions.size(); ++i) {
      bool want_strict = record["strict"][i].get<bool>();
      bool want_loose = record["loose"][i].get<bool>();
      verdicts += 2;
      if (got.instructions[i].strict == want_strict && got.instructions[i].loose == want_loose) continue;
      ++disagreements;
      ADD_FAILURE() << "pair " << record["id"] << " (" << record["group"].get<std::string>() << ") "
                    << got.instructions[i].id << " kwargs=" << record["row"]["kwargs"][i].dump()
                    << "\n  reference strict=" << want_strict << " loose=" << want_loose
                    << "\n  ours      strict=" << got.instructions[i].strict << " loose=" << got.instructions[i].loose
                    << "\n  response " << excerpt(response);
    }
  }
  std::cout << "[ifeval conformance] " << pairs << " pairs, " << verdicts << " verdicts, " << disagreements
            << " disagreements\n";
  EXPECT_GE(pairs, 1500u);
  EXPECT_EQ(disagreements, 0u);
}

}  // namespace

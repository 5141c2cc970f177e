// The evaluation commands through the scout-eval binary: run --suite quick (fake backend),
// report (Markdown + self-contained HTML with the card table and inline SVG), score --json,
// rescore --json and tasks.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "task_test_helpers.h"

namespace scout::tasks {
namespace {

std::filesystem::path exe() { return std::filesystem::path(SCOUT_BINARY_DIR) / "cli" / "scout-eval"; }

// Runs a shell command line, returns (exit status, stdout).
std::pair<int, std::string> sh(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>/dev/null").c_str(), "r");
  if (!p) return {-1, ""};
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

struct CliTest : ::testing::Test {
  void SetUp() override {
    if (!std::filesystem::exists(exe())) GTEST_SKIP() << "scout-eval not built";
    if (!std::filesystem::exists(test::datasets_dir() / "bbh")) GTEST_SKIP() << "no data sets";
  }
  std::string data() const { return " --data-dir " + test::datasets_dir().string(); }
};

TEST_F(CliTest, QuickSuiteThenReport) {
  const auto dir = test::scratch_dir("cli_quick");
  std::ofstream(dir / "fake.json") << R"({"default": "hash"})";
  const auto db = (dir / "r.db").string();
  const auto [rc, out] = sh(exe().string() + " run --suite quick --no-progress --fake-backend " + (dir / "fake.json").string() +
                            " --db " + db + data() + " --output-json " + (dir / "results.json").string());
  ASSERT_EQ(rc, 0) << out;
  for (const char* task : {"mmlu_pro", "gpqa_diamond", "bbh", "musr", "math500", "math_hard", "aime25", "ifeval"})
    EXPECT_NE(out.find(task), std::string::npos) << task;
  const auto results = nlohmann::json::parse(slurp(dir / "results.json"));
  EXPECT_TRUE(results["results"]["bbh"].contains("acc_norm_normalized,none"));
  EXPECT_EQ(results["n-samples"]["bbh"]["effective"], 24);
  EXPECT_EQ(results["n-shot"]["math_hard"], 4);

  ASSERT_EQ(sh(exe().string() + " report --db " + db + " --out " + dir.string()).first, 0);
  const std::string md = slurp(dir / "report.md"), html = slurp(dir / "report.html");
  for (const char* bench : {"Arena Elo", "MATH-500", "MMLU-Pro", "GPQA Diamond", "GPQA", "IFEval", "BBH", "MATH", "MuSR",
                            "AIME", "AA Math", "HLE"}) {
    EXPECT_NE(md.find(std::string("| ") + bench + " |"), std::string::npos) << bench;
    EXPECT_NE(html.find(std::string("<tr><td>") + bench + "</td>"), std::string::npos) << bench;
  }
  EXPECT_NE(md.find("not yet available"), std::string::npos);  // e.g. LiveCodeBench
  EXPECT_NE(md.find("(subset)"), std::string::npos);
  EXPECT_NE(md.find("## Task details"), std::string::npos);
  EXPECT_NE(md.find("failure:"), std::string::npos);
  // Self-contained: no scripts or external resources; tags balanced; plots inline.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  // (Text is escaped, so a raw quote or '<' can only come from the report's own markup.)
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src=\""), std::string::npos);
  EXPECT_GE(count(html, "<svg"), 2u);
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  EXPECT_EQ(count(html, "<table"), count(html, "</table>"));
  EXPECT_EQ(count(html, "<details"), count(html, "</details>"));
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
}

TEST_F(CliTest, ScoreJsonAndRescoreJson) {
  const auto dir = test::scratch_dir("cli_score");
  std::ofstream(dir / "p.jsonl") << "{\"doc_id\": \"test/precalculus/807.json\", \"response\": \"\\\\boxed{(3,\\\\frac{\\\\pi}{2})}\"}\n";
  const auto [rc, out] = sh(exe().string() + " score --task math500 --predictions " + (dir / "p.jsonl").string() + " --json" + data());
  ASSERT_EQ(rc, 0);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["n"], 1);
  EXPECT_EQ(j["metrics"]["exact_match"], 1.0);
  EXPECT_EQ(j["samples"][0]["doc_id"], "test/precalculus/807.json");
  EXPECT_EQ(j["samples"][0]["score"], 1.0);
  EXPECT_NE(sh(exe().string() + " score --task math500 --protocol nope --predictions " + (dir / "p.jsonl").string() + data()).first, 0);

  std::ofstream(dir / "fake.json") << R"({"default": "Answer: A"})";
  const auto db = (dir / "r.db").string();
  ASSERT_EQ(sh(exe().string() + " run --tasks gpqa_diamond@simple-evals --limit 3 --no-progress --fake-backend " +
               (dir / "fake.json").string() + " --db " + db + data()).first, 0);
  const auto [rc2, out2] = sh(exe().string() + " rescore 1 --json --db " + db + data());
  ASSERT_EQ(rc2, 0);
  const auto r = nlohmann::json::parse(out2);
  EXPECT_EQ(r["n"], 12);  // 3 questions x 4 repeats
  EXPECT_EQ(r["samples"].size(), 12u);
  EXPECT_TRUE(r["metrics"]["gpqa_diamond"].contains("exact_match"));
  EXPECT_EQ(r["tasks"][0]["changed"], 0);
}

TEST_F(CliTest, TasksListsEveryProtocolAndSuite) {
  const auto [rc, out] = sh(exe().string() + " tasks --json");
  ASSERT_EQ(rc, 0);
  const auto j = nlohmann::json::parse(out);
  EXPECT_TRUE(j["tasks"]["gpqa_diamond"].contains("simple-evals"));
  EXPECT_TRUE(j["tasks"]["bbh"].contains("bbh-paper-cot"));
  EXPECT_TRUE(j["suites"].contains("card"));
}

}  // namespace
}  // namespace scout::tasks

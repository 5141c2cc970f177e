// CSV, record formats, SOURCE.md checksums, zip entries (plain and encrypted) and DataDir.
#include <gtest/gtest.h>

#include <fstream>

#include "common/test_paths.h"
#include "engine/util/error.h"
#include "harness/data/csv.h"
#include "harness/data/dataset_files.h"

namespace scout::harness {
namespace {

void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

TEST(Csv, QuotesCommasNewlinesAndDoubledQuotes) {
  const auto rows = parse_csv("a,b,c\r\n1,\"x, y\",\"line1\nline2\"\n2,\"say \"\"hi\"\"\",\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "x, y", "line1\nline2"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"2", "say \"hi\"", ""}));
}

TEST(Csv, RecordsKeyedByHeaderAndErrors) {
  const auto recs = csv_records("q,a\nwhat,42\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["q"], "what");
  EXPECT_EQ(recs[0]["a"], "42");
  EXPECT_THROW(parse_csv("a\n\"open"), Error);
  EXPECT_THROW(csv_records("a\n1,2\n"), Error);
}

TEST(Records, JsonListObjectAndJsonl) {
  EXPECT_EQ(parse_records("[{\"x\":1}]", "f.json").size(), 1u);
  EXPECT_EQ(parse_records("{\"split\":\"t\",\"examples\":[{\"x\":1},{\"x\":2}]}", "f.json").size(), 2u);
  EXPECT_EQ(parse_records("{\"x\":1}\n\n{\"x\":2}\n", "f.jsonl").size(), 2u);
  EXPECT_EQ(parse_records("\xEF\xBB\xBFq\nz\n", "f.csv")[0]["q"], "z");  // BOM dropped
  EXPECT_THROW(parse_records("{\"x\":1}", "f.json"), Error);
  EXPECT_THROW(parse_records("{}\n{oops\n", "f.jsonl"), Error);
  EXPECT_THROW(parse_records("x", "f.parquet"), Error);
}

TEST(SourceChecksums, ParsesTablesWithAndWithoutBackticks) {
  const auto sums = parse_source_checksums(
      "# T\n| file | bytes | sha256 |\n| --- | --- | --- |\n"
      "| `a/b.json` | 1 | `" + std::string(64, 'A') + "` |\n| c.json | 2 | " + std::string(64, 'b') + " |\n| x | y | z |\n");
  ASSERT_EQ(sums.size(), 2u);
  EXPECT_EQ(sums.at("a/b.json"), std::string(64, 'a'));  // lowercased
  EXPECT_EQ(sums.at("c.json"), std::string(64, 'b'));
}

TEST(DataDir, VerifiesListedFilesAndRejectsChangedOnes) {
  const auto dir = test::scratch_dir("datadir_verify");
  write(dir / "ds" / "ok.jsonl", "{\"x\":1}\n");
  write(dir / "ds" / "bad.jsonl", "{\"x\":2}\n");
  write(dir / "ds" / "free.jsonl", "{\"x\":3}\n");
  // sha256("{\"x\":1}\n") — computed with sha256sum.
  const std::string ok = "bb157861a164e35cdde9d726b0af9ce2765a8f530c35d9e45732b94ee65e9557";
  write(dir / "ds" / "SOURCE.md", "| `ok.jsonl` | 8 | `" + ok + "` |\n| `bad.jsonl` | 8 | `" + std::string(64, '0') + "` |\n");
  DataDir data(dir);
  const auto recs = data.records("ds/free.jsonl");
  EXPECT_EQ(recs[0]["x"], 3);
  EXPECT_THROW(data.read("ds/bad.jsonl"), Error);
  DataDir unverified(dir, false);
  EXPECT_NO_THROW(unverified.read("ds/bad.jsonl"));
  ASSERT_EQ(data.provenance().size(), 1u);
  EXPECT_FALSE(data.provenance()[0]["verified"].get<bool>());  // free.jsonl is not listed
}

TEST(DataDir, FirstExistingAndMissingFiles) {
  const auto dir = test::scratch_dir("datadir_find");
  write(dir / "b.json", "[]");
  DataDir data(dir);
  EXPECT_EQ(data.first_existing({"a.json", "b.json"}), std::filesystem::path("b.json"));
  EXPECT_EQ(data.first_existing({"a.json"}), std::nullopt);
  EXPECT_THROW(data.read("a.json"), Error);
}

TEST(Zip, EncryptedGpqaEntryReadInMemoryWithThePublishedPassword) {
  const auto zip = test::datasets_dir() / "gpqa" / "dataset.zip";
  if (!std::filesystem::exists(zip)) GTEST_SKIP() << "no GPQA zip at " << zip;
  const auto names = zip_entries(zip);
  EXPECT_NE(std::find(names.begin(), names.end(), "dataset/gpqa_diamond.csv"), names.end());
  EXPECT_THROW(read_zip_entry(zip, "dataset/gpqa_diamond.csv"), Error);  // no password
  EXPECT_THROW(read_zip_entry(zip, "dataset/gpqa_diamond.csv", "wrong-password"), Error);
  EXPECT_THROW(read_zip_entry(zip, "dataset/nope.csv", "x"), Error);
  const std::string csv = read_zip_entry(zip, "dataset/gpqa_diamond.csv", "deserted-untie-orchid");
  EXPECT_EQ(csv_records(csv).size(), 198u);  // SOURCE.md: diamond 198 rows
}

TEST(Zip, VerifiedThroughDataDir) {
  const auto root = test::datasets_dir();
  if (!std::filesystem::exists(root / "mmlu_pro" / "local_250825.zip")) GTEST_SKIP() << "no MMLU-Pro zip";
  DataDir data(root);
  const auto val = data.records("mmlu_pro/local_250825.zip", "local_250825/mmlu_pro_val_data.json");
  EXPECT_EQ(val.size(), 70u);
  ASSERT_EQ(data.provenance().size(), 1u);
  EXPECT_TRUE(data.provenance()[0]["verified"].get<bool>());
  EXPECT_EQ(data.provenance()[0]["sha256"], "fe6af82233b1b47607b4ccbbcb8d2f339730810b6750def20809a49639d5cfb7");
}

}  // namespace
}  // namespace scout::harness

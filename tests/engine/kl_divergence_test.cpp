// llama-perplexity's KL-divergence definitions (engine/eval) against values computed by hand
// (the expected numbers come from the closed forms in the comments, evaluated in double with
// Python's math module), and the base-logits file round trip and its error messages.
// Agreement with llama.cpp itself on real models is tests/py/test_compare_quant.py.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "common/test_paths.h"
#include "engine/eval/base_logits.h"
#include "engine/eval/kl_divergence.h"
#include "engine/util/error.h"

namespace scout::eval {
namespace {

std::vector<uint16_t> pack(const std::vector<float>& logits, int32_t target, double* nll = nullptr) {
  std::vector<uint16_t> row(packed_row_words(int64_t(logits.size())));
  const double v = pack_log_probs(logits, target, row);
  if (nll) *nll = v;
  return row;
}

float row_float(const std::vector<uint16_t>& row, int k) {
  float f;
  std::memcpy(&f, row.data() + 2 * k, sizeof f);
  return f;
}

TEST(KlDivergence, ChunkingFollowsLlamaPerplexity) {
  EXPECT_EQ(first_scored(512), 256);
  EXPECT_EQ(scored_per_chunk(512), 255);  // positions 256..510 predict tokens 257..511
  EXPECT_EQ(scored_per_chunk(5), 2);      // first 2: positions 2, 3
  EXPECT_EQ(chunk_count(10, 4, 0), 2);    // the 2 leftover tokens are not used
  EXPECT_EQ(chunk_count(10, 4, 1), 1);
  EXPECT_EQ(chunk_count(10, 4, 7), 2);
  EXPECT_EQ(chunk_count(3, 4, 0), 0);
  EXPECT_THROW(chunk_count(10, 1, 0), Error);

  std::vector<int32_t> tokens(10);
  std::iota(tokens.begin(), tokens.end(), 0);
  EXPECT_EQ(chunk_input(tokens, 4, 1, 99), (std::vector<int32_t>{99, 5, 6, 7}));
  EXPECT_EQ(chunk_input(tokens, 4, 1, std::nullopt), (std::vector<int32_t>{4, 5, 6, 7}));
  EXPECT_THROW(chunk_input(tokens, 4, 2, std::nullopt), Error);
}

TEST(KlDivergence, PackedRowLayout) {
  EXPECT_EQ(packed_row_words(3), 8u);   // 4 + 3 rounded up to 4
  EXPECT_EQ(packed_row_words(4), 8u);
  EXPECT_EQ(packed_row_words(49152), 49156u);

  // logits {0, 1, 4}: max 4, min 0, lse = log(1 + e^-3 + e^-4) = 0.06588390375742911.
  double nll = 0;
  const auto row = pack({0.f, 1.f, 4.f}, 1, &nll);
  EXPECT_FLOAT_EQ(row_float(row, 0), 4.f / 65535.f);                  // scale
  EXPECT_NEAR(row_float(row, 1), -4 - 0.06588390375742911, 1e-6);   // log-prob of the minimum
  EXPECT_EQ(row[4], 0);       // the minimum itself
  EXPECT_EQ(row[5], 16384);   // 1 * 65535/4 = 16383.75, rounded
  EXPECT_EQ(row[6], 65535);   // the maximum
  EXPECT_EQ(row[7], 0);       // padding
  EXPECT_NEAR(nll, 4 + 0.06588390375742911 - 1, 1e-6);
  EXPECT_NEAR(packed_log_prob(row, 2), -0.06588390375742911, 1e-6);
  EXPECT_NEAR(packed_log_prob(row, 1), 1 - 4 - 0.06588390375742911, 4.f / 65535.f);

  // Logits more than 16 below the maximum are clamped to max - 16 (word 0).
  const auto clipped = pack({0.f, 20.f, 25.f}, 2);
  EXPECT_FLOAT_EQ(row_float(clipped, 0), 16.f / 65535.f);
  EXPECT_EQ(clipped[4], 0);
  EXPECT_EQ(clipped[5], 45055);  // 11 * 65535/16 = 45055.3125

  // All logits equal: scale 0, every word 0, log-prob -log n.
  const auto flat = pack({2.f, 2.f, 2.f, 2.f}, 0);
  EXPECT_EQ(row_float(flat, 0), 0.f);
  EXPECT_NEAR(packed_log_prob(flat, 3), -std::log(4.0), 1e-6);

  std::vector<uint16_t> short_row(7);
  EXPECT_THROW(pack_log_probs(std::vector<float>{0.f, 1.f, 2.f}, 0, short_row), Error);
  EXPECT_THROW(pack({0.f, 1.f}, 2), Error);
}

TEST(KlDivergence, IdenticalModelsGiveZero) {
  const std::vector<float> logits = {0.3f, -1.2f, 2.5f, 0.0f, 1.7f, -3.0f};
  const auto row = pack(logits, 4);
  const PositionStats s = compare_position(logits, row, 4);
  // Not exactly 0: the base log-probs carry the 16-bit rounding, up to half a step of
  // (max - min) / 65535 = 5.5 / 65535 each, so the sum can even be slightly negative.
  EXPECT_NEAR(s.kld, 0.0, 5.5 / 65535);
  EXPECT_TRUE(s.same_top);
  EXPECT_NEAR(s.p_diff, 0.f, 1e-5);
  EXPECT_NEAR(s.nll, s.nll_base, 1e-4);
}

TEST(KlDivergence, KnownPair) {
  // Base p = softmax(0, 1, 2), test q uniform over 3:
  //   KLD = sum p log p + log 3 = 0.2662167068281709
  //   nll(test, target 2) = log 3; nll(base) = log(1 + e + e^2) - 2 = 0.40760596444438
  //   p_diff = 1/3 - p_2 = -0.3319076224414886; top-1: test 0 (first of equal), base 2.
  const auto row = pack({0.f, 1.f, 2.f}, 2);
  const PositionStats s = compare_position(std::vector<float>{0.f, 0.f, 0.f}, row, 2);
  EXPECT_NEAR(s.kld, 0.2662167068281709, 1e-4);
  EXPECT_NEAR(s.nll, std::log(3.0), 1e-6);
  EXPECT_NEAR(s.nll_base, 0.40760596444438, 1e-4);
  EXPECT_NEAR(s.p_diff, -0.3319076224414886, 1e-4);
  EXPECT_FALSE(s.same_top);

  // Swapped roles give another number (the divergence is not symmetric):
  //   KL(q || p) = sum_i (1/3) (log(1/3) - log p_i) = -log 3 + log(1 + e + e^2) - 1
  const auto uniform = pack({0.f, 0.f, 0.f}, 0);
  const PositionStats r = compare_position(std::vector<float>{0.f, 1.f, 2.f}, uniform, 0);
  EXPECT_NEAR(r.kld, -std::log(3.0) + std::log(1 + std::exp(1.0) + std::exp(2.0)) - 1, 1e-4);
}

TEST(KlDivergence, BaseProbabilitiesBelowMinus16AreSkipped) {
  // Base: token 0 at 30, 100000 tokens at 14 (= max - 16, stored as word 0 with log-prob
  // -16 - lse, lse = log(1 + 1e5 e^-16) = 0.01119066772510923). Only token 0 counts:
  //   KLD = p0 (log p0 + log(100001)) = 11.373750101704271 against a uniform test;
  // with the skipped tokens it would be 11.3237, so the cut is visible.
  std::vector<float> base(100001, 14.f);
  base[0] = 30.f;
  const auto row = pack(base, 0);
  const std::vector<float> test(100001, 0.f);
  const PositionStats s = compare_position(test, row, 0);
  EXPECT_NEAR(s.kld, 11.373750101704271, 1e-3);
  EXPECT_NEAR(s.nll_base, 0.01119066772510923, 1e-4);
}

TEST(KlDivergence, PercentilesInterpolateAsLlamaCpp) {
  std::vector<float> v(10);
  std::iota(v.begin(), v.end(), 1.f);  // 1..10
  EXPECT_FLOAT_EQ(median_sorted(v), 5.5f);
  EXPECT_NEAR(percentile_sorted(v, 0.9f), 9.1f, 1e-5);    // at 0.9 * 9 = 8.1
  EXPECT_NEAR(percentile_sorted(v, 0.99f), 9.91f, 1e-5);  // at 8.91
  EXPECT_NEAR(percentile_sorted(v, 0.25f), 3.25f, 1e-5);  // at 2.25
  EXPECT_FLOAT_EQ(percentile_sorted(v, 0.f), 1.f);
  EXPECT_FLOAT_EQ(percentile_sorted(v, 1.f), 10.f);
  EXPECT_FLOAT_EQ(median_sorted(std::vector<float>{1.f, 2.f, 7.f}), 2.f);
  EXPECT_THROW(median_sorted(std::vector<float>{}), Error);
}

TEST(KlDivergence, MeanAndStandardError) {
  // 1..20: mean 10.5, population variance (20^2 - 1)/12 = 33.25, stderr sqrt(33.25/19).
  double sum = 0, sum2 = 0;
  for (int i = 1; i <= 20; ++i) sum += i, sum2 += i * i;
  const Estimate e = mean_and_stderr(sum, sum2, 20);
  EXPECT_DOUBLE_EQ(e.value, 10.5);
  EXPECT_NEAR(e.err, std::sqrt(33.25 / 19), 1e-12);
  EXPECT_NEAR(covariance_of_means(sum, sum, sum2, 20), 33.25 / 19, 1e-12);
  // Too few values for an error (llama.cpp: more than 10), or for a covariance (10 or more).
  EXPECT_EQ(mean_and_stderr(55, 385, 10).err, 0.0);
  EXPECT_EQ(covariance_of_means(45, 45, 285, 9), 0.0);
  EXPECT_EQ(mean_and_stderr(0, 0, 0).value, 0.0);
}

TEST(KlDivergence, SummaryOfKnownPositions) {
  // 20 positions: nll = 1 + 0.1 i, nll_base = 1 (all i), kld = 0.01 i, p_diff = ±0.1 (even i
  // positive), the top token agrees on 15 of 20.
  KldAccumulator acc;
  for (int i = 0; i < 20; ++i) {
    PositionStats s;
    s.nll = 1.f + 0.1f * float(i);
    s.nll_base = 1.f;
    s.kld = 0.01 * i;
    s.p_diff = i % 2 == 0 ? 0.1f : -0.1f;
    s.same_top = i < 15;
    acc.add(s);
  }
  const KldSummary r = acc.summary();
  EXPECT_EQ(r.count, 20);
  EXPECT_NEAR(r.ppl_test.value, std::exp(1.95), 1e-5);  // mean nll 1 + 0.1 * 9.5
  EXPECT_NEAR(r.ppl_base.value, std::exp(1.0), 1e-6);
  EXPECT_NEAR(r.ppl_ratio.value, std::exp(0.95), 1e-5);
  // stderr of mean nll: 0.1 * sqrt(33.25/19); PPL's is PPL times that.
  EXPECT_NEAR(r.ppl_test.err, std::exp(1.95) * 0.1 * std::sqrt(33.25 / 19), 1e-4);
  EXPECT_NEAR(r.ppl_base.err, 0.0, 1e-6);
  EXPECT_NEAR(r.kld_mean.value, 0.095, 1e-12);
  EXPECT_NEAR(r.kld_mean.err, 0.01 * std::sqrt(33.25 / 19), 1e-9);
  EXPECT_NEAR(r.kld.median, 0.095, 1e-7);  // (0.09 + 0.10) / 2
  EXPECT_NEAR(r.kld.max, 0.19, 1e-7);
  EXPECT_NEAR(r.kld.p90, 0.171, 1e-6);      // at 0.9 * 19 = 17.1
  EXPECT_NEAR(r.kld.p99, 0.1881, 1e-6);     // at 18.81
  EXPECT_NEAR(r.p_diff_mean.value, 0.0, 1e-7);
  EXPECT_NEAR(r.p_diff_rms.value, 0.1, 1e-7);
  EXPECT_NEAR(r.p_diff.min, -0.1, 1e-7);
  EXPECT_NEAR(r.same_top.value, 0.75, 1e-12);
  EXPECT_NEAR(r.same_top.err, std::sqrt(0.75 * 0.25 / 19), 1e-12);
  EXPECT_THROW(KldAccumulator{}.summary(), Error);
}

BaseLogitsHeader small_header() {
  BaseLogitsHeader h;
  h.n_ctx = 6;
  h.n_vocab = 3;
  h.n_chunk = 2;
  h.tokens = {1, 2, 0, 1, 2, 0, 2, 2, 1, 0, 0, 1};
  return h;
}

TEST(BaseLogitsFile, RoundTripInLlamaCppLayout) {
  const auto dir = test::scratch_dir("base_logits_roundtrip");
  const std::string path = (dir / "base.kld").string();
  const BaseLogitsHeader h = small_header();
  ASSERT_EQ(h.chunk_words(), 2u * 8u);  // 6 - 1 - 3 = 2 scored positions of 8 words
  std::vector<uint16_t> c0(h.chunk_words()), c1(h.chunk_words());
  std::iota(c0.begin(), c0.end(), uint16_t(100));
  std::iota(c1.begin(), c1.end(), uint16_t(7000));
  {
    BaseLogitsWriter w(path, h);
    w.write_chunk(c0);
    EXPECT_THROW(w.finish(), Error);  // one chunk missing
    w.write_chunk(c1);
    EXPECT_THROW(w.write_chunk(c1), Error);
    w.finish();
  }
  // Byte layout: magic, three int32, the tokens, then the rows.
  ASSERT_EQ(std::filesystem::file_size(path), 8 + 12 + 12 * 4 + 2 * 16 * 2u);
  std::ifstream raw(path, std::ios::binary);
  char magic[8];
  int32_t fields[3];
  raw.read(magic, 8);
  raw.read(reinterpret_cast<char*>(fields), sizeof fields);
  EXPECT_EQ(std::string(magic, 8), "_logits_");
  EXPECT_EQ(fields[0], 6);
  EXPECT_EQ(fields[1], 3);
  EXPECT_EQ(fields[2], 2);

  BaseLogitsReader r(path);
  EXPECT_EQ(r.header().tokens, h.tokens);
  std::vector<uint16_t> got;
  r.read_chunk(got);
  EXPECT_EQ(got, c0);
  r.read_chunk(got);
  EXPECT_EQ(got, c1);
  EXPECT_THROW(r.read_chunk(got), Error);
}

TEST(BaseLogitsFile, UnfinishedWriterLeavesNothing) {
  const auto dir = test::scratch_dir("base_logits_unfinished");
  const std::string path = (dir / "base.kld").string();
  { BaseLogitsWriter w(path, small_header()); }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

std::string error_of(const std::string& path) {
  try {
    BaseLogitsReader r(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(BaseLogitsFile, BadFilesAreNamed) {
  const auto dir = test::scratch_dir("base_logits_bad");
  const std::string missing = (dir / "missing.kld").string();
  EXPECT_NE(error_of(missing).find("missing.kld"), std::string::npos);

  const std::string text = (dir / "text.kld").string();
  std::ofstream(text) << "not a logits file at all";
  EXPECT_NE(error_of(text).find("_logits_"), std::string::npos);

  const std::string good = (dir / "good.kld").string();
  const BaseLogitsHeader h = small_header();
  {
    BaseLogitsWriter w(good, h);
    std::vector<uint16_t> rows(h.chunk_words());
    w.write_chunk(rows);
    w.write_chunk(rows);
    w.finish();
  }
  const std::string cut = (dir / "cut.kld").string();
  std::filesystem::copy_file(good, cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(good) - 2);
  const std::string msg = error_of(cut);
  EXPECT_NE(msg.find("cut.kld"), std::string::npos);
  EXPECT_NE(msg.find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace scout::eval

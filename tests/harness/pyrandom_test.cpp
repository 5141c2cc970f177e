// PyRandom against CPython's random module. Expected values were printed by Python 3.11:
//   r = random.Random(0); [r.getrandbits(32) for _ in range(3)], [r.random() for _ in range(2)]
// and likewise for each case below.
#include <gtest/gtest.h>

#include "harness/data/pyrandom.h"

namespace scout::harness {
namespace {

TEST(PyRandom, SeedZeroStreamMatchesCPython) {
  PyRandom r(0);
  EXPECT_EQ(r.getrandbits(32), 3626764237u);
  EXPECT_EQ(r.getrandbits(32), 1654615998u);
  EXPECT_EQ(r.getrandbits(32), 3255389356u);
  EXPECT_DOUBLE_EQ(r.random(), 0.890243920837131);
  EXPECT_DOUBLE_EQ(r.random(), 0.04048437818077755);
}

TEST(PyRandom, RandomOfSeedZeroIsTheFamousValue) {
  PyRandom r(0);
  EXPECT_DOUBLE_EQ(r.random(), 0.8444218515250481);
}

TEST(PyRandom, SampleOfFourAsSimpleEvalsDrawsThem) {
  PyRandom r(0);  // rng.sample(range(4), 4) per example
  const std::vector<std::vector<int64_t>> want = {{3, 1, 0, 2}, {3, 1, 2, 0}, {2, 3, 0, 1}, {2, 0, 3, 1}};
  for (const auto& w : want) EXPECT_EQ(r.sample(4, 4), w);
}

TEST(PyRandom, SampleFromLargePopulationUsesTheSetBranch) {
  PyRandom r(3);  // n = 100 > setsize: the rejection branch
  EXPECT_EQ(r.sample(100, 7), (std::vector<int64_t>{30, 75, 69, 16, 47, 77, 60}));
}

TEST(PyRandom, ShuffleMatchesCPython) {
  PyRandom r(42);
  EXPECT_EQ(r.shuffle_indices(10), (std::vector<int64_t>{7, 3, 2, 8, 5, 6, 9, 4, 0, 1}));
  PyRandom s(0);  // the lm-eval leaderboard GPQA stream: random.seed(0), shuffle per doc
  EXPECT_EQ(s.shuffle_indices(4), (std::vector<int64_t>{2, 0, 1, 3}));
  EXPECT_EQ(s.shuffle_indices(4), (std::vector<int64_t>{0, 1, 3, 2}));
  EXPECT_EQ(s.shuffle_indices(4), (std::vector<int64_t>{0, 2, 1, 3}));
}

TEST(PyRandom, RandbelowAndMultiWordSeeds) {
  PyRandom r(7);  // randrange(1000) is _randbelow(1000)
  for (uint64_t want : {331u, 970u, 154u, 404u, 666u}) EXPECT_EQ(r.randbelow(1000), want);
  PyRandom big((uint64_t(1) << 40) + 5);  // a two-word init_by_array key
  EXPECT_DOUBLE_EQ(big.random(), 0.5043802970418443);
}

TEST(PyRandom, RejectsOutOfRangeArguments) {
  PyRandom r(1);
  EXPECT_THROW(r.getrandbits(0), std::exception);
  EXPECT_THROW(r.getrandbits(33), std::exception);
  EXPECT_THROW(r.randbelow(0), std::exception);
  EXPECT_THROW(r.sample(3, 4), std::exception);
}

// The calls langdetect makes (tasks/ifeval/langdetect.cpp), gauss included.
TEST(PyRandom, RandomGaussRandbelowAsLangdetectUsesThem) {
  // random.Random(0): .random() x3, then .gauss(0, 1) x3, then _randbelow(10) x5 and getrandbits(32).
  PyRandom r(0);
  EXPECT_DOUBLE_EQ(r.random(), 0.8444218515250481);
  EXPECT_DOUBLE_EQ(r.random(), 0.7579544029403025);
  EXPECT_DOUBLE_EQ(r.random(), 0.420571580830845);
  PyRandom g(0);
  EXPECT_DOUBLE_EQ(g.gauss(0, 1), 0.9417154046806644);
  EXPECT_DOUBLE_EQ(g.gauss(0, 1), -1.3965781047011498);
  EXPECT_DOUBLE_EQ(g.gauss(0, 1), -0.6797144480784211);
  PyRandom b(0);
  for (std::size_t want : {6u, 6u, 0u, 4u, 8u}) EXPECT_EQ(b.randbelow(10), want);
  EXPECT_EQ(b.getrandbits(32), 2087043557u);
}

}  // namespace
}  // namespace scout::harness

#pragma once
// Python's `random.Random`, bit for bit, for the parts published evaluation code uses to
// order answer choices and split data sets: seeding from an int, random(), getrandbits(k<=32),
// randbelow, shuffle and sample. It is the Mersenne Twister MT19937 with CPython's
// init_by_array seeding, so `PyRandom(0).sample(4, 4)` gives exactly what
// `random.Random(0).sample(range(4), 4)` gives in Python 3.
//
// Used by: simple-evals GPQA (a choice permutation per example from Random(0)), the Open LLM
// Leaderboard GPQA (random.shuffle after random.seed(0)), and restoring the Hugging Face order
// of the MuSR copy (shuffled with Random(42)).
#include <array>
#include <cstddef>
#include <utility>
#include <cstdint>
#include <optional>
#include <vector>

namespace scout::harness {

class PyRandom {
 public:
  // random.Random(seed) / random.seed(seed) for a non-negative int that fits in 64 bits.
  explicit PyRandom(uint64_t seed);

  uint32_t genrand_uint32();
  double random();                  // [0, 1), 53 bits, as random.random()
  uint32_t getrandbits(int k);      // 1 <= k <= 32
  uint64_t randbelow(uint64_t n);   // [0, n), n >= 1 and < 2^32, rejection sampling as CPython

  // random.shuffle(x) of a list of length n, returned as the permutation of indices 0..n-1
  // (result[i] is the original index now at position i).
  std::vector<int64_t> shuffle_indices(int64_t n);
  template <class T>
  void shuffle(std::vector<T>& x) {
    for (int64_t i = int64_t(x.size()) - 1; i > 0; --i) std::swap(x[size_t(i)], x[size_t(randbelow(uint64_t(i) + 1))]);
  }
  // random.sample(range(n), k).
  std::vector<int64_t> sample(int64_t n, int64_t k);
  // random.gauss(mu, sigma) as Python 3.11 (Box-Muller, the second value kept for the next call).
  double gauss(double mu, double sigma);

 private:
  void init_genrand(uint32_t s);
  void init_by_array(const std::vector<uint32_t>& key);

  std::array<uint32_t, 624> mt_{};
  int mti_ = 625;
  std::optional<double> gauss_next_;
};

}  // namespace scout::harness

#pragma once
// Helpers shared by the scout-bench sources.
#include <cstdint>
#include <random>
#include <vector>

namespace scout::bench {

// n floats from N(0, 1), the same for the same seed (benchmark inputs; values do not matter
// for speed, only that every run times the same work).
inline std::vector<float> normal_floats(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  for (auto& x : v) x = normal(gen);
  return v;
}

}  // namespace scout::bench

#pragma once
// A port of langdetect 1.0.9 (Python; Apache-2.0), the language identifier the IFEval reference
// calls. Same 55 n-gram profiles (data/langdetect_data.inc), same normalisation, same 7 random
// trials driven by Python's Mersenne Twister. langdetect is unseeded by default (its answer on
// borderline text varies run to run); we fix DetectorFactory.seed = 0, and so does the
// conformance script, so both sides draw the same numbers.
#include <cstdint>
#include <optional>
#include <string>

#include "tasks/ifeval/unicode.h"

namespace scout::tasks::ifeval {

// Python's random.Random(seed) for the calls langdetect makes.
class PyRandom {
 public:
  explicit PyRandom(std::uint32_t seed) { seed_with(seed); }
  void seed_with(std::uint32_t seed);
  double random();                        // random.random()
  std::uint32_t getrandbits(int k);       // k <= 32
  std::size_t randbelow(std::size_t n);   // random._randbelow_with_getrandbits
  double gauss(double mu, double sigma);  // random.gauss (Python 3.11)

 private:
  std::uint32_t next_u32();
  static constexpr int kN = 624;
  std::uint32_t mt_[kN];
  int index_ = kN;
  std::optional<double> gauss_next_;
};

// langdetect.detect(text) with seed 0: an ISO code such as "en", "zh-cn", or "unknown".
// nullopt where langdetect raises LangDetectException ("No features in text"), which the
// IFEval checkers count as the instruction being followed.
std::optional<std::string> detect_language(py::TextView text);

}  // namespace scout::tasks::ifeval

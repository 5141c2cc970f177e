#pragma once
// Next-token sampling: greedy, or temperature with top-k / top-p / min-p filtering, from a
// seeded portable RNG (the same seed gives the same tokens on every platform and build); and
// the stop-string search that generation shares.
//
// Order, as Hugging Face transformers and vLLM apply them: logits / temperature, then top-k,
// then softmax, then top-p (smallest set of most probable tokens whose mass reaches top_p),
// then min-p (drop tokens below min_p * the top probability), renormalize, draw.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace scout::runtime {

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy (argmax)
  int32_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // 1 = off
  float min_p = 0.0f;        // 0 = off
  uint64_t seed = 0;
};

// xoshiro256** seeded through splitmix64: fully specified, unlike std:: distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();  // [0, 1) with 53 random bits

 private:
  uint64_t s_[4];
};

// The index of the largest logit; ties go to the lowest index.
int32_t argmax(std::span<const float> logits);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);  // throws scout::Error for invalid params
  int32_t sample(std::span<const float> logits);
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  Rng rng_;
  std::vector<int32_t> order_;
  std::vector<double> probs_;
};

// The earliest of `stops` in `text` whose match ends past `old_size` (the bytes added since
// the last look; `longest` is the longest stop's length), as (position, the stop string).
// Empty stop strings never match. npos when none.
struct StopMatch {
  size_t at = std::string::npos;
  std::string stop;
};
StopMatch find_new_stop_string(const std::string& text, const std::vector<std::string>& stops, size_t old_size,
                               size_t longest);

}  // namespace scout::runtime

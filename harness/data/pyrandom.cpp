#include "harness/data/pyrandom.h"

#include <cmath>
#include <set>

#include "engine/util/error.h"

namespace scout::harness {
namespace {
constexpr int kN = 624;
constexpr int kM = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfu;
constexpr uint32_t kUpperMask = 0x80000000u;
constexpr uint32_t kLowerMask = 0x7fffffffu;

int bit_length(uint64_t n) {
  int k = 0;
  while (n) {
    ++k;
    n >>= 1;
  }
  return k;
}
}  // namespace

PyRandom::PyRandom(uint64_t seed) {
  // CPython random_seed: the absolute value split into 32-bit words, least significant first;
  // zero is the one-word key [0].
  std::vector<uint32_t> key;
  do {
    key.push_back(uint32_t(seed & 0xffffffffu));
    seed >>= 32;
  } while (seed);
  init_by_array(key);
}

void PyRandom::init_genrand(uint32_t s) {
  mt_[0] = s;
  for (mti_ = 1; mti_ < kN; ++mti_)
    mt_[size_t(mti_)] = 1812433253u * (mt_[size_t(mti_ - 1)] ^ (mt_[size_t(mti_ - 1)] >> 30)) + uint32_t(mti_);
}

void PyRandom::init_by_array(const std::vector<uint32_t>& key) {
  init_genrand(19650218u);
  size_t i = 1, j = 0;
  const size_t key_length = key.size();
  for (size_t k = std::max<size_t>(kN, key_length); k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[j] + uint32_t(j);
    ++i;
    ++j;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
    if (j >= key_length) j = 0;
  }
  for (size_t k = kN - 1; k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - uint32_t(i);
    ++i;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000u;  // MSB is 1, assuring a non-zero initial array
  mti_ = kN;
}

uint32_t PyRandom::genrand_uint32() {
  static constexpr uint32_t mag01[2] = {0u, kMatrixA};
  if (mti_ >= kN) {
    int kk = 0;
    for (; kk < kN - kM; ++kk) {
      const uint32_t y = (mt_[size_t(kk)] & kUpperMask) | (mt_[size_t(kk + 1)] & kLowerMask);
      mt_[size_t(kk)] = mt_[size_t(kk + kM)] ^ (y >> 1) ^ mag01[y & 1u];
    }
    for (; kk < kN - 1; ++kk) {
      const uint32_t y = (mt_[size_t(kk)] & kUpperMask) | (mt_[size_t(kk + 1)] & kLowerMask);
      mt_[size_t(kk)] = mt_[size_t(kk + (kM - kN))] ^ (y >> 1) ^ mag01[y & 1u];
    }
    const uint32_t y = (mt_[kN - 1] & kUpperMask) | (mt_[0] & kLowerMask);
    mt_[kN - 1] = mt_[kM - 1] ^ (y >> 1) ^ mag01[y & 1u];
    mti_ = 0;
  }
  uint32_t y = mt_[size_t(mti_++)];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= (y >> 18);
  return y;
}

double PyRandom::gauss(double mu, double sigma) {
  double z;
  if (gauss_next_) {
    z = *gauss_next_;
    gauss_next_.reset();
  } else {
    constexpr double kTwoPi = 2.0 * 3.141592653589793;
    const double x2pi = random() * kTwoPi;
    const double g2rad = std::sqrt(-2.0 * std::log(1.0 - random()));
    z = std::cos(x2pi) * g2rad;
    gauss_next_ = std::sin(x2pi) * g2rad;
  }
  return mu + z * sigma;
}

double PyRandom::random() {
  const uint32_t a = genrand_uint32() >> 5, b = genrand_uint32() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

uint32_t PyRandom::getrandbits(int k) {
  if (k < 1 || k > 32) throw Error("PyRandom::getrandbits: k must be in [1, 32]");
  return genrand_uint32() >> (32 - k);
}

uint64_t PyRandom::randbelow(uint64_t n) {
  if (n == 0 || n >= (uint64_t(1) << 32)) throw Error("PyRandom::randbelow: n out of range");
  const int k = bit_length(n);
  uint64_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return r;
}

std::vector<int64_t> PyRandom::shuffle_indices(int64_t n) {
  std::vector<int64_t> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) x[size_t(i)] = i;
  shuffle(x);
  return x;
}

std::vector<int64_t> PyRandom::sample(int64_t n, int64_t k) {
  if (k < 0 || k > n) throw Error("PyRandom::sample: sample larger than population");
  std::vector<int64_t> result(static_cast<size_t>(k));
  int64_t setsize = 21;  // the size of a small set minus the size of an empty list
  if (k > 5) setsize += int64_t(std::pow(4.0, std::ceil(std::log(double(k) * 3) / std::log(4.0))));
  if (n <= setsize) {
    std::vector<int64_t> pool(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) pool[size_t(i)] = i;
    for (int64_t i = 0; i < k; ++i) {
      const auto j = size_t(randbelow(uint64_t(n - i)));
      result[size_t(i)] = pool[j];
      pool[j] = pool[size_t(n - i - 1)];
    }
  } else {
    std::set<int64_t> selected;
    for (int64_t i = 0; i < k; ++i) {
      auto j = int64_t(randbelow(uint64_t(n)));
      while (selected.count(j)) j = int64_t(randbelow(uint64_t(n)));
      selected.insert(j);
      result[size_t(i)] = j;
    }
  }
  return result;
}

}  // namespace scout::harness

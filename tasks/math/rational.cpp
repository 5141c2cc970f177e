#include "tasks/math/rational.h"

#include <cmath>
#include <limits>

namespace scout::tasks::math {
namespace {

using Int = Rational::Int;
constexpr Int kMax = std::numeric_limits<Int>::max();

Int abs_value(Int v) { return v < 0 ? -v : v; }  // callers never pass the minimum

Int gcd(Int a, Int b) {
  a = abs_value(a);
  b = abs_value(b);
  while (b != 0) {
    Int t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// The minimum value is excluded everywhere so that negation is always defined.
bool in_range(Int v) { return v >= -kMax; }

std::optional<Int> checked_mul(Int a, Int b) {
  Int r;
  if (__builtin_mul_overflow(a, b, &r) || !in_range(r)) return std::nullopt;
  return r;
}

std::optional<Int> checked_add(Int a, Int b) {
  Int r;
  if (__builtin_add_overflow(a, b, &r) || !in_range(r)) return std::nullopt;
  return r;
}

}  // namespace

std::string int128_to_string(Int value) {
  if (value == 0) return "0";
  bool negative = value < 0;
  // Work on the negative side so the minimum value is printable too.
  Int v = negative ? value : -value;
  std::string digits;
  while (v != 0) {
    digits.insert(digits.begin(), static_cast<char>('0' - static_cast<int>(v % 10)));
    v /= 10;
  }
  return negative ? "-" + digits : digits;
}

std::optional<Rational> Rational::make(Int num, Int den) {
  if (den == 0 || !in_range(num) || !in_range(den)) return std::nullopt;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  Int g = gcd(num, den);
  Rational r;
  r.num_ = g > 1 ? num / g : num;
  r.den_ = g > 1 ? den / g : den;
  return r;
}

std::optional<Rational> Rational::from_decimal(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  Int num = 0;
  Int den = 1;
  bool seen_point = false;
  bool seen_digit = false;
  for (char c : text) {
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    seen_digit = true;
    auto scaled = checked_mul(num, 10);
    if (!scaled) return std::nullopt;
    auto next = checked_add(*scaled, c - '0');
    if (!next) return std::nullopt;
    num = *next;
    if (seen_point) {
      auto d = checked_mul(den, 10);
      if (!d) return std::nullopt;
      den = *d;
    }
  }
  if (!seen_digit) return std::nullopt;
  return make(negative ? -num : num, den);
}

long double Rational::to_long_double() const {
  return static_cast<long double>(num_) / static_cast<long double>(den_);
}

std::string Rational::to_string() const {
  return den_ == 1 ? int128_to_string(num_) : int128_to_string(num_) + "/" + int128_to_string(den_);
}

std::optional<Rational> Rational::operator+(const Rational& o) const {
  // a/b + c/d over the lcm of the denominators keeps intermediates small.
  Int g = gcd(den_, o.den_);
  auto left = checked_mul(num_, o.den_ / g);
  auto right = checked_mul(o.num_, den_ / g);
  if (!left || !right) return std::nullopt;
  auto sum = checked_add(*left, *right);
  auto den = checked_mul(den_, o.den_ / g);
  if (!sum || !den) return std::nullopt;
  return make(*sum, *den);
}

std::optional<Rational> Rational::negated() const {
  Rational r = *this;
  r.num_ = -num_;
  return r;
}

std::optional<Rational> Rational::operator-(const Rational& o) const {
  auto n = o.negated();
  return n ? *this + *n : std::nullopt;
}

std::optional<Rational> Rational::operator*(const Rational& o) const {
  // Cross-reduce first so that products of reduced fractions rarely overflow.
  Int g1 = gcd(num_, o.den_);
  Int g2 = gcd(o.num_, den_);
  if (g1 == 0) g1 = 1;
  if (g2 == 0) g2 = 1;
  auto num = checked_mul(num_ / g1, o.num_ / g2);
  auto den = checked_mul(den_ / g2, o.den_ / g1);
  if (!num || !den) return std::nullopt;
  return make(*num, *den);
}

std::optional<Rational> Rational::operator/(const Rational& o) const {
  if (o.num_ == 0) return std::nullopt;
  auto inv = make(o.den_, o.num_);
  return inv ? *this * *inv : std::nullopt;
}

std::optional<Rational> Rational::pow(std::int64_t exponent) const {
  if (exponent < 0) {
    if (num_ == 0) return std::nullopt;
    auto inv = make(den_, num_);
    return inv ? inv->pow(-exponent) : std::nullopt;
  }
  Rational result(1);
  Rational base = *this;
  while (exponent > 0) {
    if (exponent & 1) {
      auto r = result * base;
      if (!r) return std::nullopt;
      result = *r;
    }
    exponent >>= 1;
    if (exponent > 0) {
      auto b = base * base;
      if (!b) return std::nullopt;
      base = *b;
    }
  }
  return result;
}

bool Rational::operator<(const Rational& o) const {
  auto diff = *this - o;
  if (diff) return diff->num_ < 0;
  return to_long_double() < o.to_long_double();
}

}  // namespace scout::tasks::math

#pragma once
// Exact rational numbers on 128-bit integers for answer comparison. Every operation
// reports overflow instead of wrapping (no UB): callers fall back to floating point
// when an exact result does not fit, which only happens for enormous answers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scout::tasks::math {

class Rational {
 public:
  using Int = __int128;

  Rational() = default;
  // Integer value; never overflows.
  explicit Rational(std::int64_t value) : num_(value), den_(1) {}

  // num/den reduced to lowest terms with a positive denominator; nullopt when den == 0
  // or the reduction cannot be represented.
  static std::optional<Rational> make(Int num, Int den);
  // A plain decimal literal: "12", "-3.50", ".5", "0.0000672". nullopt if it does not fit.
  static std::optional<Rational> from_decimal(std::string_view text);

  Int num() const { return num_; }
  Int den() const { return den_; }
  bool is_integer() const { return den_ == 1; }
  bool is_zero() const { return num_ == 0; }
  int sign() const { return num_ > 0 ? 1 : (num_ < 0 ? -1 : 0); }
  long double to_long_double() const;
  std::string to_string() const;  // "7/2", "-3"

  std::optional<Rational> operator+(const Rational& o) const;
  std::optional<Rational> operator-(const Rational& o) const;
  std::optional<Rational> operator*(const Rational& o) const;
  std::optional<Rational> operator/(const Rational& o) const;
  std::optional<Rational> negated() const;
  // Integer exponent (negative allowed for non-zero bases).
  std::optional<Rational> pow(std::int64_t exponent) const;
  bool operator==(const Rational& o) const { return num_ == o.num_ && den_ == o.den_; }
  bool operator<(const Rational& o) const;  // exact; never overflows (uses long double only as a tie-break guard)

 private:
  Int num_ = 0;
  Int den_ = 1;
};

std::string int128_to_string(Rational::Int value);

}  // namespace scout::tasks::math

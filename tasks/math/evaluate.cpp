#include "tasks/math/evaluate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace scout::tasks::math {
namespace {

constexpr long double kPi = 3.141592653589793238462643383279502884L;
constexpr long double kE = 2.718281828459045235360287471352662498L;
constexpr long double kInf = std::numeric_limits<long double>::infinity();

bool is_real(Complex z) { return z.imag() == 0; }

// Real arithmetic whenever both sides are real, so that infinities behave (complex
// multiplication turns inf*0 into NaN).
Complex add(Complex a, Complex b) { return {a.real() + b.real(), a.imag() + b.imag()}; }
Complex mul(Complex a, Complex b) {
  if (is_real(a) && is_real(b)) return {a.real() * b.real(), 0};
  return a * b;
}

std::optional<Complex> power(Complex base, Complex exponent) {
  if (is_real(base) && is_real(exponent)) {
    long double b = base.real();
    long double e = exponent.real();
    bool integral = std::fabs(e) < 1e18L && e == std::floor(e);
    if (b >= 0 || integral) return Complex(std::pow(b, e), 0);
  }
  if (base == Complex(0, 0)) return Complex(0, 0);
  return std::pow(base, exponent);  // principal branch, as sympy evaluates
}

std::optional<Complex> real_or_complex(long double x, bool real_domain, Complex complex_value) {
  if (real_domain) return Complex(x, 0);
  return complex_value;
}

std::optional<Complex> apply_function(const std::string& name, const std::vector<Complex>& args) {
  Complex z = args[0];
  bool real = is_real(z);
  long double x = z.real();
  if (name == "sin") return real ? Complex(std::sin(x), 0) : std::sin(z);
  if (name == "cos") return real ? Complex(std::cos(x), 0) : std::cos(z);
  if (name == "tan") return real ? Complex(std::tan(x), 0) : std::tan(z);
  if (name == "cot") return real ? Complex(1 / std::tan(x), 0) : Complex(1) / std::tan(z);
  if (name == "sec") return real ? Complex(1 / std::cos(x), 0) : Complex(1) / std::cos(z);
  if (name == "csc") return real ? Complex(1 / std::sin(x), 0) : Complex(1) / std::sin(z);
  if (name == "arcsin") return real_or_complex(std::asin(x), real && std::fabs(x) <= 1, std::asin(z));
  if (name == "arccos") return real_or_complex(std::acos(x), real && std::fabs(x) <= 1, std::acos(z));
  if (name == "arctan") return real ? Complex(std::atan(x), 0) : std::atan(z);
  if (name == "sinh") return real ? Complex(std::sinh(x), 0) : std::sinh(z);
  if (name == "cosh") return real ? Complex(std::cosh(x), 0) : std::cosh(z);
  if (name == "tanh") return real ? Complex(std::tanh(x), 0) : std::tanh(z);
  if (name == "exp") return real ? Complex(std::exp(x), 0) : std::exp(z);
  if (name == "abs") return Complex(std::abs(z), 0);
  if (name == "log") {
    auto ln = [](Complex w) { return is_real(w) && w.real() > 0 ? Complex(std::log(w.real()), 0) : std::log(w); };
    if (args.size() == 2) return ln(z) / ln(args[1]);
    return ln(z);
  }
  if (!real) return std::nullopt;
  if (name == "floor") return Complex(std::floor(x), 0);
  if (name == "ceil") return Complex(std::ceil(x), 0);
  if (name == "factorial") return x < 0 ? std::nullopt : std::optional<Complex>(Complex(std::tgamma(x + 1), 0));
  if (name == "binom" && is_real(args[1])) {
    long double k = args[1].real();
    return Complex(std::tgamma(x + 1) / (std::tgamma(k + 1) * std::tgamma(x - k + 1)), 0);
  }
  return std::nullopt;
}

bool finite_or_inf(Complex z) { return !std::isnan(z.real()) && !std::isnan(z.imag()); }

// Sample values for free symbols: distinct, non-integer and away from common poles.
Bindings sample_point(const std::set<std::string>& symbols, int point) {
  Bindings b;
  int index = 0;
  for (const auto& name : symbols) {
    b[name] = 0.5L + 0.6180339887498948L * static_cast<long double>(index + 1) +
              0.3183098861837907L * static_cast<long double>(point) + 0.0137L * static_cast<long double>(index * point);
    ++index;
  }
  return b;
}

constexpr int kSamplePoints = 4;

}  // namespace

std::optional<Rational> exact_value(const Node& node) {
  switch (node.kind) {
    case NodeKind::kNumber:
      if (!node.exact) return std::nullopt;
      if (node.percent) return *node.exact / Rational(100);
      return node.exact;
    case NodeKind::kNeg: {
      auto v = exact_value(*node.kids[0]);
      return v ? v->negated() : std::nullopt;
    }
    case NodeKind::kAdd:
    case NodeKind::kMul: {
      std::optional<Rational> acc = Rational(node.kind == NodeKind::kAdd ? 0 : 1);
      for (const auto& kid : node.kids) {
        auto v = exact_value(*kid);
        if (!v) return std::nullopt;
        acc = node.kind == NodeKind::kAdd ? *acc + *v : *acc * *v;
        if (!acc) return std::nullopt;
      }
      return acc;
    }
    case NodeKind::kPow: {
      auto base = exact_value(*node.kids[0]);
      auto exponent = exact_value(*node.kids[1]);
      if (!base || !exponent || !exponent->is_integer()) return std::nullopt;
      if (exponent->num() > 4096 || exponent->num() < -4096) return std::nullopt;
      return base->pow(static_cast<std::int64_t>(exponent->num()));
    }
    default:
      return std::nullopt;
  }
}

bool contains_decimal(const Node& node) {
  if (node.kind == NodeKind::kNumber && node.decimal) return true;
  for (const auto& kid : node.kids) {
    if (contains_decimal(*kid)) return true;
  }
  return false;
}

std::optional<Complex> numeric_value(const Node& node, const Bindings& bindings, bool binary64) {
  std::optional<Complex> result;
  switch (node.kind) {
    case NodeKind::kNumber:
      result = Complex(node.percent ? node.approx / 100 : node.approx, 0);
      break;
    case NodeKind::kSymbol: {
      auto it = bindings.find(node.text);
      if (it == bindings.end()) return std::nullopt;
      result = Complex(it->second, 0);
      break;
    }
    case NodeKind::kConstant:
      if (node.text == "pi") result = Complex(kPi, 0);
      else if (node.text == "e") result = Complex(kE, 0);
      else if (node.text == "i") result = Complex(0, 1);
      else if (node.text == "inf") result = Complex(kInf, 0);
      break;
    case NodeKind::kNeg: {
      auto v = numeric_value(*node.kids[0], bindings, binary64);
      if (!v) return std::nullopt;
      result = Complex(-v->real(), -v->imag());
      break;
    }
    case NodeKind::kAdd:
    case NodeKind::kMul: {
      Complex acc(node.kind == NodeKind::kAdd ? 0 : 1, 0);
      for (const auto& kid : node.kids) {
        auto v = numeric_value(*kid, bindings, binary64);
        if (!v) return std::nullopt;
        acc = node.kind == NodeKind::kAdd ? add(acc, *v) : mul(acc, *v);
      }
      result = acc;
      break;
    }
    case NodeKind::kPow: {
      auto base = numeric_value(*node.kids[0], bindings, binary64);
      auto exponent = numeric_value(*node.kids[1], bindings, binary64);
      if (!base || !exponent) return std::nullopt;
      result = power(*base, *exponent);
      break;
    }
    case NodeKind::kFunc: {
      std::vector<Complex> args;
      for (const auto& kid : node.kids) {
        auto v = numeric_value(*kid, bindings, binary64);
        if (!v) return std::nullopt;
        args.push_back(*v);
      }
      result = apply_function(node.text, args);
      break;
    }
    default:
      return std::nullopt;
  }
  if (!result || !finite_or_inf(*result)) return std::nullopt;
  if (binary64) {
    result = Complex(static_cast<double>(result->real()), static_cast<double>(result->imag()));
  }
  return result;
}

void collect_symbols(const Node& node, std::set<std::string>& out) {
  if (node.kind == NodeKind::kSymbol) out.insert(node.text);
  for (const auto& kid : node.kids) collect_symbols(*kid, out);
}

bool values_close(Complex a, Complex b) {
  if (std::isinf(a.real()) || std::isinf(b.real())) return a.real() == b.real() && a.imag() == b.imag();
  long double scale = std::max({1.0L, std::abs(a), std::abs(b)});
  return std::abs(a - b) <= 1e-12L * scale;
}

bool same_value(const Node& a, const Node& b) {
  auto ea = exact_value(a);
  auto eb = exact_value(b);
  if (ea && eb) return *ea == *eb;
  std::set<std::string> symbols;
  collect_symbols(a, symbols);
  collect_symbols(b, symbols);
  if (symbols.empty()) {
    auto va = numeric_value(a);
    auto vb = numeric_value(b);
    return va && vb && values_close(*va, *vb);
  }
  // Identity testing: equal at every sample point where both are defined.
  int agreed = 0;
  for (int point = 0; point < kSamplePoints; ++point) {
    Bindings bind = sample_point(symbols, point);
    auto va = numeric_value(a, bind);
    auto vb = numeric_value(b, bind);
    if (!va && !vb) continue;
    if (!va || !vb || !values_close(*va, *vb)) return false;
    ++agreed;
  }
  return agreed > 0;
}

bool proportional(const Node& a, const Node& b, int* k_sign) {
  std::set<std::string> symbols;
  collect_symbols(a, symbols);
  collect_symbols(b, symbols);
  if (symbols.empty()) return false;
  std::optional<Complex> ratio;
  for (int point = 0; point < kSamplePoints; ++point) {
    Bindings bind = sample_point(symbols, point);
    auto va = numeric_value(a, bind);
    auto vb = numeric_value(b, bind);
    if (!va || !vb || std::abs(*vb) < 1e-12L) return false;
    Complex r = *va / *vb;
    if (ratio && !values_close(*ratio, r)) return false;
    ratio = r;
  }
  if (!ratio || std::abs(*ratio) < 1e-12L || std::fabs(ratio->imag()) > 1e-12L) return false;
  *k_sign = ratio->real() > 0 ? 1 : -1;
  return true;
}

}  // namespace scout::tasks::math

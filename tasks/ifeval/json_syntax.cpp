#include "tasks/ifeval/json_syntax.h"

namespace scout::tasks::ifeval {
namespace {

using py::TextView;

// CPython's sys.get_int_max_str_digits() default.
constexpr std::size_t kMaxIntDigits = 4300;
// Python raises RecursionError (not ValueError) near depth 1000; we only guard our own stack.
constexpr int kMaxDepth = 10000;

bool is_json_space(char32_t c) { return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r'; }
bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool is_hex(char32_t c) { return is_digit(c) || (c >= U'a' && c <= U'f') || (c >= U'A' && c <= U'F'); }

// A recursive-descent mirror of CPython's _json.c scanner (scan_once_unicode).
class Scanner {
 public:
  explicit Scanner(TextView text) : t_(text) {}

  bool document() {
    skip_space();
    if (!value(0)) return false;
    skip_space();
    return i_ == t_.size();
  }

 private:
  char32_t peek() const { return i_ < t_.size() ? t_[i_] : 0; }
  void skip_space() {
    while (i_ < t_.size() && is_json_space(t_[i_])) ++i_;
  }
  bool literal(std::u32string_view word) {
    if (t_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  bool value(int depth) {
    if (depth > kMaxDepth || i_ >= t_.size()) return false;
    switch (t_[i_]) {
      case U'"': return string();
      case U'{': return object(depth + 1);
      case U'[': return array(depth + 1);
      case U'n': return literal(U"null");
      case U't': return literal(U"true");
      case U'f': return literal(U"false");
      case U'N': return literal(U"NaN");
      case U'I': return literal(U"Infinity");
      case U'-':
        if (i_ + 1 < t_.size() && t_[i_ + 1] == U'I') return literal(U"-Infinity");
        return number();
      default: return number();
    }
  }

  bool number() {
    if (peek() == U'-') ++i_;
    std::size_t int_start = i_;
    if (peek() >= U'1' && peek() <= U'9') {
      while (is_digit(peek())) ++i_;
    } else if (peek() == U'0') {
      ++i_;
    } else {
      return false;
    }
    std::size_t int_digits = i_ - int_start;
    bool is_float = false;
    if (peek() == U'.' && i_ + 1 < t_.size() && is_digit(t_[i_ + 1])) {
      is_float = true;
      i_ += 2;
      while (is_digit(peek())) ++i_;
    }
    if (peek() == U'e' || peek() == U'E') {
      std::size_t e_start = i_++;
      if (peek() == U'-' || peek() == U'+') ++i_;
      std::size_t digits_start = i_;
      while (is_digit(peek())) ++i_;
      if (i_ > digits_start) {
        is_float = true;
      } else {
        i_ = e_start;  // not an exponent: backtrack
      }
    }
    return is_float || int_digits <= kMaxIntDigits;
  }

  bool string() {
    ++i_;  // opening quote
    while (i_ < t_.size()) {
      char32_t c = t_[i_++];
      if (c == U'"') return true;
      if (c < 0x20) return false;  // strict=True: no raw control characters
      if (c != U'\\') continue;
      if (i_ >= t_.size()) return false;
      char32_t esc = t_[i_++];
      if (esc == U'u') {
        for (int k = 0; k < 4; ++k, ++i_) {
          if (i_ >= t_.size() || !is_hex(t_[i_])) return false;
        }
      } else if (std::u32string_view(U"\"\\/bfnrt").find(esc) == std::u32string_view::npos) {
        return false;
      }
    }
    return false;  // unterminated
  }

  bool object(int depth) {
    ++i_;
    skip_space();
    if (peek() == U'}') {
      ++i_;
      return true;
    }
    while (true) {
      if (peek() != U'"' || !string()) return false;
      skip_space();
      if (peek() != U':') return false;
      ++i_;
      skip_space();
      if (!value(depth)) return false;
      skip_space();
      if (peek() == U'}') {
        ++i_;
        return true;
      }
      if (peek() != U',') return false;
      ++i_;
      skip_space();
    }
  }

  bool array(int depth) {
    ++i_;
    skip_space();
    if (peek() == U']') {
      ++i_;
      return true;
    }
    while (true) {
      if (!value(depth)) return false;
      skip_space();
      if (peek() == U']') {
        ++i_;
        return true;
      }
      if (peek() != U',') return false;
      ++i_;
      skip_space();
    }
  }

  TextView t_;
  std::size_t i_ = 0;
};

}  // namespace

bool python_json_loads_accepts(py::TextView text) { return Scanner(text).document(); }

}  // namespace scout::tasks::ifeval

#include "tasks/math/latex_parser.h"

#include <re2/re2.h>

#include <array>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "tasks/math/text_util.h"

namespace scout::tasks::math {
namespace {

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::array<std::string_view, 33> kGreek = {
    "alpha", "beta",  "gamma", "delta", "epsilon", "varepsilon", "zeta",  "eta",   "theta",
    "vartheta", "iota", "kappa", "lambda", "mu",   "nu",         "xi",    "rho",   "sigma",
    "tau",   "upsilon", "phi", "varphi", "chi",    "psi",        "omega", "Gamma", "Delta",
    "Theta", "Lambda", "Sigma", "Omega"};

constexpr std::array<std::string_view, 16> kFunctions = {
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos",
    "arctan", "sinh", "cosh", "tanh", "ln", "log", "exp", "sqrt"};

bool is_greek(std::string_view name) {
  for (auto g : kGreek) {
    if (g == name) return true;
  }
  return false;
}

bool is_function(std::string_view name) {
  for (auto f : kFunctions) {
    if (f == name && f != "sqrt") return true;
  }
  return false;
}

bool integer_literal(const NodePtr& n) {
  return n->kind == NodeKind::kNumber && n->atomic && !n->decimal && !n->percent && n->exact &&
         n->exact->is_integer();
}

NodePtr negate(const NodePtr& n) {
  // sympy folds the sign into a bare literal (-4 is Integer(-4), -1/3 Rational) but not
  // into a percentage (-4\% is Mul(-1, 4%)).
  if (n->kind == NodeKind::kNumber && n->atomic && !n->percent) {
    if (n->exact) {
      if (auto v = n->exact->negated()) return make_number(*v, n->decimal, false, true);
    }
    return make_inexact_number(-n->approx, n->decimal);
  }
  return make_node(NodeKind::kNeg, {n});
}

NodePtr reciprocal(const NodePtr& n) {
  return make_node(NodeKind::kPow, {n, make_number(Rational(-1), false, false, true)});
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  NodePtr parse() {
    static const RE2 comma_number("\\s*-?\\d{1,3}(,\\d{3})+(\\.\\d+)?\\s*");
    if (RE2::FullMatch(re2::StringPiece(s_.data(), s_.size()), comma_number)) {
      return parse_comma_number();
    }
    std::vector<NodePtr> elements = parse_element_list();
    skip_space();
    if (pos_ != s_.size()) fail("unexpected '" + std::string(s_.substr(pos_, 12)) + "'");
    if (elements.empty()) fail("empty answer");
    if (elements.size() == 1) return elements[0];
    return make_node(NodeKind::kFiniteSet, std::move(elements));
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;

  [[noreturn]] void fail(const std::string& why) { throw ParseError(why); }

  // ---------------------------------------------------------------- lexing helpers

  void skip_space() {
    while (pos_ < s_.size()) {
      if (is_space(s_[pos_]) || s_[pos_] == '~') {
        ++pos_;
      } else if (s_.compare(pos_, 2, "\\,") == 0 || s_.compare(pos_, 2, "\\;") == 0 ||
                 s_.compare(pos_, 2, "\\:") == 0 || s_.compare(pos_, 2, "\\!") == 0) {
        pos_ += 2;
      } else if (peek_command("quad") || peek_command("qquad")) {
        read_command();
      } else {
        break;
      }
    }
  }

  bool at_end() {
    skip_space();
    return pos_ >= s_.size();
  }

  char peek() {
    skip_space();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }

  bool accept(char c) {
    if (peek() == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c) {
    if (!accept(c)) fail(std::string("expected '") + c + "'");
  }

  // The name of the command at the cursor ("frac" for "\frac"), without consuming it.
  // An unknown run of letters that starts with a function, Greek letter or constant is
  // that command followed by letters ("\sinx" is \sin x), as latex2sympy's lexer reads it.
  std::string command_at(size_t at) const {
    if (at >= s_.size() || s_[at] != '\\') return "";
    size_t end = at + 1;
    while (end < s_.size() && is_alpha(s_[end])) ++end;
    if (end == at + 1 && end < s_.size()) return std::string(1, s_[end]);  // \{ \} \% \|
    std::string name(s_.substr(at + 1, end - at - 1));
    if (known_command(name)) return name;
    for (size_t len = name.size() - 1; len >= 2; --len) {
      std::string prefix = name.substr(0, len);
      if (is_function(prefix) || is_greek(prefix) || prefix == "pi" || prefix == "infty") return prefix;
    }
    return name;
  }

  static bool known_command(const std::string& name) {
    static const std::array<std::string_view, 44> kKnown = {
        "frac", "dfrac", "tfrac", "cfrac", "sqrt", "pi", "infty", "infin", "text", "mbox", "textbf",
        "mathrm", "operatorname", "boxed", "binom", "dbinom", "tbinom", "lfloor", "rfloor", "lceil",
        "rceil", "mathbb", "emptyset", "begin", "end", "cdot", "times", "ast", "div", "pm", "mp",
        "cup", "circ", "le", "leq", "leqslant", "ge", "geq", "geqslant", "lt", "gt", "in", "approx",
        "equiv"};
    for (auto k : kKnown) {
      if (k == name) return true;
    }
    return is_function(name) || is_greek(name) || name == "quad" || name == "qquad";
  }

  bool peek_command(std::string_view name) {
    return pos_ < s_.size() && s_[pos_] == '\\' && command_at(pos_) == name;
  }

  std::string read_command() {
    std::string name = command_at(pos_);
    pos_ += 1 + name.size();
    return name;
  }

  bool accept_command(std::string_view name) {
    skip_space();
    if (!peek_command(name)) return false;
    read_command();
    return true;
  }

  // ---------------------------------------------------------------- grammar

  NodePtr parse_comma_number() {
    std::string digits;
    for (char c : s_) {
      if (c != ',' && !is_space(c)) digits += c;
    }
    pos_ = s_.size();
    return number_from_text(digits);
  }

  NodePtr number_from_text(const std::string& text) {
    bool decimal = contains(text, ".");
    if (auto exact = Rational::from_decimal(text)) return make_number(*exact, decimal, false, true);
    return make_inexact_number(std::stold(text), decimal);
  }

  // Comma/semicolon separated elements up to (not including) a closing token.
  std::vector<NodePtr> parse_element_list() {
    std::vector<NodePtr> out;
    while (true) {
      for (auto& e : parse_element()) out.push_back(std::move(e));
      if (!accept(',') && !accept(';')) break;
    }
    return out;
  }

  // One element; "a \pm b" and "\pm b" are two.
  std::vector<NodePtr> parse_element() {
    if (accept_command("pm")) {
      NodePtr e = parse_relation();
      return {negate(e), e};
    }
    if (accept_command("mp")) {
      NodePtr e = parse_relation();
      return {e, negate(e)};
    }
    NodePtr left = parse_relation();
    bool plus_minus = accept_command("pm");
    bool minus_plus = !plus_minus && accept_command("mp");
    if (!plus_minus && !minus_plus) return {left};
    NodePtr right = parse_relation();
    NodePtr plus = make_node(NodeKind::kAdd, {left, right});
    NodePtr minus = make_node(NodeKind::kAdd, {left, negate(right)});
    if (plus_minus) return {plus, minus};
    return {minus, plus};
  }

  std::optional<RelOp> accept_relation_op(bool& approx) {
    approx = false;
    char c = peek();
    if (c == '=') {
      ++pos_;
      return RelOp::kEq;
    }
    if (c == '<') {
      ++pos_;
      if (accept('=')) return RelOp::kLe;
      return RelOp::kLt;
    }
    if (c == '>') {
      ++pos_;
      if (accept('=')) return RelOp::kGe;
      return RelOp::kGt;
    }
    if (c != '\\') return std::nullopt;
    std::string name = command_at(pos_);
    static const std::array<std::pair<std::string_view, RelOp>, 11> table = {{
        {"le", RelOp::kLe}, {"leq", RelOp::kLe}, {"leqslant", RelOp::kLe}, {"ge", RelOp::kGe},
        {"geq", RelOp::kGe}, {"geqslant", RelOp::kGe}, {"lt", RelOp::kLt}, {"gt", RelOp::kGt},
        {"in", RelOp::kEq},  // "x \in S" reads as x = S, as math-verify does
        {"approx", RelOp::kEq}, {"equiv", RelOp::kEq},
    }};
    for (const auto& [n, op] : table) {
      if (name == n) {
        read_command();
        approx = name == "approx";
        return op;
      }
    }
    return std::nullopt;
  }

  NodePtr parse_relation() {
    std::vector<NodePtr> operands = {parse_set_expr()};
    std::vector<RelOp> ops;
    bool approx = false;
    while (auto op = accept_relation_op(approx)) {
      NodePtr rhs = parse_set_expr();
      if (approx) {
        // "x \approx 3.14" keeps the value; "22/7 \approx 3.14" keeps the exact left side.
        if (operands.size() == 1 && operands[0]->kind == NodeKind::kSymbol) {
          operands[0] = rhs;
        }
        continue;
      }
      operands.push_back(rhs);
      ops.push_back(*op);
    }
    if (ops.empty()) return operands[0];
    return make_relation(std::move(operands), std::move(ops));
  }

  NodePtr parse_set_expr() {
    NodePtr left = parse_expr();
    if (!peek_command_after_space("cup")) return left;
    std::vector<NodePtr> parts = {as_set_operand(left)};
    while (accept_command("cup")) parts.push_back(as_set_operand(parse_expr()));
    return make_node(NodeKind::kUnion, std::move(parts));
  }

  bool peek_command_after_space(std::string_view name) {
    skip_space();
    return peek_command(name);
  }

  static NodePtr as_set_operand(const NodePtr& n) {
    if (n->kind == NodeKind::kTuple) return make_node(NodeKind::kFiniteSet, n->kids);
    return n;
  }

  NodePtr parse_expr() {
    std::vector<NodePtr> terms = {parse_term()};
    while (true) {
      char c = peek();
      if (c == '+') {
        ++pos_;
        terms.push_back(parse_term());
      } else if (c == '-') {
        ++pos_;
        terms.push_back(negate(parse_term()));
      } else {
        break;
      }
    }
    if (terms.size() == 1) return terms[0];
    return make_node(NodeKind::kAdd, std::move(terms));
  }

  bool accept_multiplication() {
    return accept('*') || accept_command("cdot") || accept_command("times") || accept_command("ast");
  }

  // Whether the next token can start an implicitly multiplied factor.
  bool starts_implicit_factor() {
    char c = peek();
    if (is_digit(c) || is_alpha(c) || c == '(' || c == '{') return true;
    if (c != '\\') return false;
    std::string name = command_at(pos_);
    return name == "frac" || name == "sqrt" || name == "pi" || name == "infty" || name == "text" ||
           name == "binom" || name == "dbinom" || name == "tbinom" || name == "lfloor" ||
           name == "lceil" || name == "{" || name == "begin" || name == "mathbb" || is_greek(name) ||
           is_function(name) || name == "operatorname" || name == "boxed";
  }

  NodePtr parse_term() {
    NodePtr left = parse_unary();
    std::vector<NodePtr> factors = {left};
    while (true) {
      if (accept_multiplication()) {
        factors.push_back(parse_unary());
      } else if (accept('/') || accept(':') || accept_command("div")) {  // 2:3 is a ratio
        factors.push_back(reciprocal(parse_unary()));
      } else if (starts_implicit_factor()) {
        NodePtr next = parse_postfix();
        // "3\frac{1}{2}" is a mixed number (math-verify reads it as 3 + 1/2).
        if (factors.size() == 1 && integer_literal(factors[0]) && next->kind == NodeKind::kNumber &&
            next->atomic && !next->decimal && !next->percent && next->exact && !next->exact->is_integer() &&
            mixed_number_candidate_) {
          auto whole = *factors[0]->exact;
          auto part = whole.sign() < 0 ? whole - *next->exact : whole + *next->exact;
          if (part) {
            factors[0] = make_number(*part, false, false, true);
            continue;
          }
        }
        factors.push_back(next);
      } else {
        break;
      }
    }
    if (factors.size() == 1) return factors[0];
    return make_node(NodeKind::kMul, std::move(factors));
  }

  NodePtr parse_unary() {
    if (accept('-')) return negate(parse_unary());
    if (accept('+')) return parse_unary();
    return parse_postfix();
  }

  NodePtr parse_postfix() {
    mixed_number_candidate_ = false;
    bool frac_start = peek_command_after_space("frac");
    NodePtr base = parse_primary();
    mixed_number_candidate_ = frac_start;
    while (true) {
      skip_space();
      if (pos_ >= s_.size()) break;
      char c = s_[pos_];
      if (c == '^') {
        ++pos_;
        if (accept_degree()) continue;  // 30^\circ is 30 (degrees are not converted)
        base = make_node(NodeKind::kPow, {base, parse_script()});
        mixed_number_candidate_ = false;
      } else if (c == '_') {
        ++pos_;
        NodePtr sub = parse_script();
        // A base subscript on a number (2516_8) is dropped, as math-verify does; on a
        // symbol it becomes part of the name (x_1).
        if (base->kind == NodeKind::kSymbol) base = make_symbol(base->text + "_" + to_string(*sub));
        else if (base->kind != NodeKind::kNumber) fail("subscript on an expression");
      } else if (c == '!' && !(pos_ + 1 < s_.size() && s_[pos_ + 1] == '=')) {
        ++pos_;
        base = make_func("factorial", {base});
      } else if (c == '%' || s_.compare(pos_, 2, "\\%") == 0) {
        pos_ += c == '%' ? 1 : 2;
        base = percent_of(base);
      } else {
        break;
      }
    }
    return base;
  }

  bool accept_degree() {
    skip_space();
    if (accept_command("circ")) return true;
    if (s_.compare(pos_, 7, "{\\circ}") == 0) {
      pos_ += 7;
      return true;
    }
    return false;
  }

  static NodePtr percent_of(const NodePtr& n) {
    if (n->kind == NodeKind::kNumber && n->atomic && !n->percent) {
      auto copy = std::make_shared<Node>(*n);
      copy->percent = true;
      return copy;
    }
    return make_node(NodeKind::kMul, {n, make_number(*Rational::make(1, 100), false, false, true)});
  }

  // Argument of ^ or _: a braced group, or a single digit / letter / command.
  NodePtr parse_script() {
    skip_space();
    if (pos_ >= s_.size()) fail("missing script");
    char c = s_[pos_];
    if (c == '{') return parse_braced();
    if (is_digit(c)) {
      ++pos_;
      return make_number(Rational(c - '0'), false, false, true);
    }
    if (c == '-' ) {
      ++pos_;
      return negate(parse_script());
    }
    return parse_primary();
  }

  NodePtr parse_braced() {
    expect('{');
    std::vector<NodePtr> items = parse_element_list();
    expect('}');
    if (items.size() != 1) return make_node(NodeKind::kFiniteSet, std::move(items));
    return items[0];
  }

  NodePtr parse_primary() {
    skip_space();
    if (pos_ >= s_.size()) fail("unexpected end");
    char c = s_[pos_];
    if (is_digit(c) || (c == '.' && pos_ + 1 < s_.size() && is_digit(s_[pos_ + 1]))) return parse_number();
    if (is_alpha(c)) {
      ++pos_;
      return letter(c);
    }
    if (c == '(' || c == '[') return parse_bracketed();
    if (c == '{') return parse_braced();
    if (c == '|') {
      ++pos_;
      NodePtr inner = parse_expr();
      expect('|');
      return make_func("abs", {inner});
    }
    if (c == '\\') return parse_command();
    fail(std::string("unexpected '") + c + "'");
  }

  NodePtr parse_number() {
    size_t start = pos_;
    while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      size_t digits = pos_;
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
      if (pos_ == digits) fail("number ends in '.'");
    }
    return number_from_text(std::string(s_.substr(start, pos_ - start)));
  }

  // Letters are lower-cased symbols, except e (Euler's number) and capital I (the
  // imaginary unit); a lower-case i stays a symbol, as in latex2sympy.
  NodePtr letter(char c) {
    if (c == 'e' || c == 'E') return make_constant("e");
    if (c == 'I') return make_constant("i");
    return make_symbol(std::string(1, static_cast<char>(std::tolower(static_cast<unsigned char>(c)))));
  }

  // ( ... ) and [ ... ]: a group, an interval or a tuple, depending on what closes it.
  NodePtr parse_bracketed() {
    char open = s_[pos_++];
    std::vector<NodePtr> items = parse_element_list();
    char close = peek();
    if (close != ')' && close != ']') fail("unclosed bracket");
    ++pos_;
    if (items.size() == 1 && ((open == '(' && close == ')') || (open == '[' && close == ']'))) return items[0];
    if (items.size() == 2) return interval_or_tuple(items[0], items[1], open == '(', close == ')');
    if (open == '(' && close == ')' && items.size() > 2) return make_node(NodeKind::kTuple, std::move(items));
    fail("bad bracket list");
  }

  // latex2sympy: an interval that would be empty is read as a tuple instead.
  static NodePtr interval_or_tuple(const NodePtr& lo, const NodePtr& hi, bool left_open, bool right_open);

  NodePtr parse_command() {
    std::string name = command_at(pos_);
    if (name == "{") {
      pos_ += 2;
      if (accept_command("}")) return make_node(NodeKind::kEmptySet, {});
      std::vector<NodePtr> items = parse_element_list();
      if (!accept_command("}")) fail("unclosed \\{");
      return make_node(NodeKind::kFiniteSet, std::move(items));
    }
    read_command();
    if (name == "frac" || name == "dfrac" || name == "tfrac" || name == "cfrac") return parse_frac();
    if (name == "sqrt") return parse_sqrt();
    if (name == "pi") return make_constant("pi");
    if (name == "infty" || name == "infin") return make_constant("inf");
    if (name == "text" || name == "mbox" || name == "textbf" || name == "mathrm" || name == "operatorname") {
      return parse_text();
    }
    if (name == "boxed") return parse_braced();
    if (name == "binom" || name == "dbinom" || name == "tbinom") return parse_binom();
    if (name == "lfloor") return parse_delimited("floor", "rfloor");
    if (name == "lceil") return parse_delimited("ceil", "rceil");
    if (name == "mathbb") return parse_blackboard();
    if (name == "emptyset") return make_node(NodeKind::kEmptySet, {});
    if (name == "begin") return parse_matrix();
    if (is_greek(name)) return make_symbol(to_lower(name));
    if (is_function(name)) return parse_function(name);
    fail("unsupported command \\" + name);
  }

  NodePtr parse_frac() {
    NodePtr num = parse_script();
    NodePtr den = parse_script();
    // A fraction of two integer literals is a sympy Rational: exact and atomic.
    if (integer_literal(num) && integer_literal(den) && !den->exact->is_zero()) {
      if (auto q = *num->exact / *den->exact) return make_number(*q, false, false, true);
    }
    return make_node(NodeKind::kMul, {num, reciprocal(den)});
  }

  NodePtr parse_sqrt() {
    NodePtr index = make_number(Rational(2), false, false, true);
    if (accept('[')) {
      index = parse_expr();
      expect(']');
    }
    NodePtr radicand = parse_script();
    return make_node(NodeKind::kPow, {radicand, reciprocal(index)});
  }

  NodePtr parse_text() {
    skip_space();
    if (pos_ >= s_.size() || s_[pos_] != '{') fail("\\text without braces");
    auto close = matching_brace(s_, pos_);
    if (!close) fail("unbalanced \\text");
    std::string word;
    for (char ch : s_.substr(pos_ + 1, *close - pos_ - 1)) {
      if (!is_space(ch) && ch != '(' && ch != ')') word += ch;
    }
    pos_ = *close + 1;
    if (word.empty()) fail("empty \\text");
    return make_symbol(to_lower(word));
  }

  NodePtr parse_binom() {
    NodePtr n = parse_script();
    NodePtr k = parse_script();
    if (integer_literal(n) && integer_literal(k)) {
      auto nv = n->exact->num();
      auto kv = k->exact->num();
      if (kv >= 0 && nv >= kv && nv <= 120) {
        Rational result(1);
        bool ok = true;
        for (Rational::Int j = 1; j <= kv && ok; ++j) {
          auto step = result * *Rational::make(nv - kv + j, j);
          ok = step.has_value();
          if (ok) result = *step;
        }
        if (ok) return make_number(result, false, false, true);
      }
    }
    return make_func("binom", {n, k});
  }

  NodePtr parse_delimited(const std::string& func, std::string_view closing) {
    NodePtr inner = parse_expr();
    if (!accept_command(closing)) fail("missing \\" + std::string(closing));
    return make_func(func, {inner});
  }

  NodePtr parse_blackboard() {
    skip_space();
    if (s_.compare(pos_, 3, "{R}") == 0) {
      pos_ += 3;
      return make_node(NodeKind::kReals, {});
    }
    fail("unsupported \\mathbb");
  }

  NodePtr parse_matrix() {
    expect('{');
    size_t name_end = s_.find('}', pos_);
    if (name_end == std::string_view::npos) fail("bad \\begin");
    std::string env(s_.substr(pos_, name_end - pos_));
    if (env != "pmatrix" && env != "bmatrix" && env != "matrix" && env != "Bmatrix" && env != "vmatrix") {
      fail("unsupported environment " + env);
    }
    pos_ = name_end + 1;
    std::string end_tag = "\\end{" + env + "}";
    size_t end = s_.find(end_tag, pos_);
    if (end == std::string_view::npos) fail("unclosed matrix");
    std::string_view body = s_.substr(pos_, end - pos_);
    pos_ = end + end_tag.size();
    std::vector<std::vector<NodePtr>> rows;
    for (std::string_view row : split_top_level(body, "\\\\")) {
      if (trim(row).empty()) continue;
      std::vector<NodePtr> cells;
      for (std::string_view cell : split_top_level(row, "&")) {
        Parser sub(cell);
        cells.push_back(sub.parse_single());
      }
      rows.push_back(std::move(cells));
    }
    if (rows.empty()) fail("empty matrix");
    auto m = std::make_shared<Node>();
    m->kind = NodeKind::kMatrix;
    m->rows = rows.size();
    m->cols = rows[0].size();
    for (auto& r : rows) {
      if (r.size() != m->cols) fail("ragged matrix");
      for (auto& cell : r) m->kids.push_back(cell);
    }
    return m;
  }

  NodePtr parse_single() {
    NodePtr n = parse_expr();
    if (!at_end()) fail("trailing text in matrix cell");
    return n;
  }

  static std::vector<std::string_view> split_top_level(std::string_view body, std::string_view sep) {
    std::vector<std::string_view> out;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < body.size(); ++i) {
      if (body[i] == '{') ++depth;
      if (body[i] == '}') --depth;
      if (depth == 0 && body.compare(i, sep.size(), sep) == 0) {
        out.push_back(body.substr(start, i - start));
        i += sep.size() - 1;
        start = i + 1;
      }
    }
    out.push_back(body.substr(start));
    return out;
  }

  NodePtr parse_function(const std::string& name) {
    NodePtr power;
    NodePtr base;
    // \sin^2 x, \log_2 8, \log_{2}{8}
    for (int i = 0; i < 2; ++i) {
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == '^' && !power) {
        ++pos_;
        power = parse_script();
      } else if (pos_ < s_.size() && s_[pos_] == '_' && !base) {
        ++pos_;
        base = parse_script();
      }
    }
    NodePtr arg = parse_function_argument();
    std::string fname = name == "ln" ? "log" : name;
    NodePtr call = base ? make_func("log", {arg, base}) : make_func(fname, {arg});
    if (power) call = make_node(NodeKind::kPow, {call, power});
    return call;
  }

  // "(x)", "{x}", or a run of implicitly multiplied factors such as "2x" in "\sin 2x".
  NodePtr parse_function_argument() {
    char c = peek();
    if (c == '(' || c == '{') return parse_postfix();
    std::vector<NodePtr> factors = {parse_postfix()};
    while (starts_implicit_factor() && !(peek() == '\\' && is_function(command_at(pos_))) && peek() != '(') {
      factors.push_back(parse_postfix());
    }
    if (factors.size() == 1) return factors[0];
    return make_node(NodeKind::kMul, std::move(factors));
  }

  bool mixed_number_candidate_ = false;
};

NodePtr Parser::interval_or_tuple(const NodePtr& lo, const NodePtr& hi, bool left_open, bool right_open) {
  // Whether the interval is empty (then latex2sympy makes it a tuple) needs the endpoint
  // values; the comparison step decides that, see empty_intervals_to_tuples().
  return make_interval(lo, hi, left_open, right_open);
}

}  // namespace

ParseOutcome parse_answer_latex(std::string_view canonical) {
  ParseOutcome outcome;
  try {
    Parser parser(canonical);
    outcome.node = parser.parse();
  } catch (const ParseError& e) {
    outcome.error = e.what();
  } catch (const std::exception& e) {  // std::stold on absurd literals
    outcome.error = e.what();
  }
  return outcome;
}

}  // namespace scout::tasks::math

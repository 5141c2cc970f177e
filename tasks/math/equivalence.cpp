#include "tasks/math/equivalence.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "tasks/math/canonical.h"
#include "tasks/math/evaluate.h"
#include "tasks/math/latex_parser.h"

namespace scout::tasks::math {
namespace {

// ------------------------------------------------------------------ shape predicates

bool is_number(const Node& n) { return n.kind == NodeKind::kNumber; }
// sympy's atomic Number, or a percentage of one (N\%).
bool atomic_number(const Node& n) { return is_number(n) && n.atomic; }
bool atomic_decimal(const Node& n) { return atomic_number(n) && n.decimal; }
bool atomic_integer(const Node& n) {
  return atomic_number(n) && !n.decimal && (n.exact ? n.exact->is_integer() : std::floor(n.approx) == n.approx);
}

// math-verify's is_expr_of_only_symbols: built from symbols only (x, xy, x+y, 1/x).
bool only_symbols(const Node& n) {
  switch (n.kind) {
    case NodeKind::kSymbol: return true;
    case NodeKind::kPow:
      if (n.kids[1]->kind == NodeKind::kNumber && n.kids[1]->exact && *n.kids[1]->exact == Rational(-1)) {
        return only_symbols(*n.kids[0]);
      }
      return false;
    case NodeKind::kAdd:
    case NodeKind::kMul:
    case NodeKind::kFunc:
      return std::all_of(n.kids.begin(), n.kids.end(), [](const NodePtr& k) { return only_symbols(*k); });
    default: return false;
  }
}

bool all_equalities(const Node& n) {
  return n.kind == NodeKind::kRelation &&
         std::all_of(n.ops.begin(), n.ops.end(), [](RelOp op) { return op == RelOp::kEq; });
}

bool is_assignment(const Node& n) { return all_equalities(n) && only_symbols(*n.kids[0]); }

NodePtr first_lhs_to_last_rhs(const Node& n) { return make_relation({n.kids.front(), n.kids.back()}, {RelOp::kEq}); }

NodePtr difference(const NodePtr& a, const NodePtr& b) {
  return make_node(NodeKind::kAdd, {a, make_node(NodeKind::kNeg, {b})});
}

RelOp inverse(RelOp op) {
  switch (op) {
    case RelOp::kLt: return RelOp::kGt;
    case RelOp::kGt: return RelOp::kLt;
    case RelOp::kLe: return RelOp::kGe;
    case RelOp::kGe: return RelOp::kLe;
    case RelOp::kEq: return RelOp::kEq;
  }
  return op;
}

std::optional<long double> real_value(const Node& n) {
  auto v = numeric_value(n);
  if (!v || v->imag() != 0) return std::nullopt;
  return v->real();
}

// latex2sympy turns an interval that would be empty, e.g. (2,1), into a tuple.
NodePtr empty_intervals_to_tuples(const NodePtr& n) {
  if (n->kids.empty()) return n;
  auto copy = std::make_shared<Node>(*n);
  for (auto& kid : copy->kids) kid = empty_intervals_to_tuples(kid);
  if (copy->kind == NodeKind::kInterval) {
    auto lo = real_value(*copy->kids[0]);
    auto hi = real_value(*copy->kids[1]);
    if (lo && hi) {
      bool both_open = copy->left_open && copy->right_open;
      bool both_closed = !copy->left_open && !copy->right_open;
      if ((both_open && *hi <= *lo) || (both_closed && *hi < *lo)) {
        return make_node(NodeKind::kTuple, copy->kids);
      }
    }
  }
  return copy;
}

// "1 < x < 2" -> (1, 2), "x >= 3" -> [3, oo): a single-variable chain as a set.
NodePtr relation_as_set(const Node& rel) {
  if (rel.kind != NodeKind::kRelation) return nullptr;
  size_t var = rel.kids.size();
  for (size_t i = 0; i < rel.kids.size(); ++i) {
    if (rel.kids[i]->kind == NodeKind::kSymbol) {
      if (var != rel.kids.size()) return nullptr;
      var = i;
    }
  }
  if (var == rel.kids.size()) return nullptr;
  if (rel.ops.size() == 1 && rel.ops[0] == RelOp::kEq) {
    return make_node(NodeKind::kFiniteSet, {rel.kids[1 - var]});
  }
  NodePtr lo = make_node(NodeKind::kNeg, {make_constant("inf")});
  NodePtr hi = make_constant("inf");
  bool lo_open = true;
  bool hi_open = true;
  // Walk each comparison and tighten the bound it puts on the variable.
  for (size_t i = 0; i < rel.ops.size(); ++i) {
    RelOp op = rel.ops[i];
    if (op == RelOp::kEq) return nullptr;
    NodePtr other;
    if (i + 1 == var) {
      other = rel.kids[i];  // other op x
    } else if (i == var) {
      other = rel.kids[i + 1];  // x op other
      op = inverse(op);
    } else {
      return nullptr;
    }
    // Now the comparison reads "other op x".
    bool strict = op == RelOp::kLt || op == RelOp::kGt;
    if (op == RelOp::kLt || op == RelOp::kLe) {
      lo = other;
      lo_open = strict;
    } else {
      hi = other;
      hi_open = strict;
    }
  }
  return make_interval(lo, hi, lo_open, hi_open);
}

// latex2sympy declares symbols real unless the answer looks complex (a standalone "i",
// \mathbb{C}, \Re, ...). A real x and a complex x are different sympy symbols, so an
// answer pair that disagrees on this never matches through its variables. Symbols of a
// complex-looking answer get a marker suffix that names are compared without.
constexpr std::string_view kComplexMarker = "#c";

bool looks_complex(const std::string& canonical) {
  static const RE2 hint(
      "\\\\mathbb\\{C\\}|\\\\i\\b|\\bi\\b|\\\\text\\{i\\}|\\\\mathrm\\{i\\}|\\\\imath\\b|"
      "\\\\det|\\\\operatorname\\{(?:tr|rank|Re|Im)\\}|\\\\text\\{(?:rank|Re|Im)\\}|"
      "\\\\arg\\{|\\\\Re\\{|\\\\Im\\{");
  return RE2::PartialMatch(canonical, hint);
}

NodePtr mark_complex_symbols(const NodePtr& n) {
  if (n->kind == NodeKind::kSymbol) return make_symbol(n->text + std::string(kComplexMarker));
  if (n->kids.empty()) return n;
  auto copy = std::make_shared<Node>(*n);
  for (auto& kid : copy->kids) kid = mark_complex_symbols(kid);
  return copy;
}

std::string symbol_name(const Node& n) {
  std::string_view name = n.text;
  if (name.size() >= kComplexMarker.size() && name.substr(name.size() - kComplexMarker.size()) == kComplexMarker) {
    name.remove_suffix(kComplexMarker.size());
  }
  return std::string(name);
}

// ------------------------------------------------------------------ comparison

class Comparer {
 public:
  std::string reason;

  // math-verify's sympy_expr_eq, gold first.
  bool equal(NodePtr gold, NodePtr pred) {
    bool gold_assignment = is_assignment(*gold);
    bool pred_assignment = is_assignment(*pred);
    bool gold_equation = all_equalities(*gold);
    bool pred_equation = all_equalities(*pred);
    if (gold_assignment) gold = first_lhs_to_last_rhs(*gold);
    if (pred_assignment) pred = first_lhs_to_last_rhs(*pred);
    // The gold's form decides: "x = 5" vs "5" compares the values.
    if (pred_equation && !gold_equation) {
      pred = pred->kids.back();
    } else if (gold_assignment && !pred_equation) {
      gold = gold->kids.back();
    }
    if (is_relation(*gold) && is_set_like(*pred)) {
      if (NodePtr as_set = relation_as_set(*gold)) gold = as_set;
    }

    if (to_string(*gold) == to_string(*pred)) return decide(true, "identical expressions");
    if (is_relation(*gold) && is_relation(*pred)) return relations_equal(*gold, *pred);
    if (is_set_like(*gold) || is_set_like(*pred)) return sets_equal(gold, pred);
    if (gold->kind == NodeKind::kSymbol || pred->kind == NodeKind::kSymbol) return symbols_equal(*gold, *pred);
    if (numbers_equal(*gold, *pred)) return true;
    if (gold->kind == NodeKind::kMatrix || pred->kind == NodeKind::kMatrix) return decide(false, "matrices differ");
    if (float_arithmetic_applies(*gold, *pred)) {
      // A literal against a closed form with decimals: sympy compares the Float result
      // exactly, so 4036 vs 4.036\times10^3 (4035.9999999999995) is unequal.
      auto a = numeric_value(*gold, {}, true);
      auto b = numeric_value(*pred, {}, true);
      bool equal = a && b && *a == *b;
      return decide(equal, equal ? "equal in floating point" : "differ in floating point");
    }
    if (same_value(*gold, *pred)) return decide(true, "equal values");
    return decide(false, "values differ");
  }

 private:
  bool decide(bool verdict, const char* why) {
    reason = why;
    return verdict;
  }

  // ---------------------------------------------------------------- numbers

  // sympy_numeric_eq: literal-aware rules first, then plain value equality.
  bool numbers_equal(const Node& gold, const Node& pred) {
    if (gold.kind == NodeKind::kMatrix && pred.kind == NodeKind::kMatrix) return matrices_equal(gold, pred);
    if (!atomic_number(gold) && !atomic_number(pred)) return false;  // left to same_value
    if (atomic_decimal(gold) || atomic_decimal(pred)) {
      auto a = numeric_value(gold);
      auto b = numeric_value(pred);
      if (!a || !b || a->imag() != 0 || b->imag() != 0) return false;
      bool equal = std::nearbyint(a->real() * 1e6L) == std::nearbyint(b->real() * 1e6L);
      return decide(equal, equal ? "equal at 6 decimal places" : "differ at 6 decimal places");
    }
    if (atomic_integer(gold) && atomic_integer(pred)) {
      // 9\% vs 9: two integers compare by their written numbers.
      bool equal = gold.exact && pred.exact ? *gold.exact == *pred.exact : gold.approx == pred.approx;
      return decide(equal, equal ? "equal integers" : "different integers");
    }
    return false;
  }

  static bool float_arithmetic_applies(const Node& gold, const Node& pred) {
    if (!atomic_number(gold) && !atomic_number(pred)) return false;
    if (!contains_decimal(gold) && !contains_decimal(pred)) return false;
    std::set<std::string> symbols;
    collect_symbols(gold, symbols);
    collect_symbols(pred, symbols);
    return symbols.empty();
  }

  bool matrices_equal(const Node& gold, const Node& pred) {
    if (gold.rows != pred.rows || gold.cols != pred.cols) return decide(false, "matrix shapes differ");
    for (size_t i = 0; i < gold.kids.size(); ++i) {
      const Node& g = *gold.kids[i];
      const Node& p = *pred.kids[i];
      if (!numbers_equal(g, p) && !same_value(g, p)) return decide(false, "matrix entries differ");
    }
    return decide(true, "equal matrices");
  }

  // ---------------------------------------------------------------- symbols and text

  static bool symbol_product(const Node& n, std::string* letters) {
    if (n.kind != NodeKind::kMul) return false;
    for (const auto& k : n.kids) {
      if (k->kind == NodeKind::kSymbol) *letters += symbol_name(*k);
      else if (k->kind == NodeKind::kConstant && k->text == "e") *letters += "e";
      else return false;
    }
    return true;
  }

  // sympy_compare_symbols: "\text{Navin}" is one symbol, "Navin" a product of letters.
  bool symbols_equal(const Node& gold, const Node& pred) {
    auto is_e = [](const Node& n) { return n.kind == NodeKind::kConstant && n.text == "e"; };
    std::string gold_name = gold.kind == NodeKind::kSymbol ? symbol_name(gold) : "";
    std::string pred_name = pred.kind == NodeKind::kSymbol ? symbol_name(pred) : "";
    if ((gold_name == "e" && is_e(pred)) || (pred_name == "e" && is_e(gold))) return decide(true, "same text");
    std::string letters;
    if (gold.kind == NodeKind::kSymbol && symbol_product(pred, &letters)) {
      return decide(gold_name == letters, gold_name == letters ? "same text" : "different text");
    }
    if (pred.kind == NodeKind::kSymbol && symbol_product(gold, &letters)) {
      return decide(pred_name == letters, pred_name == letters ? "same text" : "different text");
    }
    if (gold.kind == NodeKind::kSymbol && pred.kind == NodeKind::kSymbol) {
      return decide(gold_name == pred_name, gold_name == pred_name ? "same text" : "different text");
    }
    return decide(false, "symbol against expression");
  }

  // ---------------------------------------------------------------- relations

  bool relations_equal(const Node& gold, const Node& pred) {
    if (gold.ops.size() > 1 || pred.ops.size() > 1) {
      if (gold.ops.size() != pred.ops.size()) return decide(false, "relation chains differ");
      for (size_t i = 0; i < gold.ops.size(); ++i) {
        Node g = gold;
        Node p = pred;
        g.kids = {gold.kids[i], gold.kids[i + 1]};
        g.ops = {gold.ops[i]};
        p.kids = {pred.kids[i], pred.kids[i + 1]};
        p.ops = {pred.ops[i]};
        if (!relations_equal(g, p)) return false;
      }
      return decide(true, "equivalent relation chains");
    }
    RelOp g_op = gold.ops[0];
    RelOp p_op = pred.ops[0];
    const NodePtr& gl = gold.kids[0];
    const NodePtr& gr = gold.kids[1];
    const NodePtr& pl = pred.kids[0];
    const NodePtr& pr = pred.kids[1];
    if (is_set_like(*gr) || is_set_like(*pr)) {
      // "x \in S": same variable and equal sets.
      if (g_op == p_op && to_string(*gl) == to_string(*pl) && sets_equal(gr, pr)) return true;
      return decide(false, "set relations differ");
    }
    Comparer inner;
    if (g_op == p_op && inner.equal(difference(gl, gr), difference(pl, pr))) {
      return decide(true, "same relation");
    }
    if (inverse(g_op) == p_op && inner.equal(difference(gl, gr), difference(pr, pl))) {
      return decide(true, "same relation, sides swapped");
    }
    // Stand-in for sympy's solve(): equations in two or more variables have the same
    // solutions when one side is a constant multiple of the other. (math-verify's solve
    // comparison fails for one variable and for inequalities, so those stay unequal.)
    std::set<std::string> symbols;
    collect_symbols(*gl, symbols);
    collect_symbols(*gr, symbols);
    int k_sign = 0;
    if (g_op == RelOp::kEq && p_op == RelOp::kEq && symbols.size() >= 2 &&
        proportional(*difference(gl, gr), *difference(pl, pr), &k_sign)) {
      return decide(true, "equations are multiples");
    }
    return decide(false, "relations differ");
  }

  // ---------------------------------------------------------------- sets

  static size_t element_count(const Node& n) { return n.kids.size(); }

  static bool finite_or_tuple(const Node& n) {
    return n.kind == NodeKind::kFiniteSet || n.kind == NodeKind::kTuple;
  }

  static NodePtr deduplicated(const NodePtr& set) {
    if (set->kind != NodeKind::kFiniteSet) return set;
    std::vector<NodePtr> unique;
    std::set<std::string> seen;
    for (const auto& k : set->kids) {
      if (seen.insert(to_string(*k)).second) unique.push_back(k);
    }
    return make_node(NodeKind::kFiniteSet, std::move(unique));
  }

  bool sets_equal(NodePtr gold, NodePtr pred) {
    auto as_set = [](const NodePtr& n) {
      return is_set_like(*n) ? deduplicated(n) : make_node(NodeKind::kFiniteSet, {n});
    };
    NodePtr g = as_set(gold);
    NodePtr p = as_set(pred);
    if (g->kind == NodeKind::kInterval && p->kind == NodeKind::kInterval) return intervals_equal(*g, *p);
    if (same_finite_set(*g, *p)) return decide(true, "same set");
    if (same_point_set(*g, *p)) return decide(true, "same set of reals");
    if (finite_or_tuple(*g) && finite_or_tuple(*p)) return elements_equal(*g, *p);
    // An open interval (a, b) also reads as the pair (a, b).
    if (g->kind == NodeKind::kInterval && g->left_open && g->right_open && finite_or_tuple(*p) &&
        element_count(*p) == 2) {
      return elements_equal(*make_node(NodeKind::kTuple, g->kids), *p);
    }
    if (p->kind == NodeKind::kInterval && p->left_open && p->right_open && finite_or_tuple(*g) &&
        element_count(*g) == 2) {
      return elements_equal(*g, *make_node(NodeKind::kTuple, p->kids));
    }
    return decide(false, "different sets");
  }

  bool intervals_equal(const Node& g, const Node& p) {
    if (g.left_open != p.left_open || g.right_open != p.right_open) return decide(false, "interval ends differ");
    Comparer lo;
    Comparer hi;
    bool equal = lo.equal(g.kids[0], p.kids[0]) && hi.equal(g.kids[1], p.kids[1]);
    return decide(equal, equal ? "same interval" : "interval endpoints differ");
  }

  // sympy FiniteSet equality: the same members regardless of order.
  static bool same_finite_set(const Node& g, const Node& p) {
    if (g.kind != p.kind || (g.kind != NodeKind::kFiniteSet && g.kind != NodeKind::kUnion)) {
      return g.kind == p.kind && (g.kind == NodeKind::kReals || g.kind == NodeKind::kEmptySet);
    }
    std::multiset<std::string> a;
    std::multiset<std::string> b;
    for (const auto& k : g.kids) a.insert(to_string(*k));
    for (const auto& k : p.kids) b.insert(to_string(*k));
    return a == b;
  }

  struct Piece {
    long double lo, hi;
    bool lo_open, hi_open;
  };

  // A set of reals as sorted, merged pieces; nullopt if some bound is not a real number.
  static std::optional<std::vector<Piece>> pieces(const Node& n) {
    std::vector<Piece> out;
    constexpr long double kInf = std::numeric_limits<long double>::infinity();
    switch (n.kind) {
      case NodeKind::kReals: out.push_back({-kInf, kInf, true, true}); break;
      case NodeKind::kEmptySet: break;
      case NodeKind::kInterval: {
        auto lo = real_value(*n.kids[0]);
        auto hi = real_value(*n.kids[1]);
        if (!lo || !hi) return std::nullopt;
        out.push_back({*lo, *hi, n.left_open, n.right_open});
        break;
      }
      case NodeKind::kFiniteSet:
        for (const auto& k : n.kids) {
          auto v = real_value(*k);
          if (!v) return std::nullopt;
          out.push_back({*v, *v, false, false});
        }
        break;
      case NodeKind::kUnion:
        for (const auto& k : n.kids) {
          auto sub = pieces(*k);
          if (!sub) return std::nullopt;
          out.insert(out.end(), sub->begin(), sub->end());
        }
        break;
      default: return std::nullopt;
    }
    std::sort(out.begin(), out.end(), [](const Piece& a, const Piece& b) {
      return a.lo != b.lo ? a.lo < b.lo : (!a.lo_open && b.lo_open);
    });
    std::vector<Piece> merged;
    for (const Piece& piece : out) {
      if (!merged.empty()) {
        Piece& last = merged.back();
        bool touches = piece.lo < last.hi || (piece.lo == last.hi && !(piece.lo_open && last.hi_open));
        if (touches) {
          if (piece.hi > last.hi || (piece.hi == last.hi && !piece.hi_open)) {
            last.hi = piece.hi;
            last.hi_open = piece.hi_open;
          }
          continue;
        }
      }
      merged.push_back(piece);
    }
    return merged;
  }

  // sympy's symmetric_difference(...).is_empty for unions, intervals and point sets.
  static bool same_point_set(const Node& g, const Node& p) {
    if (g.kind == NodeKind::kTuple || p.kind == NodeKind::kTuple) return false;
    auto a = pieces(g);
    auto b = pieces(p);
    if (!a || !b || a->size() != b->size()) return false;
    for (size_t i = 0; i < a->size(); ++i) {
      const Piece& x = (*a)[i];
      const Piece& y = (*b)[i];
      if (x.lo_open != y.lo_open || x.hi_open != y.hi_open) return false;
      if (!values_close(x.lo, y.lo) || !values_close(x.hi, y.hi)) return false;
    }
    return true;
  }

  // Order used before comparing a gold set element by element (sympy sorts by value).
  static std::pair<int, std::string> sort_key(const Node& n, long double* value) {
    if (auto v = real_value(n)) {
      *value = *v;
      return {0, ""};
    }
    *value = 0;
    return {1, to_string(n)};
  }

  static std::vector<NodePtr> sorted(const std::vector<NodePtr>& items) {
    std::vector<std::pair<std::pair<int, std::string>, std::pair<long double, NodePtr>>> keyed;
    for (const auto& item : items) {
      long double v = 0;
      auto key = sort_key(*item, &v);
      keyed.push_back({key, {v, item}});
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
      if (a.first.first != b.first.first) return a.first.first < b.first.first;
      if (a.first.first == 0) return a.second.first < b.second.first;
      return a.first.second < b.first.second;
    });
    std::vector<NodePtr> out;
    for (auto& k : keyed) out.push_back(k.second.second);
    return out;
  }

  // sympy_deep_compare_set_and_tuple: a gold set ignores order, a gold tuple keeps it.
  bool elements_equal(const Node& g, const Node& p) {
    if (g.kids.size() != p.kids.size()) return decide(false, "different number of elements");
    std::vector<NodePtr> a = g.kids;
    std::vector<NodePtr> b = p.kids;
    if (g.kind == NodeKind::kFiniteSet) {
      a = sorted(a);
      b = sorted(b);
    }
    for (size_t i = 0; i < a.size(); ++i) {
      Comparer inner;
      if (!inner.equal(a[i], b[i])) {
        return decide(false, g.kind == NodeKind::kFiniteSet ? "set elements differ" : "tuple elements differ");
      }
    }
    return decide(true, g.kind == NodeKind::kFiniteSet ? "same elements" : "same tuple");
  }
};

// When the LaTeX does not parse, math-verify falls back to its plain-text patterns on
// "\boxed{answer}": the rightmost integer fraction "\frac{1}{2}" or a number preceded by
// a space or '=' ("x=5." still yields 5). Mirror that so stray punctuation agrees.
NodePtr fallback_number(std::string_view answer) {
  std::string text = "\\boxed{" + std::string(answer) + "}";
  static const RE2 fraction("(-?\\\\frac\\{\\d+(?:\\.\\d+)?\\}\\{\\d+(?:\\.\\d+)?\\})");
  static const RE2 number("(?:\\s|=)\\$?(-?\\d+(?:\\.\\d+)?|\\.\\d+)(\\s*(?:\\\\?%|[Pp]ercent))?");
  size_t best_end = 0;
  NodePtr best;
  auto scan = [&](const RE2& re, bool is_fraction) {
    re2::StringPiece input(text);
    std::string token;
    std::string percent;
    while (is_fraction ? RE2::FindAndConsume(&input, re, &token)
                       : RE2::FindAndConsume(&input, re, &token, &percent)) {
      size_t end = static_cast<size_t>(input.data() - text.data());
      if (end < best_end) continue;
      ParseOutcome parsed = parse_answer_latex(token);
      if (!parsed.node) continue;
      NodePtr node = parsed.node;
      if (!percent.empty() && node->kind == NodeKind::kNumber) {
        auto copy = std::make_shared<Node>(*node);
        copy->percent = true;
        node = copy;
      }
      best_end = end;
      best = node;
    }
  };
  scan(fraction, true);
  scan(number, false);
  return best;
}

}  // namespace

EquivalenceResult compare_answers(std::string_view gold, std::string_view predicted) {
  EquivalenceResult result;
  result.gold_canonical = canonicalize_answer(gold);
  result.predicted_canonical = canonicalize_answer(predicted);
  ParseOutcome g = parse_answer_latex(result.gold_canonical);
  ParseOutcome p = parse_answer_latex(result.predicted_canonical);
  if (!g.node) g.node = fallback_number(gold);
  if (!p.node) p.node = fallback_number(predicted);
  result.gold_parsed = g.node != nullptr;
  result.predicted_parsed = p.node != nullptr;
  if (g.node && looks_complex(result.gold_canonical)) g.node = mark_complex_symbols(g.node);
  if (p.node && looks_complex(result.predicted_canonical)) p.node = mark_complex_symbols(p.node);
  if (g.node && p.node) {
    Comparer comparer;
    result.equivalent = comparer.equal(empty_intervals_to_tuples(g.node), empty_intervals_to_tuples(p.node));
    result.reason = comparer.reason;
    if (result.equivalent) return result;
  } else {
    result.reason = "not parsed: " + (g.node ? p.error : g.error);
  }
  // math-verify also compares the normalized strings themselves.
  if (!result.gold_canonical.empty() && result.gold_canonical == result.predicted_canonical) {
    result.equivalent = true;
    result.reason = "identical after normalization";
  }
  return result;
}

}  // namespace scout::tasks::math

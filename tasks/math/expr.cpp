#include "tasks/math/expr.h"

#include <sstream>

namespace scout::tasks::math {

NodePtr make_number(Rational value, bool decimal, bool percent, bool atomic) {
  auto n = std::make_shared<Node>();
  n->kind = NodeKind::kNumber;
  n->exact = value;
  n->approx = value.to_long_double();
  n->decimal = decimal;
  n->percent = percent;
  n->atomic = atomic;
  return n;
}

NodePtr make_inexact_number(long double value, bool decimal) {
  auto n = std::make_shared<Node>();
  n->kind = NodeKind::kNumber;
  n->approx = value;
  n->decimal = decimal;
  n->atomic = true;
  return n;
}

NodePtr make_symbol(std::string name) {
  auto n = std::make_shared<Node>();
  n->kind = NodeKind::kSymbol;
  n->text = std::move(name);
  return n;
}

NodePtr make_constant(std::string name) {
  auto n = std::make_shared<Node>();
  n->kind = NodeKind::kConstant;
  n->text = std::move(name);
  return n;
}

NodePtr make_node(NodeKind kind, std::vector<NodePtr> kids) {
  auto n = std::make_shared<Node>();
  n->kind = kind;
  n->kids = std::move(kids);
  return n;
}

NodePtr make_func(std::string name, std::vector<NodePtr> args) {
  auto n = std::make_shared<Node>();
  n->kind = NodeKind::kFunc;
  n->text = std::move(name);
  n->kids = std::move(args);
  return n;
}

NodePtr make_relation(std::vector<NodePtr> operands, std::vector<RelOp> ops) {
  auto n = std::make_shared<Node>();
  n->kind = NodeKind::kRelation;
  n->kids = std::move(operands);
  n->ops = std::move(ops);
  return n;
}

NodePtr make_interval(NodePtr lo, NodePtr hi, bool left_open, bool right_open) {
  auto n = std::make_shared<Node>();
  n->kind = NodeKind::kInterval;
  n->kids = {std::move(lo), std::move(hi)};
  n->left_open = left_open;
  n->right_open = right_open;
  return n;
}

namespace {

const char* op_text(RelOp op) {
  switch (op) {
    case RelOp::kEq: return "=";
    case RelOp::kLt: return "<";
    case RelOp::kLe: return "<=";
    case RelOp::kGt: return ">";
    case RelOp::kGe: return ">=";
  }
  return "?";
}

void print_list(std::ostringstream& out, const std::vector<NodePtr>& kids, const char* sep) {
  for (size_t i = 0; i < kids.size(); ++i) {
    if (i) out << sep;
    out << to_string(*kids[i]);
  }
}

}  // namespace

std::string to_string(const Node& node) {
  std::ostringstream out;
  switch (node.kind) {
    case NodeKind::kNumber:
      if (node.exact) {
        out << node.exact->to_string();
      } else {
        out << static_cast<double>(node.approx);
      }
      if (node.decimal) out << "f";
      if (node.percent) out << "%";
      break;
    case NodeKind::kSymbol: out << node.text; break;
    case NodeKind::kConstant: out << "\\" << node.text; break;
    case NodeKind::kAdd: out << "("; print_list(out, node.kids, " + "); out << ")"; break;
    case NodeKind::kMul: out << "("; print_list(out, node.kids, "*"); out << ")"; break;
    case NodeKind::kPow: out << "(" << to_string(*node.kids[0]) << ")^(" << to_string(*node.kids[1]) << ")"; break;
    case NodeKind::kNeg: out << "-(" << to_string(*node.kids[0]) << ")"; break;
    case NodeKind::kFunc: out << node.text << "("; print_list(out, node.kids, ", "); out << ")"; break;
    case NodeKind::kRelation:
      for (size_t i = 0; i < node.kids.size(); ++i) {
        if (i) out << " " << op_text(node.ops[i - 1]) << " ";
        out << to_string(*node.kids[i]);
      }
      break;
    case NodeKind::kFiniteSet: out << "{"; print_list(out, node.kids, ", "); out << "}"; break;
    case NodeKind::kTuple: out << "tuple("; print_list(out, node.kids, ", "); out << ")"; break;
    case NodeKind::kInterval:
      out << (node.left_open ? "(" : "[") << to_string(*node.kids[0]) << ", " << to_string(*node.kids[1])
          << (node.right_open ? ")" : "]");
      break;
    case NodeKind::kUnion: print_list(out, node.kids, " U "); break;
    case NodeKind::kMatrix:
      out << "matrix" << node.rows << "x" << node.cols << "[";
      print_list(out, node.kids, ", ");
      out << "]";
      break;
    case NodeKind::kReals: out << "Reals"; break;
    case NodeKind::kEmptySet: out << "EmptySet"; break;
  }
  return out.str();
}

bool is_set_like(const Node& node) {
  switch (node.kind) {
    case NodeKind::kFiniteSet:
    case NodeKind::kTuple:
    case NodeKind::kInterval:
    case NodeKind::kUnion:
    case NodeKind::kReals:
    case NodeKind::kEmptySet:
      return true;
    default:
      return false;
  }
}

bool is_relation(const Node& node) { return node.kind == NodeKind::kRelation; }

}  // namespace scout::tasks::math

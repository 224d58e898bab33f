// Expressions and types of the raw parse tree to ast::: operator precedence over the flat
// operator chains, literal values (reporting those out of range), calls, field lists, types.
#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>

#include "lowerer.h"

namespace flow::syntax {

using namespace raw;

namespace {

// Binding strength of the binary operators, loosest first (language.md section 5); `not`
// sits between `and` and the comparisons.
constexpr int kCoalesce = 1, kOr = 2, kAnd = 3, kNot = 4, kCompare = 5, kAdd = 6, kMultiply = 7;

int precedence(const std::string& op) {
  if (op == "??") return kCoalesce;
  if (op == "or") return kOr;
  if (op == "and") return kAnd;
  if (op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=" || op == "in")
    return kCompare;
  if (op == "+" || op == "-") return kAdd;
  return kMultiply;
}

ast::BinaryOp binary_op_of(const std::string& op) {
  using B = ast::BinaryOp;
  if (op == "??") return B::Coalesce;
  if (op == "or") return B::Or;
  if (op == "and") return B::And;
  if (op == "==") return B::Eq;
  if (op == "!=") return B::Ne;
  if (op == "<") return B::Lt;
  if (op == "<=") return B::Le;
  if (op == ">") return B::Gt;
  if (op == ">=") return B::Ge;
  if (op == "+") return B::Add;
  if (op == "-") return B::Sub;
  if (op == "*") return B::Mul;
  if (op == "/") return B::Div;
  return B::Mod;
}

struct PrimaryVisitor {
  Lowerer& lowerer;
  ast::ExprPtr operator()(const Literal& l) const;
  ast::ExprPtr operator()(const x3::forward_ast<Call>& c) const { return lowerer.call(c.get()); }
  ast::ExprPtr operator()(const x3::forward_ast<IfExpr>& i) const;
  ast::ExprPtr operator()(const x3::forward_ast<Tuple>& t) const;
  ast::ExprPtr operator()(const Token& name) const {
    auto e = std::make_unique<ast::Expr>();
    e->kind = ast::Expr::Kind::Name;
    e->span = name.span;
    e->name_span = name.span;
    e->text = name.text;
    return e;
  }
  Diagnostics& diagnostics;
  std::function<ast::ExprPtr(const Literal&)> literal;
};

ast::ExprPtr PrimaryVisitor::operator()(const Literal& l) const { return literal(l); }

ast::ExprPtr PrimaryVisitor::operator()(const x3::forward_ast<IfExpr>& i) const {
  const IfExpr& x = i.get();
  auto e = std::make_unique<ast::Expr>();
  e->kind = ast::Expr::Kind::If;
  e->span = x.span;
  e->name_span = x.keyword.span;
  e->operands.push_back(lowerer.expression(x.condition));
  e->operands.push_back(lowerer.expression(x.then_value));
  e->operands.push_back(lowerer.expression(x.else_value));
  return e;
}

ast::ExprPtr PrimaryVisitor::operator()(const x3::forward_ast<Tuple>& t) const {
  const Tuple& x = t.get();
  if (x.items.size() != 1)
    diagnostics.error("E0105", x.span, "a list of values in parentheses is only allowed after `in`",
                      "expected one expression here");
  auto inner = lowerer.expression(x.items.front());
  inner->span = x.span;  // the parentheses belong to the expression
  return inner;
}

std::string unescape(const std::string& quoted) {
  std::string out;
  for (size_t i = 1; i + 1 < quoted.size(); ++i) {
    char c = quoted[i];
    if (c == '\\' && i + 2 < quoted.size()) {
      char n = quoted[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
    } else {
      out += c;
    }
  }
  return out;
}

class TypeDecoder {
 public:
  TypeDecoder(const std::string& text, uint32_t base) : text_(text), base_(base) {}
  ast::TypeRef decode() {
    skip();
    ast::TypeRef t;
    uint32_t start = static_cast<uint32_t>(pos_);
    if (pos_ < text_.size() && text_[pos_] == '[') {
      ++pos_;
      t.element = std::make_shared<ast::TypeRef>(decode());
      skip();
      if (pos_ < text_.size() && text_[pos_] == ']') ++pos_;
    } else {
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
        t.name += text_[pos_++];
    }
    skip();
    if (pos_ < text_.size() && text_[pos_] == '?') {
      t.nullable = true;
      ++pos_;
    }
    t.span = Span{base_ + start, base_ + static_cast<uint32_t>(pos_)};
    return t;
  }

 private:
  void skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  const std::string& text_;
  uint32_t base_;
  size_t pos_ = 0;
};

}  // namespace

ast::ExprPtr Lowerer::expression(const Chain& chain) {
  ChainCursor cursor{&chain};
  return climb(cursor, kCoalesce);
}

ast::ExprPtr Lowerer::climb(ChainCursor& c, int min_precedence) {
  ast::ExprPtr lhs = unary(c);
  while (c.next_term < term_count(c)) {
    const Token& op = c.chain->rest[c.next_term - 1].op;
    int p = precedence(op.text);
    if (p < min_precedence) break;
    if (op.text == "in") {
      lhs = in_list(c, std::move(lhs), op);
      continue;
    }
    ast::ExprPtr rhs = climb(c, p + 1);
    auto e = make(ast::Expr::Kind::Binary, join_spans(lhs->span, rhs->span));
    e->binary_op = binary_op_of(op.text);
    e->name_span = op.span;
    e->operands.push_back(std::move(lhs));
    e->operands.push_back(std::move(rhs));
    lhs = std::move(e);
  }
  return lhs;
}

ast::ExprPtr Lowerer::unary(ChainCursor& c) {
  const Term& t = term_at(c, c.next_term);
  if (c.next_prefix < t.prefixes.size()) {
    const Token& prefix = t.prefixes[c.next_prefix++];
    if (prefix.text == "-") {
      // A negative integer literal is one literal, so that -9223372036854775808 is valid.
      const Literal* lit = boost::get<Literal>(&t.operand.base);
      if (c.next_prefix == t.prefixes.size() && lit && t.operand.fields.empty() &&
          (lit->kind == Literal::Kind::Int || lit->kind == Literal::Kind::Float ||
           lit->kind == Literal::Kind::Duration)) {
        auto e = literal(*lit, true);
        e->span = join_spans(prefix.span, e->span);
        c.next_prefix = 0;
        ++c.next_term;
        return e;
      }
      ast::ExprPtr operand = unary(c);
      auto e = make(ast::Expr::Kind::Unary, join_spans(prefix.span, operand->span));
      e->unary_op = ast::UnaryOp::Negate;
      e->operands.push_back(std::move(operand));
      return e;
    }
    // `not` covers the comparisons that follow it: `not a == b` is `not (a == b)`.
    ast::ExprPtr operand = climb(c, kNot + 1);
    auto e = make(ast::Expr::Kind::Unary, join_spans(prefix.span, operand->span));
    e->unary_op = ast::UnaryOp::Not;
    e->operands.push_back(std::move(operand));
    return e;
  }
  c.next_prefix = 0;
  ++c.next_term;
  return postfix(t.operand);
}

ast::ExprPtr Lowerer::in_list(ChainCursor& c, ast::ExprPtr lhs, const Token& op) {
  const Term& t = term_at(c, c.next_term);
  ++c.next_term;
  c.next_prefix = 0;
  auto e = make(ast::Expr::Kind::In, join_spans(lhs->span, t.span));
  e->name_span = op.span;
  e->operands.push_back(std::move(lhs));
  const auto* tuple = boost::get<x3::forward_ast<Tuple>>(&t.operand.base);
  if (!tuple || !t.prefixes.empty() || !t.operand.fields.empty()) {
    diagnostics_.error("E0105", t.span, "`in` needs a list of values in parentheses",
                       "expected `(a, b, ...)`", "write `x in (1, 2, 3)`");
    e->operands.push_back(postfix(t.operand));
    return e;
  }
  for (const Chain& item : tuple->get().items) e->operands.push_back(expression(item));
  return e;
}

ast::ExprPtr Lowerer::postfix(const Postfix& p) {
  ast::ExprPtr base = primary(p.base);
  for (const Token& field : p.fields) {
    auto e = make(ast::Expr::Kind::Field, join_spans(base->span, field.span));
    e->text = field.text;
    e->name_span = field.span;
    e->operands.push_back(std::move(base));
    base = std::move(e);
  }
  return base;
}

ast::ExprPtr Lowerer::primary(const Primary& p) {
  PrimaryVisitor visitor{*this, diagnostics_, [this](const Literal& l) { return literal(l, false); }};
  return boost::apply_visitor(visitor, p);
}

// Decodes `"a\tb"` to its bytes; escapes were validated by the grammar.
ast::ExprPtr Lowerer::literal(const Literal& l, bool negated) {
  using K = ast::Expr::Kind;
  switch (l.kind) {
    case Literal::Kind::Int:
    case Literal::Kind::Duration: {
      size_t digits = 0;
      while (digits < l.text.size() && std::isdigit(static_cast<unsigned char>(l.text[digits]))) ++digits;
      uint64_t magnitude = 0;
      auto [ptr, ec] = std::from_chars(l.text.data(), l.text.data() + digits, magnitude);
      int64_t unit = 1;
      std::string suffix = l.text.substr(digits);
      if (suffix == "s") unit = 1000;
      else if (suffix == "m") unit = 60'000;
      else if (suffix == "h") unit = 3'600'000;
      else if (suffix == "d") unit = 86'400'000;
      const uint64_t limit = uint64_t(std::numeric_limits<int64_t>::max()) + (negated ? 1 : 0);
      bool too_big = ec != std::errc() || magnitude > limit / uint64_t(unit);
      auto e = make(l.kind == Literal::Kind::Int ? K::Int : K::Duration, l.span);
      if (too_big) {
        diagnostics_.error("E0102", l.span, "number `" + std::string(negated ? "-" : "") + l.text + "` is out of range",
                           "does not fit in 64 bits", "the range of i64 is -9223372036854775808 ..= 9223372036854775807");
        return e;
      }
      uint64_t value = magnitude * uint64_t(unit);
      e->int_value = negated ? int64_t(0 - value) : int64_t(value);
      return e;
    }
    case Literal::Kind::Float: {
      auto e = make(K::Float, l.span);
      double value = 0;
      auto [ptr, ec] = std::from_chars(l.text.data(), l.text.data() + l.text.size(), value);
      if (ec != std::errc())
        diagnostics_.error("E0102", l.span, "number `" + l.text + "` is out of range",
                           "too large for f64");
      e->float_value = negated ? -value : value;
      return e;
    }
    case Literal::Kind::String: {
      auto e = make(K::String, l.span);
      e->text = unescape(l.text);
      return e;
    }
    case Literal::Kind::Bool: {
      auto e = make(K::Bool, l.span);
      e->bool_value = l.text == "true";
      return e;
    }
    case Literal::Kind::Null:
      break;
  }
  return make(K::Null, l.span);
}

std::vector<ast::ExprPtr> Lowerer::arguments(const std::vector<Arg>& args, std::vector<std::string>& names) {
  std::vector<ast::ExprPtr> out;
  for (const Arg& a : args) {
    names.push_back(a.name ? a.name->text : "");
    out.push_back(expression(a.value));
  }
  return out;
}

ast::ExprPtr Lowerer::call(const Call& c) {
  auto e = make(ast::Expr::Kind::Call, c.span);
  e->text = c.name.text;
  e->name_span = c.name.span;
  e->operands = arguments(c.args, e->arg_names);
  return e;
}

std::vector<ast::FieldBinding> Lowerer::fields(const std::vector<FieldItem>& items, bool allow_keep_all,
                                               bool& keep_all, Span& keep_all_span, const char* where) {
  std::vector<ast::FieldBinding> out;
  for (const FieldItem& item : items) {
    if (item.name.text == "...") {
      if (!allow_keep_all) {
        diagnostics_.error("E0105", item.name.span, std::string("`...` is not allowed in ") + where,
                           "remove this");
      } else if (keep_all) {
        diagnostics_.error("E0105", item.name.span, "`...` appears twice", "remove this");
      } else if (item.value) {
        diagnostics_.error("E0105", item.span, "`...` cannot be assigned", "write `...` alone");
      }
      keep_all = true;
      keep_all_span = item.name.span;
      continue;
    }
    ast::FieldBinding binding;
    binding.name = name_of(item.name);
    binding.span = item.span;
    if (item.value) binding.value = expression(*item.value);
    out.push_back(std::move(binding));
  }
  return out;
}

// Decodes a type as written: `i64`, `string?`, `[string]`, `[ i64? ]?`.
ast::TypeRef Lowerer::type(const TypeText& text) {
  ast::TypeRef t = TypeDecoder(text.text, text.span.begin).decode();
  // The grammar's match may end in blanks (it looked for a `?`); the span stops at the type.
  size_t length = text.text.find_last_not_of(" \t\r\n") + 1;
  t.span = Span{text.span.begin, text.span.begin + static_cast<uint32_t>(length)};
  return t;
}

}  // namespace flow::syntax

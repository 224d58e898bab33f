// Turns the raw X3 parse tree into the ast:: tree: applies operator precedence to the flat
// operator chains, decodes literals (reporting those out of range), decodes types, and checks
// the few shapes the grammar accepts loosely (`...` placement, `(a, b)` outside `in`).
#include "lower_raw.h"

#include <charconv>
#include <functional>
#include <cstring>
#include <limits>

namespace flow::syntax {

using namespace raw;

namespace {

ast::Name name_of(const Token& token) { return ast::Name{token.text, token.span}; }

Span join_spans(Span a, Span b) { return Span{std::min(a.begin, b.begin), std::max(a.end, b.end)}; }

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

class Lowerer {
 public:
  explicit Lowerer(Diagnostics& diagnostics) : diagnostics_(diagnostics) {}

  ast::ExprPtr expression(const Chain& chain);
  std::vector<ast::ExprPtr> arguments(const std::vector<Arg>& args, std::vector<std::string>& names);
  ast::ExprPtr call(const Call& c);
  std::vector<ast::FieldBinding> fields(const std::vector<FieldItem>& items, bool allow_keep_all,
                                        bool& keep_all, Span& keep_all_span, const char* where);
  ast::TypeRef type(const TypeText& text);
  ast::Flow flow(const FlowRaw& raw);

  // Precedence climbing over one chain: terms t0..tn with ops o1..on between them.
  struct ChainCursor {
    const Chain* chain;
    size_t next_term = 0;    // index into terms (0 = chain.first)
    size_t next_prefix = 0;  // prefixes of the next term already applied
  };
  const Term& term_at(const ChainCursor& c, size_t i) const {
    return i == 0 ? c.chain->first : c.chain->rest[i - 1].term;
  }
  size_t term_count(const ChainCursor& c) const { return c.chain->rest.size() + 1; }
  ast::ExprPtr climb(ChainCursor& c, int min_precedence);
  ast::ExprPtr unary(ChainCursor& c);
  ast::ExprPtr in_list(ChainCursor& c, ast::ExprPtr lhs, const Token& op);
  ast::ExprPtr postfix(const Postfix& p);
  ast::ExprPtr primary(const Primary& p);
  ast::ExprPtr literal(const Literal& l, bool negated);
  ast::ExprPtr make(ast::Expr::Kind kind, Span span) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->span = span;
    return e;
  }
  ast::WindowSpec window(const Call& c);
  ast::Stage stage(const StageRaw& raw);

 private:
  Diagnostics& diagnostics_;
};

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

ast::ExprPtr Lowerer::primary(const Primary& p) {
  PrimaryVisitor visitor{*this, diagnostics_, [this](const Literal& l) { return literal(l, false); }};
  return boost::apply_visitor(visitor, p);
}

// Decodes `"a\tb"` to its bytes; escapes were validated by the grammar.
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

ast::TypeRef Lowerer::type(const TypeText& text) {
  ast::TypeRef t = TypeDecoder(text.text, text.span.begin).decode();
  // The grammar's match may end in blanks (it looked for a `?`); the span stops at the type.
  size_t length = text.text.find_last_not_of(" \t\r\n") + 1;
  t.span = Span{text.span.begin, text.span.begin + static_cast<uint32_t>(length)};
  return t;
}

ast::WindowSpec Lowerer::window(const Call& c) {
  ast::WindowSpec w;
  w.kind = name_of(c.name);
  w.args = arguments(c.args, w.arg_names);
  w.span = c.span;
  return w;
}

struct StageVisitor {
  Lowerer& lower;
  ast::Stage& s;
  Diagnostics& diagnostics;

  void operator()(const FilterRaw& r) const {
    s.kind = ast::Stage::Kind::Filter;
    s.span = r.span;
    s.keyword_span = r.keyword.span;
    s.filter.predicate = lower.expression(r.predicate);
  }
  void operator()(const MapRaw& r) const {
    s.kind = ast::Stage::Kind::Map;
    s.span = r.span;
    s.keyword_span = r.keyword.span;
    s.map.fields = lower.fields(r.fields, true, s.map.keep_all, s.map.keep_all_span, "`map`");
  }
  void operator()(const FlatMapRaw& r) const {
    s.kind = ast::Stage::Kind::FlatMap;
    s.span = r.span;
    s.keyword_span = r.keyword.span;
    s.flatmap.variable = ast::Name{r.variable.text, r.variable.span};
    s.flatmap.list = lower.expression(r.list);
    s.flatmap.fields =
        lower.fields(r.fields, true, s.flatmap.keep_all, s.flatmap.keep_all_span, "`flatmap`");
  }
  void operator()(const AggregateRaw& r) const;
  void operator()(const JoinRaw& r) const;
  void operator()(const SplitRaw& r) const;
  void operator()(const SinkRaw& r) const {
    s.kind = ast::Stage::Kind::Sink;
    s.span = r.span;
    s.keyword_span = r.keyword.span;
    s.sink.kind = ast::Name{r.target.name.text, r.target.name.span};
    s.sink.args = lower.arguments(r.target.args, s.sink.arg_names);
  }
};

}  // namespace

// Windows and joins are lowered here in full so that sema can point at them, even while it
// reports them as not supported yet.
namespace {

void StageVisitor::operator()(const AggregateRaw& r) const {
  s.kind = ast::Stage::Kind::Aggregate;
  s.span = r.span;
  s.keyword_span = r.keyword.span;
  auto& a = s.aggregate;
  if (r.local) {
    a.local = true;
    a.local_span = r.local->span;
  }
  bool keep_all = false;
  Span ignored;
  a.keys = lower.fields(r.keys, false, keep_all, ignored, "aggregate keys");
  if (r.window) {
    a.window = lower.window(r.window->window);
    if (r.window->late) {
      const LateRaw& late = *r.window->late;
      ast::LateClause clause;
      clause.lateness = lower.expression(late.lateness);
      if (late.target.text != "drop") clause.stream = ast::Name{late.target.text, late.target.span};
      clause.span = late.span;
      a.late = std::move(clause);
    }
  }
  if (r.emit) {
    ast::EmitClause emit;
    emit.final = r.emit->mode.text == "final";
    if (r.emit->every) emit.every = lower.expression(*r.emit->every);
    emit.span = r.emit->span;
    a.emit = std::move(emit);
  }
  a.bindings = lower.fields(r.bindings, false, keep_all, ignored, "aggregate bindings");
}

void StageVisitor::operator()(const JoinRaw& r) const {
  s.kind = ast::Stage::Kind::Join;
  s.span = r.span;
  s.keyword_span = r.left ? r.left->span : r.keyword.span;
  auto& j = s.join;
  j.left = r.left.has_value();
  j.table = r.table.has_value();
  j.stream = ast::Name{r.stream.text, r.stream.span};
  j.alias = ast::Name{r.alias.text, r.alias.span};
  j.condition = lower.expression(r.condition);
  if (r.within) {
    j.within_low = lower.expression(r.within->low);
    j.within_high = lower.expression(r.within->high);
  }
  if (r.window) j.window = lower.window(*r.window);
}

void StageVisitor::operator()(const SplitRaw& r) const {
  s.kind = ast::Stage::Kind::Split;
  s.span = r.span;
  s.keyword_span = r.keyword.span;
  for (const SplitBranch& b : r.branches) {
    ast::SplitStage::Branch branch;
    branch.span = b.span;
    branch.target = ast::Name{b.target.text, b.target.span};
    if (b.keyword.text == "when" && !b.condition)
      diagnostics.error("E0101", b.keyword.span, "expected a condition after `when`",
                        "write `when EXPR -> NAME`");
    if (b.keyword.text == "else" && b.condition)
      diagnostics.error("E0101", b.keyword.span, "`else` takes no condition", "write `else -> NAME`");
    if (b.keyword.text == "when" && b.condition) branch.condition = lower.expression(*b.condition);
    s.split.branches.push_back(std::move(branch));
  }
}

}  // namespace

namespace {

ast::Stage Lowerer::stage(const StageRaw& raw) {
  ast::Stage s;
  StageVisitor visitor{*this, s, diagnostics_};
  boost::apply_visitor(visitor, raw);
  return s;
}

ast::Flow Lowerer::flow(const FlowRaw& raw) {
  ast::Flow f;
  f.span = raw.span;
  f.origin.span = raw.origin.span;
  if (raw.origin.merge) {
    f.origin.merge = true;
    for (const Token& t : raw.origin.names) f.origin.merged.push_back(name_of(t));
  } else if (!raw.origin.names.empty()) {
    f.origin.name = name_of(raw.origin.names.front());
    if (raw.origin.names.size() > 1)
      diagnostics_.error("E0101", raw.origin.span, "several streams need `merge` in front",
                         "write `merge(a, b)`");
  }
  for (const StageRaw& s : raw.stages) f.stages.push_back(stage(s));
  return f;
}

struct ItemVisitor {
  Lowerer& lower;
  ast::Program& program;
  Diagnostics& diagnostics;

  void operator()(const SchemaRaw& r) const {
    ast::SchemaDecl d;
    d.name = name_of(r.name);
    d.span = r.span;
    for (const SchemaFieldRaw& f : r.fields) d.fields.push_back(ast::SchemaField{name_of(f.name), lower.type(f.type)});
    program.schemas.push_back(std::move(d));
  }
  void operator()(const ParamRaw& r) const {
    ast::ParamDecl d;
    d.name = name_of(r.name);
    d.type = lower.type(r.type);
    if (r.default_value) d.default_value = lower.expression(*r.default_value);
    d.span = r.span;
    program.params.push_back(std::move(d));
  }
  void operator()(const SourceRaw& r) const;
  void operator()(const FnRaw& r) const {
    ast::FnDecl d;
    d.name = name_of(r.name);
    for (const FnParamRaw& p : r.params) d.params.push_back(ast::FnParam{name_of(p.name), lower.type(p.type)});
    if (r.result) d.result = lower.type(*r.result);
    d.body = lower.expression(r.body);
    d.span = r.span;
    program.functions.push_back(std::move(d));
  }
  void operator()(const LetRaw& r) const {
    ast::LetDecl d;
    d.name = name_of(r.name);
    d.flow = lower.flow(r.flow);
    d.span = r.span;
    program.lets.push_back(std::move(d));
  }
  void operator()(const FlowRaw& r) const { program.flows.push_back(lower.flow(r)); }
};

void ItemVisitor::operator()(const SourceRaw& r) const {
  ast::SourceDecl d;
  d.is_table = r.keyword.text == "table";
  d.name = name_of(r.name);
  d.schema = name_of(r.schema);
  d.connector = name_of(r.connector.name);
  d.args = lower.arguments(r.connector.args, d.arg_names);
  d.args_span = r.connector.span;
  d.span = r.span;
  if (r.time) {
    ast::TimeClause t;
    t.span = r.time->span;
    const std::string& what = r.time->what.text;
    if (what == "ingestion" && !r.time->watermark) {
      t.kind = ast::TimeClause::Kind::Ingestion;
    } else if (what == "processing" && !r.time->watermark) {
      t.kind = ast::TimeClause::Kind::Processing;
    } else {
      t.field = name_of(r.time->what);
      if (!r.time->watermark) {
        diagnostics.error("E0101", r.time->what.span, "expected `watermark` after the time field",
                          "add `watermark lag 5s` or `watermark ascending`");
      } else if (r.time->watermark->mode.text == "ascending") {
        t.kind = ast::TimeClause::Kind::EventAscending;
      } else {
        t.kind = ast::TimeClause::Kind::EventLag;
        if (r.time->watermark->lag) t.lag = lower.expression(*r.time->watermark->lag);
      }
    }
    if (r.time->idle) t.idle = lower.expression(*r.time->idle);
    d.time = std::move(t);
  }
  if (r.on_error) {
    ast::OnErrorClause c;
    c.span = r.on_error->span;
    const Token& policy = r.on_error->policy;
    if (policy.text == "fail") {
      c.kind = ast::OnErrorClause::Kind::Fail;
    } else if (policy.text == "skip") {
      c.kind = ast::OnErrorClause::Kind::Skip;
    } else {
      // "-> name": the name is the token's trailing identifier.
      c.kind = ast::OnErrorClause::Kind::DeadLetter;
      size_t start = policy.text.find_first_not_of(" \t\r\n", 2);
      std::string name = start == std::string::npos ? "" : policy.text.substr(start);
      uint32_t offset = policy.span.end - static_cast<uint32_t>(name.size());
      c.stream = ast::Name{name, Span{offset, policy.span.end}};
    }
    d.on_error = std::move(c);
  }
  program.sources.push_back(std::move(d));
}

}  // namespace

ast::Program lower_items(const std::vector<raw::ItemRaw>& items, Diagnostics& diagnostics) {
  ast::Program program;
  Lowerer lower(diagnostics);
  ItemVisitor visitor{lower, program, diagnostics};
  for (const ItemRaw& item : items) boost::apply_visitor(visitor, item);
  return program;
}

}  // namespace flow::syntax

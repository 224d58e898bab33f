// Type checking of expressions (language.md sections 2 and 5): literals, names, operators,
// `in`, `if`, `??`, with implicit i64 -> f64 widening made explicit and nullability tracked.
#include <fmt/format.h>

#include <optional>

#include "checker.h"

namespace flow::sema {

using TK = Type::Kind;

namespace {

Expr constant(Span span, Type type, Constant value) {
  Expr e;
  e.kind = Expr::Kind::Const;
  e.type = std::move(type);
  e.span = span;
  e.constant = std::move(value);
  return e;
}

Expr node(Expr::Kind kind, Span span, Type type, std::vector<Expr> args) {
  Expr e;
  e.kind = kind;
  e.span = span;
  e.type = std::move(type);
  e.args = std::move(args);
  return e;
}

std::string quoted(const Type& t) { return "`" + to_string(t) + "`"; }

bool is_time_like(const Type& t) { return t.kind == TK::Timestamp || t.kind == TK::Duration; }

}  // namespace

std::vector<std::string> keys_of(const std::map<std::string, int>& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}

Expr Checker::poison(Span span) {
  Expr e;
  e.span = span;
  e.type = Type{TK::Record, false, nullptr, nullptr};
  return e;
}

bool Checker::convert(Expr& e, const Type& target) {
  if (is_poison(e.type) || is_poison(target)) return true;
  if (e.type.kind == TK::Null) {
    if (!target.nullable) return false;
    e.type = target;
    return true;
  }
  if (e.type.nullable && !target.nullable) return false;
  if (e.type.same_base(target)) {
    e.type.nullable = target.nullable;
    return true;
  }
  if (e.type.kind == TK::I64 && target.kind == TK::F64) {
    Expr widened = node(Expr::Kind::Widen, e.span, Type::scalar(TK::F64, e.type.nullable), {std::move(e)});
    e = std::move(widened);
    e.type.nullable = target.nullable;
    return true;
  }
  return false;
}

std::optional<Type> Checker::unify(Expr& a, Expr& b) {
  if (is_poison(a.type) || is_poison(b.type)) return a.type;
  bool nullable = a.type.nullable || b.type.nullable || a.type.kind == TK::Null || b.type.kind == TK::Null;
  Type base;
  if (a.type.kind == TK::Null && b.type.kind == TK::Null) return Type::scalar(TK::Null);
  if (a.type.kind == TK::Null) base = b.type;
  else if (b.type.kind == TK::Null) base = a.type;
  else if (a.type.same_base(b.type)) base = a.type;
  else if (a.type.is_numeric() && b.type.is_numeric()) base = Type::scalar(TK::F64);
  else return std::nullopt;
  base.nullable = nullable;
  if (!convert(a, base) || !convert(b, base)) return std::nullopt;
  return base;
}

Expr Checker::check_bool(const ast::Expr& e, const Scope& scope, const char* what) {
  Expr x = check(e, scope);
  if (!is_poison(x.type) && x.type.kind != TK::Bool) {
    diagnostics_.error(code::kNotBool, e.span, fmt::format("{} must be a `bool`, found {}", what, quoted(x.type)),
                       "expected `bool`");
    return poison(e.span);
  }
  return x;
}

Expr Checker::check(const ast::Expr& e, const Scope& scope) {
  using K = ast::Expr::Kind;
  switch (e.kind) {
    case K::Int: return constant(e.span, Type::scalar(TK::I64), e.int_value);
    case K::Float: return constant(e.span, Type::scalar(TK::F64), e.float_value);
    case K::String: return constant(e.span, Type::scalar(TK::String), e.text);
    case K::Bool: return constant(e.span, Type::scalar(TK::Bool), e.bool_value);
    case K::Null: return constant(e.span, Type::scalar(TK::Null), std::monostate{});
    case K::Duration: return constant(e.span, Type::scalar(TK::Duration), e.int_value);
    case K::Name: return check_name(e, scope);
    case K::Field: return check_alias_field(e, scope);
    case K::Unary: {
      Expr a = check(*e.operands[0], scope);
      if (is_poison(a.type)) return a;
      Expr out = node(Expr::Kind::Unary, e.span, a.type, {});
      if (e.unary_op == ast::UnaryOp::Not) {
        if (a.type.kind != TK::Bool && a.type.kind != TK::Null) {
          diagnostics_.error(code::kTypeMismatch, e.operands[0]->span,
                             fmt::format("`not` needs a `bool`, found {}", quoted(a.type)), "expected `bool`");
          return poison(e.span);
        }
        out.unary_op = UnaryOp::Not;
        if (a.type.kind == TK::Null) convert(a, Type::scalar(TK::Bool, true));
      } else {
        if (!a.type.is_numeric() && a.type.kind != TK::Duration) {
          diagnostics_.error(code::kTypeMismatch, e.operands[0]->span,
                             fmt::format("`-` needs a number or a duration, found {}", quoted(a.type)),
                             "expected `i64`, `f64` or `duration`");
          return poison(e.span);
        }
        out.unary_op = UnaryOp::Negate;
      }
      out.type = a.type;
      out.args.push_back(std::move(a));
      return out;
    }
    case K::Binary: return check_binary(e, scope);
    case K::In: {
      Expr x = check(*e.operands[0], scope);
      std::vector<Expr> args{x};
      bool nullable = x.type.nullable;
      for (size_t i = 1; i < e.operands.size(); ++i) {
        Expr c = check(*e.operands[i], scope);
        Expr probe = x;
        if (!unify(probe, c)) {
          diagnostics_.error(code::kTypeMismatch, e.operands[i]->span,
                             fmt::format("cannot look for a {} among values of type {}", quoted(x.type), quoted(c.type)),
                             fmt::format("expected {}", quoted(x.type)));
          return poison(e.span);
        }
        if (probe.kind == Expr::Kind::Widen) args[0] = probe;
        args.push_back(std::move(c));
      }
      // After widening some candidates, make every candidate and x agree.
      Type common = args[0].type;
      for (auto& a : args) if (a.type.kind == TK::F64 || a.kind == Expr::Kind::Widen) common = Type::scalar(TK::F64);
      for (auto& a : args) {
        Type target = common;
        target.nullable = a.type.nullable || a.type.kind == TK::Null;
        convert(a, target);
      }
      return node(Expr::Kind::In, e.span, Type::scalar(TK::Bool, nullable), std::move(args));
    }
    case K::If: {
      Expr c = check_bool(*e.operands[0], scope, "the condition of `if`");
      Expr a = check(*e.operands[1], scope);
      Expr b = check(*e.operands[2], scope);
      auto t = unify(a, b);
      if (!t) {
        diagnostics_.error(code::kTypeMismatch, e.span,
                           fmt::format("the branches of `if` have different types: {} and {}", quoted(a.type), quoted(b.type)),
                           "both branches must have the same type");
        return poison(e.span);
      }
      return node(Expr::Kind::If, e.span, *t, {std::move(c), std::move(a), std::move(b)});
    }
    case K::Call: return check_call(e, scope);
  }
  return poison(e.span);
}

namespace {

// "a.b" for `a.b`, "a" for `a`: what a chain of field accesses on a name spells, if it is one.
std::optional<std::string> dotted_path(const ast::Expr& e) {
  if (e.kind == ast::Expr::Kind::Name) return e.text;
  if (e.kind != ast::Expr::Kind::Field) return std::nullopt;
  auto base = dotted_path(*e.operands[0]);
  if (!base) return std::nullopt;
  return *base + "." + e.text;
}

}  // namespace

// `a.b`: a field of join alias `a`, stored in the joined record as the field named "a.b"
// (`a.b.c` when the joined stream itself came out of a join with alias `b`).
Expr Checker::check_alias_field(const ast::Expr& e, const Scope& scope) {
  const ast::Expr& base = *e.operands[0];
  std::optional<std::string> path = dotted_path(base);
  bool named_base = path.has_value();
  if (named_base && scope.record && !scope.fn_arguments) {
    std::string prefix = *path + ".";
    int index = scope.record->index_of(prefix + e.text);
    if (index >= 0) {
      Expr x;
      x.kind = Expr::Kind::Field;
      x.index = index;
      x.type = scope.record->fields[static_cast<std::size_t>(index)].type;
      x.span = e.span;
      return x;
    }
    std::vector<std::string> alias_fields;
    for (const auto& f : scope.record->fields)
      if (f.name.compare(0, prefix.size(), prefix) == 0) alias_fields.push_back(f.name.substr(prefix.size()));
    if (!alias_fields.empty()) {
      std::string suggestion = closest_name(e.text, alias_fields);
      diagnostics_.error(code::kUnknownField, e.name_span, fmt::format("`{}` has no field `{}`", *path, e.text),
                         suggestion.empty() ? "not found" : "did you mean `" + suggestion + "`?",
                         fmt::format("`{}` has: {}", *path, fmt::join(alias_fields, ", ")));
      return poison(e.span);
    }
  }
  diagnostics_.error(code::kUnknownField, named_base ? base.span : e.name_span,
                     named_base ? fmt::format("`{}` is not a join alias here", *path)
                                : fmt::format("no record here has a field `{}`", e.text),
                     "not a record",
                     "`a.b` reads field `b` of the record joined by `join ... as a`");
  return poison(e.span);
}

Expr Checker::check_name(const ast::Expr& e, const Scope& scope) {
  if (scope.fn_arguments) {
    auto it = scope.fn_arguments->find(e.text);
    if (it != scope.fn_arguments->end()) {
      Expr copy = it->second;
      return copy;
    }
  }
  if (scope.local_name && *scope.local_name == e.text) {
    Expr x;
    x.kind = Expr::Kind::Local;
    x.index = 0;
    x.type = scope.local_type;
    x.span = e.span;
    return x;
  }
  if (scope.record && !scope.fn_arguments) {
    int index = scope.record->index_of(e.text);
    if (index >= 0) {
      Expr x;
      x.kind = Expr::Kind::Field;
      x.index = index;
      x.type = scope.record->fields[index].type;
      x.span = e.span;
      return x;
    }
  }
  auto param = params_.find(e.text);
  if (param != params_.end()) {
    Expr x;
    x.kind = Expr::Kind::Param;
    x.index = param->second;
    x.type = program_.params[param->second].type;
    x.span = e.span;
    return x;
  }
  if (scope.record && !scope.fn_arguments)
    for (const auto& f : scope.record->fields)
      if (f.name.size() > e.text.size() && f.name.compare(0, e.text.size() + 1, e.text + ".") == 0) {
        diagnostics_.error(code::kUnknownField, e.span, fmt::format("`{}` is a join alias, not a value", e.text),
                           "a join alias", fmt::format("use its fields, as in `{}`", f.name));
        return poison(e.span);
      }
  std::vector<std::string> candidates = keys_of(params_);
  if (scope.record && !scope.fn_arguments)
    for (const auto& f : scope.record->fields) candidates.push_back(f.name);
  if (scope.fn_arguments)
    for (const auto& [name, value] : *scope.fn_arguments) candidates.push_back(name);
  if (scope.local_name) candidates.push_back(*scope.local_name);
  std::string suggestion = closest_name(e.text, candidates);
  std::string label = suggestion.empty() ? "not found" : "did you mean `" + suggestion + "`?";
  if (scope.record && !scope.fn_arguments && !scope.record->name.empty()) {
    diagnostics_.error(code::kUnknownField, e.span,
                       fmt::format("unknown field `{}` in schema `{}`", e.text, scope.record->name), label);
  } else if (scope.record && !scope.fn_arguments) {
    diagnostics_.error(code::kUnknownField, e.span, fmt::format("unknown field `{}`", e.text), label,
                       "the record here has: " + [&] {
                         std::string s;
                         for (const auto& f : scope.record->fields) s += (s.empty() ? "" : ", ") + f.name;
                         return s;
                       }());
  } else {
    diagnostics_.error(code::kUnknownName, e.span, fmt::format("unknown name `{}`", e.text), label);
  }
  return poison(e.span);
}

Expr Checker::check_binary(const ast::Expr& e, const Scope& scope) {
  using B = ast::BinaryOp;
  const ast::Expr& left = *e.operands[0];
  const ast::Expr& right = *e.operands[1];
  // `x == null` and `x != null` test for null.
  if ((e.binary_op == B::Eq || e.binary_op == B::Ne) && (left.kind == ast::Expr::Kind::Null || right.kind == ast::Expr::Kind::Null)) {
    Expr x = check(left.kind == ast::Expr::Kind::Null ? right : left, scope);
    if (is_poison(x.type)) return x;
    Expr test = node(Expr::Kind::IsNull, e.span, Type::scalar(TK::Bool), {std::move(x)});
    if (e.binary_op == B::Eq) return test;
    Expr negated = node(Expr::Kind::Unary, e.span, Type::scalar(TK::Bool), {std::move(test)});
    negated.unary_op = UnaryOp::Not;
    return negated;
  }
  Expr a = check(left, scope);
  Expr b = check(right, scope);
  if (is_poison(a.type) || is_poison(b.type)) return poison(e.span);
  switch (e.binary_op) {
    case B::Coalesce: {
      if (a.type.kind == TK::Null) return b;
      Type result = a.type;
      Expr fallback = b;
      Expr primary = a;
      auto t = unify(primary, fallback);
      if (!t) {
        diagnostics_.error(code::kTypeMismatch, right.span,
                           fmt::format("`??` needs a fallback of type {}, found {}", quoted(a.type.as_nullable(false)), quoted(b.type)),
                           fmt::format("expected {}", quoted(a.type.as_nullable(false))));
        return poison(e.span);
      }
      Type out = *t;
      out.nullable = b.type.nullable || b.type.kind == TK::Null;
      return node(Expr::Kind::Coalesce, e.span, out, {std::move(primary), std::move(fallback)});
    }
    case B::Or:
    case B::And: {
      for (Expr* x : {&a, &b}) {
        if (x->type.kind == TK::Null) convert(*x, Type::scalar(TK::Bool, true));
        if (x->type.kind != TK::Bool) {
          diagnostics_.error(code::kTypeMismatch, (x == &a ? left : right).span,
                             fmt::format("`{}` needs `bool` operands, found {}", e.binary_op == B::Or ? "or" : "and", quoted(x->type)),
                             "expected `bool`");
          return poison(e.span);
        }
      }
      Expr out = node(Expr::Kind::Binary, e.span, Type::scalar(TK::Bool, a.type.nullable || b.type.nullable), {});
      out.binary_op = e.binary_op == B::Or ? BinaryOp::Or : BinaryOp::And;
      out.args = {std::move(a), std::move(b)};
      return out;
    }
    case B::Eq: case B::Ne: case B::Lt: case B::Le: case B::Gt: case B::Ge:
      return check_comparison(e, std::move(a), std::move(b));
    default:
      return check_arithmetic(e, std::move(a), std::move(b));
  }
}

Expr Checker::check_comparison(const ast::Expr& e, Expr a, Expr b) {
  static const BinaryOp ops[] = {BinaryOp::Or, BinaryOp::Or, BinaryOp::And, BinaryOp::Eq, BinaryOp::Ne,
                                 BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge};
  std::string a_type = to_string(a.type), b_type = to_string(b.type);
  auto t = unify(a, b);
  bool ordered = e.binary_op == ast::BinaryOp::Eq || e.binary_op == ast::BinaryOp::Ne ||
                 (t && t->kind != TK::Bool && t->kind != TK::List);
  if (!t || t->kind == TK::List || !ordered) {
    diagnostics_.error(code::kTypeMismatch, e.name_span.end > e.name_span.begin ? e.name_span : e.span,
                       fmt::format("cannot compare `{}` with `{}`", a_type, b_type),
                       t ? "these values have no order" : "the two sides must have the same type",
                       t ? "" : "convert one side, e.g. `f64(x)` or `string(x)`");
    return poison(e.span);
  }
  Expr out = node(Expr::Kind::Binary, e.span, Type::scalar(TK::Bool, t->nullable), {std::move(a), std::move(b)});
  out.binary_op = ops[static_cast<int>(e.binary_op)];
  return out;
}

Expr Checker::check_arithmetic(const ast::Expr& e, Expr a, Expr b) {
  using B = ast::BinaryOp;
  static const char* names[] = {"??", "or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};
  const char* op = names[static_cast<int>(e.binary_op)];
  bool nullable = a.type.nullable || b.type.nullable || a.type.kind == TK::Null || b.type.kind == TK::Null;
  // A null literal takes the type of the other side.
  if (a.type.kind == TK::Null && b.type.kind != TK::Null) convert(a, b.type.as_nullable());
  if (b.type.kind == TK::Null && a.type.kind != TK::Null) convert(b, a.type.as_nullable());
  std::optional<Type> result;
  TK ka = a.type.kind, kb = b.type.kind;
  if (a.type.is_numeric() && b.type.is_numeric()) {
    result = unify(a, b);
  } else if (ka == TK::String && kb == TK::String && e.binary_op == B::Add) {
    result = Type::scalar(TK::String);
  } else if (ka == TK::Timestamp && kb == TK::Timestamp && e.binary_op == B::Sub) {
    result = Type::scalar(TK::Duration);
  } else if (ka == TK::Timestamp && kb == TK::Duration && (e.binary_op == B::Add || e.binary_op == B::Sub)) {
    result = Type::scalar(TK::Timestamp);
  } else if (ka == TK::Duration && kb == TK::Timestamp && e.binary_op == B::Add) {
    result = Type::scalar(TK::Timestamp);
  } else if (ka == TK::Duration && kb == TK::Duration && (e.binary_op == B::Add || e.binary_op == B::Sub)) {
    result = Type::scalar(TK::Duration);
  }
  if (!result) {
    std::string help;
    if (is_time_like(a.type) || is_time_like(b.type)) help = "use `i64(x)` to get the milliseconds of a timestamp or duration";
    else if (ka == TK::String || kb == TK::String) help = "`+` joins two strings; convert with `string(x)`";
    diagnostics_.error(code::kTypeMismatch, e.name_span.end > e.name_span.begin ? e.name_span : e.span,
                       fmt::format("cannot apply `{}` to `{}` and `{}`", op, to_string(a.type), to_string(b.type)),
                       "no such operation", help);
    return poison(e.span);
  }
  Type t = *result;
  t.nullable = nullable;
  Expr out = node(Expr::Kind::Binary, e.span, t, {std::move(a), std::move(b)});
  switch (e.binary_op) {
    case B::Add: out.binary_op = BinaryOp::Add; break;
    case B::Sub: out.binary_op = BinaryOp::Sub; break;
    case B::Mul: out.binary_op = BinaryOp::Mul; break;
    case B::Div: out.binary_op = BinaryOp::Div; break;
    default: out.binary_op = BinaryOp::Mod; break;
  }
  return out;
}

std::optional<Type> Checker::resolve_type(const ast::TypeRef& t) {
  if (t.element) {
    auto element = resolve_type(*t.element);
    if (!element) return std::nullopt;
    return Type::list_of(*element, t.nullable);
  }
  static const std::map<std::string, TK> names{{"bool", TK::Bool},     {"i64", TK::I64},
                                               {"f64", TK::F64},       {"string", TK::String},
                                               {"timestamp", TK::Timestamp}, {"duration", TK::Duration}};
  auto it = names.find(t.name);
  if (it == names.end()) {
    std::vector<std::string> candidates;
    for (const auto& [n, k] : names) candidates.push_back(n);
    for (const char* alias : {"int", "float", "str", "long", "double", "boolean"}) (void)alias;
    std::string suggestion = closest_name(t.name, candidates);
    if (t.name == "int" || t.name == "long") suggestion = "i64";
    if (t.name == "float" || t.name == "double") suggestion = "f64";
    if (t.name == "str") suggestion = "string";
    diagnostics_.error(code::kUnknownType, t.span, fmt::format("unknown type `{}`", t.name),
                       suggestion.empty() ? "not a type" : "did you mean `" + suggestion + "`?",
                       "the types are bool, i64, f64, string, timestamp, duration, [T] and T?");
    return std::nullopt;
  }
  return Type::scalar(it->second, t.nullable);
}

}  // namespace flow::sema

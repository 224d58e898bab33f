// Calls: the built-in functions and casts of language.md section 5 with their signatures,
// and user `fn`s, which are inlined here (arguments substituted into the checked body).
#include <fmt/format.h>

#include <algorithm>

#include "checker.h"

namespace flow::sema {

using TK = Type::Kind;

namespace {

// A parameter of a built-in: the base types it accepts.
struct ParamSpec {
  std::vector<TK> accepts;
};

struct BuiltinSpec {
  const char* name;
  Builtin builtin;
  std::vector<ParamSpec> params;
  size_t optional = 0;  // how many trailing params may be left out
  // The result type for the (checked) argument types.
  Type (*result)(const std::vector<Expr>& args);
};

const std::vector<TK> kScalars{TK::Bool, TK::I64, TK::F64, TK::String, TK::Timestamp, TK::Duration};
const std::vector<TK> kNumbers{TK::I64, TK::F64};

Type fixed_string(const std::vector<Expr>&) { return Type::scalar(TK::String); }
Type fixed_i64(const std::vector<Expr>&) { return Type::scalar(TK::I64); }
Type fixed_f64(const std::vector<Expr>&) { return Type::scalar(TK::F64); }
Type fixed_bool(const std::vector<Expr>&) { return Type::scalar(TK::Bool); }
Type fixed_timestamp(const std::vector<Expr>&) { return Type::scalar(TK::Timestamp); }
Type same_as_first(const std::vector<Expr>& a) { return Type::scalar(a[0].type.kind); }
Type words(const std::vector<Expr>&) { return Type::list_of(Type::scalar(TK::String)); }
Type nullable_timestamp(const std::vector<Expr>&) { return Type::scalar(TK::Timestamp, true); }
// Casts from a string may fail: the result is then null.
Type cast_to_i64(const std::vector<Expr>& a) { return Type::scalar(TK::I64, a[0].type.kind == TK::String); }
Type cast_to_f64(const std::vector<Expr>& a) { return Type::scalar(TK::F64, a[0].type.kind == TK::String); }
Type cast_to_timestamp(const std::vector<Expr>& a) { return Type::scalar(TK::Timestamp, a[0].type.kind == TK::String); }
Type cast_to_duration(const std::vector<Expr>& a) { return Type::scalar(TK::Duration, a[0].type.kind == TK::String); }

const std::vector<BuiltinSpec>& builtins() {
  static const std::vector<BuiltinSpec> all{
      {"lower", Builtin::Lower, {{{TK::String}}}, 0, fixed_string},
      {"upper", Builtin::Upper, {{{TK::String}}}, 0, fixed_string},
      {"len", Builtin::Len, {{{TK::String}}}, 0, fixed_i64},
      {"substr", Builtin::Substr, {{{TK::String}}, {{TK::I64}}, {{TK::I64}}}, 1, fixed_string},
      {"split_words", Builtin::SplitWords, {{{TK::String}}}, 0, words},
      {"contains", Builtin::Contains, {{{TK::String}}, {{TK::String}}}, 0, fixed_bool},
      {"starts_with", Builtin::StartsWith, {{{TK::String}}, {{TK::String}}}, 0, fixed_bool},
      {"abs", Builtin::Abs, {{kNumbers}}, 0, same_as_first},
      {"floor", Builtin::Floor, {{kNumbers}}, 0, same_as_first},
      {"ceil", Builtin::Ceil, {{kNumbers}}, 0, same_as_first},
      {"round", Builtin::Round, {{kNumbers}}, 0, same_as_first},
      {"sqrt", Builtin::Sqrt, {{kNumbers}}, 0, fixed_f64},
      {"hash", Builtin::Hash, {{kScalars}}, 0, fixed_i64},
      {"now", Builtin::Now, {}, 0, fixed_timestamp},
      {"year", Builtin::Year, {{{TK::Timestamp}}}, 0, fixed_i64},
      {"hour", Builtin::Hour, {{{TK::Timestamp}}}, 0, fixed_i64},
      {"date_trunc", Builtin::DateTrunc, {{{TK::String}}, {{TK::Timestamp}}}, 0, nullable_timestamp},
      {"format_time", Builtin::FormatTime, {{{TK::Timestamp}}, {{TK::String}}}, 0, fixed_string},
      {"i64", Builtin::ToI64, {{{TK::I64, TK::F64, TK::Bool, TK::String, TK::Timestamp, TK::Duration}}}, 0, cast_to_i64},
      {"f64", Builtin::ToF64, {{{TK::I64, TK::F64, TK::Bool, TK::String}}}, 0, cast_to_f64},
      {"string", Builtin::ToString, {{kScalars}}, 0, fixed_string},
      {"timestamp", Builtin::ToTimestamp, {{{TK::I64, TK::String, TK::Timestamp}}}, 0, cast_to_timestamp},
      {"duration", Builtin::ToDuration, {{{TK::I64, TK::String, TK::Duration}}}, 0, cast_to_duration},
  };
  return all;
}

const char* const kAggregateNames[] = {"count", "sum", "min", "max", "avg", "first", "last", "count_distinct",
                                       "arg_max", "arg_min"};

std::string accepted(const ParamSpec& p) {
  std::string out;
  for (size_t i = 0; i < p.accepts.size(); ++i) {
    if (i) out += i + 1 == p.accepts.size() ? " or " : ", ";
    out += "`" + to_string(Type::scalar(p.accepts[i])) + "`";
  }
  return out;
}

}  // namespace

Expr Checker::check_call(const ast::Expr& e, const Scope& scope) {
  for (size_t i = 0; i < e.arg_names.size(); ++i)
    if (!e.arg_names[i].empty()) {
      diagnostics_.error(code::kArgumentType, e.operands[i]->span,
                         fmt::format("`{}` takes no named arguments", e.text), "remove `" + e.arg_names[i] + " =`");
      return poison(e.span);
    }
  std::vector<Expr> args;
  bool poisoned = false;
  for (const auto& a : e.operands) {
    args.push_back(check(*a, scope));
    poisoned = poisoned || is_poison(args.back().type);
  }

  auto fn = functions_.find(e.text);
  if (fn != functions_.end()) {
    if (poisoned) return poison(e.span);
    return check_user_fn(e, *fn->second, std::move(args));
  }
  const auto& all = builtins();
  auto spec = std::find_if(all.begin(), all.end(), [&](const BuiltinSpec& s) { return e.text == s.name; });
  if (spec == all.end()) {
    if (std::find(std::begin(kAggregateNames), std::end(kAggregateNames), e.text) != std::end(kAggregateNames)) {
      diagnostics_.error(code::kBadAggregate, e.name_span,
                         fmt::format("`{}` is an aggregate function and can only be used in `aggregate {{ ... }}`", e.text),
                         "not allowed here");
      return poison(e.span);
    }
    std::vector<std::string> candidates;
    for (const auto& s : all) candidates.push_back(s.name);
    for (const auto& [name, decl] : functions_) candidates.push_back(name);
    std::string suggestion = closest_name(e.text, candidates);
    diagnostics_.error(code::kUnknownFunction, e.name_span, fmt::format("unknown function `{}`", e.text),
                       suggestion.empty() ? "not a function" : "did you mean `" + suggestion + "`?");
    return poison(e.span);
  }
  size_t max_args = spec->params.size(), min_args = max_args - spec->optional;
  if (args.size() < min_args || args.size() > max_args) {
    std::string expected = min_args == max_args ? std::to_string(max_args) : fmt::format("{} or {}", min_args, max_args);
    diagnostics_.error(code::kArity, e.span,
                       fmt::format("`{}` takes {} argument{}, found {}", e.text, expected, max_args == 1 && min_args == 1 ? "" : "s", args.size()),
                       fmt::format("expected {} argument{}", expected, max_args == 1 && min_args == 1 ? "" : "s"));
    return poison(e.span);
  }
  if (poisoned) return poison(e.span);
  bool nullable = false;
  for (size_t i = 0; i < args.size(); ++i) {
    Expr& a = args[i];
    const ParamSpec& p = spec->params[i];
    if (a.type.kind == TK::Null) {
      convert(a, Type::scalar(p.accepts.front(), true));
    } else if (std::find(p.accepts.begin(), p.accepts.end(), a.type.kind) == p.accepts.end()) {
      bool widen = a.type.kind == TK::I64 && std::find(p.accepts.begin(), p.accepts.end(), TK::F64) != p.accepts.end();
      if (!widen) {
        diagnostics_.error(code::kArgumentType, e.operands[i]->span,
                           fmt::format("argument {} of `{}` must be {}, found `{}`", i + 1, e.text, accepted(p), to_string(a.type)),
                           "expected " + accepted(p));
        return poison(e.span);
      }
      convert(a, Type::scalar(TK::F64, a.type.nullable));
    }
    nullable = nullable || a.type.nullable;
  }
  if (spec->builtin == Builtin::DateTrunc && args[0].kind == Expr::Kind::Const) {
    const auto* unit = std::get_if<std::string>(&args[0].constant);
    static const char* units[] = {"second", "minute", "hour", "day", "month", "year"};
    if (unit && std::find_if(std::begin(units), std::end(units), [&](const char* u) { return *unit == u; }) == std::end(units)) {
      std::vector<std::string> candidates(std::begin(units), std::end(units));
      std::string suggestion = closest_name(*unit, candidates);
      diagnostics_.error(code::kArgumentType, e.operands[0]->span, fmt::format("unknown time unit `{}`", *unit),
                         suggestion.empty() ? "not a unit" : "did you mean `" + suggestion + "`?",
                         "the units are second, minute, hour, day, month and year");
      return poison(e.span);
    }
  }
  Expr out;
  out.kind = Expr::Kind::Call;
  out.builtin = spec->builtin;
  out.span = e.span;
  out.type = spec->result(args);
  out.type.nullable = out.type.nullable || nullable;
  out.args = std::move(args);
  return out;
}

Expr Checker::check_user_fn(const ast::Expr& e, const ast::FnDecl& fn, std::vector<Expr> args) {
  if (args.size() != fn.params.size()) {
    diagnostics_.error(code::kArity, e.span,
                       fmt::format("`{}` takes {} argument{}, found {}", fn.name.text, fn.params.size(),
                                   fn.params.size() == 1 ? "" : "s", args.size()),
                       fmt::format("expected {} argument{}", fn.params.size(), fn.params.size() == 1 ? "" : "s"));
    return poison(e.span);
  }
  if (std::find(inlining_.begin(), inlining_.end(), fn.name.text) != inlining_.end()) {
    diagnostics_.error(code::kRecursion, e.name_span, fmt::format("`{}` calls itself", fn.name.text),
                       "recursion is not allowed", "functions are inlined, so they cannot be recursive");
    return poison(e.span);
  }
  std::map<std::string, Expr> bound;
  for (size_t i = 0; i < args.size(); ++i) {
    auto type = resolve_type(fn.params[i].type);
    if (!type) return poison(e.span);
    Expr& a = args[i];
    // A nullable argument is allowed: the body sees it as nullable.
    Type target = *type;
    target.nullable = target.nullable || a.type.nullable || a.type.kind == TK::Null;
    if (!convert(a, target)) {
      diagnostics_.error(code::kArgumentType, e.operands[i]->span,
                         fmt::format("argument `{}` of `{}` must be `{}`, found `{}`", fn.params[i].name.text, fn.name.text,
                                     to_string(*type), to_string(a.type)),
                         fmt::format("expected `{}`", to_string(*type)));
      return poison(e.span);
    }
    bound[fn.params[i].name.text] = std::move(a);
  }
  Scope inner;
  inner.fn_arguments = &bound;
  inlining_.push_back(fn.name.text);
  Expr body = check(*fn.body, inner);
  inlining_.pop_back();
  if (is_poison(body.type)) return poison(e.span);
  if (fn.result) {
    auto result = resolve_type(*fn.result);
    if (result) {
      Type target = *result;
      target.nullable = target.nullable || body.type.nullable;
      if (!convert(body, target)) {
        diagnostics_.error(code::kTypeMismatch, fn.body->span,
                           fmt::format("`{}` must return `{}`, but its body is `{}`", fn.name.text, to_string(*result), to_string(body.type)),
                           fmt::format("expected `{}`", to_string(*result)));
        return poison(e.span);
      }
    }
  }
  return body;
}

}  // namespace flow::sema

// Aggregate stages: keys, aggregate bindings and their types, and windows (kinds, arguments,
// lateness, emission) — language.md section 4.
#include <fmt/format.h>

#include <algorithm>

#include "checker.h"

namespace flow::sema {

using TK = Type::Kind;

void Checker::check_aggregate(const ast::AggregateStage& a, const ast::Stage& s, RecordPtr& record, Stage& out) {
  out.kind = Stage::Kind::Aggregate;
  bool ok = true;
  if (a.window) {
    out.window = check_window(a);
    if (!out.window) ok = false;
    // Local pre-aggregation holds a window's partial rows until its slices fall due.
    if (a.local && out.window && out.window->kind == WindowSpec::Kind::Session)
      not_supported(a.local_span, "`aggregate local` over session windows is");
    else if (a.local && out.window && out.window->emit_early_every_ms >= 0)
      not_supported(a.local_span, "`aggregate local` with `emit early` is");
    // The late stream carries this stage's input records, with their event time.
    if (out.window && !out.window->late_stream.empty()) {
      auto declared = late_stream_spans_.find(out.window->late_stream);
      if (declared != late_stream_spans_.end() && declared->second.begin == a.late->stream->span.begin)
        late_streams_[out.window->late_stream] = LateStream{record, current_origin_source_};
    }
  } else if (a.late || a.emit) {
    diagnostics_.error(code::kBadWindow, a.late ? a.late->span : a.emit->span,
                       a.late ? "`late` needs a window" : "`emit` needs a window", "no window here",
                       "write `aggregate by k over tumbling(1m) late 30s drop { ... }`");
    ok = false;
  }
  Scope scope;
  scope.record = record.get();
  auto output = check_fields(a.keys, false, Span{}, *record, scope, out.keys);
  if (!output) return;
  for (const auto& k : out.keys)
    if (k.value.type.kind == TK::List) {
      diagnostics_.error(code::kBadAggregate, s.span, fmt::format("key `{}` is a list; keys must be scalars", k.name), "list key");
      ok = false;
    }
  auto result = std::make_shared<RecordType>(*output);
  result->name.clear();
  if (a.window) {  // so that the stages after a (not yet supported) window are still checked
    result->fields.push_back(FieldDef{"window_start", Type::scalar(TK::Timestamp)});
    result->fields.push_back(FieldDef{"window_end", Type::scalar(TK::Timestamp)});
  }
  for (const auto& b : a.bindings) {
    if (result->index_of(b.name.text) >= 0) {
      diagnostics_.error(code::kDuplicateField, b.name.span, fmt::format("field `{}` is defined twice", b.name.text), "defined again here");
      ok = false;
      continue;
    }
    const ast::Expr* call = b.value.get();
    if (!call || call->kind != ast::Expr::Kind::Call) {
      diagnostics_.error(code::kBadAggregate, call ? call->span : b.span,
                         fmt::format("`{}` must be an aggregate such as `count()` or `sum(x)`", b.name.text), "expected an aggregate function",
                         "the aggregates are count, sum, min, max, avg, first, last, count_distinct, arg_max and arg_min");
      ok = false;
      continue;
    }
    static const std::map<std::string, Aggregator> names{
        {"count", Aggregator::Count},   {"sum", Aggregator::Sum},       {"min", Aggregator::Min},
        {"max", Aggregator::Max},       {"avg", Aggregator::Avg},       {"first", Aggregator::First},
        {"last", Aggregator::Last},     {"count_distinct", Aggregator::CountDistinct},
        {"arg_max", Aggregator::ArgMax}, {"arg_min", Aggregator::ArgMin}};
    auto kind = names.find(call->text);
    if (kind == names.end()) {
      std::vector<std::string> candidates;
      for (const auto& [n, k] : names) candidates.push_back(n);
      std::string suggestion = closest_name(call->text, candidates);
      diagnostics_.error(code::kBadAggregate, call->name_span, fmt::format("unknown aggregate `{}`", call->text),
                         suggestion.empty() ? "not an aggregate" : "did you mean `" + suggestion + "`?",
                         "the aggregates are count, sum, min, max, avg, first, last, count_distinct, arg_max and arg_min");
      ok = false;
      continue;
    }
    AggregateBinding binding;
    binding.name = b.name.text;
    binding.span = b.span;
    binding.aggregator = kind->second;
    size_t arity = call->operands.size();
    bool is_arg = binding.aggregator == Aggregator::ArgMax || binding.aggregator == Aggregator::ArgMin;
    if (binding.aggregator == Aggregator::Count && arity == 0) {
      binding.type = Type::scalar(TK::I64);
    } else if (is_arg) {
      if (arity != 2) {
        diagnostics_.error(code::kArity, call->span, fmt::format("`{}` takes 2 arguments, found {}", call->text, arity),
                           "expected `(value, by)`", fmt::format("`{}(auction, n)` is the auction with the {} n", call->text,
                                                                 binding.aggregator == Aggregator::ArgMax ? "largest" : "smallest"));
        ok = false;
        continue;
      }
      Expr value = check(*call->operands[0], scope);
      Expr by = check(*call->operands[1], scope);
      if (is_poison(value.type) || is_poison(by.type)) {
        ok = false;
        continue;
      }
      if (value.type.kind == TK::Null) convert(value, Type::scalar(TK::I64, true));
      if (by.type.kind == TK::Null) convert(by, Type::scalar(TK::I64, true));
      bool scalars = true;
      for (const auto* part : {&value, &by}) {
        if (part->type.kind != TK::List) continue;
        scalars = false;
        const ast::Expr& operand = *call->operands[part == &value ? 0 : 1];
        diagnostics_.error(code::kArgumentType, operand.span,
                           fmt::format("`{}` needs a scalar, found `{}`", call->text, to_string(part->type)), "expected a scalar");
        ok = false;
      }
      if (!scalars) continue;
      binding.type = Type::scalar(value.type.kind, value.type.nullable || by.type.nullable);
      binding.arg = std::move(value);
      binding.by = std::move(by);
    } else if (arity != 1) {
      diagnostics_.error(code::kArity, call->span,
                         fmt::format("`{}` takes {} argument, found {}", call->text, binding.aggregator == Aggregator::Count ? "0 or 1" : "1", arity),
                         "expected one argument");
      ok = false;
      continue;
    } else {
      Expr arg = check(*call->operands[0], scope);
      if (is_poison(arg.type)) {
        ok = false;
        continue;
      }
      if (arg.type.kind == TK::Null) convert(arg, Type::scalar(TK::I64, true));
      const Type& t = arg.type;
      auto reject = [&](const char* wanted) {
        diagnostics_.error(code::kArgumentType, call->operands[0]->span,
                           fmt::format("`{}` needs {}, found `{}`", call->text, wanted, to_string(t)), fmt::format("expected {}", wanted));
        ok = false;
      };
      switch (binding.aggregator) {
        case Aggregator::Count:
          binding.aggregator = Aggregator::CountNonNull;
          binding.type = Type::scalar(TK::I64);
          break;
        case Aggregator::CountDistinct:
          if (t.kind == TK::List) reject("a scalar");
          binding.type = Type::scalar(TK::I64);
          break;
        case Aggregator::Sum:
          if (!t.is_numeric() && t.kind != TK::Duration) reject("a number");
          binding.type = Type::scalar(t.kind, t.nullable);
          break;
        case Aggregator::Avg:
          if (!t.is_numeric()) reject("a number");
          binding.type = Type::scalar(TK::F64, t.nullable);
          break;
        default:  // min, max, first, last
          if (t.kind == TK::List) reject("a scalar");
          binding.type = Type::scalar(t.kind, t.nullable);
          break;
      }
      if (!ok) continue;
      binding.arg = std::move(arg);
    }
    // Partial rows of a key, merged at its instance, keep neither its records' order nor its
    // distinct values.
    if (a.local && (binding.aggregator == Aggregator::CountDistinct || binding.aggregator == Aggregator::First ||
                    binding.aggregator == Aggregator::Last || binding.aggregator == Aggregator::ArgMax ||
                    binding.aggregator == Aggregator::ArgMin)) {
      diagnostics_.error(code::kBadAggregate, b.span,
                         fmt::format("`aggregate local` cannot pre-aggregate `{}`", b.name.text),
                         "depends on the records' order or keeps every value",
                         "local pre-aggregation takes count, sum, avg, min and max; drop `local` for the others");
      ok = false;
    }
    result->fields.push_back(FieldDef{binding.name, binding.type});
    out.aggregates.push_back(std::move(binding));
  }
  out.local = a.local;
  // Even when a binding is wrong, the output record is known, so later stages are checked.
  out.output = result;
  (void)ok;
}

// The window itself: its kind and lengths.
std::optional<WindowSpec> Checker::check_window_spec(const ast::WindowSpec& w) {
  WindowSpec spec;
  static const std::map<std::string, WindowSpec::Kind> kinds{{"tumbling", WindowSpec::Kind::Tumbling},
                                                           {"sliding", WindowSpec::Kind::Sliding},
                                                           {"session", WindowSpec::Kind::Session},
                                                           {"cumulating", WindowSpec::Kind::Cumulating}};
  auto kind = kinds.find(w.kind.text);
  if (kind == kinds.end()) {
    std::string suggestion = closest_name(w.kind.text, {"tumbling", "sliding", "session", "cumulating"});
    diagnostics_.error(code::kBadWindow, w.kind.span, fmt::format("unknown window `{}`", w.kind.text),
                       suggestion.empty() ? "not a window" : "did you mean `" + suggestion + "`?",
                       "the windows are tumbling(D), sliding(D, every = D), session(gap = D) and cumulating(D, step = D)");
    return std::nullopt;
  }
  spec.kind = kind->second;
  // The arguments each kind takes: "" is the positional size.
  std::vector<std::string> wanted;
  switch (spec.kind) {
    case WindowSpec::Kind::Tumbling: wanted = {""}; break;
    case WindowSpec::Kind::Sliding: wanted = {"", "every"}; break;
    case WindowSpec::Kind::Session: wanted = {"gap"}; break;
    case WindowSpec::Kind::Cumulating: wanted = {"", "step"}; break;
  }
  std::string usage = spec.kind == WindowSpec::Kind::Tumbling   ? "tumbling(10s)"
                      : spec.kind == WindowSpec::Kind::Sliding  ? "sliding(10s, every = 2s)"
                      : spec.kind == WindowSpec::Kind::Session  ? "session(gap = 30m)"
                                                                : "cumulating(1h, step = 10m)";
  std::map<std::string, int64_t> values;
  for (size_t i = 0; i < w.args.size(); ++i) {
    const std::string& name = w.arg_names[i];
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end() || values.count(name)) {
      diagnostics_.error(code::kBadWindow, w.args[i]->span,
                         name.empty() ? fmt::format("`{}` takes no size here", w.kind.text)
                                      : fmt::format("`{}` has no argument `{}`", w.kind.text, name),
                         "unexpected argument", "write `" + usage + "`");
      return std::nullopt;
    }
    auto value = constant_duration(*w.args[i], "a window length");
    if (!value) return std::nullopt;
    if (*value == 0) {
      diagnostics_.error(code::kBadWindow, w.args[i]->span, "a window length must be positive", "zero");
      return std::nullopt;
    }
    values[name] = *value;
  }
  if (values.size() != wanted.size()) {
    diagnostics_.error(code::kBadWindow, w.span, fmt::format("`{}` is missing an argument", w.kind.text), "incomplete",
                       "write `" + usage + "`");
    return std::nullopt;
  }
  spec.size_ms = values.count("") ? values[""] : 0;
  spec.slide_ms = values.count("every") ? values["every"] : 0;
  spec.gap_ms = values.count("gap") ? values["gap"] : 0;
  spec.step_ms = values.count("step") ? values["step"] : 0;
  if (spec.kind == WindowSpec::Kind::Sliding && spec.slide_ms > spec.size_ms) {
    diagnostics_.error(code::kBadWindow, w.span, "`every` cannot be longer than the window", "records would fall between windows",
                       "use `tumbling` for windows that do not overlap");
    return std::nullopt;
  }
  if (spec.kind == WindowSpec::Kind::Cumulating && spec.size_ms % spec.step_ms != 0) {
    diagnostics_.error(code::kBadWindow, w.span, "`step` must divide the window length", "not a divisor");
    return std::nullopt;
  }
  return spec;
}

std::optional<WindowSpec> Checker::check_window(const ast::AggregateStage& a) {
  std::optional<WindowSpec> checked = check_window_spec(*a.window);
  if (!checked) return checked;
  const ast::WindowSpec& w = *a.window;
  WindowSpec spec = *checked;
  if (a.late) {
    if (auto lateness = constant_duration(*a.late->lateness, "the allowed lateness")) spec.lateness_ms = *lateness;
    if (a.late->stream) spec.late_stream = a.late->stream->text;
  } else {
    diagnostics_.warning(code::kNoLateClause, w.span, "this window has no `late` clause, so every late record is dropped",
                         "late records dropped", "add `late 30s -> late_records` or `late 0s drop` to say what you want");
  }
  if (a.emit) {
    spec.emit_final = a.emit->final;
    if (!a.emit->final) {
      if (!a.emit->every) diagnostics_.error(code::kBadWindow, a.emit->span, "`emit early` needs `every D`", "incomplete");
      else if (auto every = constant_duration(*a.emit->every, "`every`")) spec.emit_early_every_ms = *every;
    } else if (a.emit->every) {
      diagnostics_.error(code::kBadWindow, a.emit->span, "`emit final` takes no `every`", "remove `every ...`");
    }
  }
  return spec;
}

}  // namespace flow::sema

// Declarations and flows: schemas, params, sources, fns and lets are declared first (in any
// order), then every flow is checked stage by stage, with `let` streams inlined.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <variant>

#include "checker.h"
#include "stdlib.h"

namespace flow::sema {

using TK = Type::Kind;

std::optional<CheckedProgram> check_program(const ast::Program& program, const SourceFile& file, Diagnostics& diagnostics) {
  size_t errors_before = diagnostics.error_count();
  Checker checker(program, file, diagnostics);
  CheckedProgram checked = checker.run();
  if (diagnostics.error_count() != errors_before) return std::nullopt;
  return checked;
}

void Checker::not_supported(Span span, const std::string& what) {
  diagnostics_.error(code::kNotSupported, span, what + " not supported yet", "not supported yet",
                     "see dsl-spec/reference.md, \"Not supported yet\"");
}

CheckedProgram Checker::run() {
  declare_imports();
  declare_schemas();
  declare_params();
  declare_functions_and_lets();
  declare_sources();
  check_flows();
  return std::move(program_);
}

// `import std.nexmark`: the module's schemas are declared as if written here.
void Checker::declare_imports() {
  for (const auto& i : ast_.imports) {
    const ModuleDef* module = find_module(i.module.text);
    if (!module) {
      std::string suggestion = closest_name(i.module.text, module_names());
      diagnostics_.error(code::kUnknownModule, i.module.span, fmt::format("unknown module `{}`", i.module.text),
                         suggestion.empty() ? "not in the standard library" : "did you mean `" + suggestion + "`?");
      continue;
    }
    if (std::find(imports_.begin(), imports_.end(), module) != imports_.end()) continue;  // (imported twice: once is enough)
    imports_.push_back(module);
    for (const RecordPtr& schema : module->schemas) {
      if (schemas_.count(schema->name)) {
        diagnostics_.error(code::kDuplicate, i.module.span,
                           fmt::format("schema `{}` is declared by `{}` and `{}`", schema->name, imported_schemas_[schema->name],
                                       module->name),
                           "imported here");
        continue;
      }
      schemas_[schema->name] = schema;
      imported_schemas_[schema->name] = module->name;
    }
  }
}

void Checker::declare_schemas() {
  for (const auto& s : ast_.schemas) {
    if (auto module = imported_schemas_.find(s.name.text); module != imported_schemas_.end()) {
      diagnostics_.error(code::kDuplicate, s.name.span,
                         fmt::format("schema `{}` is already declared by `import {}`", s.name.text, module->second),
                         "defined again here", "rename this schema, or use the imported one");
      continue;
    }
    if (schemas_.count(s.name.text)) {
      diagnostics_.error(code::kDuplicate, s.name.span, fmt::format("schema `{}` is defined twice", s.name.text), "defined again here");
      continue;
    }
    auto record = std::make_shared<RecordType>();
    record->name = s.name.text;
    for (const auto& f : s.fields) {
      if (record->index_of(f.name.text) >= 0) {
        diagnostics_.error(code::kDuplicate, f.name.span,
                           fmt::format("field `{}` appears twice in schema `{}`", f.name.text, s.name.text), "appears again here");
        continue;
      }
      auto type = resolve_type(f.type);
      record->fields.push_back(FieldDef{f.name.text, type ? *type : Type::scalar(TK::String)});
    }
    schemas_[s.name.text] = record;
  }
}

namespace {

// The text the runtime parses for a param's default (`--param` syntax).
std::optional<std::string> default_text(const ast::Expr& e, const Type& t) {
  using K = ast::Expr::Kind;
  switch (t.kind) {
    case TK::String:
      if (e.kind == K::String) return e.text;
      break;
    case TK::I64:
      if (e.kind == K::Int) return std::to_string(e.int_value);
      break;
    case TK::F64:
      if (e.kind == K::Int) return std::to_string(e.int_value);
      if (e.kind == K::Float) {
        char buffer[64];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, e.float_value);
        return std::string(buffer, end);
      }
      break;
    case TK::Bool:
      if (e.kind == K::Bool) return e.bool_value ? "true" : "false";
      break;
    case TK::Duration:
      if (e.kind == K::Duration || e.kind == K::Int) return std::to_string(e.int_value);
      break;
    case TK::Timestamp:
      if (e.kind == K::Int) return std::to_string(e.int_value);
      if (e.kind == K::String) return e.text;
      break;
    default: break;
  }
  return std::nullopt;
}

}  // namespace

void Checker::declare_params() {
  for (const auto& p : ast_.params) {
    if (params_.count(p.name.text)) {
      diagnostics_.error(code::kDuplicate, p.name.span, fmt::format("param `{}` is defined twice", p.name.text), "defined again here");
      continue;
    }
    auto type = resolve_type(p.type);
    if (!type) continue;
    if (type->kind == TK::List || type->nullable) {
      diagnostics_.error(code::kBadDefault, p.type.span, "a param must have a plain scalar type", "not allowed for a param",
                         "use bool, i64, f64, string, timestamp or duration");
      continue;
    }
    Param param{p.name.text, *type, std::nullopt, p.span};
    if (p.default_value) {
      param.default_text = default_text(*p.default_value, *type);
      if (!param.default_text)
        diagnostics_.error(code::kBadDefault, p.default_value->span,
                           fmt::format("the default of param `{}` must be a literal of type `{}`", p.name.text, to_string(*type)),
                           fmt::format("expected a `{}` literal", to_string(*type)));
    }
    params_[p.name.text] = static_cast<int>(program_.params.size());
    program_.params.push_back(std::move(param));
  }
}

void Checker::declare_functions_and_lets() {
  for (const auto& f : ast_.functions) {
    if (functions_.count(f.name.text)) {
      diagnostics_.error(code::kDuplicate, f.name.span, fmt::format("function `{}` is defined twice", f.name.text), "defined again here");
      continue;
    }
    functions_[f.name.text] = &f;
  }
  // Check each body once with placeholder arguments, so that errors in a function are
  // reported even if nobody calls it (calls report nothing new: duplicates are merged).
  for (const auto& f : ast_.functions) {
    std::map<std::string, Expr> placeholders;
    bool types_ok = true;
    for (const auto& p : f.params) {
      auto t = resolve_type(p.type);
      if (!t) {
        types_ok = false;
        continue;
      }
      Expr x;
      x.kind = Expr::Kind::Const;
      x.type = *t;
      x.span = p.name.span;
      placeholders[p.name.text] = x;
    }
    if (f.result) types_ok = resolve_type(*f.result).has_value() && types_ok;
    if (!types_ok) continue;
    Scope scope;
    scope.fn_arguments = &placeholders;
    inlining_.push_back(f.name.text);
    Expr body = check(*f.body, scope);
    inlining_.pop_back();
    if (f.result && !is_poison(body.type)) {
      auto result = resolve_type(*f.result);
      Type target = *result;
      target.nullable = target.nullable || body.type.nullable;
      if (!convert(body, target))
        diagnostics_.error(code::kTypeMismatch, f.body->span,
                           fmt::format("`{}` must return `{}`, but its body is `{}`", f.name.text, to_string(*result), to_string(body.type)),
                           fmt::format("expected `{}`", to_string(*result)));
    }
  }
  for (const auto& l : ast_.lets) {
    if (lets_.count(l.name.text)) {
      diagnostics_.error(code::kDuplicate, l.name.span, fmt::format("stream `{}` is defined twice", l.name.text), "defined again here");
      continue;
    }
    lets_[l.name.text] = &l;
  }
}

bool Checker::check_path_argument(const ast::Expr& e, Expr& out) {
  Scope no_record;
  out = check(e, no_record);
  if (is_poison(out.type)) return false;
  if (out.type.kind != TK::String || out.type.nullable) {
    diagnostics_.error(code::kTypeMismatch, e.span, fmt::format("a path must be a `string`, found `{}`", to_string(out.type)),
                       "expected `string`");
    return false;
  }
  return true;
}

std::optional<int64_t> Checker::constant_duration(const ast::Expr& e, const char* what, bool allow_negative) {
  Scope no_record;
  Expr x = check(e, no_record);
  if (is_poison(x.type)) return std::nullopt;
  const int64_t* value = std::get_if<int64_t>(&x.constant);
  if (x.kind != Expr::Kind::Const || x.type.kind != TK::Duration || !value) {
    diagnostics_.error(code::kTypeMismatch, e.span, fmt::format("{} must be a duration such as `5s`", what),
                       "expected a duration literal");
    return std::nullopt;
  }
  if (*value < 0 && !allow_negative) {
    diagnostics_.error(code::kTypeMismatch, e.span, fmt::format("{} cannot be negative", what), "negative");
    return std::nullopt;
  }
  return *value;
}

// `time FIELD watermark lag D | ascending`, `time ingestion`, `time processing`, `idle D`.
EventTime Checker::check_time_clause(const ast::TimeClause& clause, const RecordType& schema) {
  EventTime time;
  switch (clause.kind) {
    case ast::TimeClause::Kind::Ingestion: time.kind = EventTime::Kind::Ingestion; break;
    case ast::TimeClause::Kind::Processing: time.kind = EventTime::Kind::Processing; break;
    case ast::TimeClause::Kind::EventAscending:
    case ast::TimeClause::Kind::EventLag: {
      time.kind = EventTime::Kind::Field;
      const ast::Name& field = *clause.field;
      time.field = schema.index_of(field.text);
      if (time.field < 0) {
        std::vector<std::string> names;
        for (const auto& f : schema.fields) names.push_back(f.name);
        std::string suggestion = closest_name(field.text, names);
        diagnostics_.error(code::kUnknownField, field.span,
                           fmt::format("unknown field `{}` in schema `{}`", field.text, schema.name),
                           suggestion.empty() ? "not found" : "did you mean `" + suggestion + "`?");
      } else if (schema.fields[time.field].type.kind != TK::Timestamp) {
        diagnostics_.error(code::kTypeMismatch, field.span,
                           fmt::format("the event time `{}` must be a `timestamp`, found `{}`", field.text,
                                       to_string(schema.fields[time.field].type)),
                           "expected `timestamp`");
      } else if (schema.fields[time.field].type.nullable) {
        diagnostics_.error(code::kTypeMismatch, field.span, fmt::format("the event time `{}` cannot be nullable", field.text),
                           "declared `timestamp?`", "declare it `timestamp`; records without a time cannot be placed in windows");
      }
      if (clause.kind == ast::TimeClause::Kind::EventLag) {
        if (!clause.lag) {
          diagnostics_.error(code::kTypeMismatch, clause.span, "`watermark lag` needs a duration", "missing duration",
                             "write `watermark lag 5s`");
        } else if (auto lag = constant_duration(*clause.lag, "the watermark lag")) {
          time.lag_ms = *lag;
        }
      }
      break;
    }
  }
  if (clause.idle) {
    if (auto idle = constant_duration(*clause.idle, "`idle`")) time.idle_ms = *idle;
  }
  return time;
}

void Checker::declare_sources() {
  for (const auto& s : ast_.sources) {
    if (sources_.count(s.name.text) || tables_.count(s.name.text) || lets_.count(s.name.text)) {
      diagnostics_.error(code::kDuplicate, s.name.span, fmt::format("stream `{}` is defined twice", s.name.text), "defined again here");
      continue;
    }
    Source source;
    source.name = s.name.text;
    source.span = s.span;
    bool ok = true;
    auto schema = schemas_.find(s.schema.text);
    if (schema == schemas_.end()) {
      std::vector<std::string> names;
      for (const auto& [n, r] : schemas_) names.push_back(n);
      std::string suggestion = closest_name(s.schema.text, names);
      diagnostics_.error(code::kUnknownSchema, s.schema.span, fmt::format("unknown schema `{}`", s.schema.text),
                         suggestion.empty() ? "not declared" : "did you mean `" + suggestion + "`?");
      ok = false;
    } else {
      source.schema = schema->second;
    }
    const GeneratorDef* generator = nullptr;
    const ModuleDef* module = nullptr;
    for (const ModuleDef* m : imports_)
      for (const GeneratorDef& g : m->generators)
        if (s.connector.text == g.name) generator = &g, module = m;
    if (generator) {
      ok = source.schema && check_generator(s, *module, *generator, source) && ok;
    } else if (s.connector.text != "file") {
      std::string module;  // a generator of a module not imported
      for (const std::string& name : module_names())
        for (const GeneratorDef& g : find_module(name)->generators)
          if (s.connector.text == g.name) module = name;
      if (!module.empty())
        diagnostics_.error(code::kBadConnector, s.connector.span, fmt::format("`{}` needs `import {}`", s.connector.text, module),
                           "not imported", fmt::format("add `import {}` to the program", module));
      else
        diagnostics_.error(code::kBadConnector, s.connector.span, fmt::format("unknown source `{}`", s.connector.text),
                           "expected `file`", "write `file(\"data.csv\", format = csv)`");
      ok = false;
    } else {
      bool have_path = false, have_format = false;
      for (size_t i = 0; i < s.args.size(); ++i) {
        const std::string& name = s.arg_names[i];
        const ast::Expr& arg = *s.args[i];
        if (name.empty() && !have_path) {
          have_path = true;
          ok = check_path_argument(arg, source.path) && ok;
        } else if (name == "format") {
          have_format = true;
          std::string f = arg.kind == ast::Expr::Kind::Name ? arg.text : "";
          if (f == "csv") source.format = SourceFormat::Csv;
          else if (f == "jsonl") source.format = SourceFormat::Jsonl;
          else if (f == "text") source.format = SourceFormat::Text;
          else {
            std::string suggestion = closest_name(f, {"csv", "jsonl", "text"});
            diagnostics_.error(code::kBadFormat, arg.span, fmt::format("unknown input format `{}`", f.empty() ? "?" : f),
                               suggestion.empty() ? "expected `csv`, `jsonl` or `text`" : "did you mean `" + suggestion + "`?");
            ok = false;
          }
        } else {
          diagnostics_.error(code::kBadConnector, arg.span,
                             name.empty() ? "`file` takes one path" : fmt::format("`file` has no argument `{}`", name),
                             "unexpected argument", "write `file(\"data.csv\", format = csv)`");
          ok = false;
        }
      }
      if (!have_path || !have_format) {
        diagnostics_.error(code::kBadConnector, s.args_span,
                           !have_path ? "`file` needs a path" : "`file` needs a format", "incomplete",
                           "write `file(\"data.csv\", format = csv)`");
        ok = false;
      }
    }
    if (ok && source.format == SourceFormat::Text &&
        (source.schema->fields.size() != 1 || source.schema->fields[0].name != "line" ||
         source.schema->fields[0].type.kind != TK::String)) {
      diagnostics_.error(code::kTextSchema, s.schema.span, "format `text` needs the schema `{ line: string }`",
                         fmt::format("`{}` has other fields", s.schema.text));
      ok = false;
    }
    if (ok)
      for (const auto& f : source.schema->fields)
        if (f.type.kind == TK::List) {
          diagnostics_.error(code::kBadFormat, s.schema.span, fmt::format("field `{}` is a list, which files cannot hold", f.name),
                             "list fields are not supported in sources");
          ok = false;
        }
    source.is_table = s.is_table;
    if (ok && generator && s.on_error) {
      diagnostics_.error(code::kBadConnector, s.on_error->span, fmt::format("`{}` makes no bad records", generator->name),
                         "`on error` does not apply", "remove the `on error` clause");
      ok = false;
    }
    if (s.time && s.is_table) {
      diagnostics_.error(code::kNoEventTime, s.time->span, "a table has no event time", "not allowed on a table",
                         "a table is read to the end before the streams start; declare a `source` for a timed stream");
      ok = false;
    } else if (s.time && source.schema) {
      source.time = check_time_clause(*s.time, *source.schema);
    }
    if (s.on_error) {
      switch (s.on_error->kind) {
        case ast::OnErrorClause::Kind::Fail: source.on_error = OnError::Fail; break;
        case ast::OnErrorClause::Kind::Skip: source.on_error = OnError::Skip; break;
        case ast::OnErrorClause::Kind::DeadLetter:
          source.on_error = OnError::DeadLetter;
          source.dead_letter = s.on_error->stream->text;
          break;
      }
    }
    int index = static_cast<int>(program_.sources.size());
    (s.is_table ? tables_ : sources_)[s.name.text] = index;
    if (!source.dead_letter.empty()) dead_letters_[source.dead_letter] = index;
    if (!ok) {
      // Keep the index valid for flows, with a harmless schema.
      if (!source.schema) source.schema = std::make_shared<RecordType>();
    }
    program_.sources.push_back(std::move(source));
  }
}

namespace {

Expr text_constant(std::string text) {
  Expr e;
  e.kind = Expr::Kind::Const;
  e.type = Type::scalar(Type::Kind::String);
  e.constant = std::move(text);
  return e;
}

Expr joined(Expr a, Expr b) {
  Expr e;
  e.kind = Expr::Kind::Binary;
  e.binary_op = BinaryOp::Add;
  e.type = Type::scalar(Type::Kind::String);
  e.span = b.span;
  e.args.push_back(std::move(a));
  e.args.push_back(std::move(b));
  return e;
}

Expr as_text(Expr value) {
  Expr e;
  e.kind = Expr::Kind::Call;
  e.builtin = Builtin::ToString;
  e.type = Type::scalar(Type::Kind::String);
  e.span = value.span;
  e.args.push_back(std::move(value));
  return e;
}

}  // namespace

// `nexmark(events = 1000, seed = 1)`: the schema must be one the generator makes, each argument
// an i64 of constants and params. The runtime gets them as the source's "path", a string it
// parses: "nexmark Bid events=1000 seed=1 rate=10000" (so params apply at run time).
bool Checker::check_generator(const ast::SourceDecl& s, const ModuleDef& module, const GeneratorDef& generator, Source& source) {
  bool ok = true;
  const std::string& schema = source.schema->name;
  auto declared_by = imported_schemas_.find(schema);  // (the module's schema, not one of the program's of that name)
  if (std::find(generator.schemas.begin(), generator.schemas.end(), schema) == generator.schemas.end() ||
      declared_by == imported_schemas_.end() || declared_by->second != module.name) {
    std::string made;
    for (const char* name : generator.schemas) made += (made.empty() ? "`" : ", `") + std::string(name) + "`";
    diagnostics_.error(code::kBadConnector, s.schema.span, fmt::format("`{}` makes no records of schema `{}`", generator.name, schema),
                       "expected one of " + made);
    ok = false;
  }
  std::vector<std::optional<Expr>> values(generator.arguments.size());
  std::vector<bool> given(generator.arguments.size(), false);
  for (size_t i = 0; i < s.args.size(); ++i) {
    const std::string& name = s.arg_names[i];
    const ast::Expr& arg = *s.args[i];
    auto known = std::find_if(generator.arguments.begin(), generator.arguments.end(),
                              [&](const GeneratorArgument& a) { return name == a.name; });
    if (known == generator.arguments.end()) {
      std::string names;
      for (const GeneratorArgument& a : generator.arguments) names += (names.empty() ? "`" : ", `") + std::string(a.name) + "`";
      diagnostics_.error(code::kBadConnector, arg.span,
                         name.empty() ? fmt::format("`{}` takes named arguments", generator.name)
                                      : fmt::format("`{}` has no argument `{}`", generator.name, name),
                         "expected " + names);
      ok = false;
      continue;
    }
    given[static_cast<size_t>(known - generator.arguments.begin())] = true;
    Scope no_record;
    Expr value = check(arg, no_record);
    if (is_poison(value.type)) {
      ok = false;
      continue;
    }
    if (value.type.kind != TK::I64 || value.type.nullable) {
      diagnostics_.error(code::kTypeMismatch, arg.span, fmt::format("`{}` must be an `i64`, found `{}`", name, to_string(value.type)),
                         "expected `i64`");
      ok = false;
      continue;
    }
    const int64_t* constant = std::get_if<int64_t>(&value.constant);
    if (value.kind == Expr::Kind::Const && constant && *constant < known->minimum) {
      diagnostics_.error(code::kTypeMismatch, arg.span, fmt::format("`{}` must be at least {}", name, known->minimum),
                         fmt::format("{} is too small", *constant));
      ok = false;
      continue;
    }
    values[static_cast<size_t>(known - generator.arguments.begin())] = std::move(value);
  }
  Expr config = text_constant(fmt::format("{} {}", generator.name, schema));
  for (size_t i = 0; i < generator.arguments.size(); ++i) {
    const GeneratorArgument& a = generator.arguments[i];
    if (!values[i] && a.required && !given[i]) {
      diagnostics_.error(code::kBadConnector, s.args_span, fmt::format("`{}` needs `{} = ...`", generator.name, a.name), "incomplete",
                         fmt::format("write `{}({} = 1000000)`", generator.name, a.name));
      ok = false;
      continue;
    }
    config = joined(std::move(config), text_constant(fmt::format(" {}=", a.name)));
    config = joined(std::move(config), values[i] ? as_text(std::move(*values[i])) : text_constant(std::to_string(a.default_value)));
  }
  source.format = SourceFormat::Generated;
  source.path = std::move(config);
  return ok;
}

}  // namespace flow::sema

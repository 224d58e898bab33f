// Flows and their stages: origins (sources, dead-letter streams, inlined `let`s), filter, map,
// flatmap and sinks (aggregates: check_aggregates.cpp); what later issues add is reported as
// not supported.
#include <fmt/format.h>

#include <algorithm>

#include "checker.h"

namespace flow::sema {

using TK = Type::Kind;

// Streams named by stages: late streams (declared by `late D -> NAME`, usable once the flow
// that declares them has been checked) and those of stages not supported yet (split outputs,
// joined streams), whose flows get no second error.
void Checker::collect_streams() {
  auto visit = [&](const ast::Flow& flow) {
    for (const auto& s : flow.stages) {
      if (s.kind == ast::Stage::Kind::Aggregate && s.aggregate.late && s.aggregate.late->stream) {
        const ast::Name& name = *s.aggregate.late->stream;
        bool taken = sources_.count(name.text) || dead_letters_.count(name.text) || lets_.count(name.text) ||
                     late_stream_spans_.count(name.text);
        if (taken)
          diagnostics_.error(code::kDuplicate, name.span, fmt::format("stream `{}` is already defined", name.text),
                             "defined again here", "give the late stream a name of its own");
        else
          late_stream_spans_[name.text] = name.span;
      }
      if (s.kind == ast::Stage::Kind::Split)
        for (const auto& b : s.split.branches) unsupported_streams_.insert(b.target.text);
      if (s.kind == ast::Stage::Kind::Join) joined_streams_.insert(s.join.stream.text);
    }
  };
  for (const auto& f : ast_.flows) visit(f);
  for (const auto& l : ast_.lets) visit(l.flow);
}

// Checks flows in program order, except that a flow reading a late stream waits until the
// flow declaring it has been checked (which registers the stream's record type).
void Checker::check_flows() {
  collect_streams();
  std::vector<const ast::Flow*> pending;
  for (const auto& flow : ast_.flows) pending.push_back(&flow);
  for (bool progress = true; progress && !pending.empty();) {
    progress = false;
    std::vector<const ast::Flow*> waiting;
    for (const ast::Flow* flow : pending) {
      if (waits_for_late_stream(*flow)) {
        waiting.push_back(flow);
      } else {
        check_flow_from_origin(*flow);
        progress = true;
      }
    }
    pending.swap(waiting);
  }
  for (const ast::Flow* flow : pending) {
    const ast::Name& origin = flow->origin.name;
    diagnostics_.error(code::kUnknownStream, origin.span,
                       fmt::format("stream `{}` is never produced: the window that declares it is not checked or reads it itself", origin.text),
                       "late records of a window that is not running",
                       "a late stream cannot feed the window that produces it");
  }
  if (ast_.flows.empty())
    diagnostics_.warning(code::kUnused, Span{0, 0}, "the program has no flows, so running it does nothing", "",
                         "a flow reads a stream and ends in a sink: `lines | sink stdout()`");
  for (const auto& [name, let] : lets_)
    if (!let_uses_.count(name))
      diagnostics_.warning(code::kUnused, let->name.span, fmt::format("stream `{}` is never used", name), "unused");
  for (const auto& decl : ast_.sources)
    if (!decl.is_table && !used_streams_.count(decl.name.text) && sources_.count(decl.name.text) &&
        !joined_streams_.count(decl.name.text))
      diagnostics_.warning(code::kUnused, decl.name.span, fmt::format("source `{}` is never used", decl.name.text),
                           "unused: it is still opened and read");
  for (const auto& [name, source] : dead_letters_)
    if (!used_streams_.count(name))
      diagnostics_.warning(code::kUnused, ast_.sources[0].span, fmt::format("dead-letter stream `{}` is never used", name),
                           "bad records are dropped", "add a flow such as `" + name + " | sink stdout()`");
  for (const auto& [name, span] : late_stream_spans_)
    if (!used_streams_.count(name) && late_streams_.count(name))
      diagnostics_.warning(code::kUnused, span, fmt::format("late stream `{}` is never used", name),
                           "its records are lost",
                           "add a flow such as `" + name + " | sink stdout()`, or write `late ... drop`");
}

// The name a flow starts from once `let` names are followed back (nullptr on a cycle).
const ast::Name* Checker::flow_origin_name(const ast::Flow& flow) {
  const ast::Name* origin = &flow.origin.name;
  std::set<std::string> seen;
  while (lets_.count(origin->text)) {
    const ast::LetDecl& let = *lets_.at(origin->text);
    if (!seen.insert(origin->text).second || let.flow.origin.merge) return origin;
    origin = &let.flow.origin.name;
  }
  return origin;
}

bool Checker::waits_for_late_stream(const ast::Flow& flow) {
  if (flow.origin.merge) return false;
  const ast::Name* origin = flow_origin_name(flow);
  return late_stream_spans_.count(origin->text) && !late_streams_.count(origin->text);
}

void Checker::check_flow_from_origin(const ast::Flow& flow) {
  if (flow.origin.merge) {
    not_supported(flow.origin.span, "`merge` is");
    return;
  }
  // Follow `let` names back to a source or dead-letter stream, collecting their stages.
  std::vector<const ast::Stage*> stages;
  for (const auto& s : flow.stages) stages.push_back(&s);
  const ast::Name* origin = &flow.origin.name;
  std::set<std::string> seen;
  while (lets_.count(origin->text)) {
    const ast::LetDecl& let = *lets_.at(origin->text);
    if (!seen.insert(origin->text).second || let.flow.origin.merge) {
      if (let.flow.origin.merge) not_supported(let.flow.origin.span, "`merge` is");
      else diagnostics_.error(code::kUnknownStream, origin->span, fmt::format("stream `{}` is defined by itself", origin->text), "a cycle");
      return;
    }
    if (++let_uses_[origin->text] == 2)
      not_supported(origin->span, fmt::format("using the stream `{}` in several flows (fan-out) is", origin->text));
    std::vector<const ast::Stage*> front;
    for (const auto& s : let.flow.stages) front.push_back(&s);
    stages.insert(stages.begin(), front.begin(), front.end());
    origin = &let.flow.origin.name;
  }
  Origin o;
  RecordPtr record;
  bool has_time = true;
  if (auto s = sources_.find(origin->text); s != sources_.end()) {
    o.kind = Origin::Kind::Source;
    o.source = s->second;
    record = program_.sources[s->second].schema;
    has_time = program_.sources[o.source].time.kind != EventTime::Kind::None;
  } else if (auto d = dead_letters_.find(origin->text); d != dead_letters_.end()) {
    o.kind = Origin::Kind::DeadLetter;
    o.source = d->second;
    record = dead_letter_record();
    has_time = false;
  } else if (auto l = late_streams_.find(origin->text); l != late_streams_.end()) {
    o.kind = Origin::Kind::Late;
    o.source = l->second.source;
    o.stream = origin->text;
    record = l->second.record;  // late records keep their event time
  } else {
    std::vector<std::string> names = keys_of(sources_);
    for (const auto& [n, i] : dead_letters_) names.push_back(n);
    for (const auto& [n, l] : lets_) names.push_back(n);
    for (const auto& [n, l] : late_stream_spans_) names.push_back(n);
    std::string suggestion = closest_name(origin->text, names);
    bool is_table = false;
    for (const auto& decl : ast_.sources) is_table = is_table || (decl.is_table && decl.name.text == origin->text);
    // A late stream whose window failed to check already has its error.
    if (!is_table && !unsupported_streams_.count(origin->text) && !late_stream_spans_.count(origin->text))
      diagnostics_.error(code::kUnknownStream, origin->span, fmt::format("unknown stream `{}`", origin->text),
                         suggestion.empty() ? "not declared" : "did you mean `" + suggestion + "`?",
                         "a flow starts at a source, a `let` stream, a dead-letter stream or a late stream");
    return;
  }
  if (!used_streams_.insert(origin->text).second) {
    std::string what = o.kind == Origin::Kind::Source ? "source" : "stream";
    not_supported(origin->span, fmt::format("reading the {} `{}` in several flows (fan-out) is", what, origin->text));
    return;
  }
  current_origin_source_ = o.source;
  check_flow(flow, stages, o, record, has_time);
}

void Checker::check_flow(const ast::Flow& flow, std::vector<const ast::Stage*> stages, Origin origin, RecordPtr record,
                         bool has_time) {
  Flow out;
  out.origin = origin;
  out.span = flow.span;
  bool ended = false;
  for (const ast::Stage* s : stages) {
    if (ended) {
      diagnostics_.error(code::kAfterSink, s->keyword_span, "nothing can follow a sink", "after the sink",
                         "start a new flow, or use a `let` stream");
      return;
    }
    if (!check_stage(*s, record, out, ended, has_time)) return;
  }
  if (!ended) {
    Span end{flow.span.end, flow.span.end};
    if (!stages.empty()) end = Span{stages.back()->span.begin, stages.back()->span.end};
    diagnostics_.error(code::kNoSink, end, "this flow does not end in a sink", "add `| sink stdout()` after this",
                       "a flow needs a sink: `sink stdout()`, `sink file(\"out.csv\", format = csv)` or `sink null()`");
    return;
  }
  program_.flows.push_back(std::move(out));
}

RecordPtr Checker::check_fields(const std::vector<ast::FieldBinding>& fields, bool keep_all, Span keep_all_span,
                                const RecordType& input, const Scope& scope, std::vector<Assignment>& out) {
  auto record = std::make_shared<RecordType>();
  std::set<std::string> named;
  for (const auto& f : fields) named.insert(f.name.text);
  bool ok = true;
  // `...` stands, at its place, for the input fields not named in the braces, in input order.
  bool kept = !keep_all;
  auto keep_input_fields = [&] {
    kept = true;
    for (size_t i = 0; i < input.fields.size(); ++i) {
      if (named.count(input.fields[i].name)) continue;
      Expr x;
      x.kind = Expr::Kind::Field;
      x.index = static_cast<int>(i);
      x.type = input.fields[i].type;
      out.push_back(Assignment{input.fields[i].name, x});
      record->fields.push_back(input.fields[i]);
    }
  };
  std::set<std::string> defined;
  for (const auto& f : fields) {
    if (!kept && f.span.begin > keep_all_span.begin) keep_input_fields();
    if (!defined.insert(f.name.text).second) {
      diagnostics_.error(code::kDuplicateField, f.name.span, fmt::format("field `{}` is defined twice", f.name.text), "defined again here");
      ok = false;
      continue;
    }
    Expr value;
    if (f.value) {
      value = check(*f.value, scope);
    } else {
      ast::Expr name;
      name.kind = ast::Expr::Kind::Name;
      name.text = f.name.text;
      name.span = f.name.span;
      value = check(name, scope);
    }
    if (is_poison(value.type)) {
      // Keep the field, typed as poison, so the stages after this one are still checked
      // without a second error for each use of it.
      ok = false;
      record->fields.push_back(FieldDef{f.name.text, value.type});
      continue;
    }
    if (value.type.kind == TK::Null) value.type = Type::scalar(TK::String, true);
    out.push_back(Assignment{f.name.text, value});
    record->fields.push_back(FieldDef{f.name.text, value.type});
  }
  if (!kept) keep_input_fields();
  (void)ok;  // errors are in the diagnostics; the record lets checking go on
  return record;
}

bool Checker::check_stage(const ast::Stage& s, RecordPtr& record, Flow& out, bool& ended, bool& has_time) {
  Stage stage;
  stage.span = s.span;
  stage.input = record;
  Scope scope;
  scope.record = record.get();
  switch (s.kind) {
    case ast::Stage::Kind::Filter: {
      stage.kind = Stage::Kind::Filter;
      Expr p = check_bool(*s.filter.predicate, scope, "the condition of `filter`");
      if (is_poison(p.type)) return true;  // the record is unchanged: later stages are still checked
      stage.predicate = std::move(p);
      stage.output = record;
      break;
    }
    case ast::Stage::Kind::Map: {
      stage.kind = Stage::Kind::Map;
      stage.output = check_fields(s.map.fields, s.map.keep_all, s.map.keep_all_span, *record, scope, stage.assignments);
      if (!stage.output) return false;
      break;
    }
    case ast::Stage::Kind::FlatMap: {
      stage.kind = Stage::Kind::FlatMap;
      Expr list = check(*s.flatmap.list, scope);
      if (is_poison(list.type)) return false;
      if (list.type.kind != TK::List) {
        diagnostics_.error(code::kTypeMismatch, s.flatmap.list->span,
                           fmt::format("`flatmap` needs a list, found `{}`", to_string(list.type)), "expected a list such as `[string]`",
                           "`split_words(text)` gives a list of words");
        return false;
      }
      Scope inner = scope;
      inner.local_name = &s.flatmap.variable.text;
      inner.local_type = *list.type.element;
      stage.list = std::move(list);
      stage.output = check_fields(s.flatmap.fields, s.flatmap.keep_all, s.flatmap.keep_all_span, *record, inner, stage.assignments);
      if (!stage.output) return false;
      break;
    }
    case ast::Stage::Kind::Aggregate:
      if (s.aggregate.window && !has_time)
        diagnostics_.error(code::kNoEventTime, s.aggregate.window->span, "a window needs event time, and this stream has none",
                           "no event time here",
                           "give the source a `time` clause, e.g. `time ts watermark lag 5s`");
      check_aggregate(s.aggregate, s, record, stage);
      if (!stage.output) return false;
      // A window's output carries event time (window_end - 1ms); an unwindowed aggregate's does not.
      has_time = s.aggregate.window.has_value();
      break;
    case ast::Stage::Kind::Join:
      not_supported(s.keyword_span, s.join.table ? "lookup joins are" : s.join.window ? "window joins are" : "interval joins are");
      return false;
    case ast::Stage::Kind::Split:
      not_supported(s.keyword_span, "`split` is");
      return false;
    case ast::Stage::Kind::Sink:
      stage.kind = Stage::Kind::Sink;
      if (!check_sink(s.sink, stage)) return false;
      ended = true;
      break;
  }
  record = stage.output;
  out.stages.push_back(std::move(stage));
  return true;
}

bool Checker::check_sink(const ast::SinkStage& s, Stage& out) {
  const std::string& kind = s.kind.text;
  if (kind == "stdout") out.sink_kind = Stage::SinkKind::Stdout;
  else if (kind == "file") out.sink_kind = Stage::SinkKind::File;
  else if (kind == "null") out.sink_kind = Stage::SinkKind::Null;
  else {
    std::string suggestion = closest_name(kind, {"stdout", "file", "null"});
    diagnostics_.error(code::kBadSink, s.kind.span, fmt::format("unknown sink `{}`", kind),
                       suggestion.empty() ? "expected `stdout`, `file` or `null`" : "did you mean `" + suggestion + "`?");
    return false;
  }
  bool ok = true, have_path = false;
  for (size_t i = 0; i < s.args.size(); ++i) {
    const ast::Expr& arg = *s.args[i];
    const std::string& name = s.arg_names[i];
    if (name == "format" && out.sink_kind != Stage::SinkKind::Null) {
      std::string f = arg.kind == ast::Expr::Kind::Name ? arg.text : "";
      if (f == "csv") out.sink_format = Stage::Format::Csv;
      else if (f == "jsonl") out.sink_format = Stage::Format::Jsonl;
      else {
        std::string suggestion = closest_name(f, {"csv", "jsonl"});
        diagnostics_.error(code::kBadFormat, arg.span, fmt::format("unknown output format `{}`", f.empty() ? "?" : f),
                           suggestion.empty() ? "expected `csv` or `jsonl`" : "did you mean `" + suggestion + "`?");
        ok = false;
      }
    } else if (name.empty() && out.sink_kind == Stage::SinkKind::File && !have_path) {
      have_path = true;
      Expr path;
      if (check_path_argument(arg, path)) out.sink_path = std::move(path);
      else ok = false;
    } else {
      diagnostics_.error(code::kBadSink, arg.span,
                         name.empty() ? fmt::format("`{}()` takes no such argument", kind) : fmt::format("`{}()` has no argument `{}`", kind, name),
                         "unexpected argument",
                         "write `sink stdout()`, `sink stdout(format = jsonl)`, `sink file(\"out.csv\", format = csv)` or `sink null()`");
      ok = false;
    }
  }
  if (out.sink_kind == Stage::SinkKind::File && !have_path && ok) {
    diagnostics_.error(code::kBadSink, s.kind.span, "`file` needs a path", "missing path", "write `sink file(\"out.csv\", format = csv)`");
    ok = false;
  }
  return ok;
}

}  // namespace flow::sema

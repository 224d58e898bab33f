// Flows and their stages: origins (sources, dead-letter streams, inlined `let`s), filter, map,
// flatmap and sinks (aggregates: check_aggregates.cpp); what later issues add is reported as
// not supported.
#include <fmt/format.h>

#include <algorithm>

#include "checker.h"

namespace flow::sema {

using TK = Type::Kind;

// Streams named by stages: late streams (declared by `late D -> NAME`, usable once the flow
// that declares them has been checked), split outputs (streams of their own), and the right
// inputs of joins.
void Checker::collect_streams() {
  auto visit = [&](const ast::Flow& flow) {
    for (const auto& s : flow.stages) {
      if (s.kind == ast::Stage::Kind::Aggregate && s.aggregate.late && s.aggregate.late->stream) {
        const ast::Name& name = *s.aggregate.late->stream;
        if (!claim_stream_name(name)) continue;
        late_stream_spans_[name.text] = name.span;
      }
      if (s.kind == ast::Stage::Kind::Split)
        for (const auto& b : s.split.branches)
          if (claim_stream_name(b.target)) shared_streams_[b.target.text] = new_stream(b.target.text, b.target.span, 1);
      if (s.kind == ast::Stage::Kind::Join && !s.join.table) stream_joins_.push_back(&s.join);
    }
  };
  for (const auto& f : ast_.flows) visit(f);
  for (const auto& l : ast_.lets) visit(l.flow);
}

// False (with an error) when `name` already names a stream.
bool Checker::claim_stream_name(const ast::Name& name) {
  bool taken = sources_.count(name.text) || tables_.count(name.text) || dead_letters_.count(name.text) || lets_.count(name.text) ||
               late_stream_spans_.count(name.text) || shared_streams_.count(name.text);
  if (taken)
    diagnostics_.error(code::kDuplicate, name.span, fmt::format("stream `{}` is already defined", name.text),
                       "defined again here", "give the stream a name of its own");
  return !taken;
}

int Checker::new_stream(const std::string& name, Span span, int producers) {
  Stream stream;
  stream.name = name;
  stream.span = span;
  stream.producers = producers;
  program_.streams.push_back(std::move(stream));
  streams_checked_.push_back(0);
  return static_cast<int>(program_.streams.size()) - 1;
}

// How the flows are laid out: a name read by two or more flows (a source, dead-letter or late
// stream, or `let`) becomes a stream fed by one flow; each `merge(...)` is a stream fed by one
// flow per input; a name read once is followed into its reader (lets inlined).
void Checker::plan_flow_jobs() {
  std::map<std::string, int> reads;
  auto count = [&](const ast::FlowOrigin& o) {
    if (o.merge)
      for (const auto& n : o.merged) ++reads[n.text];
    else
      ++reads[o.name.text];
  };
  for (const auto& f : ast_.flows) count(f.origin);
  for (const auto& l : ast_.lets) count(l.flow.origin);
  plan_join_inputs(reads);
  for (const auto& [name, n] : reads) {
    if (n < 2 || shared_streams_.count(name)) continue;
    bool known = sources_.count(name) || dead_letters_.count(name) || late_stream_spans_.count(name) || lets_.count(name);
    if (!known) continue;
    Span span = lets_.count(name) ? lets_.at(name)->name.span : Span{0, 0};
    for (const auto& decl : ast_.sources)
      if (decl.name.text == name) span = decl.name.span;
    if (late_stream_spans_.count(name)) span = late_stream_spans_.at(name);
    int stream = new_stream(name, span, 1);
    shared_streams_[name] = stream;
    FlowJob producer;
    producer.span = span;
    producer.emit_to = stream;
    producer.producer_of = name;
    if (lets_.count(name)) {
      const ast::LetDecl& let = *lets_.at(name);
      producer.origin = &let.flow.origin;
      for (const auto& st : let.flow.stages) producer.stages.push_back(&st);
      producer.span = let.flow.span;
    } else {
      producer.start = name;
      producer.start_span = span;
    }
    jobs_.push_back(std::move(producer));
  }
  add_join_input_jobs();
  auto add_merge = [&](const ast::FlowOrigin& o) {
    std::vector<std::string> names;
    for (const auto& n : o.merged) names.push_back(n.text);
    int stream = new_stream(fmt::format("merge({})", fmt::join(names, ", ")), o.span, static_cast<int>(o.merged.size()));
    merge_streams_[&o] = stream;
    for (const auto& n : o.merged) {
      FlowJob input;
      input.start = n.text;
      input.start_span = n.span;
      input.span = n.span;
      input.emit_to = stream;
      jobs_.push_back(std::move(input));
    }
  };
  for (const auto& f : ast_.flows)
    if (f.origin.merge) add_merge(f.origin);
  for (const auto& l : ast_.lets)
    if (l.flow.origin.merge) add_merge(l.flow.origin);
  for (const auto& f : ast_.flows) {
    FlowJob job;
    job.origin = &f.origin;
    for (const auto& st : f.stages) job.stages.push_back(&st);
    job.span = f.span;
    jobs_.push_back(std::move(job));
  }
}

// Checks flows in program order, except that a flow waits until every flow feeding its origin
// has been checked (which gives the stream its record type).
void Checker::check_flows() {
  collect_streams();
  plan_flow_jobs();
  std::vector<std::size_t> pending(jobs_.size());
  for (std::size_t i = 0; i < jobs_.size(); ++i) pending[i] = i;
  for (bool progress = true; progress && !pending.empty();) {
    progress = false;
    std::vector<std::size_t> waiting;
    for (std::size_t i : pending) {
      Resolved r = resolve_origin(jobs_[i], false);
      if (r.state == Resolved::State::Wait || (r.state == Resolved::State::Ready && !joins_ready(jobs_[i], r, false))) {
        waiting.push_back(i);
        continue;
      }
      progress = true;
      if (r.state == Resolved::State::Ready) check_job(jobs_[i], std::move(r));
      else finish_job(jobs_[i], jobs_[i].stages);
    }
    pending.swap(waiting);
  }
  for (std::size_t i : pending) {  // reports why it never started
    Resolved r = resolve_origin(jobs_[i], true);
    if (r.state == Resolved::State::Ready) joins_ready(jobs_[i], r, true);
  }
  bool stuck = !pending.empty();  // then streams in the cycle look unused: no warnings about them
  if (ast_.flows.empty())
    diagnostics_.warning(code::kUnused, Span{0, 0}, "the program has no flows, so running it does nothing", "",
                         "a flow reads a stream and ends in a sink: `lines | sink stdout()`");
  for (const auto& [name, let] : lets_)
    if (!stuck && !let_uses_.count(name))
      diagnostics_.warning(code::kUnused, let->name.span, fmt::format("stream `{}` is never used", name), "unused");
  for (const auto& decl : ast_.sources)
    if (decl.is_table ? !joined_tables_.count(decl.name.text) && tables_.count(decl.name.text)
                      : !used_streams_.count(decl.name.text) && sources_.count(decl.name.text))
      diagnostics_.warning(code::kUnused, decl.name.span,
                           fmt::format("{} `{}` is never used", decl.is_table ? "table" : "source", decl.name.text),
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
  std::set<int> join_inputs;
  for (const auto& [join, stream] : join_inputs_) join_inputs.insert(stream);
  for (std::size_t i = 0; i < program_.streams.size(); ++i) {
    const Stream& stream = program_.streams[i];
    if (!stuck && stream.consumers == 0 && stream.record && !join_inputs.count(static_cast<int>(i)))
      diagnostics_.warning(code::kUnused, stream.span, fmt::format("stream `{}` is never used", stream.name),
                           "its records are dropped", "add a flow such as `" + stream.name + " | sink stdout()`");
  }
}

// Where a job's records come from, following `let`s read once back to a source, a dead-letter
// or late stream, or a stream between flows. `report` is set on the last attempt, for jobs
// still waiting when nothing else can be checked.
Checker::Resolved Checker::resolve_origin(const FlowJob& job, bool report) {
  Resolved r;
  std::string name;
  Span span = job.start_span;
  const ast::FlowOrigin* merge = nullptr;
  if (!job.start.empty()) {
    name = job.start;
  } else if (job.origin->merge) {
    merge = job.origin;
  } else {
    name = job.origin->name.text;
    span = job.origin->name.span;
  }
  std::set<std::string> seen;
  while (!merge && lets_.count(name) && (!shared_streams_.count(name) || name == job.producer_of)) {
    const ast::LetDecl& let = *lets_.at(name);
    if (!seen.insert(name).second) {
      r.state = Resolved::State::Failed;
      if (!report) diagnostics_.error(code::kUnknownStream, span, fmt::format("stream `{}` is defined by itself", name), "a cycle");
      return r;
    }
    if (name != job.producer_of) r.lets.push_back(name);
    std::vector<const ast::Stage*> front;
    for (const auto& st : let.flow.stages) front.push_back(&st);
    r.front.insert(r.front.begin(), front.begin(), front.end());
    if (let.flow.origin.merge) {
      merge = &let.flow.origin;
      break;
    }
    name = let.flow.origin.name.text;
    span = let.flow.origin.name.span;
  }
  auto stream_origin = [&](int index) {
    const Stream& stream = program_.streams[static_cast<std::size_t>(index)];
    if (streams_checked_[static_cast<std::size_t>(index)] < stream.producers) {
      r.state = Resolved::State::Wait;
      if (report && stream.record)  // without a record, a flow feeding it has failed already
        diagnostics_.error(code::kUnknownStream, span,
                           fmt::format("stream `{}` is never produced: it depends on itself", stream.name),
                           "a flow feeding it reads it", "a stream cannot feed the flows that produce it");
      return r;
    }
    if (!stream.record) {  // a flow feeding it has an error already
      r.state = Resolved::State::Failed;
      return r;
    }
    r.state = Resolved::State::Ready;
    r.origin.kind = Origin::Kind::Stream;
    r.origin.stream_index = index;
    r.record = stream.record;
    r.has_time = stream.has_time;
    r.name = stream.name;
    return r;
  };
  if (merge) return stream_origin(merge_streams_.at(merge));
  if (name != job.producer_of && shared_streams_.count(name)) return stream_origin(shared_streams_.at(name));
  r.name = name;
  if (auto s = sources_.find(name); s != sources_.end()) {
    r.origin.kind = Origin::Kind::Source;
    r.origin.source = s->second;
    r.record = program_.sources[s->second].schema;
    r.has_time = program_.sources[s->second].time.kind != EventTime::Kind::None;
  } else if (auto d = dead_letters_.find(name); d != dead_letters_.end()) {
    r.origin.kind = Origin::Kind::DeadLetter;
    r.origin.source = d->second;
    r.record = dead_letter_record();
    r.has_time = false;
  } else if (auto l = late_streams_.find(name); l != late_streams_.end()) {
    r.origin.kind = Origin::Kind::Late;
    r.origin.source = l->second.source;
    r.origin.stream = name;
    r.record = l->second.record;  // late records keep their event time
  } else if (late_stream_spans_.count(name)) {
    r.state = Resolved::State::Wait;  // until the window declaring it has been checked
    if (report)
      diagnostics_.error(code::kUnknownStream, span,
                         fmt::format("stream `{}` is never produced: the window that declares it is not checked or reads it itself", name),
                         "late records of a window that is not running", "a late stream cannot feed the window that produces it");
    return r;
  } else {
    r.state = Resolved::State::Failed;
    if (report) return r;
    std::vector<std::string> names = keys_of(sources_);
    for (const auto& [n, i] : dead_letters_) names.push_back(n);
    for (const auto& [n, l] : lets_) names.push_back(n);
    for (const auto& [n, l] : late_stream_spans_) names.push_back(n);
    for (const auto& [n, i] : shared_streams_) names.push_back(n);
    std::string suggestion = closest_name(name, names);
    if (tables_.count(name))
      diagnostics_.error(code::kUnknownStream, span, fmt::format("`{}` is a table, not a stream", name),
                         "a table", fmt::format("join it to a stream: `| join table {} as t on ...`", name));
    else
      diagnostics_.error(code::kUnknownStream, span, fmt::format("unknown stream `{}`", name),
                         suggestion.empty() ? "not declared" : "did you mean `" + suggestion + "`?",
                         "a flow starts at a source, a `let` stream, a dead-letter stream, a late stream or a `split` output");
    return r;
  }
  r.state = Resolved::State::Ready;
  return r;
}

void Checker::check_job(const FlowJob& job, Resolved r) {
  for (const std::string& let : r.lets) ++let_uses_[let];
  if (!job.producer_of.empty() && lets_.count(job.producer_of)) ++let_uses_[job.producer_of];
  used_streams_.insert(r.name);
  if (r.origin.kind == Origin::Kind::Stream) ++program_.streams[static_cast<std::size_t>(r.origin.stream_index)].consumers;
  std::vector<const ast::Stage*> stages = r.front;
  stages.insert(stages.end(), job.stages.begin(), job.stages.end());
  current_origin_source_ = r.origin.source;
  check_flow(job, stages, r.origin, r.record, r.has_time);
  finish_job(job, stages);
}

// A job feeding streams (its Emit, its split outputs) is done, checked or failed: a stream's
// readers may start once every job feeding it is done.
void Checker::finish_job(const FlowJob& job, const std::vector<const ast::Stage*>& stages) {
  if (job.emit_to >= 0) ++streams_checked_[static_cast<std::size_t>(job.emit_to)];
  for (const ast::Stage* s : stages) {
    if (s->kind != ast::Stage::Kind::Split) continue;
    for (const auto& b : s->split.branches)
      if (auto it = shared_streams_.find(b.target.text); it != shared_streams_.end()) ++streams_checked_[static_cast<std::size_t>(it->second)];
  }
}

// The record type a flow brings to stream `index`: the first one sets it; a merge's inputs
// must agree.
void Checker::feed_stream(int index, const RecordPtr& record, bool has_time, Span span) {
  Stream& stream = program_.streams[static_cast<std::size_t>(index)];
  stream.has_time = stream.has_time && has_time;
  if (!stream.record) {
    stream.record = record;
    return;
  }
  if (stream.record->same_fields(*record)) return;
  diagnostics_.error(code::kTypeMismatch, span,
                     fmt::format("the inputs of `{}` must have one record type: this one is {}, an earlier one {}", stream.name,
                                 to_string(*record), to_string(*stream.record)),
                     "a different record type", "make the inputs agree with a `map { ... }` on each");
}

void Checker::check_flow(const FlowJob& job, std::vector<const ast::Stage*> stages, Origin origin, RecordPtr record,
                         bool has_time) {
  Flow out;
  out.origin = origin;
  out.span = job.span;
  bool ended = false;
  for (const ast::Stage* s : stages) {
    if (ended) {
      diagnostics_.error(code::kAfterSink, s->keyword_span, "nothing can follow a sink", "after the sink",
                         "start a new flow, or use a `let` stream");
      return;
    }
    if (!check_stage(*s, record, out, ended, has_time)) return;
  }
  if (job.emit_to >= 0) {
    const Stream& stream = program_.streams[static_cast<std::size_t>(job.emit_to)];
    if (ended) {
      diagnostics_.error(code::kAfterSink, out.stages.back().span, fmt::format("stream `{}` is read after this", stream.name),
                         "a flow ends here", "a `let` stream that other flows read cannot end in a sink or `split`");
      return;
    }
    Stage emit;
    emit.kind = Stage::Kind::Emit;
    emit.span = job.span;
    emit.input = record;
    emit.stream = job.emit_to;
    out.stages.push_back(std::move(emit));
    feed_stream(job.emit_to, record, has_time, job.span);
    program_.flows.push_back(std::move(out));
    return;
  }
  if (!ended) {
    Span end{job.span.end, job.span.end};
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
  if (s.parallel && !check_parallel_annotation(s, record, out)) return false;
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
      if (!check_join(s, record, stage, has_time)) return false;
      break;
    case ast::Stage::Kind::Split:
      if (!check_split(s.split, scope, record, has_time, stage)) return false;
      ended = true;
      break;
    case ast::Stage::Kind::Partition:
      if (!check_partition(s, scope, record, stage)) return false;
      break;
    case ast::Stage::Kind::Sink:
      stage.kind = Stage::Kind::Sink;
      if (!check_sink(s.sink, stage)) return false;
      ended = true;
      break;
  }
  if (s.parallel && stage.kind == Stage::Kind::Aggregate) {
    stage.parallelism = static_cast<int>(*s.parallel);
    stage.parallelism_span = s.parallel_span;
  }
  if (s.parallel && stage.kind == Stage::Kind::Join && stage.join >= 0 &&
      program_.joins[static_cast<std::size_t>(stage.join)].kind != Join::Kind::Lookup) {
    program_.joins[static_cast<std::size_t>(stage.join)].parallelism = static_cast<int>(*s.parallel);
    program_.joins[static_cast<std::size_t>(stage.join)].parallelism_span = s.parallel_span;
  }
  record = stage.output;
  out.stages.push_back(std::move(stage));
  return true;
}

// `split { when C -> a  when D -> b  else -> c }`: each output is a stream of the input's
// records; a record goes to the first branch whose condition holds (null counts as false).
bool Checker::check_split(const ast::SplitStage& split, const Scope& scope, const RecordPtr& record, bool has_time,
                          Stage& out) {
  out.kind = Stage::Kind::Split;
  bool ok = true;
  bool after_else = false;
  for (const auto& b : split.branches) {
    if (after_else) {
      diagnostics_.error(code::kBadSplit, b.span, "no branch can follow `else`", "never reached",
                         "`else` takes every record no `when` took: put it last");
      ok = false;
    }
    SplitBranch branch;
    if (b.condition) {
      Expr when = check_bool(*b.condition, scope, "a `when` condition");
      if (is_poison(when.type)) ok = false;
      else branch.when = std::move(when);
    } else {
      after_else = true;
    }
    auto it = shared_streams_.find(b.target.text);
    if (it == shared_streams_.end() || program_.streams[static_cast<std::size_t>(it->second)].span.begin != b.target.span.begin) {
      ok = false;  // the name is taken: reported when streams were collected
      continue;
    }
    branch.stream = it->second;
    out.branches.push_back(std::move(branch));
  }
  if (!ok) return false;
  for (const SplitBranch& branch : out.branches) feed_stream(branch.stream, record, has_time, out.span);
  return true;
}

// `partition by KEYS`, `rebalance`, `rescale`: the record passes unchanged; at --parallelism
// N > 1 it may go to another instance, which a list cannot do yet (its elements are not sent).
bool Checker::check_partition(const ast::Stage& s, const Scope& scope, const RecordPtr& record, Stage& out) {
  using Mode = ast::PartitionStage::Mode;
  out.kind = Stage::Kind::Partition;
  out.partitioning = s.partition.mode == Mode::Rebalance ? Stage::Partitioning::Rebalance
                     : s.partition.mode == Mode::Rescale ? Stage::Partitioning::Rescale
                                                         : Stage::Partitioning::ByKeys;
  out.output = record;
  bool ok = true;
  if (out.partitioning == Stage::Partitioning::ByKeys) {
    if (!check_fields(s.partition.keys, false, Span{}, *record, scope, out.keys)) return false;
    for (const ast::FieldBinding& key : s.partition.keys) {
      auto checked = std::find_if(out.keys.begin(), out.keys.end(), [&](const Assignment& a) { return a.name == key.name.text; });
      if (checked == out.keys.end()) {  // (refused by check_fields, which said why)
        ok = false;
      } else if (checked->value.type.kind == TK::List) {
        diagnostics_.error(code::kBadPartition, key.span, fmt::format("partition key `{}` is a list; keys must be scalars", key.name.text),
                           "list key");
        ok = false;
      }
    }
  }
  out.parallelism = static_cast<int>(s.parallel.value_or(0));
  out.parallelism_span = s.parallel_span;
  if (!ok || !out.moves_records()) return ok;
  return refuse_lists_across_instances(*record, s.keyword_span);
}

bool Checker::refuse_lists_across_instances(const RecordType& record, Span span) {
  for (const FieldDef& f : record.fields)
    if (f.type.kind == TK::List) {
      diagnostics_.error(code::kBadPartition, span,
                         fmt::format("this record holds a list (field `{}`), which cannot go to another instance yet", f.name),
                         "moves records between instances",
                         "drop the list with a `map` before this stage, or partition after the `flatmap` that takes it apart");
      return false;
    }
  return true;
}

// `@parallel(N)`: on a partitioning stage it limits the instances it deals records to; on a
// stateless stage (or a lookup join) it is a `rescale` onto N instances in front of it.
bool Checker::check_parallel_annotation(const ast::Stage& s, const RecordPtr& record, Flow& out) {
  if (*s.parallel < 1 || *s.parallel > 128) {
    diagnostics_.error(code::kBadPartition, s.parallel_span, "`@parallel` takes 1 to 128 instances", "out of range",
                       "write `@parallel(2) map { ... }`; the job's --parallelism caps it when lower");
    return false;
  }
  // Partitioning stages, aggregates and stream joins carry it themselves (check_stage).
  if (s.kind == ast::Stage::Kind::Partition || s.kind == ast::Stage::Kind::Aggregate ||
      (s.kind == ast::Stage::Kind::Join && !s.join.table))
    return true;
  if (!refuse_lists_across_instances(*record, s.parallel_span)) return false;
  Stage rescale;
  rescale.kind = Stage::Kind::Partition;
  rescale.partitioning = Stage::Partitioning::Rescale;
  rescale.parallelism = static_cast<int>(*s.parallel);
  rescale.span = s.parallel_span;
  rescale.parallelism_span = s.parallel_span;
  rescale.input = record;
  rescale.output = record;
  out.stages.push_back(std::move(rescale));
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

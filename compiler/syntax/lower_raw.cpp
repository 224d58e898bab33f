// Stages and declarations of the raw parse tree to ast:: (expressions: lower_expressions.cpp),
// checking the few shapes the grammar accepts loosely (`...` placement, `when`/`else`).
#include "lower_raw.h"

#include <algorithm>

#include "lowerer.h"

namespace flow::syntax {

using namespace raw;

ast::WindowSpec Lowerer::window(const Call& c) {
  ast::WindowSpec w;
  w.kind = name_of(c.name);
  w.args = arguments(c.args, w.arg_names);
  w.span = c.span;
  return w;
}

namespace {

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
  void operator()(const PartitionRaw& r) const {
    s.kind = ast::Stage::Kind::Partition;
    s.span = r.span;
    s.keyword_span = r.keyword.span;
    using Mode = ast::PartitionStage::Mode;
    s.partition.mode = r.keyword.text == "rebalance" ? Mode::Rebalance : r.keyword.text == "rescale" ? Mode::Rescale : Mode::ByKeys;
    bool keep_all = false;
    Span ignored;
    s.partition.keys = lower.fields(r.keys, false, keep_all, ignored, "partition keys");
  }
};

// Windows and joins are lowered here in full so that sema can point at them, even while it
// reports them as not supported yet.

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

ast::Stage Lowerer::stage(const StageRaw& raw) {
  ast::Stage s;
  StageVisitor visitor{*this, s, diagnostics_};
  boost::apply_visitor(visitor, raw);
  return s;
}

ast::Stage Lowerer::stage(const AnnotatedStageRaw& raw) {
  ast::Stage s = stage(raw.stage);
  if (raw.parallel) {
    // (the checker says which numbers are allowed; a huge one stays huge without overflowing)
    int64_t count = 0;
    for (char digit : raw.parallel->count.text) count = std::min<int64_t>(count * 10 + (digit - '0'), 1000000);
    s.parallel = count;
    s.parallel_span = raw.parallel->span;
  }
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
  for (const AnnotatedStageRaw& s : raw.stages) f.stages.push_back(stage(s));
  return f;
}

namespace {

struct ItemVisitor {
  Lowerer& lower;
  ast::Program& program;
  Diagnostics& diagnostics;

  void operator()(const ImportRaw& r) const { program.imports.push_back(ast::ImportDecl{name_of(r.module), r.span}); }
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
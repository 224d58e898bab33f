// Cuts the checked program into pipelines and works out which input fields are read.
#include "plan.h"

#include <fmt/format.h>

namespace flow::plan {

namespace {

using sema::Stage;

bool is_stateless(const Stage& s) {
  return s.kind == Stage::Kind::Filter || s.kind == Stage::Kind::Map || s.kind == Stage::Kind::FlatMap;
}

void mark_fields(const sema::Expr& e, std::vector<bool>& used) {
  if (e.kind == sema::Expr::Kind::Field && e.index >= 0 && e.index < static_cast<int>(used.size()))
    used[e.index] = true;
  for (const auto& a : e.args) mark_fields(a, used);
}

// The fields of the source record read by the stages that see it: every stage up to and
// including the first one that builds a new record (map, flatmap, aggregate); a sink that
// sees the source record writes all of it.
std::vector<bool> source_fields_used(const sema::Source& source, const sema::Flow& flow) {
  std::vector<bool> used(source.schema->fields.size(), false);
  for (const Stage& s : flow.stages) {
    if (s.predicate) mark_fields(*s.predicate, used);
    if (s.list) mark_fields(*s.list, used);
    for (const auto& a : s.assignments) mark_fields(a.value, used);
    for (const auto& k : s.keys) mark_fields(k.value, used);
    for (const auto& b : s.aggregates)
      if (b.arg) mark_fields(*b.arg, used);
    if (s.kind == Stage::Kind::Sink) used.assign(used.size(), true);
    if (s.kind != Stage::Kind::Filter) break;
  }
  return used;
}

}  // namespace

PhysicalPlan build_plan(const sema::CheckedProgram& program) {
  PhysicalPlan plan;
  plan.program = &program;
  size_t n = program.sources.size();
  plan.fields_used.resize(n);
  plan.source_pipeline.assign(n, -1);
  plan.dead_letter_pipeline.assign(n, -1);
  for (size_t i = 0; i < n; ++i)
    plan.fields_used[i].assign(program.sources[i].schema->fields.size(), false);

  for (const sema::Flow& flow : program.flows) {
    int source = flow.origin.source;
    Pipeline current;
    current.id = static_cast<int>(plan.pipelines.size());
    current.source = source;
    if (flow.origin.kind == sema::Origin::Kind::Source) {
      current.entry = Entry::SourceBatch;
      current.input = program.sources[source].schema;
      plan.source_pipeline[source] = current.id;
      plan.fields_used[source] = source_fields_used(program.sources[source], flow);
    } else {
      current.entry = Entry::DeadLetter;
      current.input = sema::dead_letter_record();
      plan.dead_letter_pipeline[source] = current.id;
    }
    for (const Stage& stage : flow.stages) {
      if (is_stateless(stage)) {
        current.stages.push_back(&stage);
        continue;
      }
      if (stage.kind == Stage::Kind::Sink) {
        current.sink = static_cast<int>(plan.sinks.size());
        plan.sinks.push_back(SinkOperator{&stage, current.id});
        plan.pipelines.push_back(std::move(current));
        break;
      }
      // An aggregate ends this pipeline and starts one fed with its rows.
      int aggregate = static_cast<int>(plan.aggregates.size());
      current.updates_aggregate = aggregate;
      AggregateOperator op;
      op.stage = &stage;
      op.source = source;
      op.update_pipeline = current.id;
      op.emit_pipeline = current.id + 1;
      plan.aggregates.push_back(op);
      plan.pipelines.push_back(std::move(current));
      current = Pipeline{};
      current.id = op.emit_pipeline;
      current.entry = Entry::AggregateEmit;
      current.source = source;
      current.aggregate = aggregate;
      current.input = stage.output;
    }
  }
  return plan;
}

uint64_t fixed_key_width(const sema::Stage& aggregate) {
  using K = sema::Type::Kind;
  uint64_t width = 0;
  for (const auto& k : aggregate.keys) {
    const sema::Type& t = k.value.type;
    if (t.nullable || t.kind == K::String || t.kind == K::List || t.kind == K::Null || t.kind == K::Record) return 0;
    width += t.kind == K::Bool ? 1 : 8;
  }
  return width;
}

namespace {

std::string field_list(const sema::RecordType& r) {
  std::string out;
  for (const auto& f : r.fields) {
    if (!out.empty()) out += ", ";
    out += f.name + ": " + sema::to_string(f.type);
  }
  return "{ " + out + " }";
}

const char* aggregator_name(sema::Aggregator a) {
  switch (a) {
    case sema::Aggregator::Count: return "count()";
    case sema::Aggregator::CountNonNull: return "count";
    case sema::Aggregator::Sum: return "sum";
    case sema::Aggregator::Min: return "min";
    case sema::Aggregator::Max: return "max";
    case sema::Aggregator::Avg: return "avg";
    case sema::Aggregator::First: return "first";
    case sema::Aggregator::Last: return "last";
    case sema::Aggregator::CountDistinct: return "count_distinct";
  }
  return "?";
}

std::string describe_stage(const Stage& s) {
  switch (s.kind) {
    case Stage::Kind::Filter: return "filter";
    case Stage::Kind::Map: return "map -> " + field_list(*s.output);
    case Stage::Kind::FlatMap: return "flatmap -> " + field_list(*s.output);
    case Stage::Kind::Aggregate: {
      std::string keys;
      for (const auto& k : s.keys) keys += (keys.empty() ? "" : ", ") + k.name;
      return "aggregate" + (keys.empty() ? std::string() : " by " + keys) + " -> " + field_list(*s.output);
    }
    case Stage::Kind::Sink: {
      const char* format = s.sink_format == Stage::Format::Csv ? "csv" : "jsonl";
      if (s.sink_kind == Stage::SinkKind::Stdout) return fmt::format("sink stdout ({})", format);
      if (s.sink_kind == Stage::SinkKind::Null) return "sink null";
      return fmt::format("sink file ({})", format);
    }
  }
  return "?";
}

const char* format_name(sema::SourceFormat f) {
  return f == sema::SourceFormat::Csv ? "csv" : f == sema::SourceFormat::Jsonl ? "jsonl" : "text";
}

std::string describe_entry(const PhysicalPlan& plan, const Pipeline& p) {
  const auto& source = plan.program->sources[p.source];
  switch (p.entry) {
    case Entry::SourceBatch: return fmt::format("batches of source `{}` ({})", source.name, format_name(source.format));
    case Entry::DeadLetter: return fmt::format("bad records of source `{}` (stream `{}`)", source.name, source.dead_letter);
    case Entry::AggregateEmit: return fmt::format("rows of aggregate {} in key order, at end of input", p.aggregate);
  }
  return "?";
}

}  // namespace

std::string explain(const PhysicalPlan& plan) {
  const auto& program = *plan.program;
  std::string out = "dataflow graph\n";
  for (const auto& flow : program.flows) {
    const auto& source = program.sources[flow.origin.source];
    if (flow.origin.kind == sema::Origin::Kind::Source)
      out += fmt::format("  source `{}` ({}) {}\n", source.name, format_name(source.format), field_list(*source.schema));
    else
      out += fmt::format("  dead letters `{}` of source `{}`\n", source.dead_letter, source.name);
    for (const auto& stage : flow.stages) out += "    -> " + describe_stage(stage) + "\n";
  }
  out += "\npipelines (each fused into one native function)\n";
  for (const auto& p : plan.pipelines) {
    out += fmt::format("  pipeline {}: {}", p.id, describe_entry(plan, p));
    for (const auto* s : p.stages) out += " -> " + describe_stage(*s);
    if (p.sink >= 0) out += fmt::format(" -> sink {}", p.sink);
    if (p.updates_aggregate >= 0) out += fmt::format(" -> update aggregate {}", p.updates_aggregate);
    out += "\n";
  }
  out += "\nstate\n";
  if (plan.aggregates.empty()) out += "  none: every pipeline is stateless\n";
  for (size_t i = 0; i < plan.aggregates.size(); ++i) {
    const auto& a = plan.aggregates[i];
    std::string keys, accumulators;
    for (const auto& k : a.stage->keys) keys += (keys.empty() ? "" : ", ") + k.name;
    for (const auto& b : a.stage->aggregates)
      accumulators += fmt::format("{}{} = {}", accumulators.empty() ? "" : ", ", b.name, aggregator_name(b.aggregator));
    out += fmt::format(
        "  aggregate {}: a hash table keyed by {} holding {{ {} }}; kept until source `{}` ends, "
        "then emitted in key order (pipeline {})\n",
        i, keys.empty() ? std::string("nothing (one row)") : "(" + keys + ")",
        accumulators, program.sources[a.source].name, a.emit_pipeline);
    uint64_t width = fixed_key_width(*a.stage);
    out += width > 0 ? fmt::format("    key: {} bytes, encoded inline by the pipeline\n", width)
                     : std::string("    key: variable width, encoded by runtime calls\n");
  }
  for (size_t i = 0; i < program.sources.size(); ++i) {
    std::string read;
    const auto& fields = program.sources[i].schema->fields;
    for (size_t f = 0; f < fields.size(); ++f)
      if (plan.fields_used[i][f]) read += (read.empty() ? "" : ", ") + fields[f].name;
    out += fmt::format("  source `{}` decodes only: {}\n", program.sources[i].name, read.empty() ? "(nothing)" : read);
  }
  return out;
}

}  // namespace flow::plan

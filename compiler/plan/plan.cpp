// Cuts the checked program into pipelines and works out which input fields are read.
#include "plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <numeric>

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
// including the first one that builds a new record (map, flatmap, aggregate), through filters,
// partitioning stages and lookup joins (whose record is the source record's fields, then the
// table's: its first fields are the source's, at their indexes); a sink that sees the source
// record writes all of it.
std::vector<bool> source_fields_used(const sema::CheckedProgram& program, const sema::Source& source, const sema::Flow& flow) {
  std::vector<bool> used(source.schema->fields.size(), false);
  for (const Stage& s : flow.stages) {
    if (s.kind == Stage::Kind::Join && program.joins[static_cast<std::size_t>(s.join)].kind == sema::Join::Kind::Lookup) {
      const sema::Join& j = program.joins[static_cast<std::size_t>(s.join)];
      for (const auto& k : j.left_keys) mark_fields(k, used);
      if (j.residual) mark_fields(*j.residual, used);
      continue;
    }
    if (s.predicate) mark_fields(*s.predicate, used);
    if (s.list) mark_fields(*s.list, used);
    for (const auto& a : s.assignments) mark_fields(a.value, used);
    for (const auto& k : s.keys) mark_fields(k.value, used);
    for (const auto& b : s.aggregates) {
      if (b.arg) mark_fields(*b.arg, used);
      if (b.by) mark_fields(*b.by, used);
    }
    for (const auto& b : s.branches)
      if (b.when) mark_fields(*b.when, used);
    // A record written out, handed on to other flows or stored by a stream join is read whole.
    if (s.kind == Stage::Kind::Sink || s.kind == Stage::Kind::Emit || s.kind == Stage::Kind::Split || s.kind == Stage::Kind::Join)
      used.assign(used.size(), true);
    // A window's late stream carries its input records whole.
    if (s.kind == Stage::Kind::Aggregate && s.window && !s.window->late_stream.empty()) used.assign(used.size(), true);
    // A partitioning stage passes the record on as it is (fields never read are not sent either).
    if (s.kind != Stage::Kind::Filter && s.kind != Stage::Kind::Partition) break;
  }
  // The event time moves the watermark after every record, even one a filter drops.
  if (source.time.kind == sema::EventTime::Kind::Field) used[source.time.field] = true;
  return used;
}

}  // namespace

namespace {
void choose_salts(PhysicalPlan& plan);
void order_by_position(PhysicalPlan& plan);

// first, last, arg_max, arg_min: their result depends on the order of the records.
bool depends_on_order(sema::Aggregator a) {
  using A = sema::Aggregator;
  return a == A::First || a == A::Last || a == A::ArgMax || a == A::ArgMin;
}
bool depends_on_order(const Stage& aggregate) {
  return std::any_of(aggregate.aggregates.begin(), aggregate.aggregates.end(),
                     [](const sema::AggregateBinding& b) { return depends_on_order(b.aggregator); });
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

  plan.stream_readers.resize(program.streams.size());
  plan.stream_time.resize(program.streams.size());
  auto add_time = [](std::vector<TimeInput>& to, const std::vector<TimeInput>& from) {
    for (const TimeInput& t : from)
      if (std::find(to.begin(), to.end(), t) == to.end()) to.push_back(t);
  };
  // Joins, numbered at run time by kind; a table's pipeline fills its lookup joins.
  for (const sema::Join& join : program.joins) {
    JoinOperator op;
    op.join = &join;
    op.runtime = join.kind == sema::Join::Kind::Lookup ? plan.lookup_count++ : plan.stream_join_count++;
    plan.joins.push_back(op);
  }
  for (size_t i = 0; i < n; ++i) {
    if (!program.sources[i].is_table) continue;
    Pipeline table;
    table.id = static_cast<int>(plan.pipelines.size());
    table.entry = Entry::SourceBatch;
    table.source = static_cast<int>(i);
    table.input = program.sources[i].schema;
    for (size_t j = 0; j < program.joins.size(); ++j)
      if (program.joins[j].table == static_cast<int>(i)) table.fills_lookups.push_back(static_cast<int>(j));
    plan.source_pipeline[i] = table.id;
    plan.fields_used[i].assign(plan.fields_used[i].size(), true);
    plan.pipelines.push_back(std::move(table));
  }
  for (const sema::Flow& flow : program.flows) {
    int source = flow.origin.source;
    Pipeline current;
    current.id = static_cast<int>(plan.pipelines.size());
    current.source = source;
    if (flow.origin.kind == sema::Origin::Kind::Source) {
      current.entry = Entry::SourceBatch;
      current.input = program.sources[source].schema;
      plan.source_pipeline[source] = current.id;
      plan.fields_used[source] = source_fields_used(program, program.sources[source], flow);
      if (program.sources[source].time.kind != sema::EventTime::Kind::None) current.time.push_back(TimeInput{source, -1});
    } else if (flow.origin.kind == sema::Origin::Kind::Late) {
      // The window that declared the stream is in an earlier flow.
      for (size_t a = 0; a < plan.aggregates.size(); ++a) {
        AggregateOperator& op = plan.aggregates[a];
        if (!op.windowed() || op.stage->window->late_stream != flow.origin.stream) continue;
        op.late_pipeline = current.id;
        current.entry = Entry::LateRecords;
        current.aggregate = static_cast<int>(a);
        current.input = op.stage->input;
        // Late records come after the window's watermark passed them, and at N > 1 from the
        // window's instance: operators after them take its output watermark, which every
        // instance passes on after the late records it hands on (not the sources', which the
        // instance that read a record may have sent ahead of it).
        current.time = {TimeInput{-1, op.window}};
      }
    } else if (flow.origin.kind == sema::Origin::Kind::Stream) {
      // Every flow feeding the stream comes earlier.
      int stream = flow.origin.stream_index;
      current.entry = Entry::StreamRecords;
      current.stream = stream;
      current.input = program.streams[stream].record;
      if (program.streams[stream].has_time) current.time = plan.stream_time[stream];
      plan.stream_readers[stream].push_back(current.id);
    } else {
      current.entry = Entry::DeadLetter;
      current.input = sema::dead_letter_record();
      plan.dead_letter_pipeline[source] = current.id;
    }
    for (const Stage& stage : flow.stages) {
      bool lookup = stage.kind == Stage::Kind::Join && plan.joins[static_cast<std::size_t>(stage.join)].lookup();
      if (is_stateless(stage) || lookup) {
        current.stages.push_back(&stage);
        continue;
      }
      if (stage.kind == Stage::Kind::Emit && program.streams[static_cast<std::size_t>(stage.stream)].join >= 0) {
        // The right input of a stream join.
        int j = program.streams[static_cast<std::size_t>(stage.stream)].join;
        JoinOperator& op = plan.joins[static_cast<std::size_t>(j)];
        current.inserts_join = j;
        current.join_side = 1;
        op.right_pipeline = current.id;
        add_time(op.input_time, current.time);
        plan.pipelines.push_back(std::move(current));
        break;
      }
      if (stage.kind == Stage::Kind::Join) {
        // The left input of a stream join; the joined pairs start a new pipeline.
        JoinOperator& op = plan.joins[static_cast<std::size_t>(stage.join)];
        current.inserts_join = stage.join;
        current.join_side = 0;
        op.left_pipeline = current.id;
        op.output_pipeline = current.id + 1;
        add_time(op.input_time, current.time);
        plan.pipelines.push_back(std::move(current));
        source = -1;  // joined records come until every input has ended
        current = Pipeline{};
        current.id = op.output_pipeline;
        current.entry = Entry::JoinOutput;
        current.source = source;
        current.join = stage.join;
        current.input = stage.output;
        current.time = {TimeInput{-1, -1, op.runtime}};
        continue;
      }
      if (stage.kind == Stage::Kind::Emit || stage.kind == Stage::Kind::Split) {
        current.feeds_streams = &stage;
        for (int s : streams_fed(stage)) add_time(plan.stream_time[static_cast<std::size_t>(s)], current.time);
        plan.pipelines.push_back(std::move(current));
        break;
      }
      if (stage.kind == Stage::Kind::Partition) {
        // The stages after it start a pipeline of their own, which may run on another instance.
        PartitionOperator op;
        op.stage = &stage;
        op.from_pipeline = current.id;
        op.to_pipeline = current.id + 1;
        op.input_time = current.time;
        int index = static_cast<int>(plan.partitions.size());
        current.feeds_partition = index;
        std::vector<TimeInput> time;
        if (op.has_time()) {
          op.time_node = plan.partition_time_nodes++;
          time.push_back(TimeInput{-1, -1, -1, op.time_node});
        }
        plan.partitions.push_back(op);
        plan.pipelines.push_back(std::move(current));
        current = Pipeline{};
        current.id = op.to_pipeline;
        current.entry = Entry::Partitioned;
        current.source = source;
        current.partition = index;
        current.input = stage.output;
        current.time = std::move(time);
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
      if (stage.window) {
        op.window = plan.window_count++;
        op.input_time = current.time;
      } else {
        op.table = plan.table_count++;
      }
      plan.aggregates.push_back(op);
      plan.pipelines.push_back(std::move(current));
      current = Pipeline{};
      current.id = op.emit_pipeline;
      current.entry = op.windowed() ? Entry::WindowEmit : Entry::AggregateEmit;
      current.source = source;
      current.aggregate = aggregate;
      current.input = stage.output;
      if (op.windowed()) current.time = {TimeInput{-1, op.window}};
    }
  }
  order_by_position(plan);
  choose_salts(plan);
  return plan;
}

std::vector<int> streams_fed(const sema::Stage& emit_or_split) {
  std::vector<int> streams;
  if (emit_or_split.kind == sema::Stage::Kind::Emit) streams.push_back(emit_or_split.stream);
  for (const sema::SplitBranch& branch : emit_or_split.branches) streams.push_back(branch.stream);
  return streams;
}

int PhysicalPlan::partition_hops() const {
  // Per pipeline, the most partitioning stages a record meets from its start to an operator.
  std::vector<int> hops(pipelines.size(), -1);
  std::function<int(int)> from = [&](int id) {
    int& known = hops[static_cast<std::size_t>(id)];
    if (known >= 0) return known;
    known = 0;  // (streams form no cycle; this only guards the recursion)
    const Pipeline& p = pipelines[static_cast<std::size_t>(id)];
    int most = 0;
    if (p.feeds_partition >= 0) most = 1 + from(partitions[static_cast<std::size_t>(p.feeds_partition)].to_pipeline);
    if (p.feeds_streams)
      for (int s : streams_fed(*p.feeds_streams))
        for (int reader : stream_readers[static_cast<std::size_t>(s)]) most = std::max(most, from(reader));
    return known = most;
  };
  int most = 0;
  for (const Pipeline& p : pipelines) most = std::max(most, from(p.id));
  return most;
}

uint64_t fixed_key_width(const sema::Stage& aggregate) {
  std::vector<sema::Type> types;
  for (const auto& k : aggregate.keys) types.push_back(k.value.type);
  return fixed_key_width(types);
}

std::vector<sema::Type> join_key_types(const sema::Join& join) {
  std::vector<sema::Type> types;
  for (const auto& k : join.left_keys) types.push_back(k.type.as_nullable(false));
  return types;
}

uint64_t fixed_key_width(const std::vector<sema::Type>& key_types) {
  using K = sema::Type::Kind;
  uint64_t width = 0;
  for (const sema::Type& t : key_types) {
    if (t.nullable || t.kind == K::String || t.kind == K::List || t.kind == K::Null || t.kind == K::Record) return 0;
    width += t.kind == K::Bool ? 1 : 8;
  }
  return width;
}

namespace {


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
    case sema::Aggregator::ArgMax: return "arg_max";
    case sema::Aggregator::ArgMin: return "arg_min";
  }
  return "?";
}

std::string duration_text(int64_t ms) {
  if (ms % 3600000 == 0 && ms != 0) return fmt::format("{}h", ms / 3600000);
  if (ms % 60000 == 0 && ms != 0) return fmt::format("{}m", ms / 60000);
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

// "+ 1h" or "- 5s": an offset added to a time.
std::string signed_duration(int64_t ms) { return (ms < 0 ? "- " : "+ ") + duration_text(ms < 0 ? -ms : ms); }

std::string describe_window_shape(const sema::WindowSpec& w) {
  using K = sema::WindowSpec::Kind;
  return w.kind == K::Tumbling  ? fmt::format("tumbling({})", duration_text(w.size_ms))
         : w.kind == K::Sliding ? fmt::format("sliding({}, every = {})", duration_text(w.size_ms), duration_text(w.slide_ms))
         : w.kind == K::Session ? fmt::format("session(gap = {})", duration_text(w.gap_ms))
                                : fmt::format("cumulating({}, step = {})", duration_text(w.size_ms), duration_text(w.step_ms));
}

std::string describe_window(const sema::WindowSpec& w) {
  std::string text = describe_window_shape(w);
  text += fmt::format(" late {}", duration_text(w.lateness_ms));
  text += w.late_stream.empty() ? " drop" : " -> " + w.late_stream;
  if (w.emit_final) text += " emit final";
  if (w.emit_early_every_ms > 0) text += " emit early every " + duration_text(w.emit_early_every_ms);
  return text;
}

std::string describe_stage(const sema::CheckedProgram& program, const Stage& s) {
  auto stream_name = [&](int i) { return "`" + program.streams[static_cast<std::size_t>(i)].name + "`"; };
  switch (s.kind) {
    case Stage::Kind::Filter: return "filter";
    case Stage::Kind::Map: return "map -> " + sema::to_string(*s.output);
    case Stage::Kind::FlatMap: return "flatmap -> " + sema::to_string(*s.output);
    case Stage::Kind::Aggregate: {
      std::string keys;
      for (const auto& k : s.keys) keys += (keys.empty() ? "" : ", ") + k.name;
      return "aggregate" + (keys.empty() ? std::string() : " by " + keys) + (s.window ? " over " + describe_window(*s.window) : "") +
             " -> " + sema::to_string(*s.output);
    }
    case Stage::Kind::Sink: {
      const char* format = s.sink_format == Stage::Format::Csv ? "csv" : "jsonl";
      if (s.sink_kind == Stage::SinkKind::Stdout) return fmt::format("sink stdout ({})", format);
      if (s.sink_kind == Stage::SinkKind::Null) return "sink null";
      return fmt::format("sink file ({})", format);
    }
    case Stage::Kind::Join: {
      const sema::Join& j = program.joins[static_cast<std::size_t>(s.join)];
      std::string keys;
      for (size_t i = 0; i < j.left_keys.size(); ++i) keys += fmt::format("{}key {}", i ? ", " : "", i + 1);
      std::string what = j.kind == sema::Join::Kind::Lookup
                             ? fmt::format("lookup join with table `{}`", program.sources[static_cast<std::size_t>(j.table)].name)
                         : j.kind == sema::Join::Kind::Interval
                             ? fmt::format("interval join with `{}` within {} .. {}",
                                           program.streams[static_cast<std::size_t>(j.right_stream)].name,
                                           (j.lower_ms < 0 ? "-" : "") + duration_text(j.lower_ms < 0 ? -j.lower_ms : j.lower_ms),
                                           (j.upper_ms < 0 ? "-" : "") + duration_text(j.upper_ms < 0 ? -j.upper_ms : j.upper_ms))
                             : fmt::format("window join with `{}` over {}", program.streams[static_cast<std::size_t>(j.right_stream)].name,
                                           describe_window_shape(*j.window));
      return fmt::format("{}{} as `{}` on {} key part{}{} -> {}", j.left_outer ? "left " : "", what, j.alias, j.left_keys.size(),
                         j.left_keys.size() == 1 ? "" : "s", j.residual ? " and a residual condition" : "", sema::to_string(*s.output));
    }
    case Stage::Kind::Emit:
      if (program.streams[static_cast<std::size_t>(s.stream)].join >= 0)
        return fmt::format("right input of join {}", program.streams[static_cast<std::size_t>(s.stream)].join);
      return "to stream " + stream_name(s.stream);
    case Stage::Kind::Partition: {
      std::string annotation = s.parallelism > 0 ? fmt::format("@parallel({}) ", s.parallelism) : "";
      if (s.partitioning == Stage::Partitioning::Rebalance) return annotation + "rebalance";
      if (s.partitioning == Stage::Partitioning::Rescale) return annotation + "rescale";
      std::string keys;
      for (const auto& k : s.keys) keys += (keys.empty() ? "" : ", ") + k.name;
      return annotation + "partition by " + keys;
    }
    case Stage::Kind::Split: {
      std::string text = "split:";
      for (const auto& b : s.branches) text += (b.when ? " when ... -> " : " else -> ") + stream_name(b.stream);
      return text;
    }
  }
  return "?";
}

const char* format_name(sema::SourceFormat f) {
  return f == sema::SourceFormat::Csv     ? "csv"
         : f == sema::SourceFormat::Jsonl ? "jsonl"
         : f == sema::SourceFormat::Text  ? "text"
                                          : "generated, typed values";
}

std::string describe_entry(const PhysicalPlan& plan, const Pipeline& p) {
  // Only source and dead-letter pipelines have a source of their own.
  auto source = [&]() -> const sema::Source& { return plan.program->sources[static_cast<std::size_t>(p.source)]; };
  switch (p.entry) {
    case Entry::StreamRecords:
      return fmt::format("records of stream `{}`, one at a time", plan.program->streams[static_cast<std::size_t>(p.stream)].name);
    case Entry::SourceBatch: return fmt::format("batches of source `{}` ({})", source().name, format_name(source().format));
    case Entry::DeadLetter: return fmt::format("bad records of source `{}` (stream `{}`)", source().name, source().dead_letter);
    case Entry::AggregateEmit: return fmt::format("rows of aggregate {} in key order, at end of input", p.aggregate);
    case Entry::WindowEmit: return fmt::format("results of windowed aggregate {} as its windows fire", p.aggregate);
    case Entry::JoinOutput: return fmt::format("joined records of join {} as it pairs them", p.join);
    case Entry::Partitioned: return fmt::format("records of partition {}, one at a time", p.partition);
    case Entry::LateRecords:
      return fmt::format("late records of windowed aggregate {} (stream `{}`)", p.aggregate,
                         plan.aggregates[p.aggregate].stage->window->late_stream);
  }
  return "?";
}

// The time clause of a source, as the watermark it gives.
std::string describe_time(const sema::Source& source) {
  using K = sema::EventTime::Kind;
  const sema::EventTime& t = source.time;
  std::string text;
  if (t.kind == K::Field) {
    const std::string& field = source.schema->fields[static_cast<std::size_t>(t.field)].name;
    text = t.lag_ms == 0 ? fmt::format("event time `{}`, watermark = the largest `{}` so far", field, field)
                         : fmt::format("event time `{}`, watermark = the largest `{}` so far - {}", field, field, duration_text(t.lag_ms));
  } else if (t.kind == K::Ingestion) {
    text = "ingestion time (the clock when a record is read), watermark = that time";
  } else if (t.kind == K::Processing) {
    text = "processing time (the clock), windows fire by the clock";
  }
  if (!text.empty() && t.idle_ms >= 0) text += fmt::format("; idle after {} without records", duration_text(t.idle_ms));
  return text;
}

}  // namespace

bool combinable(const AggregateOperator& aggregate) {
  using A = sema::Aggregator;
  if (aggregate.windowed() && !aggregate.stage->local) return false;  // (the checker refused what cannot be)
  for (const sema::AggregateBinding& binding : aggregate.stage->aggregates) {
    if (binding.aggregator == A::CountDistinct) return false;  // its set would be copied to every instance (salted instead)
    // these need the order of the records: their positions
    if (depends_on_order(binding.aggregator) && !aggregate.ordered_by_position) return false;
  }
  return true;
}

namespace {

// The partitioning stage that already sent the records of keyed pipeline `p` to their key's
// owner: `partition by` the same fields (of the same types), over all the instances, with only
// filters after it, for an operator without `@parallel` of its own. Then owns() holds for every
// record and none crosses again.
const PartitionOperator* partitioned_alike(const PhysicalPlan& plan, const Pipeline& p, const std::vector<sema::Assignment>& keys,
                                          int parallelism) {
  if (p.entry != Entry::Partitioned || parallelism != 0) return nullptr;
  for (const sema::Stage* s : p.stages)
    if (s->kind != sema::Stage::Kind::Filter) return nullptr;
  const PartitionOperator& x = plan.partitions[static_cast<std::size_t>(p.partition)];
  const sema::Stage& by = *x.stage;
  if (by.partitioning != sema::Stage::Partitioning::ByKeys || by.parallelism != 0 || by.keys.size() != keys.size()) return nullptr;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const sema::Expr& a = by.keys[i].value;
    const sema::Expr& b = keys[i].value;
    if (a.kind != sema::Expr::Kind::Field || b.kind != sema::Expr::Kind::Field || a.index != b.index || !(a.type == b.type))
      return nullptr;
  }
  return &x;
}

// Whether `e` reads the clock (now()): then two instances computing it give two values.
bool reads_clock(const sema::Expr& e) {
  if (e.kind == sema::Expr::Kind::Call && e.builtin == sema::Builtin::Now) return true;
  return std::any_of(e.args.begin(), e.args.end(), reads_clock);
}

// How an aggregate with first, last or arg_* orders its records (`flowc explain`).
std::string order_text(const PhysicalPlan& plan, const AggregateOperator& a) {
  if (!a.ordered_by_position) return "the order records arrive in";
  if (!a.ties_by_value) return "position in the source (a file's line, a generator's event number)";
  const Entry from = plan.pipelines[static_cast<std::size_t>(a.position_pipeline)].entry;
  if (from == Entry::AggregateEmit) return "the least value (the greatest for last): the rows of an aggregate all tie";
  return fmt::format("{}, then the least value on a tie (the greatest for last)", from == Entry::WindowEmit ? "window end" : "event time");
}

// AggregateOperator::ordered_by_position, and the pipelines carrying positions to it.
void order_by_position(PhysicalPlan& plan) {
  for (AggregateOperator& a : plan.aggregates) {
    if (!depends_on_order(*a.stage)) continue;
    // Back from its update pipeline through partitioning stages and streams fed by one
    // pipeline each, to a source's batches.
    // A flatmap or lookup join gives several records one position: before a stage that moves
    // records they may reach the aggregate from several instances, and tie.
    std::vector<int> chain{a.update_pipeline};
    bool moved = false, several = false;
    for (;;) {
      const Pipeline& p = plan.pipelines[static_cast<std::size_t>(chain.back())];
      for (const sema::Stage* s : p.stages)
        several = several || (moved && (s->kind == Stage::Kind::FlatMap || s->kind == Stage::Kind::Join));
      if (p.entry == Entry::Partitioned) {
        const PartitionOperator& x = plan.partitions[static_cast<std::size_t>(p.partition)];
        moved = moved || x.stage->moves_records();
        chain.push_back(x.from_pipeline);
        continue;
      }
      if (p.entry != Entry::StreamRecords) break;
      std::vector<int> feeders;
      for (const Pipeline& q : plan.pipelines)
        if (q.feeds_streams) {
          std::vector<int> fed = streams_fed(*q.feeds_streams);
          if (std::find(fed.begin(), fed.end(), p.stream) != fed.end()) feeders.push_back(q.id);
        }
      if (feeders.size() != 1) break;
      chain.push_back(feeders[0]);
    }
    const Pipeline& start = plan.pipelines[static_cast<std::size_t>(chain.back())];
    if (start.entry == Entry::WindowEmit || start.entry == Entry::JoinOutput || start.entry == Entry::AggregateEmit) {
      // (records of one position tie and go by value, so several of them are no harm)
      a.ties_by_value = true;
    } else if (several || start.entry != Entry::SourceBatch) {
      continue;
    }
    a.ordered_by_position = true;
    a.position_pipeline = chain.back();
    for (int p : chain) plan.pipelines[static_cast<std::size_t>(p)].carries_position = true;
  }
}

// Salting (AggregateOperator::salt): for unwindowed aggregates whose count_distinct keeps them
// from combining rows where they are read. Not with first, last or arg_* (they go by the order
// records reach the key's instance), nor with count_distinct of two different values or of
// now(), nor after `partition by` the same keys (the user put the records there).
void choose_salts(PhysicalPlan& plan) {
  using A = sema::Aggregator;
  for (AggregateOperator& a : plan.aggregates) {
    if (a.windowed()) continue;
    const sema::Expr* salt = nullptr;
    bool several = false;
    auto same_field = [](const sema::Expr& x, const sema::Expr& y) {
      return x.kind == sema::Expr::Kind::Field && y.kind == sema::Expr::Kind::Field && x.index == y.index;
    };
    for (const sema::AggregateBinding& binding : a.stage->aggregates) {
      if (binding.aggregator == A::CountDistinct) {
        several = several || (salt && !same_field(*salt, *binding.arg));
        if (!salt) salt = &*binding.arg;
      }
    }
    // Several count_distinct of different values: a record's values of the second would not
    // stay at one instance (the end's merge counts each instance's values as its own). Nor a
    // value read from the clock, which the instance applying the record computes anew.
    if (!salt || depends_on_order(*a.stage) || several || reads_clock(*salt) ||
        partitioned_alike(plan, plan.pipelines[static_cast<std::size_t>(a.update_pipeline)], a.stage->keys, a.stage->parallelism))
      continue;
    a.salt = salt;
  }
}

// Where records cross between instances at --parallelism N > 1.
std::string explain_parallel(const PhysicalPlan& plan) {
  const auto& program = *plan.program;
  std::string out = "\nat --parallelism N > 1 (N instances, keys dealt by key group: hash % 128)\n";
  std::vector<bool> table(program.sources.size(), false);
  for (const JoinOperator& j : plan.joins)
    if (j.lookup()) table[static_cast<std::size_t>(j.join->table)] = true;
  for (size_t i = 0; i < program.sources.size(); ++i)
    out += table[i] ? fmt::format("  source `{}`: read whole by every instance (a lookup table)\n", program.sources[i].name)
           : program.sources[i].format == sema::SourceFormat::Generated
               ? fmt::format("  source `{}`: each instance generates its parts of the event numbers\n", program.sources[i].name)
               : fmt::format("  source `{}`: each instance reads its parts of the file, cut at line breaks\n", program.sources[i].name);
  for (size_t i = 0; i < plan.aggregates.size(); ++i) {
    const AggregateOperator& a = plan.aggregates[i];
    if (combinable(a) && a.windowed())
      out += fmt::format("  aggregate {} (window {}): local aggregation where read, per key and slice; when a slice's first window "
                         "falls due its rows go to the key's instance and are merged there (`aggregate local`, no shuffle of "
                         "records)\n", i, a.window);
    else if (combinable(a))
      out += fmt::format("  aggregate {}: local aggregation where read; at the end one row per key and instance goes to the "
                         "key's instance and is merged there (two-phase, no shuffle of records)\n", i);
    else if (a.salt)
      out += fmt::format("  aggregate {}: shuffle, salted: each record goes to the instance owning its key and its `count_distinct` "
                         "value, so a hot key spreads over the instances (pipeline {}); at the end one row per key and instance goes "
                         "to the key's instance, which adds up their counts of values (merges the values, after a restore at another "
                         "parallelism)\n", i, a.update_pipeline);
    else if (const PartitionOperator* x = partitioned_alike(plan, plan.pipelines[static_cast<std::size_t>(a.update_pipeline)], a.stage->keys, a.stage->parallelism))
      out += fmt::format("  aggregate {}{}: no shuffle: its records are at their key's instance already (partition {} by the same "
                         "keys)\n", i, a.windowed() ? fmt::format(" (window {})", a.window) : std::string(""),
                         x - plan.partitions.data());
    else
      out += fmt::format("  aggregate {}{}: shuffle: each record goes to the instance owning its key (pipeline {})\n", i,
                         a.windowed() ? fmt::format(" (window {})", a.window) : std::string(""), a.update_pipeline);
  }
  for (size_t i = 0; i < plan.aggregates.size(); ++i)
    if (int at = plan.aggregates[i].stage->parallelism; at > 0)
      out += fmt::format("  aggregate {}: `@parallel({})`: the first min(N, {}) instances own its keys\n", i, at, at);
  for (size_t i = 0; i < plan.joins.size(); ++i) {
    const JoinOperator& j = plan.joins[i];
    out += j.lookup() ? fmt::format("  join {}: no shuffle: every instance probes its own copy of the table\n", i)
                      : fmt::format("  join {}: shuffle: the records of both inputs go to the instance owning their key (pipelines {} "
                                    "and {})\n", i, j.left_pipeline, j.right_pipeline);
    if (!j.lookup() && j.join->parallelism > 0)
      out += fmt::format("  join {}: `@parallel({})`: the first min(N, {}) instances own its keys\n", i, j.join->parallelism,
                         j.join->parallelism);
  }
  for (size_t i = 0; i < plan.partitions.size(); ++i) {
    const PartitionOperator& x = plan.partitions[i];
    using P = sema::Stage::Partitioning;
    int at = x.stage->parallelism;
    std::string instances = at > 0 ? fmt::format("the first min(N, {}) instances", at) : "the instances";
    std::string pipelines = fmt::format("(pipeline {} -> {})", x.from_pipeline, x.to_pipeline);
    out += x.stage->partitioning == P::ByKeys
               ? fmt::format("  partition {}: shuffle: each record goes to its key's owner among {} {}\n", i, instances, pipelines)
           : x.stage->partitioning == P::Rebalance
               ? fmt::format("  partition {}: shuffle: records dealt round robin over {} {}\n", i, instances, pipelines)
           : x.stage->moves_records()
               ? fmt::format("  partition {}: rescale onto {}: an instance beyond them hands its records to instance K % "
                             "min(N, {}), the others keep theirs {}\n", i, instances, at, pipelines)
               : fmt::format("  partition {}: no shuffle: every stage runs at N instances, so records stay on theirs {}\n", i,
                             pipelines);
  }
  out += "  checkpoints: barriers in band; they restore at any parallelism (state moves by key group)\n";
  return out;
}

}  // namespace

std::string explain(const PhysicalPlan& plan) {
  const auto& program = *plan.program;
  std::string out = "dataflow graph\n";
  for (const auto& flow : program.flows) {
    if (flow.origin.kind == sema::Origin::Kind::Stream) {
      const sema::Stream& stream = program.streams[static_cast<std::size_t>(flow.origin.stream_index)];
      out += fmt::format("  stream `{}` {}\n", stream.name, sema::to_string(*stream.record));
      for (const auto& stage : flow.stages) out += "    -> " + describe_stage(program, stage) + "\n";
      continue;
    }
    const auto& source = program.sources[flow.origin.source];
    if (flow.origin.kind == sema::Origin::Kind::Source) {
      out += fmt::format("  source `{}` ({}) {}\n", source.name, format_name(source.format), sema::to_string(*source.schema));
      if (std::string time = describe_time(source); !time.empty()) out += "    " + time + "\n";
    }
    else if (flow.origin.kind == sema::Origin::Kind::Late)
      out += fmt::format("  late stream `{}`\n", flow.origin.stream);
    else
      out += fmt::format("  dead letters `{}` of source `{}`\n", source.dead_letter, source.name);
    for (const auto& stage : flow.stages) out += "    -> " + describe_stage(program, stage) + "\n";
  }
  out += "\npipelines (each fused into one native function)\n";
  for (const auto& p : plan.pipelines) {
    out += fmt::format("  pipeline {}: {}", p.id, describe_entry(plan, p));
    for (const auto* s : p.stages) out += " -> " + describe_stage(program, *s);
    if (p.feeds_streams) out += " -> " + describe_stage(program, *p.feeds_streams);
    if (p.feeds_partition >= 0) out += fmt::format(" -> partition {}", p.feeds_partition);
    if (p.sink >= 0) out += fmt::format(" -> sink {}", p.sink);
    if (p.updates_aggregate >= 0) out += fmt::format(" -> update aggregate {}", p.updates_aggregate);
    if (p.inserts_join >= 0) out += fmt::format(" -> store as the {} input of join {}", p.join_side == 0 ? "left" : "right", p.inserts_join);
    for (int j : p.fills_lookups) out += fmt::format(" -> fill the hash table of join {}", j);
    out += "\n";
  }
  out += "\nstate\n";
  if (plan.aggregates.empty() && plan.joins.empty()) out += "  none: every pipeline is stateless\n";
  for (size_t i = 0; i < plan.aggregates.size(); ++i) {
    const auto& a = plan.aggregates[i];
    std::string keys, accumulators;
    for (const auto& k : a.stage->keys) keys += (keys.empty() ? "" : ", ") + k.name;
    for (const auto& b : a.stage->aggregates)
      accumulators += fmt::format("{}{} = {}", accumulators.empty() ? "" : ", ", b.name, aggregator_name(b.aggregator));
    std::string keyed = keys.empty() ? std::string("nothing (one row)") : "(" + keys + ")";
    if (!a.windowed()) {
      out += fmt::format(
          "  aggregate {}: a hash table keyed by {} holding {{ {} }}; kept until {} ends, "
          "then emitted in key order (pipeline {})\n",
          i, keyed, accumulators, a.source >= 0 ? "source `" + program.sources[a.source].name + "`" : std::string("every input"),
          a.emit_pipeline);
    } else {
      const sema::WindowSpec& w = *a.stage->window;
      using K = sema::WindowSpec::Kind;
      std::string layout =
          w.kind == K::Session    ? "one row per key and session; sessions that touch merge"
          : w.kind == K::Tumbling ? "one state namespace per window"
                                  : fmt::format("one state namespace per {} slice; a firing combines {} slices", duration_text(w.kind == K::Sliding ? std::gcd(w.size_ms, w.slide_ms) : w.step_ms),
                                                w.size_ms / (w.kind == K::Sliding ? std::gcd(w.size_ms, w.slide_ms) : w.step_ms));
      out += fmt::format(
          "  aggregate {} (window {}): {}; rows keyed by {} holding {{ {} }}; fires {} in order of window end, then key "
          "(pipeline {}); freed when the watermark passes end + {}\n",
          i, a.window, layout, keyed, accumulators, w.emit_final ? "once at end + lateness" : "at window end and once per late record",
          a.emit_pipeline, duration_text(w.lateness_ms));
    }
    uint64_t width = fixed_key_width(*a.stage);
    out += width > 0 ? fmt::format("    key: {} bytes, encoded inline by the pipeline\n", width)
                     : std::string("    key: variable width, encoded by runtime calls\n");
    if (depends_on_order(*a.stage)) out += "    order (first, last, arg_* ties): " + order_text(plan, a) + "\n";
  }
  for (size_t i = 0; i < plan.joins.size(); ++i) {
    const sema::Join& j = *plan.joins[i].join;
    if (j.kind == sema::Join::Kind::Lookup) {
      out += fmt::format("  join {}: table `{}` read to its end before the streams, hashed on the key (several records per key "
                         "give several matches); kept for the whole job\n",
                         i, program.sources[static_cast<std::size_t>(j.table)].name);
    } else if (j.kind == sema::Join::Kind::Interval) {
      int64_t bucket = static_cast<int64_t>(std::min<__int128>(INT64_MAX, std::max<__int128>(1000, (__int128{j.upper_ms} - j.lower_ms) / 2)));
      out += fmt::format("  join {}: both sides kept per key in {} time buckets; a record is late below the watermark (the "
                         "minimum of both inputs); a left record is freed when the watermark passes time {}, a right one at "
                         "time {}{}\n",
                         i, duration_text(bucket), signed_duration(j.upper_ms), signed_duration(-j.lower_ms),
                         j.left_outer ? "; a left record that never paired comes out then, alias fields null" : "");
    } else {
      out += fmt::format("  join {}: both sides kept per key and window slice; when the watermark passes a window's end, every "
                         "pair with equal keys in it comes out in key order (event time end - 1ms), then the slices it no "
                         "longer needs are freed\n",
                         i);
    }
  }
  for (size_t i = 0; i < program.sources.size(); ++i) {
    std::string read;
    const auto& fields = program.sources[i].schema->fields;
    for (size_t f = 0; f < fields.size(); ++f)
      if (plan.fields_used[i][f]) read += (read.empty() ? "" : ", ") + fields[f].name;
    out += fmt::format("  source `{}` decodes only: {}\n", program.sources[i].name, read.empty() ? "(nothing)" : read);
  }
  return out + explain_parallel(plan);
}

}  // namespace flow::plan

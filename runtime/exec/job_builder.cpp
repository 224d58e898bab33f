// The flow_job_* calls: generated code describes its job into a JobSpec.
#include <string>

#include "exec/job_spec.h"

namespace {

std::string text_or_empty(const char* s) { return s ? std::string(s) : std::string(); }

bool known_type(int32_t type) { return type >= FLOW_T_BOOL && type <= FLOW_T_LIST; }

}  // namespace

extern "C" {

void flow_job_program(flow_job_builder* b, const char* file_name) {
  b->spec.program = text_or_empty(file_name);
}

void flow_job_param(flow_job_builder* b, const char* name, int32_t type, const char* default_text) {
  if (!known_type(type) || type == FLOW_T_LIST)
    b->spec.problems.push_back("param `" + text_or_empty(name) + "` has type code " + std::to_string(type));
  b->spec.params.push_back(
      flow::ParamSpec{text_or_empty(name), type, default_text != nullptr, text_or_empty(default_text)});
}

void flow_job_source(flow_job_builder* b, const char* name, int32_t format, int32_t on_error,
                     flow_string_fn path, flow_batch_fn consume, flow_row_fn dead_letter) {
  std::string source = text_or_empty(name);
  if (format < FLOW_FORMAT_CSV || format > FLOW_FORMAT_GENERATED)
    b->spec.problems.push_back("source `" + source + "` has format code " + std::to_string(format));
  if (on_error < FLOW_ON_ERROR_FAIL || on_error > FLOW_ON_ERROR_DEAD_LETTER)
    b->spec.problems.push_back("source `" + source + "` has on-error code " + std::to_string(on_error));
  if (!path || !consume)
    b->spec.problems.push_back("source `" + source + "` lacks its path or consume function");
  b->spec.sources.push_back(flow::SourceSpec{source, format, on_error, path, consume, dead_letter, {}});
}

void flow_job_source_field(flow_job_builder* b, const char* name, int32_t type, int32_t nullable,
                           int32_t used) {
  if (b->spec.sources.empty()) {
    b->spec.problems.push_back("field `" + text_or_empty(name) + "` given before any source");
    return;
  }
  b->spec.sources.back().fields.push_back(
      flow::FieldSpec{text_or_empty(name), type, nullable != 0, used != 0});
}

void flow_job_sink(flow_job_builder* b, int32_t kind, int32_t format, flow_string_fn path) {
  if (kind < FLOW_SINK_STDOUT || kind > FLOW_SINK_NULL)
    b->spec.problems.push_back("sink " + std::to_string(b->spec.sinks.size()) + " has kind code " +
                               std::to_string(kind));
  if (kind == FLOW_SINK_FILE && !path)
    b->spec.problems.push_back("file sink " + std::to_string(b->spec.sinks.size()) + " has no path function");
  b->spec.sinks.push_back(flow::SinkSpec{kind, format, path, {}});
}

void flow_job_sink_field(flow_job_builder* b, const char* name) {
  if (b->spec.sinks.empty()) {
    b->spec.problems.push_back("sink field `" + text_or_empty(name) + "` given before any sink");
    return;
  }
  b->spec.sinks.back().fields.push_back(text_or_empty(name));
}

void flow_job_aggregate(flow_job_builder* b, int32_t source_index, int64_t row_size, flow_row_fn emit,
                        flow_merge_fn merge) {
  if (!emit)
    b->spec.problems.push_back("aggregate " + std::to_string(b->spec.aggregates.size()) +
                               " has no emit function");
  b->spec.aggregates.push_back(flow::AggregateSpec{source_index, row_size, emit, {}, merge});
}

void flow_job_source_time(flow_job_builder* b, int32_t kind, int64_t lag_ms, int64_t idle_ms) {
  if (b->spec.sources.empty()) {
    b->spec.problems.push_back("event time given before any source");
    return;
  }
  if (kind < FLOW_TIME_FIELD || kind > FLOW_TIME_PROCESSING || lag_ms < 0)
    b->spec.problems.push_back("source `" + b->spec.sources.back().name + "` has time kind " + std::to_string(kind) +
                               " and lag " + std::to_string(lag_ms));
  flow::SourceSpec& source = b->spec.sources.back();
  source.time_kind = kind;
  source.lag_ms = lag_ms;
  source.idle_ms = idle_ms;
}

void flow_job_window(flow_job_builder* b, const char* where, int32_t kind, int64_t size_ms, int64_t slide_ms,
                     int64_t lateness_ms, int32_t flags, int64_t early_every_ms, int64_t row_size, flow_merge_fn merge,
                     flow_window_emit_fn emit) {
  std::string name = "window " + std::to_string(b->spec.windows.size());
  bool sliced = kind == FLOW_WINDOW_SLIDING || kind == FLOW_WINDOW_CUMULATING;
  if (kind < FLOW_WINDOW_TUMBLING || kind > FLOW_WINDOW_CUMULATING || size_ms <= 0 || (sliced && slide_ms <= 0) ||
      lateness_ms < 0 || (kind == FLOW_WINDOW_CUMULATING && size_ms % slide_ms != 0))
    b->spec.problems.push_back(name + " has kind " + std::to_string(kind) + ", size " + std::to_string(size_ms) + " and slide " +
                               std::to_string(slide_ms));
  if (!merge || !emit) b->spec.problems.push_back(name + " lacks its merge or emit function");
  flow::WindowOperatorSpec w;
  w.where = text_or_empty(where);
  w.kind = kind;
  w.size_ms = size_ms;
  w.slide_ms = slide_ms;
  w.lateness_ms = lateness_ms;
  w.flags = flags;
  w.early_every_ms = early_every_ms;
  w.row_size = row_size;
  w.merge = merge;
  w.emit = emit;
  b->spec.windows.push_back(std::move(w));
}

namespace {

// An input of the last window or join (`what`): a source with event time, or a window or join
// (which may be registered later: run_job checks that they exist).
void add_time_input(flow_job_builder* b, std::vector<flow::WindowInput>& inputs, const std::string& what, int32_t source,
                    int32_t window, int32_t join, int32_t partition) {
  auto& spec = b->spec;
  int given = (source >= 0) + (window >= 0) + (join >= 0) + (partition >= 0);
  bool ok = given == 1 && (source < 0 || static_cast<std::size_t>(source) < spec.sources.size());
  if (!ok)
    spec.problems.push_back(what + " has input source " + std::to_string(source) + " / window " + std::to_string(window) +
                            " / join " + std::to_string(join) + " / partition " + std::to_string(partition));
  else if (source >= 0 && spec.sources[static_cast<std::size_t>(source)].time_kind == 0)
    spec.problems.push_back(what + " reads source `" + spec.sources[static_cast<std::size_t>(source)].name +
                            "`, which has no event time");
  else
    inputs.push_back(flow::WindowInput{source, window, join, partition});
}

// An input of the last of `count` windows, joins or partitioning stages (`what`), whose inputs
// are `inputs` (null when there is none yet).
void add_input_to_last(flow_job_builder* b, std::vector<flow::WindowInput>* inputs, std::size_t count, const std::string& what,
                       int32_t source, int32_t window, int32_t join, int32_t partition) {
  if (!inputs) {
    b->spec.problems.push_back(what + " input given before any " + what);
    return;
  }
  add_time_input(b, *inputs, what + " " + std::to_string(count - 1), source, window, join, partition);
}

extern "C++" {
template <typename Spec>
std::vector<flow::WindowInput>* inputs_of_last(std::vector<Spec>& operators) {
  return operators.empty() ? nullptr : &operators.back().inputs;
}
}

}  // namespace

void flow_job_window_input(flow_job_builder* b, int32_t source_index, int32_t window_index, int32_t join_index,
                           int32_t partition_index) {
  add_input_to_last(b, inputs_of_last(b->spec.windows), b->spec.windows.size(), "window", source_index, window_index,
                    join_index, partition_index);
}

void flow_job_join(flow_job_builder* b, const char* where, int32_t kind, int32_t flags, int64_t lower_ms, int64_t upper_ms,
                   int32_t window_kind, int64_t size_ms, int64_t slide_ms, int64_t left_size, int64_t right_size,
                   flow_join_condition_fn condition, flow_join_emit_fn emit) {
  std::string name = "join " + std::to_string(b->spec.joins.size());
  bool interval_ok = kind == FLOW_JOIN_INTERVAL && lower_ms <= upper_ms;
  bool window_ok = kind == FLOW_JOIN_WINDOW && size_ms > 0 &&
                   (window_kind == FLOW_WINDOW_TUMBLING || (window_kind == FLOW_WINDOW_SLIDING && slide_ms > 0 && slide_ms <= size_ms));
  if (!interval_ok && !window_ok)
    b->spec.problems.push_back(name + " has kind " + std::to_string(kind) + ", bounds " + std::to_string(lower_ms) + ".." +
                               std::to_string(upper_ms) + ", window " + std::to_string(window_kind) + " " +
                               std::to_string(size_ms) + "/" + std::to_string(slide_ms));
  if (!emit || left_size < 0 || right_size < 0) b->spec.problems.push_back(name + " lacks its emit function or record sizes");
  flow::JoinOperatorSpec j;
  j.where = text_or_empty(where);
  j.kind = kind;
  j.flags = flags;
  j.lower_ms = lower_ms;
  j.upper_ms = upper_ms;
  j.window_kind = window_kind;
  j.size_ms = size_ms;
  j.slide_ms = window_kind == FLOW_WINDOW_TUMBLING ? size_ms : slide_ms;
  j.left_size = left_size;
  j.right_size = right_size;
  j.condition = condition;
  j.emit = emit;
  b->spec.joins.push_back(std::move(j));
}

void flow_job_join_input(flow_job_builder* b, int32_t source_index, int32_t window_index, int32_t join_index,
                         int32_t partition_index) {
  add_input_to_last(b, inputs_of_last(b->spec.joins), b->spec.joins.size(), "join", source_index, window_index,
                    join_index, partition_index);
}

void flow_job_partition(flow_job_builder* b) { b->spec.partitions.emplace_back(); }

void flow_job_partition_input(flow_job_builder* b, int32_t source_index, int32_t window_index, int32_t join_index,
                              int32_t partition_index) {
  add_input_to_last(b, inputs_of_last(b->spec.partitions), b->spec.partitions.size(), "partition", source_index, window_index,
                    join_index, partition_index);
}

void flow_job_stage_parallelism(flow_job_builder* b, const char* where, int32_t parallelism) {
  if (parallelism < 1) b->spec.problems.push_back("a stage's parallelism is below 1");
  else b->spec.stage_parallelism.push_back(flow::JobSpec::StageParallelism{text_or_empty(where), parallelism});
}

void flow_job_operator_parallelism(flow_job_builder* b, int32_t kind, int32_t index, int32_t parallelism) {
  auto set = [&](auto& operators, const char* what) {
    if (index < 0 || static_cast<std::size_t>(index) >= operators.size() || parallelism < 1)
      b->spec.problems.push_back(std::string("the parallelism of an unknown ") + what);
    else operators[static_cast<std::size_t>(index)].parallelism = parallelism;
  };
  if (kind == FLOW_NODE_AGGREGATE) set(b->spec.aggregates, "aggregate");
  else if (kind == FLOW_NODE_WINDOW) set(b->spec.windows, "window");
  else if (kind == FLOW_NODE_JOIN) set(b->spec.joins, "join");
  else b->spec.problems.push_back("the parallelism of an operator of kind " + std::to_string(kind));
}

void flow_job_partition_hops(flow_job_builder* b, int32_t hops) {
  if (hops < 0) b->spec.problems.push_back("negative partition hops");
  else b->spec.partition_hops = hops;
}

void flow_job_lookup(flow_job_builder* b, int32_t source_index, int64_t record_size) {
  if (source_index < 0 || static_cast<std::size_t>(source_index) >= b->spec.sources.size() || record_size < 0)
    b->spec.problems.push_back("lookup " + std::to_string(b->spec.lookups.size()) + " has table source " +
                               std::to_string(source_index) + " and record size " + std::to_string(record_size));
  b->spec.lookups.push_back(flow::LookupSpec{source_index, record_size, {}});
}

void flow_job_route(flow_job_builder* b, int64_t record_size, flow_route_fn apply) {
  if (record_size <= 0 || !apply) b->spec.problems.push_back("route " + std::to_string(b->spec.routes.size()) + " without a record or function");
  b->spec.routes.push_back(flow::RouteSpec{record_size, apply, {}, {}});
}

void flow_job_state_slot(flow_job_builder* b, int32_t target, int32_t index, int32_t slot_kind, int64_t offset) {
  auto& spec = b->spec;
  if (target == FLOW_STATE_ROUTE) {
    bool known = index >= 0 && static_cast<std::size_t>(index) < spec.routes.size();
    flow::RouteSpec* route = known ? &spec.routes[static_cast<std::size_t>(index)] : nullptr;
    int64_t width = static_cast<int64_t>(sizeof(flow_str));  // a flow_list has the same size
    if (!route || (slot_kind != FLOW_SLOT_STRING && slot_kind != FLOW_SLOT_LIST) || offset < 0 ||
        offset + width > route->record_size) {
      spec.problems.push_back("route slot #" + std::to_string(index) + " kind " + std::to_string(slot_kind) + " at offset " +
                              std::to_string(offset));
      return;
    }
    (slot_kind == FLOW_SLOT_STRING ? route->strings : route->lists).push_back(offset);
    return;
  }
  flow::RowLayout* layout = nullptr;
  int64_t size = 0;
  // The layout and row size of entry `index` of `list`, when it exists.
  auto pick = [&](auto& list, auto layout_of, auto size_of) {
    if (index < 0 || static_cast<std::size_t>(index) >= list.size()) return;
    auto& entry = list[static_cast<std::size_t>(index)];
    layout = &layout_of(entry);
    size = size_of(entry);
  };
  switch (target) {
    case FLOW_STATE_AGGREGATE: pick(spec.aggregates, [](auto& a) -> auto& { return a.row_layout; }, [](auto& a) { return a.row_size; }); break;
    case FLOW_STATE_WINDOW: pick(spec.windows, [](auto& w) -> auto& { return w.row_layout; }, [](auto& w) { return w.row_size; }); break;
    case FLOW_STATE_JOIN_LEFT: pick(spec.joins, [](auto& j) -> auto& { return j.left_layout; }, [](auto& j) { return j.left_size; }); break;
    case FLOW_STATE_JOIN_RIGHT: pick(spec.joins, [](auto& j) -> auto& { return j.right_layout; }, [](auto& j) { return j.right_size; }); break;
    case FLOW_STATE_LOOKUP: pick(spec.lookups, [](auto& l) -> auto& { return l.record_layout; }, [](auto& l) { return l.record_size; }); break;
    default: break;
  }
  int64_t width = slot_kind == FLOW_SLOT_STRING ? static_cast<int64_t>(sizeof(flow_str)) : static_cast<int64_t>(sizeof(void*));
  bool kind_ok = slot_kind == FLOW_SLOT_STRING || (slot_kind == FLOW_SLOT_SET && target <= FLOW_STATE_WINDOW);
  if (!layout || !kind_ok || offset < 0 || offset + width > size) {
    spec.problems.push_back("state slot of target " + std::to_string(target) + " #" + std::to_string(index) + " kind " +
                            std::to_string(slot_kind) + " at offset " + std::to_string(offset));
    return;
  }
  (slot_kind == FLOW_SLOT_STRING ? layout->strings : layout->sets).push_back(offset);
}

void flow_job_edge(flow_job_builder* b, int32_t from_kind, int32_t from_index, int32_t to_kind, int32_t to_index) {
  b->spec.edges.push_back(flow::GraphEdgeSpec{from_kind, from_index, to_kind, to_index});
}

}  // extern "C"

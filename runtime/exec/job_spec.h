// JobSpec: the job as generated code described it through the flow_job_* calls (params,
// sources with their schemas, sinks, aggregates), before anything runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "exchange/exchange.h"
#include "flow/abi.h"
#include "state/state_backend.h"

namespace flow {

struct ParamSpec {
  std::string name;
  int32_t type;
  bool has_default;
  std::string default_text;
};

struct FieldSpec {
  std::string name;
  int32_t type;
  bool nullable;
  bool used;
};

struct SourceSpec {
  std::string name;
  int32_t format;
  int32_t on_error;
  flow_string_fn path;
  flow_batch_fn consume;
  flow_row_fn dead_letter;
  std::vector<FieldSpec> fields;
  int32_t time_kind = 0;  // 0: no event time; else FLOW_TIME_*
  int64_t lag_ms = 0;
  int64_t idle_ms = -1;
};

struct SinkSpec {
  int32_t kind;
  int32_t format;
  flow_string_fn path;
  std::vector<std::string> fields;
};

struct AggregateSpec {
  int32_t source_index;
  int64_t row_size;
  flow_row_fn emit;
  RowLayout row_layout;
  // Parallel instances aggregate locally and merge rows with it; nullptr: records are routed.
  flow_merge_fn merge = nullptr;
  int32_t parallelism = 0;  // `@parallel(P)`: its keys' owners are among the first P instances (0: all)
};


// Where a window's or join's input watermark comes from: a source, or the output of a window
// or a join.
struct WindowInput {
  int32_t source = -1;
  int32_t window = -1;
  int32_t join = -1;
  int32_t partition = -1;  // a partitioning stage (PartitionSpec)
};

// A partitioning stage with event time: a node of the event-time graph that passes its
// input's watermark on, at --parallelism N > 1 the minimum over every instance's.
struct PartitionSpec {
  std::vector<WindowInput> inputs;
};

struct WindowOperatorSpec {
  std::string where;  // "line:col" of the stage, for messages
  int32_t kind = FLOW_WINDOW_TUMBLING;
  int64_t size_ms = 0;
  int64_t slide_ms = 0;
  int64_t lateness_ms = 0;
  int32_t flags = 0;
  int64_t early_every_ms = -1;
  int64_t row_size = 0;
  flow_merge_fn merge = nullptr;
  flow_window_emit_fn emit = nullptr;
  std::vector<WindowInput> inputs;
  RowLayout row_layout;  // the pointer slots of its rows
  int32_t parallelism = 0;  // as AggregateSpec's
};

struct JoinOperatorSpec {
  std::string where;  // "line:col" of the stage, for messages
  int32_t kind = FLOW_JOIN_INTERVAL;
  int32_t flags = 0;
  int64_t lower_ms = 0, upper_ms = 0;
  int32_t window_kind = FLOW_WINDOW_TUMBLING;
  int64_t size_ms = 0, slide_ms = 0;
  int64_t left_size = 0, right_size = 0;
  flow_join_condition_fn condition = nullptr;
  flow_join_emit_fn emit = nullptr;
  std::vector<WindowInput> inputs;
  RowLayout left_layout, right_layout;  // the pointer slots of each side's records
  int32_t parallelism = 0;  // as AggregateSpec's
};

struct LookupSpec {
  int32_t source = -1;  // a table
  int64_t record_size = 0;
  RowLayout record_layout;
};

// An edge of the dataflow graph (flow_job_edge): FLOW_NODE_* kinds and indexes.
struct GraphEdgeSpec {
  int32_t from_kind, from_index, to_kind, to_index;
};

struct JobSpec {
  std::string program = "<program>";
  std::vector<ParamSpec> params;
  std::vector<SourceSpec> sources;
  std::vector<SinkSpec> sinks;
  std::vector<AggregateSpec> aggregates;
  std::vector<WindowOperatorSpec> windows;
  std::vector<JoinOperatorSpec> joins;
  std::vector<LookupSpec> lookups;
  std::vector<GraphEdgeSpec> edges;
  std::vector<RouteSpec> routes;  // records that go to the instance owning their key
  std::vector<PartitionSpec> partitions;  // partitioning stages with event time
  int32_t partition_hops = 0;             // flow_job_partition_hops
  struct StageParallelism {
    std::string where;  // "line:col" of `@parallel(N)`
    int32_t parallelism = 0;
  };
  std::vector<StageParallelism> stage_parallelism;  // flow_job_stage_parallelism
  // Calls that made no sense (a field before any source, an unknown format): code generator
  // bugs, reported before the job runs.
  std::vector<std::string> problems;
};

}  // namespace flow

struct flow_job_builder {
  flow::JobSpec spec;
};

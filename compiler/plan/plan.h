// The plan stage: CheckedProgram -> PhysicalPlan. Builds the logical dataflow graph of the
// program and cuts it into pipelines: maximal chains of stateless stages (filter, map,
// flatmap) that codegen fuses into one function, each ending in a pipeline breaker (a sink,
// or the update of a keyed aggregate whose results start a new pipeline: at end of input, or,
// for a windowed aggregate, whenever a window fires). A window's late records start a
// pipeline of their own. An interval or window join ends the pipelines of both its inputs
// (each stores its records) and starts one fed with the joined pairs; a lookup join is fused
// into its pipeline, probing a table that a pipeline of its own fills first.
// Public header of compiler/plan; `flowc explain` prints what explain() returns.
#pragma once

#include <string>
#include <vector>

#include "compiler/sema/sema.h"

namespace flow::plan {

// Where a pipeline's records come from.
enum class Entry {
  SourceBatch,    // batches of decoded input records of `source`
  AggregateEmit,  // the rows of `aggregate`, in key order, once its input has ended
  WindowEmit,     // the results of windowed `aggregate`, one per key and window as windows fire
  LateRecords,    // records that windowed `aggregate` found too late (late D -> NAME)
  DeadLetter,     // bad records of `source` (on error -> NAME), one at a time
  StreamRecords,  // records of `stream` (CheckedProgram::streams), one at a time, from the flows feeding it
  JoinOutput,     // the joined records of stream join `join`, as it pairs them
  Partitioned     // the records of `partition by`/`rebalance`/`rescale` `partition`, on the instance it chose
};

// What moves the event time of a pipeline's records forward: a source's watermark or the
// output watermark of a window operator (runtime indexes), or nothing (no event time).
struct TimeInput {
  int source = -1;
  int window = -1;
  int join = -1;  // the runtime index of a stream join
  int partition = -1;  // a partitioning stage's (PartitionOperator::time_node), which passes its input's on
  bool operator==(const TimeInput&) const = default;
};

struct Pipeline {
  int id = 0;
  Entry entry = Entry::SourceBatch;
  int source = -1;     // SourceBatch, DeadLetter; otherwise the source of the flow it is part of
  int aggregate = -1;  // AggregateEmit, WindowEmit, LateRecords: the aggregate it comes from
  int stream = -1;     // StreamRecords
  int join = -1;       // JoinOutput: CheckedProgram::joins
  int partition = -1;  // Partitioned: PhysicalPlan::partitions
  // Where its records' watermark comes from: the minimum over these; none without event time.
  std::vector<TimeInput> time;
  sema::RecordPtr input;
  std::vector<const sema::Stage*> stages;  // stateless stages, in order
  // The breaker that ends it: a sink, the update of an aggregate, or an Emit or Split stage
  // handing each record to the pipelines reading a stream.
  int sink = -1;
  int updates_aggregate = -1;
  const sema::Stage* feeds_streams = nullptr;
  int inserts_join = -1;  // stores each record into this stream join (CheckedProgram::joins) ...
  int join_side = 0;      // ... as its left (0) or right (1) record
  std::vector<int> fills_lookups;  // a table's pipeline: the lookup joins it fills
  int feeds_partition = -1;  // hands each record to this partitioning stage (PhysicalPlan::partitions)
  // Its records carry their position to an aggregate ordered by it
  // (AggregateOperator::ordered_by_position): in their source's file, or the window end or
  // event time of a window's results or a join's output.
  bool carries_position = false;
};

// `partition by KEYS`, `rebalance` or `rescale`: ends pipeline `from_pipeline`, whose records
// go on in `to_pipeline` on the instance it chooses (at --parallelism N > 1 each is a route;
// `rescale` keeps every record on its instance). With event time it is a node of the job's
// event-time graph: a record that crosses to another instance and on from there to a third
// must not be overtaken by the watermark of its first instance, so the stages after it see
// the minimum over every instance's.
struct PartitionOperator {
  const sema::Stage* stage = nullptr;
  int from_pipeline = -1, to_pipeline = -1;
  std::vector<TimeInput> input_time;  // empty without event time
  int time_node = -1;  // with event time: its runtime index among those with event time
  bool has_time() const { return !input_time.empty(); }
};

// A join of the program. Interval and window joins are runtime operators fed by two
// pipelines; a lookup join is a hash table filled by the table's pipeline.
struct JoinOperator {
  const sema::Join* join = nullptr;
  int runtime = -1;  // index among stream joins (flow_ctx_join) or among lookups (flow_ctx_lookup)
  int left_pipeline = -1, right_pipeline = -1, output_pipeline = -1;  // stream joins
  std::vector<TimeInput> input_time;  // stream joins: both sides' watermarks
  bool lookup() const { return join->kind == sema::Join::Kind::Lookup; }
};

struct AggregateOperator {
  const sema::Stage* stage = nullptr;
  int source = -1;          // whose end of input makes it emit (unwindowed); -1: the end of every input
  int update_pipeline = -1;
  int emit_pipeline = -1;
  // The runtime's index among unwindowed aggregates (flow_ctx_agg) or among windows
  // (flow_ctx_window): exactly one is set.
  int table = -1;
  int window = -1;
  std::vector<TimeInput> input_time;  // windowed: the watermarks its input's is the minimum of
  int late_pipeline = -1;   // windowed with `late D -> NAME` that a flow reads
  // Unwindowed with count_distinct of one value (salting): in parallel its records go to the
  // instance owning (key, this value: count_distinct's argument), so a hot key's records spread
  // over the instances, each keeping the distinct values it is sent, which no other instance
  // has; at the end each instance's row goes to the key's owner, which adds up the sets' sizes.
  // Null otherwise.
  const sema::Expr* salt = nullptr;
  // With first, last or arg_* over the records of one source (through stateless and
  // partitioning stages): "earlier" is an earlier position in the source's file, not an
  // earlier arrival, so that any parallelism gives the result of 1, where the two agree. Its
  // rows then combine like any others (combinable()).
  // Over a window's results (through the same stages) the position is their window's end, and
  // over a stream join's output its event time; records of one position (a window's results
  // for its keys) then tie, and the tie goes by value (ties_by_value).
  bool ordered_by_position = false;
  bool ties_by_value = false;
  int position_pipeline = -1;  // ordered by position: the pipeline whose records' positions order it
  bool windowed() const { return window >= 0; }
};

struct SinkOperator {
  const sema::Stage* stage = nullptr;
  int pipeline = -1;
};

struct PhysicalPlan {
  const sema::CheckedProgram* program = nullptr;
  std::vector<Pipeline> pipelines;
  std::vector<AggregateOperator> aggregates;
  std::vector<JoinOperator> joins;  // one per CheckedProgram::joins
  int stream_join_count = 0;
  int lookup_count = 0;
  int window_count = 0;
  int table_count = 0;
  std::vector<SinkOperator> sinks;
  std::vector<PartitionOperator> partitions;
  int partition_time_nodes = 0;
  // How many partitioning stages a record can pass on its way from one operator to the next:
  // each may move it to another instance once more.
  int partition_hops() const;
  // For each source, which schema fields the program reads (the decoder skips the others).
  std::vector<std::vector<bool>> fields_used;
  // For each source, the pipeline fed with its batches and the one fed with its dead letters.
  std::vector<int> source_pipeline;
  std::vector<int> dead_letter_pipeline;
  // For each stream, the pipelines reading it (in the order they get each record) and where
  // its watermark comes from.
  std::vector<std::vector<int>> stream_readers;
  std::vector<std::vector<TimeInput>> stream_time;
};

PhysicalPlan build_plan(const sema::CheckedProgram& program);

// The streams a pipeline's Emit or Split stage hands records to (`feeds_streams`).
std::vector<int> streams_fed(const sema::Stage& emit_or_split);

// The width in bytes of an aggregate's encoded key when every key part is a non-null
// fixed-width value (codegen then encodes it inline, without runtime calls), else 0.
uint64_t fixed_key_width(const sema::Stage& aggregate);
uint64_t fixed_key_width(const std::vector<sema::Type>& key_types);

// Whether an unwindowed aggregate's rows can travel between parallel instances, so that each
// instance aggregates what it reads and only rows are merged at the owner of each key at the
// end (two-phase aggregation): all but those with count_distinct (its sets would be copied to
// every instance: such an aggregate is salted instead, see AggregateOperator::salt) or first,
// last, arg_max, arg_min (they need the records' order, which rows do not keep). The records
// of other keyed operators are routed to the instance owning their key. (First, last and
// arg_* ordered by position combine.)
bool combinable(const AggregateOperator& aggregate);

// The key types of a join, the same on both sides: non-null, since a null part never matches.
std::vector<sema::Type> join_key_types(const sema::Join& join);

// The human-readable plan: the dataflow graph, the fused pipelines, the state each operator
// keeps and for how long.
std::string explain(const PhysicalPlan& plan);

// An operator of the running job, by its runtime index among those of its kind.
struct GraphNode {
  enum class Kind { Source, Aggregate, Window, Join, Lookup, Sink };
  Kind kind = Kind::Source;
  int index = 0;
  auto operator<=>(const GraphNode&) const = default;
};
struct GraphEdge {
  GraphNode from, to;
  auto operator<=>(const GraphEdge&) const = default;
};
// The edges records take between operators, through fused pipelines and streams (a lookup
// table feeds the operators its probes lead to), each once, in a stable order: what the
// runtime's metrics and web page draw.
std::vector<GraphEdge> dataflow_edges(const PhysicalPlan& plan);

}  // namespace flow::plan

// The plan stage: CheckedProgram -> PhysicalPlan. Builds the logical dataflow graph of the
// program and cuts it into pipelines: maximal chains of stateless stages (filter, map,
// flatmap) that codegen fuses into one function, each ending in a pipeline breaker (a sink,
// or the update of a keyed aggregate whose results start a new pipeline at end of input).
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
  DeadLetter      // bad records of `source` (on error -> NAME), one at a time
};

struct Pipeline {
  int id = 0;
  Entry entry = Entry::SourceBatch;
  int source = -1;     // SourceBatch, DeadLetter
  int aggregate = -1;  // AggregateEmit: the aggregate whose rows start it
  sema::RecordPtr input;
  std::vector<const sema::Stage*> stages;  // stateless stages, in order
  // The breaker that ends it: a sink, or the update of an aggregate.
  int sink = -1;
  int updates_aggregate = -1;
};

struct AggregateOperator {
  const sema::Stage* stage = nullptr;
  int source = -1;          // whose end of input makes it emit
  int update_pipeline = -1;
  int emit_pipeline = -1;
};

struct SinkOperator {
  const sema::Stage* stage = nullptr;
  int pipeline = -1;
};

struct PhysicalPlan {
  const sema::CheckedProgram* program = nullptr;
  std::vector<Pipeline> pipelines;
  std::vector<AggregateOperator> aggregates;
  std::vector<SinkOperator> sinks;
  // For each source, which schema fields the program reads (the decoder skips the others).
  std::vector<std::vector<bool>> fields_used;
  // For each source, the pipeline fed with its batches and the one fed with its dead letters.
  std::vector<int> source_pipeline;
  std::vector<int> dead_letter_pipeline;
};

PhysicalPlan build_plan(const sema::CheckedProgram& program);

// The width in bytes of an aggregate's encoded key when every key part is a non-null
// fixed-width value (codegen then encodes it inline, without runtime calls), else 0.
uint64_t fixed_key_width(const sema::Stage& aggregate);

// The human-readable plan: the dataflow graph, the fused pipelines, the state each operator
// keeps and for how long.
std::string explain(const PhysicalPlan& plan);

}  // namespace flow::plan

// The steps of running a job, shared by one instance (job_runner.cpp) and by parallel
// instances (parallel_runner.cpp). Each returns false after recording a failure in ctx.failure.
#pragma once

#include <string>
#include <vector>

#include "exec/job_checkpoints.h"
#include "exec/job_context.h"

namespace flow {

// Evaluates a path expression.
bool evaluate_path(flow_ctx& ctx, flow_string_fn fn, const std::string& what, std::string& path);
// Makes sure a failed generated function leaves a message even if it recorded none: "WHAT
// failed", with `what()` called only then (a status is checked after every batch).
void record_failed(flow_ctx& ctx, const std::string& what);
template <typename What>
bool check_status(flow_ctx& ctx, int32_t status, What&& what) {
  if (status == 0) return true;
  record_failed(ctx, what());
  return false;
}
// Every input must be readable before any output is opened: a typo in an input path must not
// truncate the output file of the previous run.
bool inputs_are_readable(flow_ctx& ctx);
// Opens every sink, resuming them as `restored` says.
bool open_sinks(flow_ctx& ctx, const RestoredJob& restored);
// At the end of a run: commits the exactly-once sinks' staged output if `ok` and nothing
// failed, then finishes every sink. Returns `ok` unless that failed.
bool finish_sinks(flow_ctx& ctx, bool ok);
// Creates the job's keyed state, aggregate tables, window and join operators and lookup tables;
// false (after printing the error) when that fails.
bool build_operators(flow_ctx& ctx, const std::string& state_dir);
// Opens the source's input and decoder and reads what precedes its records.
bool open_source(flow_ctx& ctx, ActiveSource& source);
// Reads and processes one batch (or bad record) of the source; at its end (of its last part,
// when it is read in parts), sends the final watermark. At the end of another part it sets
// source.between_parts, and start_next_part goes on.
bool step_source(flow_ctx& ctx, ActiveSource& source);
bool start_next_part(flow_ctx& ctx, ActiveSource& source);
// Emits the rows of the unwindowed aggregates fed by `source_index` (-1: by several sources).
bool emit_aggregates(flow_ctx& ctx, int32_t source_index);
// Emits the rows of unwindowed aggregate `index`.
bool emit_aggregate(flow_ctx& ctx, std::size_t index);
bool is_table(const flow_ctx& ctx, int32_t source);
bool resume_source(flow_ctx& ctx, ActiveSource& source, const RestoredJob::Source& at);
// Inputs of windows and joins that name no operator: a code generator bug (printed).
bool time_inputs_exist(const JobSpec& spec);

// The closing reports on stderr: bad records skipped per source, late records dropped per
// window and join, each summed over the given instances.
void print_bad_record_counts(const std::vector<const std::vector<ActiveSource>*>& instances);
void print_late_record_counts(const std::vector<flow_ctx*>& instances);

}  // namespace flow

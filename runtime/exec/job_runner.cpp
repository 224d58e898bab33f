// The job driver: sources read a batch at a time, always the one whose watermark is furthest
// behind (so the inputs of merges and joins advance together and their state stays small),
// ties in registration order; at the end of each, the final watermark through its windows,
// then the unwindowed aggregates it feeds; at the end of all, those fed by several.
#include "exec/job_runner.h"

#include <cstdio>

#include "exec/job_checkpoints.h"
#include "exec/job_metrics.h"
#include "exec/job_steps.h"

namespace flow {

namespace {

bool run_sources(flow_ctx& ctx, std::vector<ActiveSource>& sources, JobCheckpoints& checkpoints, JobMetrics& metrics,
                 const RestoredJob& restored) {
  for (ActiveSource& source : sources)
    if (!open_source(ctx, source)) return false;
  for (ActiveSource& source : sources) {
    if (!is_table(ctx, source.index)) continue;
    source.replaying = restored.restored;
    while (!source.ended) {
      if (!step_source(ctx, source)) return false;
      metrics.tick();
    }
    if (restored.restored) {  // its counts are those of the first reading
      source.skipped = restored.sources[static_cast<std::size_t>(source.index)].skipped;
      source.dead_lettered = restored.sources[static_cast<std::size_t>(source.index)].dead_lettered;
    }
    // Of its dead letters, say. (Parallel instances emit every aggregate at the end of the
    // job: their checkpoints hold these rows not emitted yet.)
    if ((!restored.restored || restored.parts > 1) && !emit_aggregates(ctx, source.index)) return false;
  }
  if (restored.restored)
    for (ActiveSource& source : sources)
      if (!is_table(ctx, source.index) && !resume_source(ctx, source, restored.sources[static_cast<std::size_t>(source.index)]))
        return false;
  for (;;) {
    ActiveSource* behind = nullptr;
    for (ActiveSource& source : sources)
      if (!source.ended && (!behind || ctx.time.source_watermark(source.index) < ctx.time.source_watermark(behind->index)))
        behind = &source;
    if (!behind) break;
    if (!step_source(ctx, *behind)) return false;
    if (behind->between_parts && !start_next_part(ctx, *behind)) return false;  // a restore's ranges
    if (behind->ended && !emit_aggregates(ctx, behind->index)) return false;
    metrics.tick(behind->ended || behind->decoder->drained());
    // (A checkpoint between two ranges would not know the second: positions are taken at the
    // start of the next.)
    bool stop = false;
    if (!checkpoints.maybe_take(sources, stop)) return false;
    if (stop) {
      std::fprintf(stderr, "note: stopped with a savepoint (SIGTERM)\n");
      return true;  // no end-of-input: the job continues from the savepoint
    }
  }
  return emit_aggregates(ctx, -1);
}

}  // namespace

int run_job(flow_ctx& ctx) {
  if (ctx.options.parallelism > 1) return run_parallel_job(ctx);
  const JobSpec& spec = *ctx.spec;
  if (!build_operators(ctx, ctx.options.state_dir)) return 3;
  std::vector<ActiveSource> sources(spec.sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    sources[i].index = static_cast<int32_t>(i);
    sources[i].spec = &spec.sources[i];
  }

  JobCheckpoints checkpoints(ctx);
  checkpoints.listen_for_signals();
  JobMetrics metrics(ctx, sources, checkpoints);
  RestoredJob restored;
  bool ok = inputs_are_readable(ctx) && checkpoints.restore(restored) && open_sinks(ctx, restored) &&
            run_sources(ctx, sources, checkpoints, metrics, restored);
  ok = checkpoints.finish() && ok;  // the checkpoint in flight completes and commits first
  ctx.source = nullptr;
  ok = finish_sinks(ctx, ok);
  std::fflush(stdout);
  metrics.finish(ok && !ctx.failure.failed);
  print_bad_record_counts({&sources});
  print_late_record_counts({&ctx});
  checkpoints.print_summary();
  if (!ok || ctx.failure.failed) {
    if (!ctx.failure.failed) ctx.failure.record("the job failed");
    std::fprintf(stderr, "error: %s\n", ctx.failure.message.c_str());
    return 3;
  }
  return 0;
}

}  // namespace flow

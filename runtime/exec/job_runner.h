// run_job: runs a described job to the end: opens the sinks, reads the sources one after
// another feeding their pipelines, emits each source's aggregates when it is exhausted, then
// flushes the sinks. Prints bad-record counts and the failure (if any) on stderr.
#pragma once

#include "exec/job_context.h"

namespace flow {

// Returns the process exit code: 0 when the job ran to the end, 3 when it failed.
// `ctx.spec` and `ctx.params` must be set.
int run_job(flow_ctx& ctx);

// run_job at ctx.options.parallelism > 1 (parallel_runner.cpp): that many instances on threads
// of their own, each reading its parts of the inputs, records routed by key between them.
int run_parallel_job(flow_ctx& ctx);

}  // namespace flow

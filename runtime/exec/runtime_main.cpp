// flow_runtime_main: the entry point shared by `flowc run` (after JIT compilation) and the
// main() of a built executable: describe the job, read the command line, resolve params, run.
#include <cstdio>
#include <exception>

#include "exec/command_line.h"
#include "exec/job_runner.h"

namespace {

int run_main(int argc, char** argv, flow_job_setup_fn setup) {
  flow_job_builder builder;
  setup(&builder);
  const flow::JobSpec& spec = builder.spec;

  flow::CommandLine command_line;
  int stop = flow::parse_command_line(argc, argv, spec, command_line);
  if (stop >= 0) return stop;

  if (!spec.problems.empty()) {
    std::fprintf(stderr, "error: invalid job description: %s\n", spec.problems.front().c_str());
    return 3;
  }

  flow_ctx ctx;
  ctx.spec = &spec;
  std::string error;
  if (!flow::resolve_params(spec.params, command_line.params, ctx.params, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 2;
  }
  if (command_line.test_clock) ctx.time.clock().use_test_clock(command_line.test_clock_start, command_line.test_clock_step);
  ctx.options.checkpoint = flow::CheckpointOptions{command_line.checkpoint_dir, command_line.checkpoint_interval_ms,
                                                   command_line.checkpoints_retained, command_line.restore,
                                                   command_line.savepoint_dir};
  return flow::run_job(ctx);
}

}  // namespace

extern "C" int flow_runtime_main(int argc, char** argv, flow_job_setup_fn setup) {
  // Nothing may throw across this C boundary.
  try {
    return run_main(argc, argv, setup);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal error: %s\n", e.what());
  }
  return 3;
}

// flow_runtime_main: the entry point shared by `flowc run` (after JIT compilation) and the
// main() of a built executable: describe the job, read the command line, resolve params, run.
#include <chrono>
#include <cstdio>
#include <exception>
#include <thread>

#include "checkpoint/checkpoint_store.h"
#include "exec/command_line.h"
#include "exec/job_runner.h"
#include "exec/restart_policy.h"
#include "metrics/metrics.h"

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

  std::string error;
  flow::RestartPolicy restarts;
  if (!flow::RestartPolicy::parse(command_line.restart, restarts, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 2;
  }
  std::vector<flow::ParamValue> params;
  if (!flow::resolve_params(spec.params, command_line.params, params, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 2;
  }
  // One server for the whole run, restarts included: its address stays the same.
  flow::MetricsServer metrics;
  if (command_line.metrics_port >= 0) {
    if (!metrics.start(command_line.metrics_port, error)) {
      std::fprintf(stderr, "error: metrics: %s\n", error.c_str());
      return 3;
    }
    std::fprintf(stderr, "note: metrics at http://127.0.0.1:%d/ (/metrics.json, /metrics)\n", metrics.port());
  }
  // One job per checkpoint directory, for the whole run, restarts included.
  flow::CheckpointDirectoryLock checkpoint_lock;
  if (!command_line.checkpoint_dir.empty() && !checkpoint_lock.acquire(command_line.checkpoint_dir, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 3;
  }
  std::string restore = command_line.restore;
  for (;;) {
    flow_ctx ctx;  // a fresh job instance for every run
    ctx.spec = &spec;
    ctx.params = params;
    if (command_line.test_clock) ctx.time.clock().use_test_clock(command_line.test_clock_start, command_line.test_clock_step);
    ctx.options.checkpoint = flow::CheckpointOptions{command_line.checkpoint_dir, command_line.checkpoint_interval_ms,
                                                     command_line.checkpoints_retained, restore, command_line.savepoint_dir,
                                                     command_line.at_least_once};
    ctx.options.rocksdb_state = command_line.state == "rocksdb";
    ctx.options.parallelism = command_line.parallelism;
    ctx.options.part_bytes = command_line.part_bytes;
    ctx.options.metrics = command_line.metrics_port >= 0 ? &metrics : nullptr;
    ctx.options.state_dir = command_line.state_dir.empty() && !command_line.checkpoint_dir.empty()
                                ? command_line.checkpoint_dir + "/rocksdb-state"
                                : command_line.state_dir;
    int code = flow::run_job(ctx);
    if (code != 3) return code;
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    int64_t delay_ms = 0;
    if (!restarts.restart_after_failure(now, delay_ms)) {
      if (restarts.enabled())
        std::fprintf(stderr, "note: not restarting again (--restart %s, %d restart%s so far)\n", command_line.restart.c_str(),
                     restarts.restarts(), restarts.restarts() == 1 ? "" : "s");
      return code;
    }
    // A restart resumes from the newest usable checkpoint when the job checkpoints.
    restore = command_line.checkpoint_dir.empty() ? "" : "latest";
    std::fprintf(stderr, "note: restarting the job in %lld ms (restart %d, %s)\n", static_cast<long long>(delay_ms),
                 restarts.restarts(), restore.empty() ? "from the beginning" : "from the latest checkpoint");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }
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

// The runtime command line of a job (language.md section 7): --param NAME=VALUE, --help, and
// checkpoints (--checkpoint-dir, --checkpoint-interval, --checkpoints-retained, --restore,
// --savepoint-dir, --at-least-once), the state backend (--state, --state-dir), metrics
// (--metrics-port), and parallel instances (--parallelism).
#pragma once

#include <string>
#include <vector>

#include "exec/job_spec.h"

namespace flow {

struct CommandLine {
  std::vector<std::string> params;  // NAME=VALUE, in command-line order
  // --test-clock START:STEP: processing time starts at START ms and moves STEP ms per reading.
  bool test_clock = false;
  int64_t test_clock_start = 0;
  int64_t test_clock_step = 0;
  std::string checkpoint_dir;
  int64_t checkpoint_interval_ms = -1;
  int checkpoints_retained = 3;
  std::string restore;
  std::string savepoint_dir;
  std::string restart = "none";  // --restart STRATEGY (exec/restart_policy.h)
  bool at_least_once = false;
  std::string state = "heap";  // --state heap|rocksdb
  std::string state_dir;       // --state-dir DIR (RocksDB's database)
  int metrics_port = -1;       // --metrics-port P: serve metrics on 127.0.0.1:P (0: a free port)
  int parallelism = 1;         // --parallelism N: instances of the job
  uint64_t part_bytes = 0;     // --test-part-bytes B: parts input files are cut into (0: by size)
};

// Returns -1 to go on with `out` filled, or the exit code to stop with: 0 after printing the
// help (which lists the job's params), 2 after printing `error: ...` for a bad command line.
int parse_command_line(int argc, char** argv, const JobSpec& spec, CommandLine& out);

}  // namespace flow

// Runtime options with CLI11.
#include "exec/command_line.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/type_names.h"

namespace flow {

namespace {

std::string params_help(const JobSpec& spec) {
  if (spec.params.empty()) return "The job has no params.";
  std::string text = "Params (set with --param NAME=VALUE):";
  for (const ParamSpec& p : spec.params) {
    text += "\n  " + p.name + ": " + type_name(p.type);
    text += p.has_default ? " = " + p.default_text : " (required)";
  }
  return text;
}

}  // namespace

int parse_command_line(int argc, char** argv, const JobSpec& spec, CommandLine& out) {
  std::string program = argc > 0 && argv[0] ? argv[0] : "job";
  CLI::App app{"Runs the flow job " + spec.program + ".", program};
  app.footer(params_help(spec));
  app.add_option("--param", out.params, "Set a param (repeatable)")
      ->type_name("NAME=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

  std::string test_clock;
  app.add_option("--test-clock", test_clock,
                 "For tests: processing time starts at START (epoch ms) and moves STEP ms at every reading")
      ->type_name("START:STEP");

  std::string interval_text;
  app.add_option("--checkpoint-dir", out.checkpoint_dir, "Write checkpoints into DIR (see --checkpoint-interval)")
      ->type_name("DIR");
  app.add_option("--checkpoint-interval", interval_text, "Take a checkpoint every D of processing time, e.g. 1s, 500ms")
      ->type_name("D");
  app.add_option("--checkpoints-retained", out.checkpoints_retained, "Complete checkpoints kept (default 3)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  app.add_option("--restart", out.restart,
                 "After a failure run again: none, fixed-delay:ATTEMPTS:DELAY, failure-rate:MAX:INTERVAL:DELAY, "
                 "exponential-delay[:INITIAL:MAX]")
      ->type_name("STRATEGY");
  app.add_option("--savepoint-dir", out.savepoint_dir,
                 "On SIGUSR1 write a savepoint (a full, self-contained checkpoint) into DIR; on SIGTERM write one and stop")
      ->type_name("DIR");
  app.add_option("--restore", out.restore,
                 "Resume from `latest` (the newest usable checkpoint in --checkpoint-dir, else from the beginning) or a checkpoint directory")
      ->type_name("latest|PATH");

  app.add_flag("--at-least-once", out.at_least_once,
               "Write file sinks directly, not by two-phase commit: output appears sooner; after a restore, what "
               "came after the checkpoint is written again");

  app.add_option("--state", out.state, "Where keyed state is kept: heap (the default) or rocksdb")
      ->type_name("heap|rocksdb")
      ->check(CLI::IsMember({"heap", "rocksdb"}));
  app.add_option("--state-dir", out.state_dir,
                 "RocksDB's working database (default: DIR/rocksdb-state with --checkpoint-dir, else a temporary directory)")
      ->type_name("DIR");

  app.add_option("--metrics-port", out.metrics_port,
                 "Serve metrics on 127.0.0.1:P while the job runs: / (a web page of the dataflow), /metrics.json, "
                 "/metrics (Prometheus); 0 picks a free port")
      ->type_name("P")
      ->check(CLI::Range(0, 65535));

  app.add_option("--parallelism", out.parallelism,
                 "Run N instances of the job on threads of their own, each reading its parts of the inputs; records "
                 "go to the instance that owns their key (at most 128)")
      ->type_name("N")
      ->check(CLI::Range(1, 128));
  app.add_option("--test-part-bytes", out.part_bytes,
                 "For tests: with --parallelism, cut input files into parts of about B bytes (default: by size)")
      ->type_name("B")
      ->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    std::fflush(stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s (try --help)\n", e.what());
    return 2;
  }
  if (!test_clock.empty()) {
    long long start = 0, step = 0;
    char rest = 0;
    if (std::sscanf(test_clock.c_str(), "%lld:%lld%c", &start, &step, &rest) != 2 || step < 0) {
      std::fprintf(stderr, "error: --test-clock: expected START:STEP in milliseconds, found `%s`\n", test_clock.c_str());
      return 2;
    }
    out.test_clock = true;
    out.test_clock_start = start;
    out.test_clock_step = step;
  }
  if (!interval_text.empty()) {
    int64_t ms = 0;
    if (!flow_parse_duration(interval_text.data(), static_cast<int64_t>(interval_text.size()), &ms) || ms <= 0) {
      std::fprintf(stderr, "error: --checkpoint-interval: expected a positive duration such as 1s or 500ms, found `%s`\n",
                   interval_text.c_str());
      return 2;
    }
    out.checkpoint_interval_ms = ms;
    if (out.checkpoint_dir.empty()) {
      std::fprintf(stderr, "error: --checkpoint-interval needs --checkpoint-dir\n");
      return 2;
    }
  }
  if (!out.state_dir.empty() && out.state != "rocksdb") {
    std::fprintf(stderr, "error: --state-dir needs --state rocksdb\n");
    return 2;
  }
  if (out.at_least_once && out.checkpoint_dir.empty()) {
    std::fprintf(stderr, "error: --at-least-once needs --checkpoint-dir\n");
    return 2;
  }
  if (out.restore == "latest" && out.checkpoint_dir.empty()) {
    std::fprintf(stderr, "error: --restore latest needs --checkpoint-dir\n");
    return 2;
  }
  return -1;
}

}  // namespace flow

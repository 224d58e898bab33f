// The flowc command line: run (JIT), build (standalone executable), check, explain, and the
// checkpoint inspector.
// Exit codes (language.md section 7): 0 success, 1 the program has errors, 2 bad command
// line, 3 the job failed at run time.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "checkpoint/checkpoint_store.h"
#include "compiler/codegen/codegen.h"

namespace {

constexpr int kExitOk = 0, kExitProgramErrors = 1, kExitBadCommandLine = 2;

const char* const kRuntimeOptionsHelp =
    "Runtime options (after the job file; a built executable takes the same):\n"
    "  --param NAME=VALUE   set a param declared in the program (repeatable)\n"
    "  --checkpoint-dir DIR --checkpoint-interval D   write a checkpoint every D (e.g. 1s)\n"
    "  --checkpoints-retained N                       keep the newest N (default 3)\n"
    "  --restore latest|PATH                          resume from a checkpoint or savepoint\n"
    "  --savepoint-dir DIR                            SIGUSR1: write a savepoint; SIGTERM: write one and stop\n"
    "  --at-least-once                                file sinks write directly (duplicates possible after a restore)\n"
    "  --state heap|rocksdb [--state-dir DIR]         where keyed state is kept (default heap)\n"
    "  --metrics-port P     serve metrics on 127.0.0.1:P (0: any free port): a web page, /metrics.json, /metrics\n"
    "  --restart STRATEGY   after a failure: none, fixed-delay:N:D, failure-rate:N:I:D, exponential-delay\n"
    "  --help               list the runtime options\n";

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Parses and checks a job; prints diagnostics. Returns the plan's program when it has no
// errors. `exit_code` is set when it returns nothing.
struct Compiled {
  std::unique_ptr<flow::SourceFile> file;
  std::unique_ptr<flow::sema::CheckedProgram> program;  // the plan points into it
  flow::plan::PhysicalPlan plan;
};

std::optional<Compiled> compile(const std::string& path, int& exit_code) {
  auto text = read_file(path);
  if (!text) {
    fmt::print(stderr, "error: cannot read `{}`: {}\n", path, std::strerror(errno));
    exit_code = kExitBadCommandLine;
    return std::nullopt;
  }
  Compiled c;
  c.file = std::make_unique<flow::SourceFile>(path, std::move(*text));
  flow::Diagnostics diagnostics;
  auto ast = flow::parse_program(*c.file, diagnostics);
  if (ast) {
    auto checked = flow::sema::check_program(*ast, *c.file, diagnostics);
    if (checked) c.program = std::make_unique<flow::sema::CheckedProgram>(std::move(*checked));
  }
  std::cerr << flow::render_all(diagnostics, *c.file);
  if (diagnostics.has_errors() || !c.program) {
    exit_code = kExitProgramErrors;
    return std::nullopt;
  }
  c.plan = flow::plan::build_plan(*c.program);
  return c;
}

int internal_error(const std::string& what, const std::string& message) {
  fmt::print(stderr, "error: {} failed: {}\n", what, message);
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"flowc: compile and run .flow streaming dataflow programs"};
  app.require_subcommand(1);
  app.footer("See `flowc COMMAND --help` for each command.");

  std::string job;
  std::string output;
  bool show_llvm = false;
  int opt_level = 2;
  bool profile = false;

  auto* run = app.add_subcommand("run", "Compile JOB.flow with the JIT and run it");
  run->add_option("job", job, "The .flow program")->required();
  run->add_option("-O", opt_level, "Optimisation level 0-3 (default 2)")->check(CLI::Range(0, 3));
  run->add_flag("--profile", profile,
                "Describe the generated code to perf: run under `perf record -k 1`, then `perf inject --jit` "
                "shows the pipelines by name (jitdump files go to $JITDUMPDIR, else ~/.debug/jit)");
  run->allow_extras();
  run->footer(kRuntimeOptionsHelp);

  auto* build = app.add_subcommand("build", "Write a standalone executable for JOB.flow");
  build->add_option("job", job, "The .flow program")->required();
  build->add_option("-o,--output", output, "The executable to write")->required();
  build->add_option("-O", opt_level, "Optimisation level 0-3 (default 2)")->check(CLI::Range(0, 3));
  build->footer("The executable takes the runtime options of `flowc run`.");

  auto* check = app.add_subcommand("check", "Report the program's errors and warnings, run nothing");
  check->add_option("job", job, "The .flow program")->required();

  auto* explain = app.add_subcommand("explain", "Print the plan: dataflow graph, fused pipelines, state");
  explain->add_option("job", job, "The .flow program")->required();
  explain->add_flag("--llvm", show_llvm, "Print the optimised LLVM IR instead");

  std::string checkpoint_dir;
  auto* checkpoints = app.add_subcommand("checkpoints", "List the checkpoints in DIR: size, shared bytes, operators, validity");
  checkpoints->add_option("dir", checkpoint_dir, "A checkpoint directory (--checkpoint-dir of a job)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    fmt::print(stderr, "error: {}\n", message);
    fmt::print(stderr, "Run `flowc --help` for usage.\n");
    return kExitBadCommandLine;
  }

  if (checkpoints->parsed()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(checkpoint_dir, ec)) {
      fmt::print(stderr, "error: `{}` is not a directory\n", checkpoint_dir);
      return kExitBadCommandLine;
    }
    std::cout << flow::describe_checkpoints(flow::CheckpointStore(checkpoint_dir));
    return kExitOk;
  }

  int exit_code = kExitOk;
  auto compiled = compile(job, exit_code);
  if (!compiled) return exit_code;
  flow::codegen::Options options;
  options.optimization_level = opt_level;
  options.profile = profile;

  if (check->parsed()) return kExitOk;
  if (explain->parsed()) {
    if (!show_llvm) {
      std::cout << flow::plan::explain(compiled->plan);
      return kExitOk;
    }
    std::string ir, error;
    if (!flow::codegen::optimized_ir(compiled->plan, *compiled->file, options, ir, error))
      return internal_error("code generation", error);
    std::cout << ir;
    return kExitOk;
  }
  if (build->parsed()) {
    std::string error;
    if (!flow::codegen::build_executable(compiled->plan, *compiled->file, options, output, error))
      return internal_error("`flowc build`", error);
    return kExitOk;
  }
  std::vector<std::string> runtime_args{job};
  for (const auto& extra : run->remaining()) runtime_args.push_back(extra);
  std::string error;
  int status = flow::codegen::run_jit(compiled->plan, *compiled->file, options, runtime_args, error);
  if (status < 0) return internal_error("JIT compilation", error);
  return status;
}

// The codegen stage: PhysicalPlan -> an LLVM module with one native function per pipeline
// (decode -> filter -> map -> flatmap -> key -> accumulator update, all inline), plus
// `flow_job_setup`, which describes the job to the runtime through flow/abi.h. The same module
// is run by the ORC JIT (`flowc run`) or written as an object file and linked with libflowrt
// into a standalone executable (`flowc build`).
// Public header of compiler/codegen; LLVM types stay behind it.
#pragma once

#include <string>
#include <vector>

#include "compiler/plan/plan.h"

namespace flow::codegen {

struct Options {
  int optimization_level = 2;  // 0..3, LLVM's new pass manager
  // `flowc run --profile`: the JIT's code is described to `perf` (LLVM's perf listener writes
  // a jitdump file that `perf inject --jit` reads), so generated functions show by name.
  bool profile = false;
};

// The optimized IR of the whole job, as `flowc explain --llvm` prints it. On failure returns
// false with a message in `error`.
bool optimized_ir(const plan::PhysicalPlan& plan, const SourceFile& file, const Options& options,
                  std::string& ir, std::string& error);

// Compiles the job with the JIT and runs it with the runtime command line `runtime_args`
// (program name first). Returns the runtime's exit code, or -1 when compilation failed
// (message in `error`).
int run_jit(const plan::PhysicalPlan& plan, const SourceFile& file, const Options& options,
            const std::vector<std::string>& runtime_args, std::string& error);

// Writes a standalone executable at `output`: an object file linked with libflowrt.
bool build_executable(const plan::PhysicalPlan& plan, const SourceFile& file, const Options& options,
                      const std::string& output, std::string& error);

}  // namespace flow::codegen

// Fuzz target for the front end: any bytes must give diagnostics or a program, never a crash
// or a hang. Built for libFuzzer with clang (-DFLOW_FUZZ=ON), and in every build as a
// replay driver that runs the corpus plus seeded random mutations of it (tests/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/sema/sema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  flow::SourceFile file("fuzz.flow", std::string(reinterpret_cast<const char*>(data), size));
  flow::Diagnostics diagnostics;
  auto program = flow::parse_program(file, diagnostics);
  if (program) flow::sema::check_program(*program, file, diagnostics);
  // Rendering must cope with every span the stages produced.
  (void)flow::render_all(diagnostics, file);
  return 0;
}

// Internal to compiler/sema: the standard library's modules, which `import std.NAME` brings in.
// A module declares schemas and the generators (built-in sources) that produce records of them.
#pragma once

#include <string>
#include <vector>

#include "sema.h"

namespace flow::sema {

// A generator argument: `name = i64 expression of constants and params`.
struct GeneratorArgument {
  const char* name;
  bool required;
  int64_t default_value;  // when not required
  int64_t minimum;
};

// A built-in source, `nexmark(events = 1000, seed = 1)`: which of the module's schemas it can
// produce records of (a source declares one), and its arguments.
struct GeneratorDef {
  const char* name;
  std::vector<const char*> schemas;
  std::vector<GeneratorArgument> arguments;
};

struct ModuleDef {
  const char* name;  // `std.nexmark`
  std::vector<RecordPtr> schemas;
  std::vector<GeneratorDef> generators;
};

// The module `name`, or nullptr.
const ModuleDef* find_module(const std::string& name);
// Every module's name, for suggestions.
std::vector<std::string> module_names();

}  // namespace flow::sema

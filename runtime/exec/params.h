// Param values: defaults from the job description, overridden by --param NAME=VALUE.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exec/job_spec.h"

namespace flow {

struct ParamValue {
  int64_t i64 = 0;  // bool, i64, timestamp, duration
  double f64 = 0;
  std::string text;  // string params
};

// `text` as a value of `type` (parsed like an input cell); false if it is not one.
bool parse_param_value(int32_t type, std::string_view text, ParamValue& out);

// One value per param, from `overrides` (NAME=VALUE texts, the last one wins) or the default.
// False with `error` set to a one-line message (without `error: `) for an unknown name, a value
// of the wrong type, or a param with no default and no override.
bool resolve_params(const std::vector<ParamSpec>& params, const std::vector<std::string>& overrides,
                    std::vector<ParamValue>& values, std::string& error);

}  // namespace flow

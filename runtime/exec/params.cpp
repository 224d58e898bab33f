// Resolving params: defaults, --param overrides, and type checks with clear messages.
#include "exec/params.h"

#include "core/type_names.h"

namespace flow {

namespace {

std::string param_list(const std::vector<ParamSpec>& params) {
  if (params.empty()) return "the program has no params";
  std::string names = "params: ";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i) names += ", ";
    names += params[i].name;
  }
  return names;
}

}  // namespace

bool parse_param_value(int32_t type, std::string_view text, ParamValue& out) {
  const char* p = text.data();
  auto n = static_cast<int64_t>(text.size());
  switch (type) {
    case FLOW_T_BOOL: {
      uint8_t b;
      if (!flow_parse_bool(p, n, &b)) return false;
      out.i64 = b;
      return true;
    }
    case FLOW_T_I64:
      // Also kept as f64, so a param used where a double is expected still reads right.
      if (!flow_parse_i64(p, n, &out.i64)) return false;
      out.f64 = static_cast<double>(out.i64);
      return true;
    case FLOW_T_F64:
      return flow_parse_f64(p, n, &out.f64) != 0;
    case FLOW_T_TIMESTAMP:
      return flow_parse_timestamp(p, n, &out.i64) != 0;
    case FLOW_T_DURATION:
      return flow_parse_duration(p, n, &out.i64) != 0;
    case FLOW_T_STRING:
      out.text = std::string(text);
      return true;
    default:
      return false;
  }
}

bool resolve_params(const std::vector<ParamSpec>& params, const std::vector<std::string>& overrides,
                    std::vector<ParamValue>& values, std::string& error) {
  std::vector<const std::string*> given(params.size(), nullptr);
  std::vector<std::string_view> given_values(params.size());
  for (const std::string& item : overrides) {
    std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "--param expects NAME=VALUE, found `" + item + "`";
      return false;
    }
    std::string_view name(item.data(), eq);
    std::size_t index = 0;
    while (index < params.size() && params[index].name != name) ++index;
    if (index == params.size()) {
      error = "unknown param `" + std::string(name) + "` (" + param_list(params) + ")";
      return false;
    }
    given[index] = &item;
    given_values[index] = std::string_view(item).substr(eq + 1);
  }
  values.assign(params.size(), ParamValue{});
  for (std::size_t i = 0; i < params.size(); ++i) {
    const ParamSpec& param = params[i];
    std::string_view text;
    if (given[i]) {
      text = given_values[i];
    } else if (param.has_default) {
      text = param.default_text;
    } else {
      error = "param `" + param.name + "` has no default: give it with --param " + param.name + "=VALUE";
      return false;
    }
    if (!parse_param_value(param.type, text, values[i])) {
      error = "param `" + param.name + "`: expected " + type_name(param.type) + ", found `" +
              std::string(text) + "`" + (given[i] ? "" : " (its default)");
      return false;
    }
  }
  return true;
}

}  // namespace flow

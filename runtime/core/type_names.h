// The names of flow types as the language spells them, for run-time messages.
#pragma once

#include <cstdint>

#include "flow/abi.h"

namespace flow {

inline const char* type_name(int32_t type) {
  switch (type) {
    case FLOW_T_BOOL:
      return "bool";
    case FLOW_T_I64:
      return "i64";
    case FLOW_T_F64:
      return "f64";
    case FLOW_T_STRING:
      return "string";
    case FLOW_T_TIMESTAMP:
      return "timestamp";
    case FLOW_T_DURATION:
      return "duration";
    case FLOW_T_LIST:
      return "list";
    default:
      return "unknown type";
  }
}

}  // namespace flow

// Param resolution: defaults, --param overrides (last wins), typed parsing, and the messages
// for unknown names, wrong types and missing values.
#include <doctest/doctest.h>

#include "exec/params.h"

namespace {
std::vector<flow::ParamSpec> job_params() {
  return {
      {"input", FLOW_T_STRING, true, "bids.csv"},
      {"limit", FLOW_T_I64, true, "10"},
      {"start", FLOW_T_TIMESTAMP, true, "2026-01-01T00:00:00Z"},
      {"lag", FLOW_T_DURATION, true, "2s"},
      {"verbose", FLOW_T_BOOL, true, "false"},
      {"ratio", FLOW_T_F64, true, "0.5"},
  };
}
}  // namespace

TEST_CASE("params: defaults parse by type, overrides win, the last override wins") {
  std::vector<flow::ParamValue> values;
  std::string error;
  REQUIRE(flow::resolve_params(job_params(), {"limit=5", "verbose=true", "limit=7", "input=a=b.csv"}, values,
                               error));
  CHECK(values[0].text == "a=b.csv");
  CHECK(values[1].i64 == 7);
  CHECK(values[1].f64 == 7.0);
  CHECK(values[2].i64 == 1767225600000);
  CHECK(values[3].i64 == 2000);
  CHECK(values[4].i64 == 1);
  CHECK(values[5].f64 == 0.5);
}

TEST_CASE("params: unknown names, wrong types and missing values are one-line errors") {
  std::vector<flow::ParamValue> values;
  std::string error;
  CHECK_FALSE(flow::resolve_params(job_params(), {"nosuch=1"}, values, error));
  CHECK(error == "unknown param `nosuch` (params: input, limit, start, lag, verbose, ratio)");
  CHECK_FALSE(flow::resolve_params(job_params(), {"limit=ten"}, values, error));
  CHECK(error == "param `limit`: expected i64, found `ten`");
  CHECK_FALSE(flow::resolve_params(job_params(), {"start=soon"}, values, error));
  CHECK(error == "param `start`: expected timestamp, found `soon`");
  CHECK_FALSE(flow::resolve_params(job_params(), {"=3"}, values, error));
  CHECK(error == "--param expects NAME=VALUE, found `=3`");
  CHECK_FALSE(flow::resolve_params({{"input", FLOW_T_STRING, false, ""}}, {}, values, error));
  CHECK(error == "param `input` has no default: give it with --param input=VALUE");
  CHECK_FALSE(flow::resolve_params({}, {"x=1"}, values, error));
  CHECK(error == "unknown param `x` (the program has no params)");
}

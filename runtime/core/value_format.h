// Text forms of values shared by the writers and string(x): integers, shortest round-trip
// doubles, ISO-8601 UTC timestamps with milliseconds.
#pragma once

#include <cstddef>
#include <cstdint>

namespace flow {

// Large enough for any output of the functions below.
constexpr std::size_t kMaxValueText = 48;

std::size_t format_i64(char* out, int64_t v);
// Shortest text that reads back to the same double (`3`, `0.1`, `1e+21`, `-0`); non-finite
// values as `NaN`, `inf`, `-inf`.
std::size_t format_f64(char* out, double v);
// `2026-01-01T00:00:10.000Z`; years outside 0..9999 get a sign and as many digits as needed.
std::size_t format_timestamp(char* out, int64_t ms);

}  // namespace flow

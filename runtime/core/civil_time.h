// Civil (proleptic Gregorian, UTC) dates and times from epoch milliseconds and back, valid for
// negative timestamps too. Used by the timestamp parser, the writers and the time built-ins.
#pragma once

#include <cstdint>

namespace flow {

constexpr int64_t kMillisPerSecond = 1000;
constexpr int64_t kMillisPerMinute = 60 * kMillisPerSecond;
constexpr int64_t kMillisPerHour = 60 * kMillisPerMinute;
constexpr int64_t kMillisPerDay = 24 * kMillisPerHour;

struct CivilTime {
  int64_t year;
  int32_t month;  // 1..12
  int32_t day;    // 1..31
  int32_t hour, minute, second, millisecond;
  int32_t weekday;      // 0 = Sunday .. 6 = Saturday
  int32_t day_of_year;  // 1..366
};

// Floor division and its non-negative remainder (C++ `/` truncates toward zero).
constexpr int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
constexpr int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

bool is_leap_year(int64_t year);
int32_t days_in_month(int64_t year, int32_t month);

// Days since 1970-01-01 of a civil date (month 1..12, day 1..31).
int64_t days_from_civil(int64_t year, int32_t month, int32_t day);

CivilTime civil_from_millis(int64_t ms);

// Epoch milliseconds of a civil date and time; false if it does not fit in int64.
bool millis_from_civil(int64_t year, int32_t month, int32_t day, int32_t hour, int32_t minute, int32_t second,
                       int32_t millisecond, int64_t* out);

}  // namespace flow

// Civil-date arithmetic on the proleptic Gregorian calendar, counted in 400-year eras of
// 146097 days so that every year, negative ones included, takes the same path (the classic
// days-from-civil construction: years start on March 1st so the leap day comes last).
#include "core/civil_time.h"

namespace flow {

namespace {
constexpr int64_t kDaysPerEra = 146097;  // 400 Gregorian years
// 1970-01-01 counted from 0000-03-01.
constexpr int64_t kEpochShift = 719468;
}  // namespace

bool is_leap_year(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int32_t days_in_month(int64_t year, int32_t month) {
  static constexpr int32_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && is_leap_year(year)) return 29;
  return kDays[month - 1];
}

int64_t days_from_civil(int64_t year, int32_t month, int32_t day) {
  int64_t y = month <= 2 ? year - 1 : year;  // March-based year
  int64_t era = floor_div(y, 400);
  int64_t year_of_era = y - era * 400;                               // 0..399
  int64_t month_from_march = month > 2 ? month - 3 : month + 9;      // 0..11
  int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;  // 0..365
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * kDaysPerEra + day_of_era - kEpochShift;
}

CivilTime civil_from_millis(int64_t ms) {
  CivilTime t{};
  int64_t days = floor_div(ms, kMillisPerDay);
  int64_t in_day = ms - days * kMillisPerDay;
  t.hour = static_cast<int32_t>(in_day / kMillisPerHour);
  t.minute = static_cast<int32_t>(in_day / kMillisPerMinute % 60);
  t.second = static_cast<int32_t>(in_day / kMillisPerSecond % 60);
  t.millisecond = static_cast<int32_t>(in_day % 1000);
  t.weekday = static_cast<int32_t>(floor_mod(days + 4, 7));  // 1970-01-01 was a Thursday

  int64_t shifted = days + kEpochShift;
  int64_t era = floor_div(shifted, kDaysPerEra);
  int64_t day_of_era = shifted - era * kDaysPerEra;  // 0..146096
  int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_march_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // 0..365
  int64_t month_from_march = (5 * day_of_march_year + 2) / 153;                // 0..11
  t.day = static_cast<int32_t>(day_of_march_year - (153 * month_from_march + 2) / 5 + 1);
  t.month = static_cast<int32_t>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  t.year = year_of_era + era * 400 + (t.month <= 2 ? 1 : 0);
  t.day_of_year = static_cast<int32_t>(days - days_from_civil(t.year, 1, 1) + 1);
  return t;
}

bool millis_from_civil(int64_t year, int32_t month, int32_t day, int32_t hour, int32_t minute, int32_t second,
                       int32_t millisecond, int64_t* out) {
  // 292 million years fit in int64 milliseconds; refuse anything near that bound.
  if (year < -290000000 || year > 290000000) return false;
  int64_t days = days_from_civil(year, month, day);
  int64_t in_day =
      hour * kMillisPerHour + minute * kMillisPerMinute + second * kMillisPerSecond + millisecond;
  int64_t result;
  if (__builtin_mul_overflow(days, kMillisPerDay, &result)) return false;
  if (__builtin_add_overflow(result, in_day, &result)) return false;
  *out = result;
  return true;
}

}  // namespace flow

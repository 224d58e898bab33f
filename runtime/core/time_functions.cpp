// Time built-ins on epoch milliseconds, UTC: now(), year, hour, date_trunc, format_time.
#include <chrono>
#include <cstring>
#include <string>

#include "core/arena.h"
#include "core/civil_time.h"
#include "flow/abi.h"

namespace {

bool unit_is(const char* unit, int64_t len, const char* name) {
  return static_cast<std::size_t>(len) == std::strlen(name) && std::memcmp(unit, name, len) == 0;
}

void append_padded(std::string& out, int64_t v, int width) {
  if (v < 0) {
    out += '-';
    v = -v;
  }
  std::string digits = std::to_string(v);
  if (static_cast<int>(digits.size()) < width) out.append(width - digits.size(), '0');
  out += digits;
}

constexpr const char* kWeekdays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

extern "C" {

int64_t flow_now_ms(flow_ctx* ctx) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t flow_time_year(int64_t ms) { return flow::civil_from_millis(ms).year; }

int64_t flow_time_hour(int64_t ms) { return flow::civil_from_millis(ms).hour; }

int32_t flow_time_trunc(const char* unit, int64_t unit_len, int64_t ms, int64_t* out) {
  int64_t step = 0;
  if (unit_is(unit, unit_len, "second"))
    step = flow::kMillisPerSecond;
  else if (unit_is(unit, unit_len, "minute"))
    step = flow::kMillisPerMinute;
  else if (unit_is(unit, unit_len, "hour"))
    step = flow::kMillisPerHour;
  else if (unit_is(unit, unit_len, "day"))
    step = flow::kMillisPerDay;
  if (step != 0) {
    *out = flow::floor_div(ms, step) * step;
    return 1;
  }
  flow::CivilTime t = flow::civil_from_millis(ms);
  if (unit_is(unit, unit_len, "month")) {
    *out = flow::days_from_civil(t.year, t.month, 1) * flow::kMillisPerDay;
    return 1;
  }
  if (unit_is(unit, unit_len, "year")) {
    *out = flow::days_from_civil(t.year, 1, 1) * flow::kMillisPerDay;
    return 1;
  }
  return 0;
}

void flow_time_format(flow_ctx* ctx, int64_t ms, const char* fmt, int64_t fmt_len, flow_str* out) {
  flow::CivilTime t = flow::civil_from_millis(ms);
  thread_local std::string text;
  text.clear();
  for (int64_t i = 0; i < fmt_len; ++i) {
    char c = fmt[i];
    if (c != '%' || i + 1 == fmt_len) {
      text += c;
      continue;
    }
    char d = fmt[++i];
    switch (d) {
      case 'Y':
        append_padded(text, t.year, 4);
        break;
      case 'm':
        append_padded(text, t.month, 2);
        break;
      case 'd':
        append_padded(text, t.day, 2);
        break;
      case 'H':
        append_padded(text, t.hour, 2);
        break;
      case 'M':
        append_padded(text, t.minute, 2);
        break;
      case 'S':
        append_padded(text, t.second, 2);
        break;
      case 'j':
        append_padded(text, t.day_of_year, 3);
        break;
      case 'a':
        text += kWeekdays[t.weekday];
        break;
      case 'b':
        text += kMonths[t.month - 1];
        break;
      case '%':
        text += '%';
        break;
      case '3':
        if (i + 1 < fmt_len && fmt[i + 1] == 'f') {
          append_padded(text, t.millisecond, 3);
          ++i;
          break;
        }
        [[fallthrough]];
      default:  // not a directive: kept as written
        text += '%';
        text += d;
    }
  }
  flow::set_str(out, flow::call_arena(ctx).copy(text.data(), text.size()));
}

}  // extern "C"

// Value formatting with std::to_chars (shortest round-trip for doubles, no locale).
#include "core/value_format.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "core/civil_time.h"

namespace flow {

namespace {
char* two_digits(char* out, int32_t v) {
  out[0] = static_cast<char>('0' + v / 10);
  out[1] = static_cast<char>('0' + v % 10);
  return out + 2;
}
}  // namespace

std::size_t format_i64(char* out, int64_t v) {
  return static_cast<std::size_t>(std::to_chars(out, out + kMaxValueText, v).ptr - out);
}

std::size_t format_f64(char* out, double v) {
  if (std::isnan(v)) {
    std::memcpy(out, "NaN", 3);
    return 3;
  }
  if (std::isinf(v)) {
    if (v < 0) {
      std::memcpy(out, "-inf", 4);
      return 4;
    }
    std::memcpy(out, "inf", 3);
    return 3;
  }
  return static_cast<std::size_t>(std::to_chars(out, out + kMaxValueText, v).ptr - out);
}

std::size_t format_timestamp(char* out, int64_t ms) {
  CivilTime t = civil_from_millis(ms);
  char* p = out;
  if (t.year >= 0 && t.year <= 9999) {
    int32_t y = static_cast<int32_t>(t.year);
    p = two_digits(p, y / 100);
    p = two_digits(p, y % 100);
  } else {
    // ISO-8601 expanded years: a sign and at least four digits.
    *p++ = t.year < 0 ? '-' : '+';
    int64_t magnitude = t.year < 0 ? -t.year : t.year;
    char digits[24];
    char* end = std::to_chars(digits, digits + sizeof digits, magnitude).ptr;
    for (std::ptrdiff_t pad = 4 - (end - digits); pad > 0; --pad) *p++ = '0';
    std::memcpy(p, digits, static_cast<std::size_t>(end - digits));
    p += end - digits;
  }
  *p++ = '-';
  p = two_digits(p, t.month);
  *p++ = '-';
  p = two_digits(p, t.day);
  *p++ = 'T';
  p = two_digits(p, t.hour);
  *p++ = ':';
  p = two_digits(p, t.minute);
  *p++ = ':';
  p = two_digits(p, t.second);
  *p++ = '.';
  *p++ = static_cast<char>('0' + t.millisecond / 100);
  p = two_digits(p, t.millisecond % 100);
  *p++ = 'Z';
  return static_cast<std::size_t>(p - out);
}

}  // namespace flow

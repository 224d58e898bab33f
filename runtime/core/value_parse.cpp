// Text-to-value conversions of input cells and params (flow_parse_*) and of string casts
// (flow_str_to_*). Strict: the whole text must be the value, no surrounding spaces.
#include <fast_float/fast_float.h>

#include <cmath>
#include <cstring>

#include "core/civil_time.h"
#include "flow/abi.h"

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Exactly `count` digits at p[0..count) as a number, or -1.
int32_t fixed_digits(const char* p, const char* end, int count) {
  if (end - p < count) return -1;
  int32_t v = 0;
  for (int i = 0; i < count; ++i) {
    if (!is_digit(p[i])) return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

// The zone suffix of an ISO timestamp: nothing or `Z` (UTC), `+HH:MM`, `+HHMM` or `+HH`.
bool parse_zone(const char* p, const char* end, int64_t* offset_ms) {
  *offset_ms = 0;
  if (p == end) return true;
  if ((*p == 'Z' || *p == 'z') && p + 1 == end) return true;
  if (*p != '+' && *p != '-') return false;
  int64_t sign = *p == '-' ? -1 : 1;
  ++p;
  int32_t hours = fixed_digits(p, end, 2);
  if (hours < 0 || hours > 23) return false;
  p += 2;
  int32_t minutes = 0;
  if (p != end) {
    if (*p == ':') ++p;
    minutes = fixed_digits(p, end, 2);
    if (minutes < 0 || minutes > 59 || p + 2 != end) return false;
  }
  *offset_ms = sign * (hours * flow::kMillisPerHour + minutes * flow::kMillisPerMinute);
  return true;
}

// `YYYY-MM-DD`, then optionally `T` or a space and `HH:MM[:SS[.fraction]]`, then a zone.
bool parse_iso_timestamp(const char* p, const char* end, int64_t* out) {
  int32_t year = fixed_digits(p, end, 4);
  if (year < 0 || end - p < 10 || p[4] != '-' || p[7] != '-') return false;
  int32_t month = fixed_digits(p + 5, end, 2);
  int32_t day = fixed_digits(p + 8, end, 2);
  if (month < 1 || month > 12 || day < 1 || day > flow::days_in_month(year, month)) return false;
  p += 10;
  int32_t hour = 0, minute = 0, second = 0, millis = 0;
  if (p != end && (*p == 'T' || *p == 't' || *p == ' ')) {
    ++p;
    hour = fixed_digits(p, end, 2);
    if (hour < 0 || hour > 23 || end - p < 5 || p[2] != ':') return false;
    minute = fixed_digits(p + 3, end, 2);
    if (minute < 0 || minute > 59) return false;
    p += 5;
    if (p != end && *p == ':') {
      second = fixed_digits(p + 1, end, 2);
      if (second < 0 || second > 59) return false;
      p += 3;
      if (p != end && (*p == '.' || *p == ',')) {
        ++p;
        const char* digits = p;
        int32_t scale = 100;
        while (p != end && is_digit(*p)) {
          millis += (*p - '0') * scale;  // digits past milliseconds are truncated
          scale /= 10;
          ++p;
        }
        if (p == digits || p - digits > 9) return false;
      }
    }
  }
  int64_t offset;
  if (!parse_zone(p, end, &offset)) return false;
  int64_t ms;
  if (!flow::millis_from_civil(year, month, day, hour, minute, second, millis, &ms)) return false;
  *out = ms - offset;
  return true;
}

// Eight bytes as a number if they are all ASCII digits (the first byte the most significant),
// or -1. Word-parallel (SWAR): a digit is a byte whose high nibble is 3 both before and after
// adding 6; pairs, then quads, then the whole are combined with three multiplications.
int64_t eight_digits(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof word);
  uint64_t high_nibbles = word & 0xF0F0F0F0F0F0F0F0ULL;
  uint64_t high_after_six = ((word + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4;
  if ((high_nibbles | high_after_six) != 0x3333333333333333ULL) return -1;
  uint64_t digits = word - 0x3030303030303030ULL;
  uint64_t pairs = (digits * 10 + (digits >> 8)) & 0x00FF00FF00FF00FFULL;   // bytes 0, 2, 4, 6
  uint64_t quads = (pairs * 100 + (pairs >> 16)) & 0x0000FFFF0000FFFFULL;   // lanes 0 and 2
  return static_cast<int64_t>((quads & 0xFFFF) * 10000 + (quads >> 32));
}

}  // namespace

extern "C" {

int32_t flow_parse_i64(const char* ptr, int64_t len, int64_t* out) {
  const char* p = ptr;
  const char* end = ptr + len;
  bool negative = false;
  if (p != end && (*p == '-' || *p == '+')) negative = *p++ == '-';
  if (p == end) return 0;
  if (end - p <= 18) {
    // Up to 18 digits cannot overflow: the common case, without overflow checks.
    int64_t value = 0;
    for (; end - p >= 8; p += 8) {  // long numbers (timestamps, ids) eight digits at a time
      int64_t eight = eight_digits(p);
      if (eight < 0) return 0;
      value = value * 100000000 + eight;
    }
    for (; p != end; ++p) {
      unsigned digit = static_cast<unsigned>(*p - '0');
      if (digit > 9) return 0;
      value = value * 10 + digit;
    }
    *out = negative ? -value : value;
    return 1;
  }
  // Accumulate negatively so that INT64_MIN parses without overflow.
  int64_t value = 0;
  for (; p != end; ++p) {
    if (!is_digit(*p)) return 0;
    if (__builtin_mul_overflow(value, 10, &value) || __builtin_sub_overflow(value, *p - '0', &value))
      return 0;
  }
  if (!negative) {
    if (value == INT64_MIN) return 0;
    value = -value;
  }
  *out = value;
  return 1;
}

int32_t flow_parse_f64(const char* ptr, int64_t len, double* out) {
  const char* p = ptr;
  const char* end = ptr + len;
  if (p != end && *p == '+') ++p;  // from_chars takes no plus sign
  // Only digits may start a number after the sign: this refuses `inf`, `nan` and `infinity`.
  const char* first = (p != end && *p == '-') ? p + 1 : p;
  if (first == end || !(is_digit(*first) || *first == '.')) return 0;
  double value;
  auto result = fast_float::from_chars(p, end, value);
  if (result.ec != std::errc() || result.ptr != end || !std::isfinite(value)) return 0;
  *out = value;
  return 1;
}

int32_t flow_parse_bool(const char* ptr, int64_t len, uint8_t* out) {
  if ((len == 4 && std::memcmp(ptr, "true", 4) == 0) || (len == 1 && *ptr == '1')) {
    *out = 1;
    return 1;
  }
  if ((len == 5 && std::memcmp(ptr, "false", 5) == 0) || (len == 1 && *ptr == '0')) {
    *out = 0;
    return 1;
  }
  return 0;
}

int32_t flow_parse_timestamp(const char* ptr, int64_t len, int64_t* out) {
  // A bare number (no `+`) is epoch milliseconds; ISO text never parses as one, having a `-`
  // after four digits.
  if (len > 0 && *ptr != '+' && flow_parse_i64(ptr, len, out)) return 1;
  return parse_iso_timestamp(ptr, ptr + len, out) ? 1 : 0;
}

int32_t flow_parse_duration(const char* ptr, int64_t len, int64_t* out) {
  const char* end = ptr + len;
  const char* p = ptr;
  if (p != end && *p == '-') ++p;
  const char* unit = p;
  while (unit != end && is_digit(*unit)) ++unit;
  if (unit == p) return 0;
  int64_t scale;
  std::size_t unit_len = static_cast<std::size_t>(end - unit);
  if (unit_len == 0 || (unit_len == 2 && std::memcmp(unit, "ms", 2) == 0))
    scale = 1;
  else if (unit_len == 1 && *unit == 's')
    scale = flow::kMillisPerSecond;
  else if (unit_len == 1 && *unit == 'm')
    scale = flow::kMillisPerMinute;
  else if (unit_len == 1 && *unit == 'h')
    scale = flow::kMillisPerHour;
  else if (unit_len == 1 && *unit == 'd')
    scale = flow::kMillisPerDay;
  else
    return 0;
  int64_t count;
  if (!flow_parse_i64(ptr, unit - ptr, &count)) return 0;
  int64_t ms;
  if (__builtin_mul_overflow(count, scale, &ms)) return 0;
  *out = ms;
  return 1;
}

// Casts are a little more forgiving than input cells: surrounding ASCII spaces are ignored.
static void trim_spaces(const char*& p, int64_t& len) {
  while (len > 0 && (*p == ' ' || *p == '\t')) ++p, --len;
  while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) --len;
}

int32_t flow_str_to_i64(const char* p, int64_t len, int64_t* out) {
  trim_spaces(p, len);
  return flow_parse_i64(p, len, out);
}

int32_t flow_str_to_f64(const char* p, int64_t len, double* out) {
  trim_spaces(p, len);
  return flow_parse_f64(p, len, out);
}

}  // extern "C"

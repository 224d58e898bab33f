// Text forms of values shared by the writers and string(x): integers, shortest round-trip
// doubles, ISO-8601 UTC timestamps with milliseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace flow {

// Large enough for any output of the functions below.
constexpr std::size_t kMaxValueText = 48;

std::size_t format_i64(char* out, int64_t v);
// Shortest text that reads back to the same double (`3`, `0.1`, `1e+21`, `-0`); non-finite
// values as `NaN`, `inf`, `-inf`.
std::size_t format_f64(char* out, double v);
// `2026-01-01T00:00:10.000Z`; years outside 0..9999 get a sign and as many digits as needed.
std::size_t format_timestamp(char* out, int64_t ms);

// format_timestamp remembering its last two results: the rows of a window firing all carry the
// same window_start and window_end, so a writer formats each once per firing, not per row.
class TimestampTexts {
 public:
  std::string_view format(int64_t ms) {
    for (const Text& t : texts_)
      if (t.len != 0 && t.ms == ms) return {t.chars, t.len};
    Text& t = texts_[next_];
    next_ ^= 1;
    t.ms = ms;
    t.len = format_timestamp(t.chars, ms);
    return {t.chars, t.len};
  }

 private:
  struct Text {
    int64_t ms = 0;
    std::size_t len = 0;  // 0: empty
    char chars[kMaxValueText];
  };
  Text texts_[2];
  int next_ = 0;
};

}  // namespace flow

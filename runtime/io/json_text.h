// JSON text of values, written to any output with put(char) and append(p, n) (an OutputBuffer,
// or StringOutput for text collected first). Used by the JSONL writer and for lists in CSV.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "core/value_format.h"

namespace flow {

struct StringOutput {
  std::string& text;
  void put(char c) { text.push_back(c); }
  void append(const char* p, std::size_t n) { text.append(p, n); }
};

// A JSON string literal: quotes, backslashes and control characters escaped, other bytes as-is.
template <class Out>
void write_json_string(Out& out, const char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.put('"');
  std::size_t run = 0;  // bytes that need no escape, written in one go
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(p + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"", 2);
        break;
      case '\\':
        out.append("\\\\", 2);
        break;
      case '\n':
        out.append("\\n", 2);
        break;
      case '\r':
        out.append("\\r", 2);
        break;
      case '\t':
        out.append("\\t", 2);
        break;
      case '\b':
        out.append("\\b", 2);
        break;
      case '\f':
        out.append("\\f", 2);
        break;
      default: {
        char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(escape, 6);
      }
    }
  }
  out.append(p + run, n - run);
  out.put('"');
}

template <class Out>
void write_json_f64(Out& out, double v) {
  if (!std::isfinite(v)) {  // JSON has no NaN or infinities
    out.append("null", 4);
    return;
  }
  char text[kMaxValueText];
  out.append(text, format_f64(text, v));
}

template <class Out>
void write_json_i64(Out& out, int64_t v) {
  char text[kMaxValueText];
  out.append(text, format_i64(text, v));
}

template <class Out>
void write_json_timestamp(Out& out, int64_t ms) {
  char text[kMaxValueText];
  out.put('"');
  out.append(text, format_timestamp(text, ms));
  out.put('"');
}

}  // namespace flow

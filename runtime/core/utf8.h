// Minimal UTF-8 helpers: code point boundaries and decoding, with invalid bytes taken as
// single (replacement) characters so that no input can make a loop stall or overrun.
#pragma once

#include <cstdint>

namespace flow {

inline bool is_utf8_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Decodes the code point at p (p < end); sets *size to its byte length (1 for invalid bytes,
// which decode as U+FFFD).
inline uint32_t decode_utf8(const unsigned char* p, const unsigned char* end, int* size) {
  unsigned char c = p[0];
  int n;
  uint32_t cp;
  if (c < 0x80) {
    *size = 1;
    return c;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    *size = 1;
    return 0xFFFD;
  }
  if (end - p < n) {
    *size = 1;
    return 0xFFFD;
  }
  for (int i = 1; i < n; ++i) {
    if (!is_utf8_continuation(p[i])) {
      *size = 1;
      return 0xFFFD;
    }
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  *size = n;
  return cp;
}

// Writes cp as UTF-8 at out; returns the byte count (1..4).
inline int encode_utf8(uint32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

}  // namespace flow

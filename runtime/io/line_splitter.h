// next_line: the line at the front of an InputBuffer, for the line-based formats (JSONL, text).
#pragma once

#include <cstring>

#include "io/input_buffer.h"

namespace flow {

struct Line {
  const char* text;  // without the line end
  std::size_t length;
  std::size_t consumed;  // length plus the line end
};

// False when the buffer holds no whole line yet (more input may follow) or is empty at EOF.
inline bool next_line(const InputBuffer& input, Line& line) {
  const char* p = input.data();
  std::size_t size = input.size();
  if (size == 0) return false;
  const void* nl = std::memchr(p, '\n', size);
  if (!nl) {
    if (!input.at_eof()) return false;
    line.length = size;  // the last line has no line end
    line.consumed = size;
  } else {
    line.length = static_cast<std::size_t>(static_cast<const char*>(nl) - p);
    line.consumed = line.length + 1;
  }
  if (line.length > 0 && p[line.length - 1] == '\r') --line.length;
  line.text = p;
  return true;
}

}  // namespace flow

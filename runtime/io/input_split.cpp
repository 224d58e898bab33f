// Cutting a file at line breaks (io/input_split.h).
#include "io/input_split.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace flow {

namespace {

// The offset just after the first line break at or after `from`, or `size` when there is none.
uint64_t next_line_start(int fd, uint64_t from, uint64_t size) {
  char block[1 << 14];
  for (uint64_t at = from; at < size;) {
    ssize_t n = ::pread(fd, block, sizeof block, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return size;
    if (const void* found = std::memchr(block, '\n', static_cast<std::size_t>(n)))
      return at + static_cast<uint64_t>(static_cast<const char*>(found) - block) + 1;
    at += static_cast<uint64_t>(n);
  }
  return size;
}

}  // namespace

std::vector<std::vector<ByteRange>> split_input(const std::string& path, int instances, uint64_t part_bytes) {
  return split_ranges(path, {ByteRange{0, std::numeric_limits<uint64_t>::max()}}, instances, part_bytes);
}

std::vector<std::vector<ByteRange>> split_ranges(const std::string& path, const std::vector<ByteRange>& ranges, int instances,
                                                 uint64_t part_bytes) {
  std::vector<std::vector<ByteRange>> parts(static_cast<std::size_t>(instances));
  const ByteRange whole{0, std::numeric_limits<uint64_t>::max()};
  // Checked before opening: opening a named pipe would wait for its writer.
  struct stat st;
  int fd = ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? ::open(path.c_str(), O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) {
    parts[0] = ranges.size() == 1 && ranges[0].end == whole.end ? std::vector<ByteRange>{ranges[0]} : ranges;
    return parts;
  }
  auto size = static_cast<uint64_t>(st.st_size);
  uint64_t total = 0;
  for (const ByteRange& r : ranges) total += std::min(r.end, size) - std::min(r.begin, size);
  if (part_bytes == 0) part_bytes = std::clamp<uint64_t>(total / (static_cast<uint64_t>(instances) * 8), 1 << 20, 4 << 20);
  std::size_t k = 0;
  for (const ByteRange& range : ranges) {
    uint64_t begin = std::min(range.begin, size);
    const uint64_t stop = std::min(range.end, size);
    while (begin < stop) {
      // A cut right after a line break keeps the line that starts there whole.
      uint64_t end = begin + part_bytes >= stop ? stop : std::min(stop, next_line_start(fd, begin + part_bytes - 1, stop));
      parts[k % parts.size()].push_back(ByteRange{begin, end});
      ++k;
      begin = end;
    }
  }
  ::close(fd);
  return parts;
}

std::vector<std::vector<ByteRange>> split_numbers(uint64_t count, const std::vector<ByteRange>& ranges, int instances,
                                                  uint64_t part_size) {
  std::vector<std::vector<ByteRange>> parts(static_cast<std::size_t>(instances));
  uint64_t total = 0;
  for (const ByteRange& r : ranges) total += std::min(r.end, count) - std::min(r.begin, count);
  if (part_size == 0) part_size = std::clamp<uint64_t>(total / (static_cast<uint64_t>(instances) * 8), 1 << 16, 1 << 20);
  std::size_t k = 0;
  for (const ByteRange& range : ranges)
    for (uint64_t begin = std::min(range.begin, count), stop = std::min(range.end, count); begin < stop; ++k) {
      uint64_t end = stop - begin <= part_size ? stop : begin + part_size;
      parts[k % parts.size()].push_back(ByteRange{begin, end});
      begin = end;
    }
  return parts;
}

}  // namespace flow

// What the hand-written baselines and the input generators of bench/ share: reading a file a
// line at a time in big chunks, a flat (key -> count, total) hash table, and a buffered CSV
// text writer. Header-only, plain C++: the baselines stay free of flowc code.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// Calls on_line(line) for every line of `path` (the header too, without its newline; a last
// line without a newline included) until it returns false. Reads 4 MB at a time. False (with
// the reason on stderr) when the file cannot be read or on_line stopped.
template <typename OnLine>
bool for_each_line(const char* path, OnLine&& on_line) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    std::perror(path);
    return false;
  }
  constexpr size_t kChunk = 1 << 22;
  std::vector<char> buffer(kChunk * 2);
  size_t filled = 0;
  bool ok = true;
  for (bool at_end = false; ok && !at_end;) {
    ssize_t got = read(fd, buffer.data() + filled, buffer.size() - filled);
    if (got < 0) {
      std::perror(path);
      ok = false;
      break;
    }
    filled += static_cast<size_t>(got);
    at_end = got == 0;
    const char* p = buffer.data();
    const char* end = p + filled;
    while (ok) {
      const char* newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (!newline) {
        if (!at_end || p == end) break;
        newline = end;  // a last line without its newline
      }
      ok = on_line(std::string_view(p, newline - p));
      p = newline == end ? end : newline + 1;
    }
    size_t rest = static_cast<size_t>(end - p);
    std::memmove(buffer.data(), p, rest);
    filled = rest;
    if (filled == buffer.size()) buffer.resize(buffer.size() * 2);
  }
  close(fd);
  return ok;
}

// Open addressing with linear probing, integer keys, a count and a total per key.
class CountSumTable {
 public:
  struct Slot {
    int64_t key;
    int64_t count;
    int64_t total;
    bool used;
  };

  explicit CountSumTable(size_t initial_slots) : slots_(initial_slots) {}
  Slot& find(int64_t key) {
    if (size_ * 2 >= slots_.size()) grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (!s.used) {
        s = Slot{key, 0, 0, true};
        ++size_;
        return s;
      }
      if (s.key == key) return s;
    }
  }
  // The used slots in key order.
  std::vector<Slot> sorted() const {
    std::vector<Slot> out;
    out.reserve(size_);
    for (const Slot& s : slots_)
      if (s.used) out.push_back(s);
    std::sort(out.begin(), out.end(), [](const Slot& a, const Slot& b) { return a.key < b.key; });
    return out;
  }

 private:
  static uint64_t mix(int64_t key) {
    uint64_t x = static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old)
      if (s.used) find(s.key) = s;
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

inline int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// ISO-8601 UTC with milliseconds, the form flowc writes timestamps in.
inline void append_time(std::string& out, int64_t ms) {
  int64_t days = floor_div(ms, 86400000);
  int64_t in_day = ms - days * 86400000;
  // Civil date from days since 1970-01-01 (proleptic Gregorian, 400-year eras).
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2);
  char text[40];
  int n = std::snprintf(text, sizeof text, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", (long long)year,
                        (long long)month, (long long)day, (long long)(in_day / 3600000), (long long)(in_day / 60000 % 60),
                        (long long)(in_day / 1000 % 60), (long long)(in_day % 1000));
  out.append(text, n);
}

// The open tumbling windows of a baseline, ordered by end (there are only ever a few), each
// with its counting table; fire() hands the oldest one's rows, in key order, to a writer.
class TumblingWindows {
 public:
  TumblingWindows(int64_t size, size_t initial_slots) : size_(size), initial_slots_(initial_slots) {}
  int64_t end_of(int64_t ts) const { return floor_div(ts, size_) * size_ + size_; }
  CountSumTable& at(int64_t end) {
    auto it = windows_.begin();
    while (it != windows_.end() && it->end < end) ++it;
    if (it == windows_.end() || it->end != end) it = windows_.insert(it, Window{end, CountSumTable(initial_slots_)});
    return it->table;
  }
  // Fires (write(slot, start, end) per key) every window ending at or before `watermark`.
  template <typename Write>
  void fire_until(int64_t watermark, Write&& write) {
    while (!windows_.empty() && windows_.front().end <= watermark) {
      const Window& w = windows_.front();
      for (const CountSumTable::Slot& s : w.table.sorted()) write(s, w.end - size_, w.end);
      windows_.erase(windows_.begin());
    }
  }

 private:
  struct Window {
    int64_t end;
    CountSumTable table;
  };
  int64_t size_;
  size_t initial_slots_;
  std::vector<Window> windows_;
};

// The first columns of a window result row: `key,window_start,window_end,`.
template <typename Writer>
void window_row_prefix(Writer& out, int64_t key, int64_t start, int64_t end) {
  out.i64(key);
  out.put(',');
  append_time(out.buffer(), start);
  out.put(',');
  append_time(out.buffer(), end);
  out.put(',');
}

// Text built in a 1 MB buffer and written out whenever it fills.
class TextWriter {
 public:
  explicit TextWriter(std::FILE* out) : out_(out) { text_.reserve(kFlushAt + 4096); }
  void i64(int64_t v) {
    char number[24];
    text_.append(number, std::to_chars(number, number + sizeof number, v).ptr);
  }
  void put(char c) { text_ += c; }
  void text(std::string_view s) { text_.append(s); }
  std::string& buffer() { return text_; }
  // Call after each line: writes the buffer out once it is large.
  void line_done() {
    if (text_.size() >= kFlushAt) flush();
  }
  // Writes the rest and closes the file; false on a write error.
  bool finish() {
    flush();
    return std::fclose(out_) == 0;
  }

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  void flush() {
    std::fwrite(text_.data(), 1, text_.size(), out_);
    text_.clear();
  }
  std::FILE* out_;
  std::string text_;
};

// A count argument (EVENTS of a baseline): false, after saying why, when it is not a number.
inline bool parse_count(const char* text, uint64_t& out) {
  std::string_view s(text);
  if (std::from_chars(s.data(), s.data() + s.size(), out).ptr == s.data() + s.size() && !s.empty()) return true;
  std::fprintf(stderr, "bad event count `%s`\n", text);
  return false;
}

// The output file argv[2] of a `PROGRAM ARG PATH` tool. Null, after saying why, with `status`
// set to the exit code: 2 for a wrong command line, 1 for a file that cannot be created.
inline std::FILE* open_output(int argc, char** argv, const char* usage, int& status) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s %s\n", argv[0], usage);
    status = 2;
    return nullptr;
  }
  std::FILE* out = std::fopen(argv[2], "wb");
  if (!out) {
    std::perror(argv[2]);
    status = 1;
  }
  return out;
}

}  // namespace bench

// The hand-written C++ reference for tumbling_count.flow: the same rules (watermark = largest
// timestamp so far - 1 s, updated after every record; a window [start, end) fires once
// end <= watermark, in order of end, then key; records for fired windows are dropped; end of
// input fires the rest) on the same file, written for speed: big reads, std::from_chars, a flat
// open-addressing table per open window, no allocation per record. It assumes the generator's
// columns key,value,ts with unquoted integer fields.
//   bench_baseline_tumbling_count INPUT OUTPUT
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

namespace {

constexpr int64_t kSize = 10000;  // 10 s
constexpr int64_t kLag = 1000;    // watermark lag 1 s

struct Slot {
  int64_t key;
  int64_t count;
  int64_t total;
  bool used;
};

class Table {
 public:
  Table() : slots_(1 << 11) {}
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

struct Window {
  int64_t end;
  Table table;
};

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// ISO-8601 UTC with milliseconds, the form flowc writes timestamps in.
void append_time(std::string& out, int64_t ms) {
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

class Job {
 public:
  explicit Job(std::FILE* out) : out_(out) { text_ = "key,window_start,window_end,n,total\n"; }

  void record(int64_t key, int64_t value, int64_t ts) {
    int64_t end = floor_div(ts, kSize) * kSize + kSize;
    if (end > watermark_) {  // lateness 0: a fired window ignores its records
      Slot& slot = window(end).find(key);
      slot.count += 1;
      slot.total += value;
    }
    if (ts - kLag > watermark_) {
      watermark_ = ts - kLag;
      while (!windows_.empty() && windows_.front().end <= watermark_) fire_first();
    }
  }
  void finish() {
    while (!windows_.empty()) fire_first();
    std::fwrite(text_.data(), 1, text_.size(), out_);
  }

 private:
  // Open windows, ordered by end; there are only ever a few.
  Table& window(int64_t end) {
    auto it = windows_.begin();
    while (it != windows_.end() && it->end < end) ++it;
    if (it == windows_.end() || it->end != end) it = windows_.insert(it, Window{end, Table()});
    return it->table;
  }
  void fire_first() {
    const Window& w = windows_.front();
    char number[32];
    for (const Slot& s : w.table.sorted()) {
      text_.append(number, std::to_chars(number, number + sizeof number, s.key).ptr);
      text_ += ',';
      append_time(text_, w.end - kSize);
      text_ += ',';
      append_time(text_, w.end);
      text_ += ',';
      text_.append(number, std::to_chars(number, number + sizeof number, s.count).ptr);
      text_ += ',';
      text_.append(number, std::to_chars(number, number + sizeof number, s.total).ptr);
      text_ += '\n';
    }
    windows_.erase(windows_.begin());
    if (text_.size() > (1 << 20)) {
      std::fwrite(text_.data(), 1, text_.size(), out_);
      text_.clear();
    }
  }

  std::FILE* out_;
  std::string text_;
  std::vector<Window> windows_;
  int64_t watermark_ = INT64_MIN;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s INPUT OUTPUT\n", argv[0]);
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    std::perror(argv[1]);
    return 1;
  }
  std::FILE* out = std::fopen(argv[2], "wb");
  if (!out) {
    std::perror(argv[2]);
    return 1;
  }
  Job job(out);
  constexpr size_t kChunk = 1 << 22;
  std::vector<char> buffer(kChunk * 2);
  size_t filled = 0;
  bool header_done = false;
  for (;;) {
    ssize_t got = read(fd, buffer.data() + filled, buffer.size() - filled);
    if (got < 0) {
      std::perror("read");
      return 1;
    }
    filled += static_cast<size_t>(got);
    bool at_end = got == 0;
    const char* p = buffer.data();
    const char* end = p + filled;
    for (;;) {
      const char* newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (!newline) {
        if (!at_end || p == end) break;
        newline = end;  // a last line without its newline
      }
      std::string_view line(p, newline - p);
      p = newline == end ? end : newline + 1;
      if (!header_done) {
        if (line != "key,value,ts") {
          std::fprintf(stderr, "%s: expected the header key,value,ts\n", argv[1]);
          return 1;
        }
        header_done = true;
        continue;
      }
      if (line.empty()) continue;
      int64_t fields[3] = {0, 0, 0};
      const char* f = line.data();
      const char* line_end = f + line.size();
      for (int64_t& field : fields) {
        f = std::from_chars(f, line_end, field).ptr + 1;
        if (f > line_end + 1) break;
      }
      job.record(fields[0], fields[1], fields[2]);
    }
    size_t rest = static_cast<size_t>(end - p);
    std::memmove(buffer.data(), p, rest);
    filled = rest;
    if (at_end) break;
    if (filled == buffer.size()) buffer.resize(buffer.size() * 2);
  }
  close(fd);
  job.finish();
  return std::fclose(out) == 0 ? 0 : 1;
}

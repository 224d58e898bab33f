// The hand-written C++ reference for tumbling_count.flow: the same rules (watermark = largest
// timestamp so far - 1 s, updated after every record; a window [start, end) fires once
// end <= watermark, in order of end, then key; records for fired windows are dropped; end of
// input fires the rest) on the same file, written for speed: big reads, std::from_chars, a flat
// open-addressing table per open window, no allocation per record. It assumes the generator's
// columns key,value,ts with unquoted integer fields.
//   bench_baseline_tumbling_count INPUT OUTPUT
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "bench_support.h"

namespace {

constexpr int64_t kSize = 10000;  // 10 s
constexpr int64_t kLag = 1000;    // watermark lag 1 s

class Job {
 public:
  explicit Job(std::FILE* out) : out_(out) { out_.text("key,window_start,window_end,n,total\n"); }

  void record(int64_t key, int64_t value, int64_t ts) {
    int64_t end = windows_.end_of(ts);
    if (end > watermark_) {  // lateness 0: a fired window ignores its records
      bench::CountSumTable::Slot& slot = windows_.at(end).find(key);
      slot.count += 1;
      slot.total += value;
    }
    if (ts - kLag > watermark_) {
      watermark_ = ts - kLag;
      fire_until(watermark_);
    }
  }
  // Fires the rest; false on a write error.
  bool finish() {
    fire_until(INT64_MAX);
    return out_.finish();
  }

 private:
  void fire_until(int64_t watermark) {
    windows_.fire_until(watermark, [&](const bench::CountSumTable::Slot& s, int64_t start, int64_t end) {
      bench::window_row_prefix(out_, s.key, start, end);
      out_.i64(s.count);
      out_.put(',');
      out_.i64(s.total);
      out_.put('\n');
      out_.line_done();
    });
  }

  bench::TextWriter out_;
  bench::TumblingWindows windows_{kSize, 1 << 11};
  int64_t watermark_ = INT64_MIN;
};

}  // namespace

int main(int argc, char** argv) {
  int status = 0;
  std::FILE* out = bench::open_output(argc, argv, "INPUT OUTPUT", status);
  if (!out) return status;
  Job job(out);
  bool header_done = false;
  bool read = bench::for_each_line(argv[1], [&](std::string_view line) {
    if (!header_done) {
      header_done = true;
      if (line == "key,value,ts") return true;
      std::fprintf(stderr, "%s: expected the header key,value,ts\n", argv[1]);
      return false;
    }
    if (line.empty()) return true;
    int64_t fields[3] = {0, 0, 0};
    const char* f = line.data();
    const char* line_end = f + line.size();
    for (int64_t& field : fields) {
      f = std::from_chars(f, line_end, field).ptr + 1;
      if (f > line_end + 1) break;
    }
    job.record(fields[0], fields[1], fields[2]);
    return true;
  });
  bool written = job.finish();
  return read && written ? 0 : 1;
}

// The hand-written C++ reference for bench/nexmark/q5.flow (Nexmark q5, hot items): the same
// generated bids (flowc's NexmarkGenerator, so the input is the same), counted per auction in
// 2 s slices; when the watermark (largest time - 4 s) passes a 10 s window's end, the window's
// five slices are summed and the auctions with the most bids written (ties all), as
// `auction,num`. Written for speed: flat counting tables, slices freed as windows pass.
//   bench_baseline_nexmark_q5 EVENTS OUTPUT
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "bench_support.h"
#include "io/nexmark_generator.h"

namespace {

constexpr int64_t kSlide = 2000, kSize = 10000, kLag = 4000;

class HotItems {
 public:
  explicit HotItems(std::FILE* out) : out_(out) { out_.text("auction,num\n"); }

  void bid(int64_t auction, int64_t ts) {
    int64_t slice = bench::floor_div(ts, kSlide) * kSlide;
    if (next_end_ == INT64_MIN) next_end_ = slice + kSlide;
    slices_.try_emplace(slice, 1 << 10).first->second.find(auction).count += 1;
    if (ts - kLag > watermark_) {
      watermark_ = ts - kLag;
      fire_until(watermark_);
    }
  }
  bool finish() {
    if (!slices_.empty()) fire_until(slices_.rbegin()->first + kSize);
    return out_.finish();
  }

 private:
  void fire_until(int64_t watermark) {
    for (; next_end_ <= watermark; next_end_ += kSlide) {
      while (!slices_.empty() && slices_.begin()->first < next_end_ - kSize) slices_.erase(slices_.begin());
      bench::CountSumTable window(1 << 12);
      int64_t most = 0;
      for (auto it = slices_.begin(); it != slices_.end() && it->first < next_end_; ++it)
        for (const auto& s : it->second.sorted()) most = std::max(most, window.find(s.key).count += s.count);
      for (const auto& s : window.sorted()) {
        if (s.count != most) continue;
        out_.i64(s.key);
        out_.put(',');
        out_.i64(s.count);
        out_.put('\n');
        out_.line_done();
      }
    }
  }

  bench::TextWriter out_;
  std::map<int64_t, bench::CountSumTable> slices_;
  int64_t watermark_ = INT64_MIN;
  int64_t next_end_ = INT64_MIN;
};

}  // namespace

int main(int argc, char** argv) {
  int status = 0;
  std::FILE* out = bench::open_output(argc, argv, "EVENTS OUTPUT", status);
  if (!out) return status;
  uint64_t events = 0;
  if (!bench::parse_count(argv[1], events)) return 2;
  flow::NexmarkGenerator generator(flow::NexmarkOptions{events, 0, 10000});
  HotItems job(out);
  flow::NexmarkBid bid;
  for (uint64_t e = 0; e < events; ++e) {
    if (flow::nexmark_kind_of(e) != flow::NexmarkKind::bid) continue;
    generator.bid(e, bid);
    job.bid(bid.auction, bid.date_time);
  }
  return job.finish() ? 0 : 1;
}

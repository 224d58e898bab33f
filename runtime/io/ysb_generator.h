// The Yahoo Streaming Benchmark's ad events (std.ysb's `ysb(events, seed, rate)`): 100
// campaigns of 10 ads each; each event is a view, click or purchase of a random ad by a random
// user on a random page, with an ad type and an IP address, in event-time order. The reference
// generator writes UUIDs; here users, pages and ads are numbers (ads 0..999, ad a in campaign
// 1000 + a / 10), so the benchmark measures the job, not UUID handling. Each event is made from
// its number and the seed alone (a splitmix64 hash), so ranges of numbers can be made anywhere.
// Event n has time 2023-11-14T22:13:20Z + n × 1 000 000 / rate µs (truncated to ms).
// A source of schema Campaign gets the campaigns table instead: the 1000 (ad, campaign) pairs.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "io/generated_source.h"

namespace flow {

struct YsbOptions {
  uint64_t events = 0;
  int64_t seed = 0;
  int64_t events_per_second = 10000;
};

struct YsbEvent {
  int64_t user_id, page_id, ad_id, event_time;
  std::string_view ad_type, event_type, ip_address;
};

class YsbGenerator {
 public:
  static constexpr int64_t kAds = 1000, kAdsPerCampaign = 10, kFirstCampaign = 1000;
  explicit YsbGenerator(const YsbOptions& options);
  void event(uint64_t n, YsbEvent& out) const;
  int64_t timestamp(uint64_t n) const;

 private:
  YsbOptions options_;
  double inter_event_delay_us_;
};

// The source of a schema of std.ysb ("AdEvent" or "Campaign"), or nullptr.
std::unique_ptr<EventGenerator> make_ysb_source(const YsbOptions& options, std::string_view schema);

}  // namespace flow

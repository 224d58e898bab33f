// The Yahoo Streaming Benchmark's ad events (std.ysb's `ysb(events, seed, rate)`): 100
// campaigns of 10 ads each; each event is a view, click or purchase of a random ad by a random
// user on a random page, with an ad type and an IP address, in event-time order. The reference
// generator writes UUIDs; here users, pages and ads are numbers (ads 0..999, ad a in campaign
// 1000 + a / 10), so the benchmark measures the job, not UUID handling. Each event is made from
// its number and the seed alone (a splitmix64 hash), so ranges of numbers can be made anywhere.
// Event n has time 2023-11-14T22:13:20Z + n × 1 000 000 / rate µs (truncated to ms).
// A source of schema Campaign gets the campaigns table instead: the 1000 (ad, campaign) pairs.
#pragma once

#include <array>
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
  // The fields of AdEvent, in schema order, as bits of the `fields` argument of event().
  enum Field : unsigned { kUserId = 1, kPageId = 2, kAdId = 4, kAdType = 8, kEventType = 16, kEventTime = 32, kIpAddress = 64 };
  static constexpr unsigned kAllFields = 0x7F;

  explicit YsbGenerator(const YsbOptions& options)
      : options_(options), inter_event_delay_us_(1'000'000.0 / static_cast<double>(options.events_per_second)) {}
  // Event n's fields, those of `fields` only (the rest are left as they are): a reader that
  // needs no user or page skips a hash, one that needs no time a conversion. Inline, so that a
  // loop over events makes no call (and, when `fields` is a constant, tests nothing).
  void event(uint64_t n, YsbEvent& out, unsigned fields = kAllFields) const {
    static constexpr std::array<std::string_view, 3> kEventTypes{"view", "click", "purchase"};
    static constexpr std::array<std::string_view, 5> kAdTypes{"banner", "modal", "sponsored-search", "mail", "mobile"};
    static constexpr std::array<std::string_view, 4> kAddresses{"1.2.3.4", "10.0.0.7", "172.16.4.2", "192.168.1.9"};
    uint64_t h = splitmix64(n ^ (static_cast<uint64_t>(options_.seed) * 0xD1B54A32D192ED03ULL));
    if (fields & kAdId) out.ad_id = pick(h, kAds);
    if (fields & kEventType) out.event_type = kEventTypes[static_cast<std::size_t>(pick(h >> 16, kEventTypes.size()))];
    if (fields & kAdType) out.ad_type = kAdTypes[static_cast<std::size_t>(pick(h >> 32, kAdTypes.size()))];
    if (fields & kIpAddress) out.ip_address = kAddresses[(h >> 48) & 3];
    if (fields & (kUserId | kPageId)) {
      uint64_t who = splitmix64(h);  // (bits of their own: users and pages independent of the rest)
      out.user_id = static_cast<int64_t>(who & 0xFFFFF);  // (about a million users and pages)
      out.page_id = static_cast<int64_t>((who >> 20) & 0xFFFFF);
    }
    if (fields & kEventTime) out.event_time = timestamp(n);
  }
  int64_t timestamp(uint64_t n) const {
    return kBaseTimeMs + static_cast<int64_t>(static_cast<double>(n) * inter_event_delay_us_) / 1000;
  }

 private:
  static constexpr int64_t kBaseTimeMs = 1700000000000;  // 2023-11-14T22:13:20Z, as bench_gen_ysb's files
  static uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
  }
  // A uniform choice in [0, n) from 16 random bits (multiply and shift, no division).
  static int64_t pick(uint64_t bits16, int64_t n) {
    return static_cast<int64_t>(((bits16 & 0xFFFF) * static_cast<uint64_t>(n)) >> 16);
  }

  YsbOptions options_;
  double inter_event_delay_us_;
};

// The source of a schema of std.ysb ("AdEvent" or "Campaign"), or nullptr.
std::unique_ptr<EventGenerator> make_ysb_source(const YsbOptions& options, std::string_view schema);

}  // namespace flow

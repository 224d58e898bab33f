// The Nexmark benchmark's event generator (std.nexmark's `nexmark(events, seed, rate)`), after
// the reference generator of Apache Beam's Nexmark suite, as Apache Flink's nexmark repository
// runs it. Events are numbered e = 0, 1, ...; of every 50, the first is a person, the next three
// auctions, the other 46 bids. Each event is made from its number alone, with a java.util.Random
// seeded by the number (seed 0 gives the reference's values), so any range of numbers can be
// made anywhere, in any order. Where the two references differ flowc follows Beam's numbering
// (person 1000 is event 0) and its bidder ids (Flink's add 1000 twice), and Flink's bid
// channels and urls, which Beam's bids lack. Event time: e × (1 000 000 / rate) µs after
// 2015-07-15T00:00:00Z, Beam's base time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "io/generated_source.h"

namespace flow {

struct NexmarkOptions {
  uint64_t events = 0;
  int64_t seed = 0;
  int64_t events_per_second = 10000;
};

enum class NexmarkKind { person, auction, bid };
std::optional<NexmarkKind> nexmark_kind(const std::string& schema_name);
NexmarkKind nexmark_kind_of(uint64_t event);

// java.util.Random: the reference draws from it, and the same draws give the same events.
class JavaRandom {
 public:
  explicit JavaRandom(int64_t seed) : seed_((static_cast<uint64_t>(seed) ^ kMultiplier) & kMask) {}
  int32_t next(int bits) {
    seed_ = (seed_ * kMultiplier + 0xB) & kMask;
    return static_cast<int32_t>(static_cast<int64_t>(seed_) >> (48 - bits));
  }
  int32_t next_int() { return next(32); }
  int32_t next_int(int32_t bound) {
    int32_t r = next(31);
    const int32_t m = bound - 1;
    if ((bound & m) == 0) return static_cast<int32_t>((static_cast<int64_t>(bound) * r) >> 31);
    for (int32_t u = r;; u = next(31)) {  // (rejects the top of the range, so that all are equally likely)
      r = u % bound;
      if (static_cast<int64_t>(u) - r + m <= INT32_MAX) return r;
    }
  }
  int64_t next_long() { return (static_cast<int64_t>(next(32)) << 32) + next(32); }
  // Beam's LongGenerator.nextLong: uniform on [0, n).
  int64_t next_long(int64_t n);
  double next_double() { return static_cast<double>((static_cast<int64_t>(next(26)) << 27) + next(27)) * 0x1.0p-53; }

 private:
  static constexpr uint64_t kMultiplier = 0x5DEECE66DULL;
  static constexpr uint64_t kMask = (1ULL << 48) - 1;
  uint64_t seed_;
};

struct NexmarkPerson {
  int64_t id, date_time;
  std::string_view name, city, state, extra;
  char email[16];
  int email_length;
  char credit_card[19];
};

struct NexmarkAuction {
  int64_t id, initial_bid, reserve, date_time, expires, seller, category;
  std::string_view extra;
  char item_name[20], description[100];
  int item_name_length, description_length;
};

struct NexmarkBid {
  int64_t auction, bidder, price, date_time;
  std::string_view channel, url, extra;
};

// Makes events by number. The tables it draws strings from (names, urls, the text that pads
// events) are built once, from the seed.
class NexmarkGenerator {
 public:
  explicit NexmarkGenerator(const NexmarkOptions& options);
  ~NexmarkGenerator();
  uint64_t event_count() const { return options_.events; }
  int64_t timestamp(uint64_t event) const;
  void person(uint64_t event, NexmarkPerson& out) const;
  void auction(uint64_t event, NexmarkAuction& out) const;
  void bid(uint64_t event, NexmarkBid& out) const;

 private:
  struct Tables;
  JavaRandom random_for(uint64_t event) const;
  std::string_view extra(JavaRandom& random, int64_t current_size, int64_t average_size) const;
  NexmarkOptions options_;
  double inter_event_delay_us_;
  std::unique_ptr<Tables> tables_;
};

// The source of one kind's events (generated_source.h).
std::unique_ptr<EventGenerator> make_nexmark_source(const NexmarkOptions& options, NexmarkKind kind);

}  // namespace flow

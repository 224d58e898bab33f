// The Nexmark generator (io/nexmark_generator.h): java.util.Random's draws, the reference's
// event numbering and id rules, and the generated source's ranges.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>

#include "core/arena.h"
#include "io/generated_source.h"
#include "io/nexmark_generator.h"

using flow::JavaRandom;
using flow::NexmarkGenerator;
using flow::NexmarkKind;

TEST_CASE("nexmark: JavaRandom draws what java.util.Random draws") {
  // (values printed by OpenJDK 17 for the same seeds and calls)
  JavaRandom r(42);
  CHECK(r.next_int(13) == 0);
  CHECK(r.next_int(10000) == 2763);
  CHECK(r.next_int(16) == 10);
  CHECK(r.next_int() == 205897768);
  CHECK(r.next_long() == 5694868678511409995LL);
  CHECK(r.next_double() == doctest::Approx(0.27707849007413665).epsilon(1e-15));
  JavaRandom p(0);
  CHECK(std::floor(std::pow(10.0, p.next_double() * 6.0) * 100.0 + 0.5) == 2431122.0);
  JavaRandom q(1000003);
  CHECK(q.next_int(1010) == 947);
  CHECK(q.next_int(2147483647 - 5) == 16115355);
}

TEST_CASE("nexmark: of every 50 events one is a person, three are auctions and 46 are bids") {
  std::map<NexmarkKind, int> kinds;
  for (uint64_t e = 0; e < 1000; ++e) ++kinds[flow::nexmark_kind_of(e)];
  CHECK(kinds[NexmarkKind::person] == 20);
  CHECK(kinds[NexmarkKind::auction] == 60);
  CHECK(kinds[NexmarkKind::bid] == 920);
}

TEST_CASE("nexmark: ids are dense, bids name recent auctions and people, times follow the rate") {
  NexmarkGenerator g(flow::NexmarkOptions{5000000, 0, 10000});
  flow::NexmarkPerson person;
  g.person(0, person);
  CHECK(person.id == 1000);
  CHECK(person.date_time == 1436918400000);  // the reference's base time
  g.person(50 * 7, person);
  CHECK(person.id == 1007);
  CHECK(person.email_length > 0);
  CHECK(person.extra.size() > 0);
  flow::NexmarkAuction auction;
  g.auction(1, auction);
  CHECK(auction.id == 1000);
  g.auction(50 * 7 + 3, auction);
  CHECK(auction.id == 1000 + 3 * 7 + 2);
  CHECK(auction.reserve > auction.initial_bid);
  CHECK(auction.expires > auction.date_time);
  CHECK(auction.category >= 10);
  CHECK(auction.category <= 14);
  // 10 000 events a second: event 20 000 is 2 s after event 0.
  CHECK(g.timestamp(20000) == 1436918400000 + 2000);
  int hot_auctions = 0, hot_bidders = 0, bids = 0;
  std::set<std::string> channels;
  // (every 97th event of five million: java.util.Random seeded by consecutive numbers draws in
  // long waves, which a short stretch of events would see as a bias)
  for (uint64_t e = 50000; e < 5000000; e += 97) {
    if (flow::nexmark_kind_of(e) != NexmarkKind::bid) continue;
    flow::NexmarkBid bid;
    g.bid(e, bid);
    ++bids;
    const int64_t last_auction = 3 * static_cast<int64_t>(e / 50) + 2, people = static_cast<int64_t>(e / 50) + 1;
    CHECK(bid.auction - 1000 <= last_auction + 10);
    CHECK(bid.auction - 1000 >= last_auction - 100);
    CHECK(bid.bidder - 1000 <= people + 9);
    CHECK(bid.price >= 100);
    CHECK(bid.price <= 100000000);
    CHECK(bid.extra.size() >= 54);
    CHECK(bid.extra.size() <= 81);
    CHECK(bid.url.rfind("https://www.nexmark.com/", 0) == 0);
    hot_auctions += (bid.auction - 1000) == last_auction / 100 * 100;
    hot_bidders += (bid.bidder - 1000) == (people - 1) / 100 * 100 + 1;
    channels.insert(std::string(bid.channel));
  }
  // Hot auctions half the time, hot bidders three quarters (and a few by chance).
  CHECK(hot_auctions > bids * 45 / 100);
  CHECK(hot_auctions < bids * 60 / 100);
  CHECK(hot_bidders > bids * 70 / 100);
  CHECK(hot_bidders < bids * 82 / 100);
  CHECK(channels.count("Google") == 1);
  CHECK(channels.size() > 1000);
}

TEST_CASE("nexmark: an event is the same whoever makes it, and the seed changes it") {
  NexmarkGenerator a(flow::NexmarkOptions{1000, 7, 10000}), b(flow::NexmarkOptions{1000, 7, 10000}),
      other(flow::NexmarkOptions{1000, 8, 10000});
  flow::NexmarkBid x, y, z;
  int differ = 0;
  for (uint64_t e = 4; e < 50; ++e) {
    a.bid(e, x);
    b.bid(e, y);
    other.bid(e, z);
    CHECK(x.price == y.price);
    CHECK(x.auction == y.auction);
    CHECK(x.channel == y.channel);
    CHECK(x.extra == y.extra);
    differ += x.price != z.price;
  }
  CHECK(differ > 40);
}

TEST_CASE("nexmark: a generated source reads its kind's events in ranges and resumes by number") {
  flow::Arena arena;
  std::vector<flow::SourceField> fields{{"auction"}, {"bidder"}, {"price"}, {"channel"}, {"url"}, {"dateTime"}, {"extra", false}};
  flow::GeneratedDecoder decoder(fields, arena, flow::DecoderOptions{1 << 16, 64});
  std::string reason;
  REQUIRE(decoder.open("nexmark Bid events=1000 seed=0 rate=10000", reason));
  REQUIRE(decoder.size() == 1000u);
  REQUIRE(decoder.read_range(40, 160));
  std::vector<uint64_t> numbers;
  while (decoder.next() == flow::DecodeStep::batch)
    for (int64_t row = 0; row < decoder.batch().num_rows; ++row) numbers.push_back(decoder.file_offset(row));
  // 40..49, 54..99, 104..149, 154..159: bids only
  CHECK(numbers.size() == 10 + 46 + 46 + 6);
  CHECK(numbers.front() == 40);
  CHECK(numbers.back() == 159);
  CHECK(decoder.position().offset == 160);
  CHECK_FALSE(decoder.open("nexmark Bid events=-1 seed=0 rate=10000", reason));
  CHECK(reason == "nexmark: `events` must be at least 0, not -1");
  CHECK_FALSE(decoder.open("nexmark Bid events=10 seed=0 rate=0", reason));
  CHECK(reason == "nexmark: `rate` must be at least 1 event per second, not 0");
}

// The Nexmark generator (io/nexmark_generator.h). Section numbers refer to the reference's
// generator classes: draws happen in their order, so that the same seed gives the same events.
#include "io/nexmark_generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

namespace flow {

namespace {

constexpr int64_t kProportionTotal = 50;  // of every 50 events: 1 person, 3 auctions, 46 bids
constexpr int64_t kAuctionProportion = 3;
constexpr int64_t kFirstPersonId = 1000;
constexpr int64_t kFirstAuctionId = 1000;
constexpr int64_t kFirstCategoryId = 10;
constexpr int32_t kCategories = 5;
constexpr int64_t kPersonIdLead = 10;  // a bid or auction may name a person up to 10 ahead
constexpr int64_t kAuctionIdLead = 10;
constexpr int64_t kHotRatio = 100;  // hot ids are the first (bidders: second) of each 100
constexpr int32_t kHotAuctionRatio = 2, kHotSellersRatio = 4, kHotBiddersRatio = 4;
constexpr int64_t kActivePeople = 1000;
constexpr int64_t kInFlightAuctions = 100;
constexpr int32_t kChannels = 10000;
constexpr int64_t kBaseTimeMs = 1436918400000;  // 2015-07-15T00:00:00Z
constexpr std::size_t kPadLength = 1 << 20;     // the text that `extra` fields are cut from

constexpr std::array<const char*, 11> kFirstNames{"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                                  "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::array<const char*, 9> kLastNames{"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                                "Walton", "Smith",  "Jones",   "Noris"};
constexpr std::array<const char*, 10> kCities{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
                                              "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<const char*, 6> kStates{"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::array<const char*, 4> kHotChannels{"Google", "Facebook", "Baidu", "Apple"};

int64_t last_base0_person_id(int64_t e) { return e / kProportionTotal; }

int64_t last_base0_auction_id(int64_t e) {
  int64_t epoch = e / kProportionTotal, offset = e % kProportionTotal;
  if (offset < 1) {  // a person: the auctions of the epoch before
    --epoch;
    offset = kAuctionProportion - 1;
  } else if (offset >= 1 + kAuctionProportion) {  // a bid: the epoch's last auction
    offset = kAuctionProportion - 1;
  } else {
    offset -= 1;
  }
  return epoch * kAuctionProportion + offset;
}

int64_t next_base0_person_id(int64_t e, JavaRandom& random) {
  int64_t people = last_base0_person_id(e) + 1;
  int64_t active = std::min(people, kActivePeople);
  return people - active + random.next_long(active + kPersonIdLead);
}

int64_t next_base0_auction_id(int64_t e, JavaRandom& random) {
  int64_t max_auction = last_base0_auction_id(e);
  int64_t min_auction = std::max<int64_t>(max_auction - kInFlightAuctions, 0);
  return min_auction + random.next_long(max_auction - min_auction + 1 + kAuctionIdLead);
}

// Log-uniform on [100, 1e8] cents. (Java's Math.round: floor(x + 0.5).)
int64_t next_price(JavaRandom& random) {
  return static_cast<int64_t>(std::floor(std::pow(10.0, random.next_double() * 6.0) * 100.0 + 0.5));
}

// 3 to max_length - 1 letters, one in 13 `special`, then Java's trim() (leading and trailing
// spaces go). Returns the length written to `out`.
int next_string(JavaRandom& random, int max_length, char* out, char special = ' ') {
  int length = 3 + random.next_int(max_length - 3);
  for (int i = 0; i < length; ++i)
    out[i] = random.next_int(13) == 0 ? special : static_cast<char>('a' + random.next_int(26));
  int begin = 0, end = length;
  while (begin < end && out[begin] == ' ') ++begin;
  while (end > begin && out[end - 1] == ' ') --end;
  std::copy(out + begin, out + end, out);
  return end - begin;
}

std::string base_url(JavaRandom& random) {
  char parts[3][8];
  int lengths[3];
  for (int i = 0; i < 3; ++i) lengths[i] = next_string(random, 5, parts[i], '_');
  std::string url = "https://www.nexmark.com/";
  for (int i = 0; i < 3; ++i) url.append(parts[i], static_cast<std::size_t>(lengths[i])).append("/");
  return url + "item.htm?query=1";
}

// Java's Integer.reverse, then Math.abs (which leaves INT_MIN as it is).
int64_t reversed_channel_id(int32_t k) {
  uint32_t bits = static_cast<uint32_t>(k), reversed = 0;
  for (int i = 0; i < 32; ++i, bits >>= 1) reversed = (reversed << 1) | (bits & 1);
  int32_t value = static_cast<int32_t>(reversed);
  return value == std::numeric_limits<int32_t>::min() ? value : std::abs(static_cast<int64_t>(value));
}

}  // namespace

int64_t JavaRandom::next_long(int64_t n) {
  if (n < std::numeric_limits<int32_t>::max()) return next_int(static_cast<int32_t>(n));
  int64_t v = next_long() % n;
  return v < 0 ? -v : v;
}

std::optional<NexmarkKind> nexmark_kind(const std::string& schema_name) {
  if (schema_name == "Person") return NexmarkKind::person;
  if (schema_name == "Auction") return NexmarkKind::auction;
  if (schema_name == "Bid") return NexmarkKind::bid;
  return std::nullopt;
}

NexmarkKind nexmark_kind_of(uint64_t event) {
  uint64_t r = event % kProportionTotal;
  return r == 0 ? NexmarkKind::person : r < 1 + kAuctionProportion ? NexmarkKind::auction : NexmarkKind::bid;
}

// Strings every event draws from, built once from the seed (the reference builds them once
// per process, from an unseeded random).
struct NexmarkGenerator::Tables {
  std::vector<std::string> names;  // first × last
  std::array<std::string, 4> hot_urls;
  std::vector<std::string> channels, channel_urls;
  std::string pad;  // what `extra` is cut from: 'H' to 'z', six characters per random int
};

NexmarkGenerator::NexmarkGenerator(const NexmarkOptions& options)
    : options_(options), inter_event_delay_us_(1'000'000.0 / static_cast<double>(options.events_per_second)),
      tables_(std::make_unique<Tables>()) {
  for (const char* first : kFirstNames)
    for (const char* last : kLastNames) tables_->names.push_back(std::string(first) + " " + last);
  JavaRandom random(options.seed ^ 0x6E65786D61726BLL);  // ("nexmark")
  for (std::string& url : tables_->hot_urls) url = base_url(random);
  tables_->channels.reserve(kChannels);
  tables_->channel_urls.reserve(kChannels);
  for (int32_t k = 0; k < kChannels; ++k) {
    tables_->channels.push_back("channel-" + std::to_string(k));
    std::string url = base_url(random);
    if (random.next_int(10) > 0) url += "&channel_id=" + std::to_string(reversed_channel_id(k));
    tables_->channel_urls.push_back(std::move(url));
  }
  tables_->pad.reserve(kPadLength + 6);
  while (tables_->pad.size() < kPadLength) {
    int32_t r = random.next_int();
    for (int i = 0; i < 6; ++i, r /= 26) tables_->pad.push_back(static_cast<char>('a' + r % 26));
  }
  tables_->pad.resize(kPadLength);
}

NexmarkGenerator::~NexmarkGenerator() = default;

int64_t NexmarkGenerator::timestamp(uint64_t event) const {
  return kBaseTimeMs + static_cast<int64_t>(static_cast<double>(event) * inter_event_delay_us_) / 1000;
}

JavaRandom NexmarkGenerator::random_for(uint64_t event) const {
  return JavaRandom(static_cast<int64_t>(event + static_cast<uint64_t>(options_.seed) * 0x9E3779B97F4A7C15ULL));
}

// Pads an event of `current_size` bytes to about `average_size`: d = average - current bytes,
// ± 20%.
std::string_view NexmarkGenerator::extra(JavaRandom& random, int64_t current_size, int64_t average_size) const {
  if (current_size > average_size) return {};
  int64_t d = average_size - current_size;
  auto delta = static_cast<int64_t>(std::floor(static_cast<double>(d) * 0.2 + 0.5));
  int64_t size = d - delta + (delta == 0 ? 0 : random.next_int(static_cast<int32_t>(2 * delta)));
  int32_t at = random.next_int(static_cast<int32_t>(kPadLength - static_cast<std::size_t>(size)));
  return std::string_view(tables_->pad).substr(static_cast<std::size_t>(at), static_cast<std::size_t>(size));
}

void NexmarkGenerator::person(uint64_t event, NexmarkPerson& out) const {
  const auto e = static_cast<int64_t>(event);
  JavaRandom random = random_for(event);
  out.id = kFirstPersonId + last_base0_person_id(e);
  out.date_time = timestamp(event);
  int first = random.next_int(static_cast<int32_t>(kFirstNames.size()));
  int last = random.next_int(static_cast<int32_t>(kLastNames.size()));
  out.name = tables_->names[static_cast<std::size_t>(first) * kLastNames.size() + static_cast<std::size_t>(last)];
  int user = next_string(random, 7, out.email);
  out.email[user] = '@';
  int host = next_string(random, 5, out.email + user + 1);
  std::copy_n(".com", 4, out.email + user + 1 + host);
  out.email_length = user + 1 + host + 4;
  for (int group = 0; group < 4; ++group) {
    int digits = random.next_int(10000);
    char* at = out.credit_card + group * 5;
    for (int i = 3; i >= 0; --i, digits /= 10) at[i] = static_cast<char>('0' + digits % 10);
    if (group < 3) at[4] = ' ';
  }
  out.city = kCities[static_cast<std::size_t>(random.next_int(static_cast<int32_t>(kCities.size())))];
  out.state = kStates[static_cast<std::size_t>(random.next_int(static_cast<int32_t>(kStates.size())))];
  int64_t size = 8 + static_cast<int64_t>(out.name.size()) + out.email_length + 19 + static_cast<int64_t>(out.city.size()) +
                 static_cast<int64_t>(out.state.size());
  out.extra = extra(random, size, 200);
}

void NexmarkGenerator::auction(uint64_t event, NexmarkAuction& out) const {
  const auto e = static_cast<int64_t>(event);
  JavaRandom random = random_for(event);
  out.id = kFirstAuctionId + last_base0_auction_id(e);
  out.date_time = timestamp(event);
  out.seller = kFirstPersonId + (random.next_int(kHotSellersRatio) > 0 ? (last_base0_person_id(e) / kHotRatio) * kHotRatio
                                                                       : next_base0_person_id(e, random));
  out.category = kFirstCategoryId + random.next_int(kCategories);
  out.initial_bid = next_price(random);
  // An auction lasts about as long as it takes to open the next 100 (the auctions in flight).
  const uint64_t events_for_auctions = static_cast<uint64_t>(kInFlightAuctions * kProportionTotal / kAuctionProportion);
  int64_t horizon = timestamp(event + events_for_auctions) - out.date_time;
  out.expires = out.date_time + 1 + random.next_long(std::max<int64_t>(horizon * 2, 1));
  out.item_name_length = next_string(random, 20, out.item_name);
  out.description_length = next_string(random, 100, out.description);
  out.reserve = out.initial_bid + next_price(random);
  out.extra = extra(random, 8 + out.item_name_length + out.description_length + 40, 500);
}

void NexmarkGenerator::bid(uint64_t event, NexmarkBid& out) const {
  const auto e = static_cast<int64_t>(event);
  JavaRandom random = random_for(event);
  out.auction = kFirstAuctionId + (random.next_int(kHotAuctionRatio) > 0 ? (last_base0_auction_id(e) / kHotRatio) * kHotRatio
                                                                         : next_base0_auction_id(e, random));
  out.bidder = kFirstPersonId + (random.next_int(kHotBiddersRatio) > 0 ? (last_base0_person_id(e) / kHotRatio) * kHotRatio + 1
                                                                       : next_base0_person_id(e, random));
  out.price = next_price(random);
  out.date_time = timestamp(event);
  if (random.next_int(2) > 0) {
    auto i = static_cast<std::size_t>(random.next_int(static_cast<int32_t>(kHotChannels.size())));
    out.channel = kHotChannels[i];
    out.url = tables_->hot_urls[i];
  } else {
    auto k = static_cast<std::size_t>(random.next_int(kChannels));
    out.channel = tables_->channels[k];
    out.url = tables_->channel_urls[k];
  }
  out.extra = extra(random, 32, 100);
}

namespace {

// One kind's events, as a source's records in its schema's field order (stdlib.cpp).
class NexmarkSource final : public EventGenerator {
 public:
  NexmarkSource(const NexmarkOptions& options, NexmarkKind kind) : generator_(options), kind_(kind) {}

  uint64_t event_count() const override { return generator_.event_count(); }

  uint64_t next_kept(uint64_t n) const override {
    const uint64_t epoch = n / kProportionTotal * kProportionTotal, r = n % kProportionTotal;
    switch (kind_) {
      case NexmarkKind::person: return r == 0 ? n : epoch + kProportionTotal;
      case NexmarkKind::auction: return r == 0 ? n + 1 : r <= 3 ? n : epoch + kProportionTotal + 1;
      case NexmarkKind::bid: return r < 4 ? epoch + 4 : n;
    }
    return n;
  }

  void fill(uint64_t n, flow_cell* cells, const std::vector<bool>& used, Arena& arena) override {
    switch (kind_) {
      case NexmarkKind::person: {
        NexmarkPerson p;
        generator_.person(n, p);
        set_number(cells[0], p.id);
        set_text(cells[1], p.name);
        if (used[2]) set_text(cells[2], arena.copy(p.email, static_cast<std::size_t>(p.email_length)));
        if (used[3]) set_text(cells[3], arena.copy(p.credit_card, sizeof p.credit_card));
        set_text(cells[4], p.city);
        set_text(cells[5], p.state);
        set_number(cells[6], p.date_time);
        set_text(cells[7], p.extra);
        return;
      }
      case NexmarkKind::auction: {
        NexmarkAuction a;
        generator_.auction(n, a);
        set_number(cells[0], a.id);
        if (used[1]) set_text(cells[1], arena.copy(a.item_name, static_cast<std::size_t>(a.item_name_length)));
        if (used[2]) set_text(cells[2], arena.copy(a.description, static_cast<std::size_t>(a.description_length)));
        set_number(cells[3], a.initial_bid);
        set_number(cells[4], a.reserve);
        set_number(cells[5], a.date_time);
        set_number(cells[6], a.expires);
        set_number(cells[7], a.seller);
        set_number(cells[8], a.category);
        set_text(cells[9], a.extra);
        return;
      }
      case NexmarkKind::bid: {
        NexmarkBid b;
        generator_.bid(n, b);
        set_number(cells[0], b.auction);
        set_number(cells[1], b.bidder);
        set_number(cells[2], b.price);
        set_text(cells[3], b.channel);
        set_text(cells[4], b.url);
        set_number(cells[5], b.date_time);
        set_text(cells[6], b.extra);
        return;
      }
    }
  }

  std::size_t fill_rows(uint64_t n, uint64_t end, std::size_t max_rows, std::size_t width, flow_cell* cells, uint64_t* numbers,
                        const std::vector<bool>& used, Arena& arena) override {
    return fill_kept_rows(*this, n, end, max_rows, width, cells, numbers, used, arena);
  }

 private:
  NexmarkGenerator generator_;
  NexmarkKind kind_;
};

}  // namespace

std::unique_ptr<EventGenerator> make_nexmark_source(const NexmarkOptions& options, NexmarkKind kind) {
  return std::make_unique<NexmarkSource>(options, kind);
}

}  // namespace flow

// The YSB generator (io/ysb_generator.h).
#include "io/ysb_generator.h"

#include <array>

namespace flow {

namespace {

constexpr int64_t kBaseTimeMs = 1700000000000;  // 2023-11-14T22:13:20Z, as bench_gen_ysb's files
constexpr std::array<std::string_view, 3> kEventTypes{"view", "click", "purchase"};
constexpr std::array<std::string_view, 5> kAdTypes{"banner", "modal", "sponsored-search", "mail", "mobile"};
constexpr std::array<std::string_view, 4> kAddresses{"1.2.3.4", "10.0.0.7", "172.16.4.2", "192.168.1.9"};

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A uniform choice in [0, n) from 16 random bits (multiply and shift, no division).
int64_t pick(uint64_t bits16, int64_t n) { return static_cast<int64_t>(((bits16 & 0xFFFF) * static_cast<uint64_t>(n)) >> 16); }


// AdEvent { user_id, page_id, ad_id, ad_type, event_type, event_time, ip_address } (stdlib.cpp)
class YsbEvents : public EventGenerator {
 public:
  explicit YsbEvents(const YsbOptions& options) : generator_(options), count_(options.events) {}
  uint64_t event_count() const override { return count_; }
  uint64_t next_kept(uint64_t n) const override { return n; }
  void fill(uint64_t n, flow_cell* cells, const std::vector<bool>&, Arena&) override { fill_one(n, cells); }
  std::size_t fill_rows(uint64_t n, uint64_t end, std::size_t max_rows, std::size_t width, flow_cell* cells, uint64_t* numbers,
                        const std::vector<bool>& used, Arena&) override {
    unsigned mask = 0;  // the fields the program reads: only their cells are written
    for (std::size_t i = 0; i < used.size() && i < 7; ++i) mask |= used[i] ? 1u << i : 0u;
    std::size_t rows = std::min<uint64_t>(max_rows, end > n ? end - n : 0);
    for (std::size_t row = 0; row < rows; ++row) {
      fill_one(n + row, cells + row * width, mask);
      numbers[row] = n + row;
    }
    return rows;
  }

 private:
  void fill_one(uint64_t n, flow_cell* cells, unsigned mask = 0x7F) const {
    YsbEvent e;
    generator_.event(n, e);
    if (mask & 1) set_number(cells[0], e.user_id);
    if (mask & 2) set_number(cells[1], e.page_id);
    if (mask & 4) set_number(cells[2], e.ad_id);
    if (mask & 8) set_text(cells[3], e.ad_type);
    if (mask & 16) set_text(cells[4], e.event_type);
    if (mask & 32) set_number(cells[5], e.event_time);
    if (mask & 64) set_text(cells[6], e.ip_address);
  }

  YsbGenerator generator_;
  uint64_t count_;
};

// Campaign { ad_id, campaign_id }: ad n of the 1000.
class YsbCampaigns : public EventGenerator {
 public:
  uint64_t event_count() const override { return YsbGenerator::kAds; }
  uint64_t next_kept(uint64_t n) const override { return n; }
  void fill(uint64_t n, flow_cell* cells, const std::vector<bool>&, Arena&) override {
    set_number(cells[0], static_cast<int64_t>(n));
    set_number(cells[1], YsbGenerator::kFirstCampaign + static_cast<int64_t>(n) / YsbGenerator::kAdsPerCampaign);
  }
};

}  // namespace

YsbGenerator::YsbGenerator(const YsbOptions& options)
    : options_(options), inter_event_delay_us_(1'000'000.0 / static_cast<double>(options.events_per_second)) {}

int64_t YsbGenerator::timestamp(uint64_t n) const {
  return kBaseTimeMs + static_cast<int64_t>(static_cast<double>(n) * inter_event_delay_us_) / 1000;
}

void YsbGenerator::event(uint64_t n, YsbEvent& out) const {
  uint64_t h = splitmix64(n ^ (static_cast<uint64_t>(options_.seed) * 0xD1B54A32D192ED03ULL));
  out.ad_id = pick(h, kAds);
  out.event_type = kEventTypes[static_cast<std::size_t>(pick(h >> 16, kEventTypes.size()))];
  out.ad_type = kAdTypes[static_cast<std::size_t>(pick(h >> 32, kAdTypes.size()))];
  out.ip_address = kAddresses[(h >> 48) & 3];
  uint64_t who = splitmix64(h);  // (bits of their own: users and pages independent of the rest)
  out.user_id = static_cast<int64_t>(who & 0xFFFFF);  // (about a million users and pages)
  out.page_id = static_cast<int64_t>((who >> 20) & 0xFFFFF);
  out.event_time = timestamp(n);
}

std::unique_ptr<EventGenerator> make_ysb_source(const YsbOptions& options, std::string_view schema) {
  if (schema == "AdEvent") return std::make_unique<YsbEvents>(options);
  if (schema == "Campaign") return std::make_unique<YsbCampaigns>();
  return nullptr;
}

}  // namespace flow

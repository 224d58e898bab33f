// The YSB generator (io/ysb_generator.h).
#include "io/ysb_generator.h"

namespace flow {

namespace {

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
  void fill_one(uint64_t n, flow_cell* cells, unsigned mask = YsbGenerator::kAllFields) const {
    YsbEvent e;
    generator_.event(n, e, mask);
    if (mask & YsbGenerator::kUserId) set_number(cells[0], e.user_id);
    if (mask & YsbGenerator::kPageId) set_number(cells[1], e.page_id);
    if (mask & YsbGenerator::kAdId) set_number(cells[2], e.ad_id);
    if (mask & YsbGenerator::kAdType) set_text(cells[3], e.ad_type);
    if (mask & YsbGenerator::kEventType) set_text(cells[4], e.event_type);
    if (mask & YsbGenerator::kEventTime) set_number(cells[5], e.event_time);
    if (mask & YsbGenerator::kIpAddress) set_text(cells[6], e.ip_address);
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

std::unique_ptr<EventGenerator> make_ysb_source(const YsbOptions& options, std::string_view schema) {
  if (schema == "AdEvent") return std::make_unique<YsbEvents>(options);
  if (schema == "Campaign") return std::make_unique<YsbCampaigns>();
  return nullptr;
}

}  // namespace flow

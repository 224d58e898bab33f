// The hand-written C++ reference for ysb.flow: keep views, look the ad up in the campaign
// table, count per campaign in 10 s tumbling windows (watermark = largest event time, lag 0;
// a window fires once end <= watermark, in order of end, then campaign; records of a fired
// window are dropped; end of input fires the rest). Written for speed: big reads,
// std::from_chars, the ad table as a flat array, a flat counting table per open window.
//   bench_baseline_ysb CAMPAIGNS EVENTS OUTPUT
// or, over the events of std.ysb's generator (flowc's YsbGenerator, the input of
// bench/ysb_generated.flow) and its campaigns, made in memory:
//   bench_baseline_ysb --generate EVENTS OUTPUT
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string_view>
#include <vector>

#include "bench_support.h"
#include "io/ysb_generator.h"

namespace {

constexpr int64_t kSize = 10000;  // 10 s

class Job {
 public:
  explicit Job(std::FILE* out) : out_(out) { out_.text("campaign,window_start,window_end,views\n"); }

  void view(int64_t campaign, int64_t ts) {
    int64_t end = windows_.end_of(ts);
    if (end > watermark_) windows_.at(end).find(campaign).count += 1;
  }
  void advance(int64_t ts) {
    if (ts <= watermark_) return;
    watermark_ = ts;
    fire_until(watermark_);
  }
  bool finish() {
    fire_until(INT64_MAX);
    return out_.finish();
  }

 private:
  void fire_until(int64_t watermark) {
    windows_.fire_until(watermark, [&](const bench::CountSumTable::Slot& s, int64_t start, int64_t end) {
      bench::window_row_prefix(out_, s.key, start, end);
      out_.i64(s.count);
      out_.put('\n');
      out_.line_done();
    });
  }

  bench::TextWriter out_;
  bench::TumblingWindows windows_{kSize, 1 << 8};
  int64_t watermark_ = INT64_MIN;
};

// The next comma-separated field of `line` from `at`.
std::string_view field(std::string_view line, size_t& at) {
  size_t comma = line.find(',', at);
  if (comma == std::string_view::npos) comma = line.size();
  std::string_view f = line.substr(at, comma - at);
  at = comma + 1;
  return f;
}

int64_t number(std::string_view f) {
  int64_t v = 0;
  std::from_chars(f.data(), f.data() + f.size(), v);
  return v;
}

}  // namespace

// The campaign of each ad (-1: none) from the generator's campaigns table (the `table` of
// ysb_generated.flow), as a flat array by ad id: the same join as the CSV job's.
std::vector<int64_t> generated_campaigns(const flow::YsbOptions& options) {
  std::unique_ptr<flow::EventGenerator> table = flow::make_ysb_source(options, "Campaign");
  std::vector<int64_t> campaign_of;
  flow::Arena arena;
  const std::vector<bool> used{true, true};
  flow_cell cells[2];
  auto number = [](const flow_cell& c) { return static_cast<int64_t>(reinterpret_cast<uintptr_t>(c.ptr)); };
  for (uint64_t n = 0; n < table->event_count(); ++n) {
    table->fill(n, cells, used, arena);
    int64_t ad = number(cells[0]);
    if (ad < 0) continue;
    if (campaign_of.size() <= static_cast<size_t>(ad)) campaign_of.resize(static_cast<size_t>(ad) + 1, -1);
    campaign_of[static_cast<size_t>(ad)] = number(cells[1]);
  }
  return campaign_of;
}

// The generator's events: views counted per campaign, the ads looked up in its campaigns table.
int run_generated(const char* count, const char* output) {
  uint64_t events = 0;
  if (!bench::parse_count(count, events)) return 2;
  std::FILE* out = std::fopen(output, "wb");
  if (!out) {
    std::perror(output);
    return 1;
  }
  Job job(out);
  const flow::YsbOptions options{events, 0, 10000};
  const std::vector<int64_t> campaign_of = generated_campaigns(options);
  flow::YsbGenerator generator(options);
  flow::YsbEvent e;
  // The fields read, as the job's source makes only those (users, pages, ad types and
  // addresses are not read).
  const unsigned read = flow::YsbGenerator::kAdId | flow::YsbGenerator::kEventType | flow::YsbGenerator::kEventTime;
  for (uint64_t n = 0; n < events; ++n) {
    generator.event(n, e, read);
    if (e.event_type == "view" && e.ad_id >= 0 && static_cast<size_t>(e.ad_id) < campaign_of.size() &&
        campaign_of[static_cast<size_t>(e.ad_id)] >= 0)
      job.view(campaign_of[static_cast<size_t>(e.ad_id)], e.event_time);
    job.advance(e.event_time);
  }
  return job.finish() ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string_view(argv[1]) == "--generate") return run_generated(argv[2], argv[3]);
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CAMPAIGNS EVENTS OUTPUT\n", argv[0]);
    return 2;
  }
  std::vector<int64_t> campaign_of;  // by ad id; -1: no campaign
  bool header = true;
  bool read_table = bench::for_each_line(argv[1], [&](std::string_view line) {
    if (header || line.empty()) return header = false, true;
    size_t at = 0;
    int64_t ad = number(field(line, at));
    int64_t campaign = number(field(line, at));
    if (ad < 0) return true;
    if (campaign_of.size() <= static_cast<size_t>(ad)) campaign_of.resize(static_cast<size_t>(ad) + 1, -1);
    campaign_of[static_cast<size_t>(ad)] = campaign;
    return true;
  });
  std::FILE* out = std::fopen(argv[3], "wb");
  if (!out) {
    std::perror(argv[3]);
    return 1;
  }
  Job job(out);
  header = true;
  bool read_events = read_table && bench::for_each_line(argv[2], [&](std::string_view line) {
    if (header || line.empty()) return header = false, true;
    size_t at = 0;
    field(line, at);  // user_id
    int64_t ad = number(field(line, at));
    std::string_view type = field(line, at);
    int64_t ts = number(field(line, at));
    if (type == "view" && ad >= 0 && static_cast<size_t>(ad) < campaign_of.size() && campaign_of[static_cast<size_t>(ad)] >= 0)
      job.view(campaign_of[static_cast<size_t>(ad)], ts);
    job.advance(ts);
    return true;
  });
  bool written = job.finish();
  return read_events && written ? 0 : 1;
}

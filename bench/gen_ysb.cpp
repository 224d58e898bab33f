// Writes the inputs of the ysb benchmark: bench_gen_ysb EVENTS PATH writes EVENTS ad events
// (user_id,ad_id,event_type,event_time: 10 000 users, 1000 ads, view/click/purchase, epoch ms
// ascending 1 ms every 10 events, as the program's `watermark lag 0s` needs);
// bench_gen_ysb campaigns PATH writes the table: ads 0..999, ten per campaign.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string_view>

#include "bench_support.h"

int main(int argc, char** argv) {
  int status = 0;
  std::FILE* out = bench::open_output(argc, argv, "EVENTS|campaigns PATH", status);
  if (!out) return status;
  bench::TextWriter csv(out);
  if (std::string_view(argv[1]) == "campaigns") {
    csv.text("ad_id,campaign_id\n");
    for (int64_t ad = 0; ad < 1000; ++ad) {
      csv.i64(ad);
      csv.put(',');
      csv.i64(1000 + ad / 10);
      csv.put('\n');
    }
    return csv.finish() ? 0 : 1;
  }
  long events = std::atol(argv[1]);
  std::mt19937_64 random(11);
  static const std::string_view types[] = {"view", "click", "purchase"};
  csv.text("user_id,ad_id,event_type,event_time\n");
  const int64_t base = 1700000000000;
  for (long i = 0; i < events; ++i) {
    csv.put('u');
    csv.i64(static_cast<int64_t>(random() % 10000));
    csv.put(',');
    csv.i64(static_cast<int64_t>(random() % 1000));
    csv.put(',');
    csv.text(types[random() % 3]);
    csv.put(',');
    csv.i64(base + i / 10);
    csv.put('\n');
    csv.line_done();
  }
  return csv.finish() ? 0 : 1;
}

// Writes a deterministic bids CSV for the benchmarks: bench_gen_bids ROWS PATH.
// ~10k auctions with a skew towards low ids, prices with two decimals, a few channels,
// ascending epoch-millisecond timestamps.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "bench_support.h"

int main(int argc, char** argv) {
  int status = 0;
  std::FILE* out = bench::open_output(argc, argv, "ROWS PATH", status);
  if (!out) return status;
  long rows = std::atol(argv[1]);
  static const char* channels[] = {"apple", "google", "facebook", "baidu", "partner", "direct"};
  std::mt19937_64 random(42);
  bench::TextWriter csv(out);
  csv.text("auction,bidder,price,channel,ts\n");
  int64_t ts = 1700000000000;
  for (long i = 0; i < rows; ++i) {
    // Skew: half the bids go to the first 100 auctions.
    int64_t auction = (random() & 1) ? random() % 100 : random() % 10000;
    int64_t cents = 100 + static_cast<int64_t>(random() % 99900);
    ts += static_cast<int64_t>(random() % 3);
    csv.i64(1000 + auction);
    csv.put(',');
    csv.i64(static_cast<int64_t>(random() % 100000));
    csv.put(',');
    csv.i64(cents / 100);
    csv.put('.');
    csv.put(static_cast<char>('0' + (cents % 100) / 10));
    csv.put(static_cast<char>('0' + cents % 10));
    csv.put(',');
    csv.text(channels[random() % 6]);
    csv.put(',');
    csv.i64(ts);
    csv.put('\n');
    csv.line_done();
  }
  return csv.finish() ? 0 : 1;
}

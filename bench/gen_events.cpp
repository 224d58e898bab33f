// Writes a deterministic keyed event CSV for the window benchmarks: bench_gen_events ROWS PATH.
// 1000 keys (uniform), values 0..999, epoch-millisecond timestamps advancing 1 ms every 10
// events and shuffled back by up to 499 ms, so the input is out of order but never later than
// the benchmarks' 1 s watermark lag: every record counts, whatever the engine's batching.
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
  std::mt19937_64 random(7);
  bench::TextWriter csv(out);
  csv.text("key,value,ts\n");
  const int64_t base = 1700000000000;
  for (long i = 0; i < rows; ++i) {
    csv.i64(static_cast<int64_t>(random() % 1000));
    csv.put(',');
    csv.i64(static_cast<int64_t>(random() % 1000));
    csv.put(',');
    csv.i64(base + i / 10 - static_cast<int64_t>(random() % 500));
    csv.put('\n');
    csv.line_done();
  }
  return csv.finish() ? 0 : 1;
}

// Writes the two inputs of the interval_join benchmark: bench_gen_join left|right ROWS PATH
// (the side and the row count as one argument, e.g. `left:5000000`). Left row i: id i, value
// i % 1000, time 1 ms every 5 rows, up to 400 ms out of order. Right row i: id i, a value, time
// = left time + (i * 7919) % 900 ms, written in the order of i. So every left row has exactly
// one right row within 0 .. 1 s, and neither file is behind by more than the benchmark's 2 s
// watermark lag: no record is late.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "bench_support.h"

int main(int argc, char** argv) {
  int status = 0;
  std::FILE* out = bench::open_output(argc, argv, "left:ROWS|right:ROWS PATH", status);
  if (!out) return status;
  std::string spec = argv[1];
  bool left = spec.rfind("left:", 0) == 0;
  long rows = std::atol(spec.substr(spec.find(':') + 1).c_str());
  std::mt19937_64 random(5);
  bench::TextWriter csv(out);
  csv.text(left ? "id,v,ts\n" : "id,w,ts\n");
  const int64_t base = 1700000000000;
  for (long i = 0; i < rows; ++i) {
    int64_t t = base + i / 5 - static_cast<int64_t>(random() % 400);
    csv.i64(i);
    csv.put(',');
    csv.i64(left ? i % 1000 : (i * 31) % 1000);
    csv.put(',');
    csv.i64(left ? t : t + (i * 7919) % 900);
    csv.put('\n');
    csv.line_done();
  }
  return csv.finish() ? 0 : 1;
}

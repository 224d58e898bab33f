// Writes a deterministic keyed event CSV for the window benchmarks: bench_gen_events ROWS PATH.
// 1000 keys (uniform), values 0..999, epoch-millisecond timestamps advancing 1 ms every 10
// events and shuffled back by up to 499 ms, so the input is out of order but never later than
// the benchmarks' 1 s watermark lag: every record counts, whatever the engine's batching.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s ROWS PATH\n", argv[0]);
    return 2;
  }
  long rows = std::atol(argv[1]);
  std::FILE* out = std::fopen(argv[2], "wb");
  if (!out) {
    std::perror(argv[2]);
    return 1;
  }
  std::mt19937_64 random(7);
  std::string buffer;
  buffer.reserve(1 << 20);
  buffer += "key,value,ts\n";
  char number[32];
  auto append = [&](int64_t v) {
    auto [end, ec] = std::to_chars(number, number + sizeof number, v);
    buffer.append(number, end);
  };
  const int64_t base = 1700000000000;
  for (long i = 0; i < rows; ++i) {
    append(static_cast<int64_t>(random() % 1000));
    buffer += ',';
    append(static_cast<int64_t>(random() % 1000));
    buffer += ',';
    append(base + i / 10 - static_cast<int64_t>(random() % 500));
    buffer += '\n';
    if (buffer.size() > (1 << 20) - 128) {
      std::fwrite(buffer.data(), 1, buffer.size(), out);
      buffer.clear();
    }
  }
  std::fwrite(buffer.data(), 1, buffer.size(), out);
  return std::fclose(out) == 0 ? 0 : 1;
}

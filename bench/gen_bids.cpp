// Writes a deterministic bids CSV for the benchmarks: bench_gen_bids ROWS PATH.
// ~10k auctions with a skew towards low ids, prices with two decimals, a few channels,
// ascending epoch-millisecond timestamps.
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
  static const char* channels[] = {"apple", "google", "facebook", "baidu", "partner", "direct"};
  std::mt19937_64 random(42);
  std::string buffer;
  buffer.reserve(1 << 20);
  buffer += "auction,bidder,price,channel,ts\n";
  int64_t ts = 1700000000000;
  char number[32];
  auto append = [&](int64_t v) {
    auto [end, ec] = std::to_chars(number, number + sizeof number, v);
    buffer.append(number, end);
  };
  for (long i = 0; i < rows; ++i) {
    // Skew: half the bids go to the first 100 auctions.
    int64_t auction = (random() & 1) ? random() % 100 : random() % 10000;
    int64_t cents = 100 + static_cast<int64_t>(random() % 99900);
    ts += static_cast<int64_t>(random() % 3);
    append(1000 + auction);
    buffer += ',';
    append(static_cast<int64_t>(random() % 100000));
    buffer += ',';
    append(cents / 100);
    buffer += '.';
    buffer += static_cast<char>('0' + (cents % 100) / 10);
    buffer += static_cast<char>('0' + cents % 10);
    buffer += ',';
    buffer += channels[random() % 6];
    buffer += ',';
    append(ts);
    buffer += '\n';
    if (buffer.size() > (1 << 20) - 128) {
      std::fwrite(buffer.data(), 1, buffer.size(), out);
      buffer.clear();
    }
  }
  std::fwrite(buffer.data(), 1, buffer.size(), out);
  return std::fclose(out) == 0 ? 0 : 1;
}

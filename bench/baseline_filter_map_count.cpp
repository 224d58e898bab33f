// The hand-written C++ reference for filter_map_count.flow: the same work on the same file,
// written for speed (big reads, fast_float, std::from_chars, a flat open-addressing table, no
// allocation per row). It assumes unquoted fields, which the generator guarantees.
//   bench_baseline_filter_map_count INPUT OUTPUT
#include <fast_float/fast_float.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "bench_support.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s INPUT OUTPUT\n", argv[0]);
    return 2;
  }
  bool header_done = false;
  int auction_col = -1, price_col = -1, channel_col = -1, columns = 0;
  bench::CountSumTable table(1 << 14);
  bool read = bench::for_each_line(argv[1], [&](std::string_view line) {
    if (!header_done) {
      int col = 0;
      size_t start = 0;
      for (size_t i = 0; i <= line.size(); ++i)
        if (i == line.size() || line[i] == ',') {
          std::string_view name = line.substr(start, i - start);
          if (name == "auction") auction_col = col;
          if (name == "price") price_col = col;
          if (name == "channel") channel_col = col;
          ++col;
          start = i + 1;
        }
      columns = col;
      header_done = true;
      return true;
    }
    if (line.empty()) return true;
    int64_t auction = 0;
    double price = 0;
    std::string_view channel;
    const char* f = line.data();
    const char* line_end = f + line.size();
    for (int col = 0; col < columns && f <= line_end; ++col) {
      const char* comma = static_cast<const char*>(std::memchr(f, ',', line_end - f));
      if (!comma) comma = line_end;
      if (col == auction_col) std::from_chars(f, comma, auction);
      else if (col == price_col) fast_float::from_chars(f, comma, price);
      else if (col == channel_col) channel = std::string_view(f, comma - f);
      f = comma + 1;
    }
    if (price > 10.0 && channel != "apple") {
      double scaled = price * 100.0;
      int64_t cents = static_cast<int64_t>(scaled);  // prices are small: no saturation needed
      auto& slot = table.find(auction);
      slot.count += 1;
      slot.total += cents;
    }
    return true;
  });
  if (!read) return 1;

  std::FILE* out = std::fopen(argv[2], "wb");
  if (!out) {
    std::perror(argv[2]);
    return 1;
  }
  std::fputs("auction,n,total\n", out);
  for (const auto& s : table.sorted()) std::fprintf(out, "%lld,%lld,%lld\n", (long long)s.key, (long long)s.count, (long long)s.total);
  return std::fclose(out) == 0 ? 0 : 1;
}

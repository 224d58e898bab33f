// The hand-written C++ reference for filter_map_count.flow: the same work on the same file,
// written for speed (big reads, fast_float, std::from_chars, a flat open-addressing table, no
// allocation per row). It assumes unquoted fields, which the generator guarantees.
//   bench_baseline_filter_map_count INPUT OUTPUT
#include <fast_float/fast_float.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Slot {
  int64_t key;
  int64_t count;
  int64_t total;
  bool used;
};

class Table {
 public:
  Table() : slots_(1 << 14) {}
  Slot& find(int64_t key) {
    if (size_ * 2 >= slots_.size()) grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (!s.used) {
        s = Slot{key, 0, 0, true};
        ++size_;
        return s;
      }
      if (s.key == key) return s;
    }
  }
  std::vector<Slot> sorted() const {
    std::vector<Slot> out;
    for (const Slot& s : slots_)
      if (s.used) out.push_back(s);
    std::sort(out.begin(), out.end(), [](const Slot& a, const Slot& b) { return a.key < b.key; });
    return out;
  }

 private:
  static uint64_t mix(int64_t key) {
    uint64_t x = static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old)
      if (s.used) find(s.key) = s;
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s INPUT OUTPUT\n", argv[0]);
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    std::perror(argv[1]);
    return 1;
  }
  constexpr size_t kChunk = 1 << 22;
  std::vector<char> buffer(kChunk * 2);
  size_t filled = 0;
  bool header_done = false;
  int auction_col = -1, price_col = -1, channel_col = -1, columns = 0;
  Table table;
  for (;;) {
    ssize_t got = read(fd, buffer.data() + filled, buffer.size() - filled);
    if (got < 0) {
      std::perror("read");
      return 1;
    }
    filled += static_cast<size_t>(got);
    bool at_end = got == 0;
    const char* p = buffer.data();
    const char* end = p + filled;
    for (;;) {
      const char* newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (!newline) {
        if (!at_end || p == end) break;
        newline = end;  // a last line without its newline
      }
      std::string_view line(p, newline - p);
      p = newline == end ? end : newline + 1;
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
        continue;
      }
      if (line.empty()) continue;
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
        Slot& slot = table.find(auction);
        slot.count += 1;
        slot.total += cents;
      }
    }
    size_t rest = static_cast<size_t>(end - p);
    std::memmove(buffer.data(), p, rest);
    filled = rest;
    if (at_end) break;
    if (filled == buffer.size()) buffer.resize(buffer.size() * 2);
  }
  close(fd);

  std::FILE* out = std::fopen(argv[2], "wb");
  if (!out) {
    std::perror(argv[2]);
    return 1;
  }
  std::fputs("auction,n,total\n", out);
  for (const Slot& s : table.sorted()) std::fprintf(out, "%lld,%lld,%lld\n", (long long)s.key, (long long)s.count, (long long)s.total);
  return std::fclose(out) == 0 ? 0 : 1;
}

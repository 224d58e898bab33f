// Keyed aggregation: memcomparable key encoding, the hash table (many keys, stable rows,
// sorted emission) and count_distinct sets.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "agg/agg_table.h"
#include "agg/distinct_set.h"
#include "agg/key_buffer.h"

namespace {

std::vector<uint8_t> key_i64(int64_t v) {
  flow_key_buf k;
  flow_key_i64(&k, v);
  return k.bytes;
}

std::vector<uint8_t> key_f64(double v) {
  flow_key_buf k;
  flow_key_f64(&k, v);
  return k.bytes;
}

std::vector<uint8_t> key_str(const std::string& s) {
  flow_key_buf k;
  flow_key_str(&k, s.data(), static_cast<int64_t>(s.size()));
  return k.bytes;
}

// memcmp order with a shorter key first on a common prefix, as the table sorts.
int compare_keys(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c < 0 ? -1 : 1;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

}  // namespace

TEST_CASE("key encoding: i64 byte order equals value order, negatives first") {
  std::vector<int64_t> values = {INT64_MIN, -1000000, -256, -1, 0, 1, 255, 256, 1000000, INT64_MAX};
  for (std::size_t i = 0; i + 1 < values.size(); ++i) {
    CAPTURE(values[i]);
    CHECK(compare_keys(key_i64(values[i]), key_i64(values[i + 1])) < 0);
  }
  CHECK(key_i64(0) == std::vector<uint8_t>{0x80, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("key encoding: f64 byte order equals value order; -0.0 equals 0.0") {
  double inf = std::numeric_limits<double>::infinity();
  std::vector<double> values = {-inf, -1e300, -2.5, -1.0, -1e-300, 0.0, 1e-300, 0.1, 1.0, 3.0, 1e21, inf};
  for (std::size_t i = 0; i + 1 < values.size(); ++i) {
    CAPTURE(values[i]);
    CHECK(compare_keys(key_f64(values[i]), key_f64(values[i + 1])) < 0);
  }
  CHECK(key_f64(-0.0) == key_f64(0.0));
  CHECK(key_f64(std::nan("1")) == key_f64(-std::nan("2")));
  CHECK(compare_keys(key_f64(inf), key_f64(std::nan(""))) < 0);
}

TEST_CASE("key encoding: strings sort by bytes, a prefix first, zero bytes escaped") {
  std::vector<std::string> values = {"",
                                     std::string("\0", 1),
                                     std::string("\0\0", 2),
                                     "a",
                                     std::string("a\0", 2),
                                     std::string("a\0b", 3),
                                     "a\x01",
                                     "ab",
                                     "abc",
                                     "b"};
  for (std::size_t i = 0; i + 1 < values.size(); ++i) {
    CAPTURE(i);
    CHECK(compare_keys(key_str(values[i]), key_str(values[i + 1])) < 0);
  }
  // Composite keys: the first part decides, even when it is a prefix of the other.
  flow_key_buf a, b;
  flow_key_str(&a, "a", 1);
  flow_key_str(&a, "z", 1);
  flow_key_str(&b, "ab", 2);
  flow_key_str(&b, "a", 1);
  CHECK(compare_keys(a.bytes, b.bytes) < 0);
}

TEST_CASE("key encoding: null parts sort before present ones") {
  flow_key_buf null_key, present_key;
  flow_key_null(&null_key);
  flow_key_present(&present_key);
  flow_key_i64(&present_key, INT64_MIN);
  CHECK(compare_keys(null_key.bytes, present_key.bytes) < 0);
  flow_key_reset(&present_key);
  CHECK(present_key.bytes.empty());
  flow_key_bool(&present_key, 1);
  CHECK(present_key.bytes == std::vector<uint8_t>{1});
}

TEST_CASE("hash table: many keys, rows zeroed, stable and aligned, found again") {
  flow_agg_table table(12);  // rounded up to 16
  std::vector<uint8_t*> rows;
  flow_key_buf k;
  const int64_t n = 100000;
  for (int64_t i = 0; i < n; ++i) {
    flow_key_reset(&k);
    flow_key_i64(&k, i * 7919 % n);
    int32_t is_new = -1;
    uint8_t* row = flow_agg_upsert(&table, &k, &is_new);
    REQUIRE(is_new == 1);
    CHECK(reinterpret_cast<uintptr_t>(row) % 8 == 0);
    CHECK(std::all_of(row, row + 16, [](uint8_t b) { return b == 0; }));
    std::memcpy(row, &i, sizeof i);  // remember the insertion number in the row
    rows.push_back(row);
  }
  CHECK(table.size() == static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    flow_key_reset(&k);
    flow_key_i64(&k, i * 7919 % n);
    int32_t is_new = -1;
    uint8_t* row = flow_agg_upsert(&table, &k, &is_new);
    CHECK(is_new == 0);
    CHECK(row == rows[static_cast<std::size_t>(i)]);  // rows never moved while the table grew
  }
}

TEST_CASE("hash table: emission is sorted by key bytes") {
  flow_agg_table table(16);
  std::vector<std::string> words = {"pear", "apple", "fig", "apple", "banana", "app", "", "fig"};
  flow_key_buf k;
  for (const std::string& w : words) {
    flow_key_reset(&k);
    flow_key_str(&k, w.data(), static_cast<int64_t>(w.size()));
    int32_t is_new;
    uint8_t* row = flow_agg_upsert(&table, &k, &is_new);
    if (is_new) {
      flow_str copy;
      flow_agg_copy_str(&table, w.data(), static_cast<int64_t>(w.size()), &copy);
      std::memcpy(row, &copy, sizeof copy);  // the row keeps its word
    }
  }
  std::vector<std::string> emitted;
  for (uint8_t* row : table.rows_in_key_order()) {
    flow_str word;
    std::memcpy(&word, row, sizeof word);
    emitted.emplace_back(word.ptr, static_cast<std::size_t>(word.len));
  }
  CHECK(emitted == std::vector<std::string>{"", "app", "apple", "banana", "fig", "pear"});

  // Negative and positive integer keys come out in numeric order.
  flow_agg_table numbers(8);
  std::vector<int64_t> values = {5, -3, 1000, -1000, 0, 42, -1};
  for (int64_t v : values) {
    flow_key_reset(&k);
    flow_key_i64(&k, v);
    int32_t is_new;
    std::memcpy(flow_agg_upsert(&numbers, &k, &is_new), &v, 8);
  }
  std::vector<int64_t> order;
  for (uint8_t* row : numbers.rows_in_key_order()) {
    int64_t v;
    std::memcpy(&v, row, 8);
    order.push_back(v);
  }
  std::sort(values.begin(), values.end());
  CHECK(order == values);
}

TEST_CASE("hash table: key order of many raw keys equals sorting their bytes (radix and tie-break paths)") {
  // Small numbers (high bytes shared), keys sharing long prefixes, keys that are prefixes of
  // others, empty and zero-padded-looking keys; sizes below and above the radix threshold.
  std::mt19937_64 random(11);
  for (std::size_t count : {3, 100, 127, 128, 129, 1000, 5000}) {
    CAPTURE(count);
    flow_agg_table table(8);
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < count; ++i) {
      std::string key;
      switch (random() % 4) {
        case 0: {  // an i64 key of a small number
          uint64_t be = __builtin_bswap64((random() % 1000) ^ (uint64_t{1} << 63));
          key.assign(reinterpret_cast<const char*>(&be), 8);
          break;
        }
        case 1:
          key = "common-prefix-" + std::to_string(random() % 300);
          break;
        case 2:
          key = std::string(random() % 12, static_cast<char>(random() % 3));  // zeros, ones, twos
          break;
        default:
          key = std::string(random() % 10, static_cast<char>(0xF0 + random() % 16));
      }
      int32_t is_new;
      table.upsert(reinterpret_cast<const uint8_t*>(key.data()), key.size(), &is_new);
      if (is_new) keys.push_back(key);
    }
    std::sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
      int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
      return c != 0 ? c < 0 : a.size() < b.size();
    });
    std::vector<std::string> ordered;
    for (const auto& entry : table.entries_in_key_order()) ordered.emplace_back(entry.key);
    CHECK(ordered == keys);
    // Neighbours compare as their bytes do.
    const auto& entries = table.entries_in_key_order();
    for (std::size_t i = 1; i < entries.size(); ++i) {
      CHECK(entries[i - 1] < entries[i]);
      CHECK_FALSE(entries[i] < entries[i - 1]);
      CHECK_FALSE(entries[i - 1].same_key(entries[i]));
      CHECK(entries[i].same_key(entries[i]));
    }
  }
}

TEST_CASE("count_distinct sets count each i64 and string once") {
  flow_agg_table table(8);
  flow_distinct_set* ints = flow_distinct_new(&table);
  std::mt19937_64 random(7);
  std::vector<int64_t> seen;
  for (int i = 0; i < 20000; ++i) {
    int64_t v = static_cast<int64_t>(random() % 5000) - 2500;
    if (i % 1000 == 0) v = INT64_MIN;  // the value the set uses internally for free slots
    flow_distinct_add_i64(ints, v);
    seen.push_back(v);
  }
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  CHECK(flow_distinct_count(ints) == static_cast<int64_t>(seen.size()));

  flow_distinct_set* strings = flow_distinct_new(&table);
  std::string buffer;
  for (int i = 0; i < 3000; ++i) {
    buffer = "user-" + std::to_string(i % 700);
    flow_distinct_add_str(strings, buffer.data(), static_cast<int64_t>(buffer.size()));
    buffer.assign(buffer.size(), '#');  // the set must have copied the text
  }
  flow_distinct_add_str(strings, "", 0);
  flow_distinct_add_str(strings, "", 0);
  CHECK(flow_distinct_count(strings) == 701);
}

TEST_CASE("count_distinct sets: values counted elsewhere add to the count and pass on in a merge") {
  flow_agg_table table(8);
  flow_distinct_set* owner = flow_distinct_new(&table);
  flow_distinct_add_i64(owner, 1);
  flow_distinct_add_i64(owner, 2);
  flow::Arena storage;
  flow_distinct_set partial(storage);  // another instance's set of other values, by its size
  partial.count_elsewhere(5);
  flow_distinct_merge(owner, &partial);
  CHECK(flow_distinct_count(owner) == 7);
  flow_distinct_add_i64(owner, 2);  // (a value it holds itself still counts once)
  flow_distinct_add_i64(owner, 3);
  CHECK(flow_distinct_count(owner) == 8);
  flow_distinct_set* copy = flow_distinct_new(&table);
  flow_distinct_merge(copy, owner);
  CHECK(flow_distinct_count(copy) == 8);
}

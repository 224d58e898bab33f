// Unit tests of runtime/state: the heap backend behind the StateBackend interface, and the
// encoding of (key group, key, namespace) whose byte order is the order of its parts.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <tuple>
#include <vector>

#include "state/state_backend.h"

namespace {

// A fixed-width (self-delimiting) key, as the memcomparable encoding of one i64 gives.
std::string key8(uint64_t v) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xFF);
  return k;
}

}  // namespace

TEST_CASE("state: values are created zeroed, found, kept in place and removed") {
  auto backend = flow::make_heap_state_backend();
  flow::StateTable& table = backend->table("window-0", 16);
  bool created = false;
  uint8_t* v = table.get_or_create(3, "k", 100, &created);
  CHECK(created);
  CHECK(std::all_of(v, v + 16, [](uint8_t b) { return b == 0; }));
  v[0] = 42;
  CHECK(table.get_or_create(3, "k", 100, &created) == v);
  CHECK_FALSE(created);
  CHECK(table.find(3, "k", 101) == nullptr);
  CHECK(table.find(4, "k", 100) == nullptr);
  // Many more entries: the first value does not move.
  for (int i = 0; i < 20000; ++i) table.get_or_create(static_cast<uint32_t>(i % 128), key8(i), i, nullptr);
  CHECK(table.find(3, "k", 100) == v);
  CHECK(v[0] == 42);
  CHECK(table.remove(3, "k", 100));
  CHECK_FALSE(table.remove(3, "k", 100));
  CHECK(table.size() == 20000);
  CHECK(&backend->table("window-0", 16) == &table);
  CHECK(&backend->table("join-1", 8) != &table);
}

TEST_CASE("state: iteration follows key group, then key, then namespace (negative first)") {
  std::mt19937_64 random(3);
  auto backend = flow::make_heap_state_backend();
  flow::StateTable& table = backend->table("t", 8);
  std::vector<std::tuple<uint32_t, std::string, int64_t>> expected;
  for (int i = 0; i < 500; ++i) {
    uint32_t group = static_cast<uint32_t>(random() % 128);
    std::string key = key8(random() % 50);
    int64_t ns = static_cast<int64_t>(random() % 2000) - 1000;
    bool created = false;
    table.get_or_create(group, key, ns, &created);
    if (created) expected.emplace_back(group, key, ns);
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> visited;
  table.for_each([&](std::string_view address, const uint8_t*) { visited.emplace_back(address); });
  REQUIRE(visited.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    auto [group, key, ns] = expected[i];
    CHECK(visited[i] == flow::encode_state_key(group, key, ns));
  }
}

TEST_CASE("state: key groups are stable and within max parallelism") {
  CHECK(flow::key_group_of("auction-17") == flow::key_group_of("auction-17"));
  for (int i = 0; i < 1000; ++i) {
    CHECK(flow::key_group_of(key8(i)) < flow::kDefaultMaxParallelism);
    CHECK(flow::key_group_of(key8(i), 7) < 7u);
  }
  std::string encoded = flow::encode_state_key(0x0102, "ab", -1);
  CHECK(encoded.size() == 2 + 2 + 8);
  CHECK(encoded.substr(0, 4) == std::string("\x01\x02" "ab", 4));
  CHECK(static_cast<uint8_t>(encoded[4]) == 0x7F);  // -1 with the sign bit flipped
}

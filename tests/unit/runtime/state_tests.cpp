// Unit tests of runtime/state: the heap backend behind the StateBackend interface, and the
// encoding of (key group, key, namespace) whose byte order is the order of its parts.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
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

TEST_CASE("state: rows are created zeroed per namespace, kept in place, and dropped by namespace") {
  auto backend = flow::make_heap_state_backend();
  flow::StateTable& table = backend->table("window-0", 16);
  int32_t is_new = 0;
  std::string k = key8(7);
  auto* key = reinterpret_cast<const uint8_t*>(k.data());
  uint8_t* v = table.rows(100).upsert(key, k.size(), &is_new);
  CHECK(is_new == 1);
  CHECK(std::all_of(v, v + 16, [](uint8_t b) { return b == 0; }));
  v[0] = 42;
  CHECK(table.rows(100).upsert(key, k.size(), &is_new) == v);
  CHECK(is_new == 0);
  CHECK(table.find_rows(101) == nullptr);
  // Many more rows in other namespaces: the first row does not move.
  for (int i = 0; i < 20000; ++i) {
    std::string other = key8(static_cast<uint64_t>(i));
    table.rows(i % 10).upsert(reinterpret_cast<const uint8_t*>(other.data()), other.size(), &is_new);
  }
  CHECK(table.rows(100).upsert(key, k.size(), &is_new) == v);
  CHECK(v[0] == 42);
  CHECK(table.size() == 20001);
  CHECK(table.namespaces() == 11);
  table.drop(100);
  CHECK(table.find_rows(100) == nullptr);
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
    std::string key = key8(random() % 50);
    int64_t ns = static_cast<int64_t>(random() % 2000) - 1000;
    int32_t is_new = 0;
    table.rows(ns).upsert(reinterpret_cast<const uint8_t*>(key.data()), key.size(), &is_new);
    if (is_new) expected.emplace_back(flow::key_group_of(key), key, ns);
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

namespace {

std::vector<int64_t> values_of(flow::ListStateTable::Records records) {
  std::vector<int64_t> out;
  uint8_t* at = records.first;
  for (int64_t i = 0; i < records.count; ++i, at = flow::ListStateTable::next(at)) {
    int64_t v;
    std::memcpy(&v, at, sizeof v);
    out.push_back(v);
  }
  return out;
}

void append_value(flow::ListStateTable& t, int64_t ns, const std::string& key, int64_t v) {
  uint8_t* room = t.append(ns, key);
  for (int64_t i = 0; i < t.record_size(); ++i) CHECK(room[i] == 0);
  std::memcpy(room, &v, sizeof v);
}

}  // namespace

TEST_CASE("list state: records per key and namespace in append order, keys in order, drop frees a namespace") {
  auto backend = flow::make_heap_state_backend();
  flow::ListStateTable& t = backend->list_table("join", 16);
  CHECK(&backend->list_table("join", 16) == &t);
  CHECK(t.record_size() == 16);
  append_value(t, 5, key8(2), 20);
  append_value(t, 5, key8(1), 10);
  append_value(t, 5, key8(2), 21);
  append_value(t, -3, key8(2), 99);
  CHECK(values_of(t.find(5, key8(2))) == std::vector<int64_t>{20, 21});
  CHECK(values_of(t.find(5, key8(1))) == std::vector<int64_t>{10});
  CHECK(values_of(t.find(-3, key8(2))) == std::vector<int64_t>{99});
  CHECK(t.find(5, key8(3)).count == 0);
  CHECK(t.find(7, key8(1)).count == 0);
  CHECK(t.size() == 4);
  CHECK(t.namespaces() == 2);
  std::vector<std::string> keys;
  t.for_each_key(5, [&](std::string_view key, flow::ListStateTable::Records) { keys.emplace_back(key); });
  CHECK(keys == std::vector<std::string>{key8(1), key8(2)});
  flow_str copy = t.copy_string(5, "abc", 3);
  CHECK(std::string(copy.ptr, 3) == "abc");
  t.drop(5);
  CHECK(t.size() == 1);
  CHECK(t.namespaces() == 1);
  CHECK(t.find(5, key8(2)).count == 0);
  // A dropped namespace's storage is reused, zeroed, by the next one.
  append_value(t, 6, key8(2), 7);
  CHECK(values_of(t.find(6, key8(2))) == std::vector<int64_t>{7});
  CHECK(values_of(t.find(-3, key8(2))) == std::vector<int64_t>{99});
}

TEST_CASE("list state: many keys grow the index without losing records") {
  auto backend = flow::make_heap_state_backend();
  flow::ListStateTable& t = backend->list_table("many", 8);
  for (int64_t i = 0; i < 5000; ++i) append_value(t, 0, key8(static_cast<uint64_t>(i % 1700)), i);
  CHECK(t.size() == 5000);
  for (int64_t k = 0; k < 1700; k += 97) {
    std::vector<int64_t> expected;
    for (int64_t i = k; i < 5000; i += 1700) expected.push_back(i);
    CHECK(values_of(t.find(0, key8(static_cast<uint64_t>(k)))) == expected);
  }
}

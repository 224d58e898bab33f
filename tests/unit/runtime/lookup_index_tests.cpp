// Unit tests of a lookup table's dense index (flow_lookup_dense, abi.h): generated code reads it
// instead of calling flow_lookup_find, so it must find exactly what flow_lookup_find finds.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "join/join_operator.h"
#include "state/state_backend.h"

namespace {

// The encoded key of an i64 (agg/key_buffer.h): big-endian with the sign bit flipped.
std::string encoded(int64_t v) {
  uint64_t bits = __builtin_bswap64(static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
  return std::string(reinterpret_cast<const char*>(&bits), 8);
}

void insert(flow_lookup& l, int64_t key, int64_t value) {
  flow_state_owner* owner = nullptr;
  std::string k = encoded(key);
  uint8_t* room = flow_lookup_insert(&l, reinterpret_cast<const uint8_t*>(k.data()), 8, &owner);
  std::memcpy(room, &value, 8);
}

// The values of `key`'s records as flow_lookup_find gives them.
std::vector<int64_t> found(flow_lookup& l, int64_t key) {
  std::string k = encoded(key);
  int64_t count = 0;
  const uint8_t* record = flow_lookup_find(&l, reinterpret_cast<const uint8_t*>(k.data()), 8, &count);
  std::vector<int64_t> values;
  for (int64_t i = 0; i < count; ++i, record = flow::ListStateTable::next(record)) {
    int64_t v;
    std::memcpy(&v, record, 8);
    values.push_back(v);
  }
  return values;
}

// The same through the dense index, as generated code reads it: false when the key is outside it.
bool found_dense(const flow_lookup_dense& d, int64_t key, std::vector<int64_t>& values) {
  std::string k = encoded(key);
  uint64_t bits;
  std::memcpy(&bits, k.data(), 8);
  uint64_t at = __builtin_bswap64(bits) - d.low;
  if (at >= d.span) return false;
  values.clear();
  const uint8_t* record = d.entries[at].first;
  for (int64_t i = 0; i < d.entries[at].count; ++i, record = flow::ListStateTable::next(record)) {
    int64_t v;
    std::memcpy(&v, record, 8);
    values.push_back(v);
  }
  return true;
}

}  // namespace

TEST_CASE("lookup index: ids close together are indexed densely and found as flow_lookup_find finds them") {
  auto backend = flow::make_heap_state_backend();
  flow_lookup l(backend->list_table("lookup-0", 8), true);
  const flow_lookup_dense& dense = *flow_lookup_dense_index(&l);
  for (int64_t id = -5; id < 95; id += 2) insert(l, id, id * 10);  // every other id, negatives too
  insert(l, 7, 71);                                                // a second record of 7
  CHECK(dense.span == 0);  // built at the first lookup
  CHECK(found(l, 7) == std::vector<int64_t>{70, 71});
  REQUIRE(dense.span == 99);  // -5 .. 93
  for (int64_t id = -20; id < 120; ++id) {
    std::vector<int64_t> values;
    bool inside = found_dense(dense, id, values);
    CHECK(inside == (id >= -5 && id <= 93));
    if (inside) CHECK(values == found(l, id));
    else CHECK(found(l, id).empty());
  }
  // A record inserted later (a restore) drops the index until the next lookup rebuilds it.
  insert(l, 150, 1500);
  CHECK(dense.span == 0);
  CHECK(found(l, 150) == std::vector<int64_t>{1500});
  CHECK(dense.span == 156);
  std::vector<int64_t> values;
  CHECK(found_dense(dense, 150, values));
  CHECK(values == std::vector<int64_t>{1500});
}

TEST_CASE("lookup index: sparse keys get no dense index, and are still found") {
  auto backend = flow::make_heap_state_backend();
  flow_lookup l(backend->list_table("lookup-0", 8), true);
  for (int64_t id = 0; id < 100; ++id) insert(l, id * 1000, id);
  CHECK(found(l, 5000) == std::vector<int64_t>{5});
  CHECK(flow_lookup_dense_index(&l)->span == 0);
  CHECK(found(l, 5001).empty());
  CHECK(found(l, 99000) == std::vector<int64_t>{99});
}

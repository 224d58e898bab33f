// Unit tests of state snapshots: rows with strings and count_distinct sets, and join records
// with strings, survive snapshot and restore into a new backend, namespaces, keys and record
// order included; every damaged or truncated snapshot is refused without a crash.
#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <string>

#include "agg/agg_table.h"
#include "checkpoint/state_snapshot.h"

namespace {

// A row as the compiler might lay one out: a string (first), a count_distinct set, a count.
struct Row {
  flow_str first;
  flow_distinct_set* distinct;
  int64_t count;
};
const flow::RowLayout kRowLayout{{offsetof(Row, first)}, {offsetof(Row, distinct)}};

void put_row(flow::StateTable& t, int64_t ns, const std::string& key, const std::string& first,
             std::initializer_list<int64_t> numbers, std::initializer_list<const char*> strings, int64_t count) {
  flow_agg_table& rows = t.rows(ns);
  int32_t is_new = 0;
  auto* row = reinterpret_cast<Row*>(rows.upsert(reinterpret_cast<const uint8_t*>(key.data()), key.size(), &is_new));
  std::string_view copy = rows.storage().copy(first.data(), first.size());
  row->first = flow_str{copy.data(), static_cast<int64_t>(copy.size())};
  row->distinct = rows.new_distinct_set();
  for (int64_t v : numbers) row->distinct->add_i64(v);
  for (const char* s : strings) row->distinct->add_str(s, std::strlen(s));
  row->count = count;
}

// Everything a row says, as text.
std::map<std::string, std::string> contents(const flow::StateTable& t) {
  std::map<std::string, std::string> out;
  t.for_each([&](std::string_view address, const uint8_t* bytes) {
    const auto* row = reinterpret_cast<const Row*>(bytes);
    std::string set;
    row->distinct->for_each_i64([&](int64_t v) { set += std::to_string(v) + ";"; });
    row->distinct->for_each_str([&](std::string_view s) { set += std::string(s) + ";"; });
    out[std::string(address)] = std::string(row->first.ptr, static_cast<std::size_t>(row->first.len)) + "|" +
                                std::to_string(row->distinct->count()) + "|" + set + "|" + std::to_string(row->count);
  });
  return out;
}

}  // namespace

TEST_CASE("state snapshot: rows with strings and sets round-trip, and damage is refused") {
  auto backend = flow::make_heap_state_backend();
  flow::StateTable& t = backend->table("window-0", sizeof(Row));
  put_row(t, 1000, "k1", "apple", {1, 2, INT64_MIN}, {"x"}, 3);
  put_row(t, 1000, "k2", "", {}, {}, 0);
  put_row(t, -5000, "k1", "pear", {7}, {"y", "z"}, 9);
  std::string snapshot;
  flow::snapshot_rows(t, kRowLayout, snapshot);

  auto fresh = flow::make_heap_state_backend();
  flow::StateTable& restored = fresh->table("window-0", sizeof(Row));
  std::string error;
  REQUIRE(flow::restore_rows(snapshot, kRowLayout, restored, error));
  CHECK(contents(restored) == contents(t));
  CHECK(restored.namespaces() == 2);
  CHECK(restored.size() == 3);
  // The restored strings live in the new table, not the old one.
  backend.reset();
  CHECK(contents(restored).size() == 3);

  for (std::size_t cut = 0; cut < snapshot.size(); ++cut) {
    auto scratch = flow::make_heap_state_backend();
    std::string e;
    CHECK_FALSE(flow::restore_rows(std::string_view(snapshot).substr(0, cut), kRowLayout,
                                   scratch->table("w", sizeof(Row)), e));
    CHECK_FALSE(e.empty());
  }
  auto other = flow::make_heap_state_backend();
  CHECK_FALSE(flow::restore_rows(snapshot, kRowLayout, other->table("w", 8), error));
  CHECK(error == "state snapshot rows have 32 bytes, the table's 8");
  CHECK_FALSE(flow::restore_rows(snapshot + "x", kRowLayout, other->table("v", sizeof(Row)), error));
  CHECK(error == "trailing bytes after a state snapshot");
}

TEST_CASE("state snapshot: join records keep their order per key and their strings") {
  auto backend = flow::make_heap_state_backend();
  flow::ListStateTable& t = backend->list_table("join-0-left", 24);  // { i64 time, flow_str name }
  const flow::RowLayout layout{{8}, {}};
  auto add = [&](int64_t ns, const std::string& key, int64_t time, const std::string& name) {
    uint8_t* record = t.append(ns, key);
    std::memcpy(record, &time, 8);
    flow_str s = t.copy_string(ns, name.data(), static_cast<int64_t>(name.size()));
    std::memcpy(record + 8, &s, sizeof s);
  };
  add(2000, "b", 2100, "second");
  add(2000, "a", 2050, "first");
  add(2000, "b", 2200, "third");
  add(0, "a", 10, "early");
  std::string snapshot;
  flow::snapshot_records(t, layout, snapshot);

  auto fresh = flow::make_heap_state_backend();
  flow::ListStateTable& restored = fresh->list_table("join-0-left", 24);
  std::string error;
  REQUIRE(flow::restore_records(snapshot, layout, restored, error));
  backend.reset();
  auto listing = [&](int64_t ns, const std::string& key) {
    std::string out;
    flow::ListStateTable::Records records = restored.find(ns, key);
    uint8_t* at = records.first;
    for (int64_t i = 0; i < records.count; ++i, at = flow::ListStateTable::next(at)) {
      int64_t time;
      flow_str name;
      std::memcpy(&time, at, 8);
      std::memcpy(&name, at + 8, sizeof name);
      out += std::to_string(time) + ":" + std::string(name.ptr, static_cast<std::size_t>(name.len)) + " ";
    }
    return out;
  };
  CHECK(listing(2000, "b") == "2100:second 2200:third ");
  CHECK(listing(2000, "a") == "2050:first ");
  CHECK(listing(0, "a") == "10:early ");
  CHECK(restored.size() == 4);
  CHECK(restored.namespace_ids() == std::vector<int64_t>{0, 2000});
  for (std::size_t cut = 0; cut < snapshot.size(); cut += 3) {
    auto scratch = flow::make_heap_state_backend();
    std::string e;
    CHECK_FALSE(flow::restore_records(std::string_view(snapshot).substr(0, cut), layout, scratch->list_table("x", 24), e));
  }
}

TEST_CASE("state snapshot: a full snapshot plus the deltas of the rows changed since restore the table") {
  flow_agg_table table(16);  // { i64 count, i64 sum }
  auto put = [&](const std::string& key, int64_t add) {
    int32_t is_new = 0;
    uint8_t* row = table.upsert(reinterpret_cast<const uint8_t*>(key.data()), key.size(), &is_new);
    int64_t v[2];
    std::memcpy(v, row, 16);
    v[0] += 1;
    v[1] += add;
    std::memcpy(row, v, 16);
  };
  for (int i = 0; i < 1000; ++i) put("key" + std::to_string(i), i);
  flow::RowLayout layout;
  std::string full, delta1, delta2;
  flow::snapshot_agg_table(table, layout, full);
  table.track_changes();
  CHECK(table.changed() == 0);
  put("key7", 1);
  put("key7", 1);
  put("new-a", 5);
  flow::snapshot_agg_changes(table, layout, delta1);
  CHECK(table.changed() == 2);
  table.clear_changes();
  put("key999", 3);
  put("new-a", 1);
  flow::snapshot_agg_changes(table, layout, delta2);
  CHECK(delta1.size() < full.size() / 100);

  flow_agg_table restored(16);
  std::string error;
  REQUIRE(flow::restore_agg_table(full, layout, restored, error));
  REQUIRE(flow::apply_agg_changes(delta1, layout, restored, error));
  REQUIRE(flow::apply_agg_changes(delta2, layout, restored, error));
  auto rows = [](const flow_agg_table& t) {
    std::map<std::string, std::string> out;
    t.for_each_entry([&](std::string_view key, const uint8_t* row) { out[std::string(key)] = std::string(reinterpret_cast<const char*>(row), 16); });
    return out;
  };
  CHECK(rows(restored) == rows(table));
  CHECK_FALSE(flow::apply_agg_changes(full, layout, restored, error));  // a full snapshot is not a delta
  CHECK(error == "not a state snapshot");
}

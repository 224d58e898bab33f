// Unit tests of the two backends' incremental checkpoints. RocksDB: what a checkpoint holds is
// exactly the tables' contents at that moment (rows with strings and sets, records in order),
// including changes made through a namespace handed out before the previous checkpoint and
// namespaces dropped since; later checkpoints share the SST files of earlier ones; a restore
// into a new backend gives back the same tables. The heap backend of a checkpointing job: the
// same through its chain of snapshots (a full one, then changes), which a savepoint leaves
// alone and a restore refuses when damaged or out of order.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agg/agg_table.h"
#include "state/state_backend.h"
#include "test_support.h"

namespace {

struct Row {
  flow_str name;
  int64_t count;
};
const flow::RowLayout kLayout{{offsetof(Row, name)}, {}};

Row* upsert(flow_agg_table& rows, const std::string& key) {
  int32_t is_new = 0;
  return reinterpret_cast<Row*>(rows.upsert(reinterpret_cast<const uint8_t*>(key.data()), key.size(), &is_new));
}

void set_row(flow_agg_table& rows, const std::string& key, const std::string& name, int64_t count) {
  Row* row = upsert(rows, key);
  std::string_view copy = rows.storage().copy(name.data(), name.size());
  row->name = flow_str{copy.data(), static_cast<int64_t>(copy.size())};
  row->count = count;
}

std::map<std::string, std::string> contents(const flow::StateTable& t) {
  std::map<std::string, std::string> out;
  t.for_each([&](std::string_view address, const uint8_t* bytes) {
    const auto* row = reinterpret_cast<const Row*>(bytes);
    out[std::string(address)] = std::string(row->name.ptr, static_cast<std::size_t>(row->name.len)) + "|" + std::to_string(row->count);
  });
  return out;
}

std::string records_of(const flow::ListStateTable& t, int64_t ns, const std::string& key) {
  std::string out;
  flow::ListStateTable::Records found = t.find(ns, key);
  uint8_t* at = found.first;
  for (int64_t i = 0; i < found.count; ++i, at = flow::ListStateTable::next(at)) {
    flow_str s;
    std::memcpy(&s, at, sizeof s);
    out += std::string(s.ptr, static_cast<std::size_t>(s.len)) + ";";
  }
  return out;
}

void append(flow::ListStateTable& t, int64_t ns, const std::string& key, const std::string& text) {
  uint8_t* record = t.append(ns, key);
  flow_str s = t.copy_string(ns, text.data(), static_cast<int64_t>(text.size()));
  std::memcpy(record, &s, sizeof s);
}

std::set<std::string> sst_files(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".sst") out.insert(e.path().filename().string());
  return out;
}

}  // namespace

TEST_CASE("rocksdb backend: a checkpoint holds the tables as they were, and restores into a new backend") {
  flow_test::TempDir dir;
  std::string error;
  auto backend = flow::make_rocksdb_state_backend(dir.file("db"), error);
  REQUIRE_MESSAGE(backend, error);
  flow::PersistentState* db = backend->persistent();
  REQUIRE(db);
  const flow::RowLayout record_layout{{0}, {}};
  flow::StateTable& t = backend->table("window-0", sizeof(Row), &kLayout);
  flow::ListStateTable& l = backend->list_table("join-0-left", sizeof(flow_str), &record_layout);
  CHECK(t.kept_by_backend());

  flow_agg_table& slice = t.rows(1000);  // held on to, as the slice windows cache it
  set_row(slice, "a", "apple", 1);
  set_row(slice, "b", "banana", 2);
  set_row(t.rows(2000), "a", "avocado", 3);
  set_row(t.rows(3000), "c", "cherry", 4);
  append(l, 7, "k", "first");
  append(l, 7, "k", "second");
  append(l, 8, "k", "other");
  REQUIRE(db->checkpoint(dir.file("chk-1"), error));
  std::set<std::string> first_files = sst_files(dir.file("chk-1"));

  // After the checkpoint: an update through the held namespace, a dropped namespace, a new
  // record, and a record changed in place after find().
  set_row(slice, "a", "apricot", 10);
  t.drop(3000);
  append(l, 7, "k", "third");
  l.drop(8);
  flow::ListStateTable::Records found = l.find(7, "k");
  flow_str changed = l.copy_string(7, "FIRST", 5);
  std::memcpy(found.first, &changed, sizeof changed);
  std::map<std::string, std::string> expected = contents(t);
  REQUIRE(db->checkpoint(dir.file("chk-2"), error));
  std::set<std::string> second_files = sst_files(dir.file("chk-2"));
  bool shares = false;
  for (const std::string& f : first_files) shares = shares || second_files.count(f) > 0;
  CHECK(shares);  // the second checkpoint adds files, it does not rewrite the first's

  auto fresh = flow::make_rocksdb_state_backend(dir.file("db2"), error);
  REQUIRE_MESSAGE(fresh, error);
  flow::StateTable& t2 = fresh->table("window-0", sizeof(Row), &kLayout);
  flow::ListStateTable& l2 = fresh->list_table("join-0-left", sizeof(flow_str), &record_layout);
  REQUIRE_MESSAGE(fresh->persistent()->restore(dir.file("chk-2"), error), error);
  CHECK(contents(t2) == expected);
  CHECK(contents(t2).size() == 3);
  CHECK(t2.find_rows(3000) == nullptr);
  CHECK(records_of(l2, 7, "k") == "FIRST;second;third;");
  CHECK(records_of(l2, 8, "k") == "");
  CHECK(l2.namespace_ids() == std::vector<int64_t>{7});
}

TEST_CASE("rocksdb backend: a rescaled restore takes the key groups it owns from every part's checkpoint") {
  flow_test::TempDir dir;
  std::string error;
  const flow::RowLayout record_layout{{0}, {}};
  // Two instances' databases, each with the keys instance K of 2 owns, checkpointed.
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back("key" + std::to_string(i));
  std::map<std::string, std::string> all_rows;
  for (int part = 0; part < 2; ++part) {
    auto backend = flow::make_rocksdb_state_backend(dir.file("db" + std::to_string(part)), error);
    REQUIRE_MESSAGE(backend, error);
    flow::StateTable& t = backend->table("window-0", sizeof(Row), &kLayout);
    flow::ListStateTable& l = backend->list_table("join-0-left", sizeof(flow_str), &record_layout);
    for (const std::string& key : keys) {
      if (flow::owner_of_key(key, 2) != part) continue;
      set_row(t.rows(1000), key, "n-" + key, part);
      append(l, 7, key, "r-" + key);
    }
    for (const auto& row : contents(t)) all_rows.insert(row);
    REQUIRE(backend->persistent()->checkpoint(dir.file("chk-part" + std::to_string(part)), error));
  }
  REQUIRE(all_rows.size() == keys.size());

  // Restored at 3 instances: each takes exactly its keys, whichever part held them.
  std::map<std::string, std::string> gathered;
  for (int instance = 0; instance < 3; ++instance) {
    std::vector<std::string> parts;
    for (int part = 0; part < 2; ++part) parts.push_back(dir.file("chk-part" + std::to_string(part)));
    auto backend = flow::make_rocksdb_state_backend(dir.file("new" + std::to_string(instance)), error);
    REQUIRE_MESSAGE(backend, error);
    flow::StateTable& t = backend->table("window-0", sizeof(Row), &kLayout);
    flow::ListStateTable& l = backend->list_table("join-0-left", sizeof(flow_str), &record_layout);
    flow::PersistentState& db = *backend->persistent();
    REQUIRE_MESSAGE(db.start_rescaled(error), error);
    for (const std::string& part : parts) REQUIRE_MESSAGE(db.add_rescaled_part(part, flow::TableOwnership{flow::KeyOwnership{instance, 3}, {}}, error), error);
    REQUIRE_MESSAGE(db.finish_rescaled(error), error);
    for (const auto& [address, row] : contents(t)) {
      CHECK(flow::owner_of_key_group(flow::key_group_of_address(address), 3) == instance);
      gathered.insert({address, row});
    }
    for (const std::string& key : keys)
      CHECK(records_of(l, 7, key) == (flow::owner_of_key(key, 3) == instance ? "r-" + key + ";" : ""));
    // Its database holds them too: a checkpoint of it restores them whole.
    REQUIRE(backend->persistent()->checkpoint(dir.file("chk-new" + std::to_string(instance)), error));
    auto again = flow::make_rocksdb_state_backend(dir.file("again" + std::to_string(instance)), error);
    REQUIRE_MESSAGE(again, error);
    flow::StateTable& t2 = again->table("window-0", sizeof(Row), &kLayout);
    REQUIRE_MESSAGE(again->persistent()->restore(dir.file("chk-new" + std::to_string(instance)), error), error);
    CHECK(contents(t2) == contents(t));
  }
  CHECK(gathered == all_rows);
}

TEST_CASE("rocksdb backend: a table without a layout is not kept by it") {
  flow_test::TempDir dir;
  std::string error;
  auto backend = flow::make_rocksdb_state_backend(dir.file("db"), error);
  REQUIRE(backend);
  CHECK_FALSE(backend->list_table("lookup-0", 16).kept_by_backend());
  CHECK(backend->persistent()->directory() == dir.file("db"));
}

TEST_CASE("rocksdb backend: a state directory it cannot create is an error, not a crash") {
  flow_test::TempDir dir;
  dir.write("file", "x");
  std::string error;
  auto backend = flow::make_rocksdb_state_backend(dir.file("file") + "/db", error);
  CHECK(backend == nullptr);
  CHECK(error.find("cannot create the state directory") == 0);
}

TEST_CASE("checkpointed heap backend: records of the smallest namespace are changes too") {
  const flow::RowLayout record_layout{{0}, {}};
  auto backend = flow::make_checkpointed_heap_backend();
  flow::ListStateTable& l = backend->list_table("join-0-left", sizeof(flow_str), &record_layout);
  std::string full, delta;
  backend->incremental()->snapshot_changes(true, full);
  append(l, INT64_MIN, "k", "earliest");  // a bucket that time saturated to its minimum
  backend->incremental()->snapshot_changes(false, delta);
  auto fresh = flow::make_checkpointed_heap_backend();
  flow::ListStateTable& l2 = fresh->list_table("join-0-left", sizeof(flow_str), &record_layout);
  std::string error;
  REQUIRE_MESSAGE(fresh->incremental()->restore({full, delta}, error), error);
  CHECK(records_of(l2, INT64_MIN, "k") == "earliest;");
}

TEST_CASE("checkpointed heap backend: chains of several instances restore the key groups one instance owns") {
  // Two instances' tables, then restored at three: each new instance gets exactly the rows of
  // its key groups, together they get every row once.
  std::vector<std::string> chains(2);
  std::map<std::string, std::string> all;
  for (int old = 0; old < 2; ++old) {
    auto backend = flow::make_checkpointed_heap_backend();
    flow::StateTable& t = backend->table("window-0", sizeof(Row), &kLayout);
    for (int i = old; i < 200; i += 2) set_row(t.rows(1000 + i % 3), "key" + std::to_string(i), "name", i);
    for (const auto& row : contents(t)) all.insert(row);
    backend->incremental()->snapshot_changes(true, chains[static_cast<std::size_t>(old)]);
  }
  std::map<std::string, std::string> gathered;
  for (int instance = 0; instance < 3; ++instance) {
    auto fresh = flow::make_checkpointed_heap_backend();
    flow::StateTable& t = fresh->table("window-0", sizeof(Row), &kLayout);
    std::string error;
    REQUIRE_MESSAGE(fresh->incremental()->restore({{chains[0]}, {chains[1]}}, flow::TableOwnership{flow::KeyOwnership{instance, 3}, {}}, error), error);
    std::map<std::string, std::string> mine = contents(t);
    CHECK(!mine.empty());
    for (int64_t ns : {1000, 1001, 1002})
      if (flow_agg_table* rows = t.find_rows(ns))
        rows->for_each_entry([&](std::string_view key, const uint8_t*) { CHECK(flow::owner_of_key(key, 3) == instance); });
    for (const auto& row : mine) CHECK(gathered.insert(row).second);
  }
  CHECK(gathered == all);
}

TEST_CASE("checkpointed heap backend: a full snapshot, then changes; the chain restores into a new backend") {
  const flow::RowLayout record_layout{{0}, {}};
  auto backend = flow::make_checkpointed_heap_backend();
  flow::IncrementalSnapshots* snapshots = backend->incremental();
  REQUIRE(snapshots);
  flow::StateTable& t = backend->table("window-0", sizeof(Row), &kLayout);
  flow::ListStateTable& l = backend->list_table("join-0-left", sizeof(flow_str), &record_layout);
  CHECK(t.kept_by_backend());
  CHECK_FALSE(backend->table("plain", 8).kept_by_backend());

  flow_agg_table& slice = t.rows(1000);
  set_row(slice, "a", "apple", 1);
  set_row(slice, "b", "banana", 2);
  set_row(t.rows(3000), "c", "cherry", 4);
  append(l, 7, "k", "first");
  append(l, 8, "k", "other");
  std::string full, delta, savepoint, empty_delta;
  snapshots->snapshot_changes(true, full);

  set_row(slice, "a", "apricot", 10);  // through the namespace held on to
  set_row(t.rows(2000), "d", "date", 5);
  t.drop(3000);
  append(l, 7, "k", "second");
  l.drop(8);
  snapshots->snapshot_all(savepoint);  // between two checkpoints: the next delta still has all
  snapshots->snapshot_changes(false, delta);
  snapshots->snapshot_changes(false, empty_delta);
  CHECK(delta.size() < full.size() + 200);
  CHECK(empty_delta.size() < delta.size());
  std::map<std::string, std::string> expected = contents(t);
  CHECK(expected.size() == 3);

  auto restored_from = [&](std::vector<std::string_view> chain) {
    auto fresh = flow::make_checkpointed_heap_backend();
    flow::StateTable& t2 = fresh->table("window-0", sizeof(Row), &kLayout);
    flow::ListStateTable& l2 = fresh->list_table("join-0-left", sizeof(flow_str), &record_layout);
    std::string error;
    REQUIRE_MESSAGE(fresh->incremental()->restore({chain}, flow::TableOwnership{}, error), error);
    CHECK(contents(t2) == expected);
    CHECK(t2.find_rows(3000) == nullptr);
    CHECK(records_of(l2, 7, "k") == "first;second;");
    CHECK(l2.namespace_ids() == std::vector<int64_t>{7});
  };
  restored_from({full, delta});
  restored_from({full, delta, empty_delta});
  restored_from({savepoint});

  auto fresh = flow::make_checkpointed_heap_backend();
  fresh->table("window-0", sizeof(Row), &kLayout);
  fresh->list_table("join-0-left", sizeof(flow_str), &record_layout);
  std::string error;
  CHECK_FALSE(fresh->incremental()->restore({delta}, error));
  CHECK(error == "its state chain does not start with a full snapshot");
  CHECK_FALSE(fresh->incremental()->restore({full, full}, error));
  CHECK(error == "a full snapshot in the middle of its state chain");
  std::string cut = delta.substr(0, delta.size() - 3);
  CHECK_FALSE(fresh->incremental()->restore({full, cut}, error));
  CHECK(error == "truncated state snapshot");
  auto other = flow::make_checkpointed_heap_backend();  // a job without those tables
  other->table("window-9", sizeof(Row), &kLayout);
  CHECK_FALSE(other->incremental()->restore({full}, error));
  CHECK(error == "it is not of this job (state table window-0)");
}

// The RocksDB state backend (issue 5, architecture.md "State, time and checkpoints"): one
// column family per operator table, each row or record stored under its address, big-endian
// key group + key + namespace (+ a big-endian record index for lists), its value the row's
// bytes with what its strings and sets hold (checkpoint/state_snapshot.h).
//
// Operators read and update rows at memory speed: each table keeps its live namespaces in
// heap tables (the same ones the heap backend uses), and notes what changed since the last
// checkpoint: rows upserted (flow_agg_table's change tracking, which also sees updates
// through a cached namespace), namespaces handed out for access (an operator may change any
// row or record it can reach: all of those are written), and namespaces dropped. A checkpoint
// copies exactly those into a write batch in its pause, then, in the background, writes it to RocksDB (puts, and deletes for dropped namespaces, without a WAL:
// the checkpoint is the durability point), flushes, and takes a RocksDB checkpoint, whose SST
// files are hard links: the job's checkpoint shares every SST file an earlier one had and
// adds only the new ones. A restore opens the database of a checkpoint and loads it.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "checkpoint/state_snapshot.h"
#include "state/state_backend.h"

namespace flow {
namespace {

namespace fs = std::filesystem;

std::string with_index(std::string address, uint32_t index) {
  for (int shift = 24; shift >= 0; shift -= 8) address += static_cast<char>((index >> shift) & 0xFF);
  return address;
}

// Splits an address into key and namespace; false when it is too short to be one.
bool split_address(std::string_view address, std::size_t suffix, std::string_view& key, int64_t& name_space) {
  if (address.size() < 2 + 8 + suffix) return false;
  key = address.substr(2, address.size() - 10 - suffix);
  uint64_t ns = 0;
  for (std::size_t i = address.size() - 8 - suffix; i < address.size() - suffix; ++i) ns = ns << 8 | static_cast<uint8_t>(address[i]);
  name_space = static_cast<int64_t>(ns ^ (uint64_t{1} << 63));
  return true;
}

// What both kinds of table note between checkpoints.
struct ChangeLog {
  std::set<int64_t> touched;        // namespaces handed out since the last checkpoint: written whole
  std::set<int64_t> in_database;    // namespaces the database holds rows of
  std::vector<std::string> deleted;  // addresses of the rows of dropped namespaces
};

class RocksStateTable final : public StateTable {
 public:
  RocksStateTable(StateTable& heap, RowLayout layout) : heap_(heap), layout_(std::move(layout)) {}

  flow_agg_table& rows(int64_t ns) override {
    log_.touched.insert(ns);
    return live_rows(ns);
  }
  flow_agg_table* find_rows(int64_t ns) override {
    flow_agg_table* rows = heap_.find_rows(ns);
    if (rows) log_.touched.insert(ns);
    return rows;
  }
  void drop(int64_t ns) override {
    if (log_.in_database.erase(ns) > 0)
      if (flow_agg_table* rows = heap_.find_rows(ns))
        rows->for_each_entry([&](std::string_view key, const uint8_t*) {
          log_.deleted.push_back(encode_state_key(key_group_of(key), key, ns));
        });
    log_.touched.erase(ns);
    live_.erase(ns);
    heap_.drop(ns);
  }
  std::size_t namespaces() const override { return heap_.namespaces(); }
  std::size_t size() const override { return heap_.size(); }
  void for_each(const std::function<void(std::string_view, const uint8_t*)>& visit) const override { heap_.for_each(visit); }
  int64_t row_size() const override { return heap_.row_size(); }
  bool kept_by_backend() const override { return true; }

  void write_changes(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* family) {
    for (const std::string& address : log_.deleted) batch.Delete(family, address);
    log_.deleted.clear();
    std::string value;
    auto put = [&](int64_t ns, std::string_view key, const uint8_t* row) {
      value.clear();
      encode_row_value(row, heap_.row_size(), layout_, value);
      batch.Put(family, encode_state_key(key_group_of(key), key, ns), value);
    };
    for (int64_t ns : live_) {
      flow_agg_table* rows = heap_.find_rows(ns);
      if (!rows) continue;
      if (log_.touched.count(ns)) rows->for_each_entry([&](std::string_view key, const uint8_t* row) { put(ns, key, row); });
      else rows->for_each_changed([&](std::string_view key, const uint8_t* row) { put(ns, key, row); });
      rows->clear_changes();
      log_.in_database.insert(ns);
    }
    log_.touched.clear();
  }

  bool load(rocksdb::Iterator& it, std::string& error) {
    for (it.SeekToFirst(); it.Valid(); it.Next()) {
      std::string_view key;
      int64_t ns = 0;
      rocksdb::Slice address = it.key(), value = it.value();
      if (!split_address(std::string_view(address.data(), address.size()), 0, key, ns))
        return error = "a row address is too short", false;
      flow_agg_table& rows = live_rows(ns);
      if (!decode_row_value(std::string_view(value.data(), value.size()), layout_, rows, key, error)) return false;
      log_.in_database.insert(ns);
    }
    for (int64_t ns : live_)
      if (flow_agg_table* rows = heap_.find_rows(ns)) rows->clear_changes();  // as in the database
    return true;
  }

 private:
  // A namespace's rows, tracking their changes from its creation on.
  flow_agg_table& live_rows(int64_t ns) {
    if (flow_agg_table* rows = heap_.find_rows(ns)) return *rows;
    flow_agg_table& rows = heap_.rows(ns);
    rows.track_changes();
    live_.insert(ns);
    return rows;
  }

  StateTable& heap_;
  RowLayout layout_;
  ChangeLog log_;
  std::set<int64_t> live_;  // namespaces of heap_
};

class RocksListStateTable final : public ListStateTable {
 public:
  RocksListStateTable(ListStateTable& heap, RowLayout layout) : heap_(heap), layout_(std::move(layout)) {}

  uint8_t* append(int64_t ns, std::string_view key) override {
    log_.touched.insert(ns);
    return heap_.append(ns, key);
  }
  flow_str copy_string(int64_t ns, const char* p, int64_t len) override { return heap_.copy_string(ns, p, len); }
  // Records handed out can be changed (a join marks a record paired): their namespace is
  // written whole at the next checkpoint.
  Records find(int64_t ns, std::string_view key) const override {
    Records found = heap_.find(ns, key);
    if (found.count > 0) log_.touched.insert(ns);
    return found;
  }
  void for_each_key(int64_t ns, const std::function<void(std::string_view, Records)>& visit) const override {
    log_.touched.insert(ns);
    heap_.for_each_key(ns, visit);
  }
  void drop(int64_t ns) override {
    if (log_.in_database.erase(ns) > 0)
      heap_.for_each_key(ns, [&](std::string_view key, Records records) {
        std::string address = encode_state_key(key_group_of(key), key, ns);
        for (int64_t i = 0; i < records.count; ++i) log_.deleted.push_back(with_index(address, static_cast<uint32_t>(i)));
      });
    log_.touched.erase(ns);
    heap_.drop(ns);
  }
  std::size_t namespaces() const override { return heap_.namespaces(); }
  std::vector<int64_t> namespace_ids() const override { return heap_.namespace_ids(); }
  std::size_t size() const override { return heap_.size(); }
  int64_t record_size() const override { return heap_.record_size(); }
  bool kept_by_backend() const override { return true; }

  // Records are only ever appended, so writing a touched namespace's records again under
  // the same indexes is idempotent.
  void write_changes(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* family) {
    for (const std::string& address : log_.deleted) batch.Delete(family, address);
    log_.deleted.clear();
    std::string value;
    for (int64_t ns : log_.touched) {
      heap_.for_each_key(ns, [&](std::string_view key, Records records) {
        std::string address = encode_state_key(key_group_of(key), key, ns);
        uint8_t* at = records.first;
        for (int64_t i = 0; i < records.count; ++i, at = next(at)) {
          value.clear();
          encode_record_value(at, heap_.record_size(), layout_, value);
          batch.Put(family, with_index(address, static_cast<uint32_t>(i)), value);
        }
      });
      log_.in_database.insert(ns);
    }
    log_.touched.clear();
  }

  // Addresses come in byte order, so each key's records come in their index order.
  bool load(rocksdb::Iterator& it, std::string& error) {
    for (it.SeekToFirst(); it.Valid(); it.Next()) {
      std::string_view key;
      int64_t ns = 0;
      rocksdb::Slice address = it.key(), value = it.value();
      if (!split_address(std::string_view(address.data(), address.size()), 4, key, ns))
        return error = "a record address is too short", false;
      if (!decode_record_value(std::string_view(value.data(), value.size()), layout_, heap_, ns, key, error)) return false;
      log_.in_database.insert(ns);
    }
    return true;
  }

 private:
  ListStateTable& heap_;
  RowLayout layout_;
  mutable ChangeLog log_;
};

class RocksDbStateBackend final : public StateBackend, public PersistentState {
 public:
  RocksDbStateBackend(std::string dir, bool temporary)
      : dir_(std::move(dir)), temporary_(temporary), heap_(make_heap_state_backend()) {}
  ~RocksDbStateBackend() override {
    close();
    std::error_code ignored;
    if (temporary_) fs::remove_all(dir_, ignored);
  }

  // Opens the database in dir_, creating it, or (fresh) emptying it first.
  bool open(bool fresh, std::string& error) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    if (fresh) {
      // Only a database of an earlier run is removed, never other files the directory holds.
      rocksdb::Status destroyed = destroy(dir_);
      if (!destroyed.ok()) return error = "cannot empty the state directory `" + dir_ + "`: " + destroyed.ToString(), false;
      std::error_code ec;
      fs::create_directories(dir_, ec);
      if (ec) return error = "cannot create the state directory `" + dir_ + "`: " + ec.message(), false;
    }
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(options, dir_, &names).ok()) names = {rocksdb::kDefaultColumnFamilyName};
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::Status status = rocksdb::DB::Open(options, dir_, descriptors, &handles, &db_);
    if (!status.ok()) return error = "cannot open the RocksDB state in `" + dir_ + "`: " + status.ToString(), false;
    for (std::size_t i = 0; i < names.size(); ++i) families_[names[i]] = handles[i];
    return true;
  }

  StateTable& table(const std::string& name, int64_t row_size, const RowLayout* layout) override {
    StateTable& heap = heap_->table(name, row_size);
    if (!layout) return heap;
    auto& slot = tables_[name];
    if (!slot) slot = std::make_unique<RocksStateTable>(heap, *layout);
    return *slot;
  }

  ListStateTable& list_table(const std::string& name, int64_t record_size, const RowLayout* layout) override {
    ListStateTable& heap = heap_->list_table(name, record_size);
    if (!layout) return heap;
    auto& slot = lists_[name];
    if (!slot) slot = std::make_unique<RocksListStateTable>(heap, *layout);
    return *slot;
  }

  PersistentState* persistent() override { return this; }
  const std::string& directory() const override { return dir_; }

  bool capture_changes(std::string& error) override {
    changes_.Clear();
    for (auto& [name, table] : tables_) {
      rocksdb::ColumnFamilyHandle* f = family(name, error);
      if (!f) return false;
      table->write_changes(changes_, f);
    }
    for (auto& [name, list] : lists_) {
      rocksdb::ColumnFamilyHandle* f = family(name, error);
      if (!f) return false;
      list->write_changes(changes_, f);
    }
    return true;
  }

  bool write_checkpoint(const std::string& dir, std::string& error) override {
    rocksdb::WriteOptions write;
    write.disableWAL = true;  // the checkpoint below is what makes state durable
    rocksdb::Status status = db_->Write(write, &changes_);
    changes_.Clear();
    std::vector<rocksdb::ColumnFamilyHandle*> all;
    for (auto& [name, handle] : families_) all.push_back(handle);
    if (status.ok()) status = db_->Flush(rocksdb::FlushOptions(), all);
    rocksdb::Checkpoint* maker = nullptr;
    if (status.ok()) status = rocksdb::Checkpoint::Create(db_, &maker);
    if (status.ok()) status = maker->CreateCheckpoint(dir);
    delete maker;
    if (!status.ok()) return error = "RocksDB: " + status.ToString(), false;
    return true;
  }

  bool restore(const std::string& dir, std::string& error) override {
    close();
    rocksdb::Status destroyed = destroy(dir_);
    std::error_code ec;
    if (destroyed.ok()) fs::remove(dir_, ec);  // empty now, unless it holds files of someone else's
    if (destroyed.ok() && !ec) fs::rename(dir, dir_, ec);
    if (!destroyed.ok() || ec)
      return error = "cannot move the restored state into `" + dir_ + "`: " + (ec ? ec.message() : destroyed.ToString()), false;
    if (!open(false, error)) return false;
    for (auto& [name, table] : tables_)
      if (!load(name, *table, error)) return false;
    for (auto& [name, list] : lists_)
      if (!load(name, *list, error)) return false;
    return true;
  }

 private:
  // Removes the database in `dir`, if there is one.
  static rocksdb::Status destroy(const std::string& dir) {
    std::error_code ec;
    if (!fs::exists(dir + "/CURRENT", ec)) return rocksdb::Status::OK();
    return rocksdb::DestroyDB(dir, rocksdb::Options());
  }

  template <typename Table>
  bool load(const std::string& name, Table& table, std::string& error) {
    auto it = families_.find(name);
    if (it == families_.end()) return true;  // nothing was stored for it
    std::unique_ptr<rocksdb::Iterator> rows(db_->NewIterator(rocksdb::ReadOptions(), it->second));
    if (!table.load(*rows, error)) return error = "state of " + name + ": " + error, false;
    if (!rows->status().ok()) return error = "state of " + name + ": " + rows->status().ToString(), false;
    return true;
  }

  rocksdb::ColumnFamilyHandle* family(const std::string& name, std::string& error) {
    auto it = families_.find(name);
    if (it != families_.end()) return it->second;
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    rocksdb::Status status = db_->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), name, &handle);
    if (!status.ok()) return error = "RocksDB: " + status.ToString(), nullptr;
    return families_[name] = handle;
  }

  void close() {
    if (!db_) return;
    for (auto& [name, handle] : families_) db_->DestroyColumnFamilyHandle(handle);
    families_.clear();
    delete db_;
    db_ = nullptr;
  }

  std::string dir_;
  bool temporary_;  // made for this job, removed with it: what outlives a job is in its checkpoints
  std::unique_ptr<StateBackend> heap_;  // the live rows
  std::map<std::string, std::unique_ptr<RocksStateTable>> tables_;
  std::map<std::string, std::unique_ptr<RocksListStateTable>> lists_;
  rocksdb::DB* db_ = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families_;
  rocksdb::WriteBatch changes_;  // taken by capture_changes(), written by write_checkpoint()
};

}  // namespace

std::unique_ptr<StateBackend> make_rocksdb_state_backend(const std::string& dir, std::string& error) {
  std::string where = dir;
  if (where.empty()) {
    char pattern[] = "/tmp/flowc-state-XXXXXX";
    if (!::mkdtemp(pattern)) return error = std::string("cannot create a state directory in /tmp: ") + std::strerror(errno), nullptr;
    where = pattern;
  }
  auto backend = std::make_unique<RocksDbStateBackend>(where, dir.empty());
  if (!backend->open(true, error)) return nullptr;
  return backend;
}

}  // namespace flow

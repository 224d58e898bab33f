// The RocksDB state backend (issue 5, architecture.md "State, time and checkpoints"): one
// column family per operator table, each row or record stored under its address, big-endian
// key group + key + namespace (+ a big-endian record index for lists), its value the row's
// bytes with what its strings and sets hold (checkpoint/state_snapshot.h).
//
// Operators read and update rows at memory speed: each table keeps its live namespaces in
// heap tables (the same ones the heap backend uses) and notes what changed since the last
// checkpoint (state/tracked_tables.h). A checkpoint copies exactly those changes into a write
// batch in its pause; then, in the background, writes it to RocksDB (puts, and deletes for
// dropped namespaces, without a WAL: the checkpoint is the durability point), flushes, and
// takes a RocksDB checkpoint, whose SST files are hard links: the job's checkpoint shares
// every SST file an earlier one had and adds only the new ones. A restore opens the database
// of a checkpoint and loads it.
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

#include "state/state_backend.h"
#include "state/tracked_tables.h"

namespace flow {
namespace {

namespace fs = std::filesystem;

// Changes into a write batch, for one column family.
class WriteBatchSink final : public ChangeSink {
 public:
  WriteBatchSink(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* family) : batch_(batch), family_(family) {}
  void put(std::string_view address, std::string_view value) override {
    batch_.Put(family_, rocksdb::Slice(address.data(), address.size()), rocksdb::Slice(value.data(), value.size()));
  }
  void erase(std::string_view address) override { batch_.Delete(family_, rocksdb::Slice(address.data(), address.size())); }

 private:
  rocksdb::WriteBatch& batch_;
  rocksdb::ColumnFamilyHandle* family_;
};

// A column family's rows, in byte order.
class ColumnFamilyRows final : public StoredRows {
 public:
  explicit ColumnFamilyRows(rocksdb::Iterator& it) : it_(it) { it_.SeekToFirst(); }
  bool next(std::string_view& address, std::string_view& value) override {
    if (!started_) started_ = true;
    else it_.Next();
    if (!it_.Valid()) return false;
    address = std::string_view(it_.key().data(), it_.key().size());
    value = std::string_view(it_.value().data(), it_.value().size());
    return true;
  }

 private:
  rocksdb::Iterator& it_;
  bool started_ = false;
};

class RocksDbStateBackend final : public StateBackend, public PersistentState {
 public:
  RocksDbStateBackend(std::string dir, bool temporary)
      : dir_(std::move(dir)), temporary_(temporary) {}
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
    return tracked_.table(name, row_size, layout);
  }
  ListStateTable& list_table(const std::string& name, int64_t record_size, const RowLayout* layout) override {
    return tracked_.list_table(name, record_size, layout);
  }

  PersistentState* persistent() override { return this; }
  const std::string& directory() const override { return dir_; }

  bool capture_changes(std::string& error) override {
    changes_.Clear();
    for (auto& [name, table] : tracked_.tables()) {
      rocksdb::ColumnFamilyHandle* f = family(name, error);
      if (!f) return false;
      WriteBatchSink sink(changes_, f);
      table->write_changes(sink, false);
    }
    for (auto& [name, list] : tracked_.lists()) {
      rocksdb::ColumnFamilyHandle* f = family(name, error);
      if (!f) return false;
      WriteBatchSink sink(changes_, f);
      list->write_changes(sink, false);
    }
    return true;
  }

  bool write_checkpoint(const std::string& dir, std::string& error) override {
    rocksdb::WriteOptions write;
    write.disableWAL = true;  // the checkpoint below is what makes state durable
    rocksdb::Status status = db_->Write(write, &changes_);
    changes_.Clear();
    if (status.ok()) status = flush();
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
    return load_tables(error);
  }

  bool start_rescaled(std::string& error) override {
    close();
    return open(true, error);
  }

  // Writes the rows of the key groups `owner` owns in the database checkpoint in `dir` (opened
  // read-only) into this database, table by table. The parts of a checkpoint hold disjoint
  // keys (each key had one owner), so no row overwrites another.
  bool add_rescaled_part(const std::string& dir, const TableOwnership& owner, std::string& error) override {
    rocksdb::Options options;
    std::vector<std::string> names;
    rocksdb::Status status = rocksdb::DB::ListColumnFamilies(options, dir, &names);
    if (!status.ok()) return error = "cannot read the RocksDB state in `" + dir + "`: " + status.ToString(), false;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* part = nullptr;
    status = rocksdb::DB::OpenForReadOnly(options, dir, descriptors, &handles, &part);
    if (!status.ok()) return error = "cannot open the RocksDB state in `" + dir + "`: " + status.ToString(), false;
    bool ok = true;
    for (std::size_t i = 0; ok && i < names.size(); ++i) {
      if (names[i] == rocksdb::kDefaultColumnFamilyName) continue;  // (tables have families of their own)
      rocksdb::ColumnFamilyHandle* into = family(names[i], error);
      ok = into && copy_family(*part, handles[i], into, owner.of(names[i]), error);
    }
    for (rocksdb::ColumnFamilyHandle* handle : handles) part->DestroyColumnFamilyHandle(handle);
    delete part;
    return ok;
  }

  bool finish_rescaled(std::string& error) override {
    // Flushed, so that the next checkpoint holds them as files like any other rows.
    rocksdb::Status flushed = flush();
    if (!flushed.ok()) return error = "RocksDB: " + flushed.ToString(), false;
    return load_tables(error);
  }

 private:
  // Removes the database in `dir`, if there is one.
  static rocksdb::Status destroy(const std::string& dir) {
    std::error_code ec;
    if (!fs::exists(dir + "/CURRENT", ec)) return rocksdb::Status::OK();
    return rocksdb::DestroyDB(dir, rocksdb::Options());
  }

  bool load_tables(std::string& error) {
    for (auto& [name, table] : tracked_.tables())
      if (!load(name, *table, error)) return false;
    for (auto& [name, list] : tracked_.lists())
      if (!load(name, *list, error)) return false;
    return true;
  }

  rocksdb::Status flush() {
    std::vector<rocksdb::ColumnFamilyHandle*> all;
    for (auto& [name, handle] : families_) all.push_back(handle);
    return db_->Flush(rocksdb::FlushOptions(), all);
  }

  bool copy_family(rocksdb::DB& part, rocksdb::ColumnFamilyHandle* from, rocksdb::ColumnFamilyHandle* into,
                   const KeyOwnership& owner, std::string& error) {
    constexpr std::size_t kBatchBytes = 4 << 20;
    rocksdb::WriteOptions write;
    write.disableWAL = true;  // flushed at the end of the restore
    rocksdb::WriteBatch batch;
    // Addresses start with their key group: the owned ones are one range.
    std::unique_ptr<rocksdb::Iterator> rows(part.NewIterator(rocksdb::ReadOptions(), from));
    const char first[2] = {static_cast<char>(owner.first_group() >> 8), static_cast<char>(owner.first_group() & 0xFF)};
    for (rows->Seek(rocksdb::Slice(first, 2)); rows->Valid(); rows->Next()) {
      std::string_view address(rows->key().data(), rows->key().size());
      if (key_group_of_address(address) >= owner.end_group()) break;
      batch.Put(into, rows->key(), rows->value());
      if (batch.GetDataSize() < kBatchBytes) continue;
      rocksdb::Status status = db_->Write(write, &batch);
      if (!status.ok()) return error = "RocksDB: " + status.ToString(), false;
      batch.Clear();
    }
    if (!rows->status().ok()) return error = "RocksDB: " + rows->status().ToString(), false;
    rocksdb::Status status = db_->Write(write, &batch);
    if (!status.ok()) return error = "RocksDB: " + status.ToString(), false;
    return true;
  }

  template <typename Table>
  bool load(const std::string& name, Table& table, std::string& error) {
    auto it = families_.find(name);
    if (it == families_.end()) return true;  // nothing was stored for it
    std::unique_ptr<rocksdb::Iterator> rows(db_->NewIterator(rocksdb::ReadOptions(), it->second));
    ColumnFamilyRows stored(*rows);
    if (!table.load(stored, error)) return error = "state of " + name + ": " + error, false;
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
  TrackedTableSet tracked_;
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

// Tables that note what changed since the last checkpoint, around the heap backend's tables,
// so that both backends checkpoint incrementally: RocksDB writes the changes into its database,
// the heap backend into a chain of snapshot files (a full one, then the changes of each later
// checkpoint). Rows are stored as RocksDB keeps them: under their address (encode_state_key;
// a list record adds its big-endian index), with the bytes of state_snapshot.h as value.
//
// What counts as changed: rows upserted (flow_agg_table's change tracking, which also sees
// updates through a namespace an operator holds on to), every row or record of a namespace
// handed out for access since the last checkpoint (an operator may change anything it can
// reach: a join marks records paired), and the rows of namespaces dropped (erased).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "state/state_backend.h"

namespace flow {

// Where changes go: a RocksDB write batch, or the bytes of a heap snapshot.
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual void put(std::string_view address, std::string_view value) = 0;
  virtual void erase(std::string_view address) = 0;
};

// Stored rows of one table in address order: a RocksDB iterator, or a heap snapshot chain.
class StoredRows {
 public:
  virtual ~StoredRows() = default;
  // The next row; false at the end.
  virtual bool next(std::string_view& address, std::string_view& value) = 0;
};

// What both kinds of table note between checkpoints.
struct ChangeLog {
  std::set<int64_t> touched;         // namespaces handed out since the last checkpoint: written whole
  std::set<int64_t> stored;          // namespaces the store (database, snapshot chain) holds rows of
  std::vector<std::string> erased;   // addresses of the stored rows of dropped namespaces
  int64_t last_touched = 0;  // the namespace noted last (when has_last): most accesses repeat it
  bool has_last = false;
  bool tracking = true;  // off when nothing will read the changes (a job that takes no checkpoints)
  void touch(int64_t ns) {
    if (!tracking || (has_last && ns == last_touched)) return;
    touched.insert(ns);
    last_touched = ns;
    has_last = true;
  }
  void forget(int64_t ns) {
    touched.erase(ns);
    if (ns == last_touched) has_last = false;
  }
  void reset() {
    touched.clear();
    has_last = false;
  }
  void stop_tracking() {
    tracking = false;
    reset();
    stored.clear();  // nothing to erase from: no drop is noted
    erased.clear();
  }
};

class TrackedStateTable final : public StateTable {
 public:
  TrackedStateTable(StateTable& heap, RowLayout layout) : heap_(heap), layout_(std::move(layout)) {}

  flow_agg_table& rows(int64_t ns) override {
    log_.touch(ns);
    return live_rows(ns);
  }
  flow_agg_table* find_rows(int64_t ns) override;
  void drop(int64_t ns) override;
  std::size_t namespaces() const override { return heap_.namespaces(); }
  std::size_t size() const override { return heap_.size(); }
  void for_each(const std::function<void(std::string_view, const uint8_t*)>& visit) const override { heap_.for_each(visit); }
  int64_t row_size() const override { return heap_.row_size(); }
  bool kept_by_backend() const override { return true; }

  // The changes since the last call (`everything`: every row, as a new base to change from).
  void write_changes(ChangeSink& sink, bool everything);
  // Every row, leaving what changed as it is (a savepoint between two checkpoints).
  void write_all(ChangeSink& sink) const;
  // Takes stored rows into the (empty) table.
  bool load(StoredRows& rows, std::string& error);
  void stop_tracking() { log_.stop_tracking(); }

 private:
  // A namespace's rows, tracking their changes from its creation on.
  flow_agg_table& live_rows(int64_t ns);
  void put_row(ChangeSink& sink, int64_t ns, std::string_view key, const uint8_t* row, std::string& value) const;

  StateTable& heap_;
  RowLayout layout_;
  ChangeLog log_;
  std::set<int64_t> live_;  // namespaces of heap_
};

class TrackedListStateTable final : public ListStateTable {
 public:
  TrackedListStateTable(ListStateTable& heap, RowLayout layout) : heap_(heap), layout_(std::move(layout)) {}

  uint8_t* append(int64_t ns, std::string_view key) override {
    log_.touch(ns);
    return heap_.append(ns, key);
  }
  flow_str copy_string(int64_t ns, const char* p, int64_t len) override { return heap_.copy_string(ns, p, len); }
  Records find(int64_t ns, std::string_view key) const override {
    Records found = heap_.find(ns, key);
    if (found.count > 0) log_.touch(ns);
    return found;
  }
  void for_each_key(int64_t ns, const std::function<void(std::string_view, Records)>& visit) const override {
    log_.touch(ns);
    heap_.for_each_key(ns, visit);
  }
  void drop(int64_t ns) override;
  std::size_t namespaces() const override { return heap_.namespaces(); }
  std::vector<int64_t> namespace_ids() const override { return heap_.namespace_ids(); }
  std::size_t size() const override { return heap_.size(); }
  int64_t record_size() const override { return heap_.record_size(); }
  bool kept_by_backend() const override { return true; }

  void write_changes(ChangeSink& sink, bool everything);
  void write_all(ChangeSink& sink) const;
  // Takes stored records into the (empty) table; each key's come in index order.
  bool load(StoredRows& rows, std::string& error);
  void stop_tracking() { log_.stop_tracking(); }

 private:
  void put_namespace(ChangeSink& sink, int64_t ns, std::string& value) const;

  ListStateTable& heap_;
  RowLayout layout_;
  mutable ChangeLog log_;
};

// The tables of a backend that checkpoints incrementally: heap tables, those with a layout
// (what a checkpoint must hold) wrapped to note their changes; tables without one are rebuilt
// on restore (lookup tables) and stay plain.
class TrackedTableSet {
 public:
  template <typename Table>
  using ByName = std::map<std::string, std::unique_ptr<Table>, std::less<>>;

  StateTable& table(const std::string& name, int64_t row_size, const RowLayout* layout) {
    StateTable& heap = heap_->table(name, row_size);
    if (!layout) return heap;
    auto& slot = tables_[name];
    if (!slot) slot = std::make_unique<TrackedStateTable>(heap, *layout);
    return *slot;
  }
  ListStateTable& list_table(const std::string& name, int64_t record_size, const RowLayout* layout) {
    ListStateTable& heap = heap_->list_table(name, record_size);
    if (!layout) return heap;
    auto& slot = lists_[name];
    if (!slot) slot = std::make_unique<TrackedListStateTable>(heap, *layout);
    return *slot;
  }
  const ByName<TrackedStateTable>& tables() const { return tables_; }
  // Nothing will read the changes (no checkpoints, only savepoints or a restore): the tables
  // stop noting them, so their logs do not grow.
  void stop_tracking() {
    for (auto& [name, table] : tables_) table->stop_tracking();
    for (auto& [name, list] : lists_) list->stop_tracking();
  }
  const ByName<TrackedListStateTable>& lists() const { return lists_; }

 private:
  std::unique_ptr<StateBackend> heap_ = make_heap_state_backend();  // the live rows
  ByName<TrackedStateTable> tables_;
  ByName<TrackedListStateTable> lists_;
};

}  // namespace flow

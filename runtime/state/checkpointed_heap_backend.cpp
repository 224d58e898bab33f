// The heap backend of a job that checkpoints (issue 5, "incremental checkpoints"): its tables
// with a layout (window rows, join records) note their changes, and each checkpoint stores
// only those; now and then the job asks for a full snapshot, which a restore starts from.
//
// One snapshot, as bytes:
//   "FLOWHST1", u8 full, u64 tables, then per table: bytes name, u8 kind (0 rows, 1 records),
//   bytes changes; the changes are a run of (u8 1, bytes address, bytes value) for a row put
//   and (u8 2, bytes address) for a row erased, addresses as RocksDB would store them.
#include <map>
#include <string>

#include "checkpoint/byte_io.h"
#include "state/state_backend.h"
#include "state/tracked_tables.h"

namespace flow {

namespace {

constexpr std::string_view kMagic = "FLOWHST1";
constexpr uint8_t kPut = 1, kErase = 2;
constexpr uint8_t kRows = 0, kRecords = 1;

class BytesSink final : public ChangeSink {
 public:
  explicit BytesSink(std::string& out) : w_(out) {}
  void put(std::string_view address, std::string_view value) override {
    w_.u8(kPut);
    w_.bytes(address);
    w_.bytes(value);
  }
  void erase(std::string_view address) override {
    w_.u8(kErase);
    w_.bytes(address);
  }

 private:
  ByteWriter w_;
};

// A table's rows as a restore has gathered them, in address order.
using GatheredRows = std::map<std::string, std::string, std::less<>>;

class GatheredRowsReader final : public StoredRows {
 public:
  explicit GatheredRowsReader(const GatheredRows& rows) : at_(rows.begin()), end_(rows.end()) {}
  bool next(std::string_view& address, std::string_view& value) override {
    if (at_ == end_) return false;
    address = at_->first;
    value = at_->second;
    ++at_;
    return true;
  }

 private:
  GatheredRows::const_iterator at_, end_;
};

class CheckpointedHeapBackend final : public StateBackend, public IncrementalSnapshots {
 public:
  StateTable& table(const std::string& name, int64_t row_size, const RowLayout* layout) override {
    return tracked_.table(name, row_size, layout);
  }
  ListStateTable& list_table(const std::string& name, int64_t record_size, const RowLayout* layout) override {
    return tracked_.list_table(name, record_size, layout);
  }

  IncrementalSnapshots* incremental() override { return this; }
  void stop_tracking() override { tracked_.stop_tracking(); }

  void snapshot_changes(bool full, std::string& out) override {
    write(out, full, [&](auto& table, ChangeSink& sink) { table.write_changes(sink, full); });
  }

  void snapshot_all(std::string& out) const override {
    write(out, true, [&](const auto& table, ChangeSink& sink) { table.write_all(sink); });
  }

  bool restore(const std::vector<std::vector<std::string_view>>& chains, const TableOwnership& owner,
               std::string& error) override {
    // Parts hold the rows of different keys (each key had one owner), so their rows gather into
    // one map without clashes.
    std::map<std::string, GatheredRows, std::less<>> gathered;
    for (const std::vector<std::string_view>& chain : chains) {
      std::map<std::string, GatheredRows, std::less<>> part;
      for (std::size_t i = 0; i < chain.size(); ++i)
        if (!gather(chain[i], i == 0, owner, part, error)) return false;
      for (auto& [name, rows] : part) gathered[name].merge(rows);
    }
    for (auto& [name, table] : tracked_.tables())
      if (!load(gathered, name, *table, error)) return false;
    for (auto& [name, list] : tracked_.lists())
      if (!load(gathered, name, *list, error)) return false;
    return true;
  }

 private:
  template <typename Write>
  void write(std::string& out, bool full, Write&& write_table) const {
    ByteWriter w(out);
    w.raw(kMagic.data(), kMagic.size());
    w.u8(full ? 1 : 0);
    w.u64(tracked_.tables().size() + tracked_.lists().size());
    std::string changes;
    auto one = [&](const std::string& name, uint8_t kind, auto& table) {
      changes.clear();
      BytesSink sink(changes);
      write_table(table, sink);
      w.bytes(name);
      w.u8(kind);
      w.bytes(changes);
    };
    for (auto& [name, table] : tracked_.tables()) one(name, kRows, *table);
    for (auto& [name, list] : tracked_.lists()) one(name, kRecords, *list);
  }

  // Applies one snapshot to the rows gathered so far (a full one replaces them).
  // Rows of key groups `owner` does not own are skipped (a row never changes key group).
  bool gather(std::string_view snapshot, bool first, const TableOwnership& owner,
              std::map<std::string, GatheredRows, std::less<>>& gathered, std::string& error) const {
    ByteReader r(snapshot);
    uint8_t full = 0;
    uint64_t count = 0;
    if (!r.expect(kMagic) || !r.number(full) || !r.number(count)) return error = "not a state snapshot", false;
    if (first != (full != 0)) return error = first ? "its state chain does not start with a full snapshot" : "a full snapshot in the middle of its state chain", false;
    for (uint64_t t = 0; t < count; ++t) {
      std::string_view name, changes;
      uint8_t kind = 0;
      if (!r.bytes(name) || !r.number(kind) || !r.bytes(changes)) return error = "truncated state snapshot", false;
      bool known = kind == kRows ? tracked_.tables().count(name) > 0 : kind == kRecords && tracked_.lists().count(name) > 0;
      if (!known) return error = "it is not of this job (state table " + std::string(name) + ")", false;
      GatheredRows& rows = gathered[std::string(name)];
      const KeyOwnership& table_owner = owner.of(name);
      ByteReader c(changes);
      while (!c.done()) {
        uint8_t op = 0;
        std::string_view address, value;
        if (!c.number(op) || !c.bytes(address) || (op == kPut && !c.bytes(value)) || (op != kPut && op != kErase))
          return error = "damaged state snapshot of " + std::string(name), false;
        if (!table_owner.owns_group(key_group_of_address(address))) continue;
        if (op == kPut) rows.insert_or_assign(std::string(address), std::string(value));
        else if (auto it = rows.find(address); it != rows.end()) rows.erase(it);
      }
    }
    if (!r.done()) return error = "state snapshot has trailing bytes", false;
    return true;
  }

  template <typename Table>
  static bool load(const std::map<std::string, GatheredRows, std::less<>>& gathered, const std::string& name, Table& table,
                   std::string& error) {
    auto it = gathered.find(name);
    if (it == gathered.end()) return true;
    GatheredRowsReader rows(it->second);
    if (!table.load(rows, error)) return error = "state of " + name + ": " + error, false;
    return true;
  }

  TrackedTableSet tracked_;
};

}  // namespace

std::unique_ptr<StateBackend> make_checkpointed_heap_backend() { return std::make_unique<CheckpointedHeapBackend>(); }

}  // namespace flow

// Keyed state behind one interface (architecture.md, "State, time and checkpoints"): fixed-size
// accumulator rows addressed by (key group, key bytes, namespace), in tables of one operator
// each, and lists of records per (key, namespace) for joins. Windows and joins use only this
// interface, so the heap backend and the RocksDB backend (rocksdb_backend.cpp) are
// interchangeable.
//
// A table is partitioned by namespace (a window slice, a session generation, a join time
// bucket): operators create rows in a namespace, read a namespace's rows in key order when
// they fire, and drop a whole namespace when it is past its lifetime, which is how state stays
// bounded on an endless input. The rows of one namespace are a flow_agg_table: the open-
// addressing table generated code already knows (abi.h), so accumulator updates stay inline.
// The key group is derived from the key, never stored by the caller: RocksDB prefixes it to
// the address (encode_state_key), the heap backend needs it only to rescale.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agg/agg_table.h"
#include "core/hash_mix.h"

namespace flow {

constexpr uint32_t kDefaultMaxParallelism = 128;

// XXH3 of an encoded key longer than 8 bytes.
uint64_t long_key_hash(std::string_view key);

// hash(key) % max_parallelism: the unit in which state moves when parallelism changes, and
// which parallel instance owns a key (exchange/exchange.h), so it is cheap for short keys. The
// hash's high half is used: hash tables pick slots with the low bits, and the keys of one
// instance (a range of key groups) must still spread over all of them.
inline uint32_t key_group_of(std::string_view key, uint32_t max_parallelism = kDefaultMaxParallelism) {
  uint64_t hash;
  if (key.size() <= 8) {
    uint64_t bits = 0;
    if (key.size() == 8) std::memcpy(&bits, key.data(), 8);  // one load, the common i64 key
    else if (!key.empty()) std::memcpy(&bits, key.data(), key.size());
    hash = mix64(bits ^ (uint64_t{key.size()} << 59));
  } else {
    hash = long_key_hash(key);
  }
  return static_cast<uint32_t>((hash >> 32) % max_parallelism);
}

// Which of `instances` instances owns key group `key_group`: a contiguous range each, as in
// Flink, so that rescaling moves whole ranges.
inline int owner_of_key_group(uint32_t key_group, int instances) {
  return static_cast<int>(key_group * static_cast<uint32_t>(instances) / kDefaultMaxParallelism);
}
// How many of a job's `instances` own the keys of an operator or partitioning stage with
// `@parallel(parallelism)`: the first `parallelism`, or all of them (0, or more than the job has).
inline int owning_instances(int32_t parallelism, int instances) {
  return parallelism > 0 && parallelism < instances ? parallelism : instances;
}
// Which of `instances` instances owns an encoded key.
inline int owner_of_key(std::string_view key, int instances) { return owner_of_key_group(key_group_of(key), instances); }

// What one instance of a job restores from a checkpoint that `parts` instances took (a restore
// at another parallelism: rescaling): the state of the keys it owns, from every part, and the
// counters (late records, bad records) of the parts dealt to it, part k to instance k % N, so
// that each is counted once.
// An instance beyond `instances` (of a keyed operator with `@parallel`) owns no key.
struct KeyOwnership {
  int instance = 0;
  int instances = 1;
  bool owns(std::string_view key) const {
    return instance < instances && (instances == 1 || owner_of_key(key, instances) == instance);
  }
  bool owns_group(uint32_t key_group) const {
    return instance < instances && (instances == 1 || owner_of_key_group(key_group, instances) == instance);
  }
  // The key groups it owns: [first_group(), end_group()).
  uint32_t first_group() const { return instance >= instances ? kDefaultMaxParallelism : group_boundary(instance); }
  uint32_t end_group() const { return instance >= instances ? kDefaultMaxParallelism : group_boundary(instance + 1); }
  // Every key (one instance, or a restore at the parallelism the checkpoint was taken at).
  bool owns_all() const { return instances == 1 && instance == 0; }
  // The same instance's ownership of an operator whose keys are owned by the first `parallelism`.
  KeyOwnership among(int32_t parallelism) const {
    return KeyOwnership{instance, owning_instances(parallelism, instances)};
  }
  // The first key group instance k owns: the least g with g * instances / 128 >= k.
  uint32_t group_boundary(int k) const {
    return static_cast<uint32_t>((static_cast<uint64_t>(k) * kDefaultMaxParallelism + static_cast<uint64_t>(instances) - 1) /
                                 static_cast<uint64_t>(instances));
  }
  bool counts(std::size_t part) const { return static_cast<int>(part % static_cast<std::size_t>(instances)) == instance; }
};

// What each table keeps in a restore at another parallelism: the key groups `all` owns, or
// those its own entry in `tables` owns (a keyed operator with `@parallel`, by table name).
struct TableOwnership {
  KeyOwnership all;
  std::vector<std::pair<std::string, KeyOwnership>> tables;
  const KeyOwnership& of(std::string_view table) const {
    for (const auto& [name, owner] : tables)
      if (name == table) return owner;
    return all;
  }
};

// (key group, key, namespace) as one byte string: big-endian key group (2 bytes), the key's
// memcomparable bytes, the namespace (8 bytes, big-endian with the sign bit flipped), so that
// byte order visits key groups, then keys, then namespaces in order (RocksDB's key layout).
std::string encode_state_key(uint32_t key_group, std::string_view key, int64_t name_space);
// The key group an address starts with (2 bytes, big-endian).
inline uint32_t key_group_of_address(std::string_view address) {
  if (address.size() < 2) return 0;
  return static_cast<uint32_t>(static_cast<uint8_t>(address[0])) << 8 | static_cast<uint8_t>(address[1]);
}

// The pointer-holding slots of a row or record, as byte offsets from its start: what a
// snapshot must follow (checkpoint/state_snapshot.h). The compiler, which lays rows out, says.
struct RowLayout {
  std::vector<int64_t> strings;  // a flow_str: { const char* ptr, int64_t len }
  std::vector<int64_t> sets;     // a flow_distinct_set* (null when not created)
  // Trailing bytes of a row's key that are not the record's key (a session window's session
  // id): a row's key group is its record key's, so that the row moves with the key.
  std::size_t key_suffix = 0;
  uint32_t key_group(std::string_view row_key) const {
    return key_group_of(row_key.substr(0, row_key.size() > key_suffix ? row_key.size() - key_suffix : 0));
  }
  RowLayout shifted(int64_t by) const {
    RowLayout out = *this;
    for (int64_t& at : out.strings) at += by;
    for (int64_t& at : out.sets) at += by;
    return out;
  }
};

class StateTable {
 public:
  virtual ~StateTable() = default;
  // The rows of `name_space`, created empty when absent. Stays valid until dropped.
  virtual flow_agg_table& rows(int64_t name_space) = 0;
  // The rows of `name_space`, or nullptr.
  virtual flow_agg_table* find_rows(int64_t name_space) = 0;
  // Frees every row of `name_space` (and the strings and sets they own).
  virtual void drop(int64_t name_space) = 0;
  virtual std::size_t namespaces() const = 0;
  // Rows over all namespaces.
  virtual std::size_t size() const = 0;
  // Every row in encoded-address order (key group, key, namespace): snapshots and rescaling.
  virtual void for_each(const std::function<void(std::string_view address, const uint8_t* row)>& visit) const = 0;
  virtual int64_t row_size() const = 0;
  // True when the backend checkpoints the rows itself (RocksDB): an operator's snapshot then
  // leaves them out, and a restore finds them in the table already.
  virtual bool kept_by_backend() const { return false; }
};

// Records kept as they came, several per key: the buffers of joins and lookup tables. Like a
// StateTable it is partitioned by namespace (a join's time bucket or window slice), read per
// key, and dropped a namespace at a time. Records are fixed-size byte blocks whose strings the
// caller copies into the namespace (copy_string), so one drop frees a record and its strings.
class ListStateTable {
 public:
  // The records of one key in one namespace, in the order they were appended.
  struct Records {
    uint8_t* first = nullptr;  // each record is preceded by a pointer to the next (kNextOffset)
    int64_t count = 0;
  };
  static constexpr std::size_t kNextOffset = sizeof(void*);
  static uint8_t* next(const uint8_t* record) {
    uint8_t* n;
    std::memcpy(&n, record - kNextOffset, sizeof n);
    return n;
  }

  virtual ~ListStateTable() = default;
  // Room for one more record of (name_space, key), zero-filled, 8-byte aligned; it stays put
  // until the namespace is dropped.
  virtual uint8_t* append(int64_t name_space, std::string_view key) = 0;
  // A copy of a string, freed with the namespace.
  virtual flow_str copy_string(int64_t name_space, const char* p, int64_t len) = 0;
  // The records of (name_space, key); count 0 when there are none.
  virtual Records find(int64_t name_space, std::string_view key) const = 0;
  // Every key of the namespace with its records, in key order.
  virtual void for_each_key(int64_t name_space, const std::function<void(std::string_view key, Records)>& visit) const = 0;
  virtual void drop(int64_t name_space) = 0;
  virtual std::size_t namespaces() const = 0;
  // Every namespace holding records, in increasing order.
  virtual std::vector<int64_t> namespace_ids() const = 0;
  virtual std::size_t size() const = 0;  // records over all namespaces
  virtual int64_t record_size() const = 0;
  virtual bool kept_by_backend() const { return false; }  // as StateTable's
};

// A backend that keeps its tables in a database of its own and checkpoints that (RocksDB).
class PersistentState {
 public:
  virtual ~PersistentState() = default;
  // The synchronous part of a checkpoint: copies what changed in the tables since the last
  // one, so that the job can go on changing them.
  virtual bool capture_changes(std::string& error) = 0;
  // The asynchronous part: writes what capture_changes() copied into the database, then makes
  // a checkpoint of it in `dir` (which must not exist): its SST files hard-linked, the rest
  // copied. It may run on another thread while the job goes on, as long as no other call on
  // this object is made meanwhile (the tables themselves are the job's).
  virtual bool write_checkpoint(const std::string& dir, std::string& error) = 0;
  // Both at once.
  bool checkpoint(const std::string& dir, std::string& error) {
    return capture_changes(error) && write_checkpoint(dir, error);
  }
  // Replaces the contents of every table with those of the database checkpoint in `dir`.
  virtual bool restore(const std::string& dir, std::string& error) = 0;
  // A restore at another parallelism than the checkpoint's (rescaling), one part at a time:
  // start_rescaled() empties the database, add_rescaled_part() copies the rows of the key
  // groups `owner` owns out of one part's database checkpoint in `dir`, and
  // finish_rescaled() fills the tables from what the database then holds.
  virtual bool start_rescaled(std::string& error) = 0;
  virtual bool add_rescaled_part(const std::string& dir, const TableOwnership& owner, std::string& error) = 0;
  virtual bool finish_rescaled(std::string& error) = 0;
  // Where the database lives (--state-dir).
  virtual const std::string& directory() const = 0;
};

// A backend that checkpoints its tables as a chain of snapshots of its own (the heap backend
// of a checkpointing job): a full one, then the changes of each later checkpoint.
class IncrementalSnapshots {
 public:
  virtual ~IncrementalSnapshots() = default;
  // The changes since the last call (`full`: every row, a new base for the changes to come).
  virtual void snapshot_changes(bool full, std::string& out) = 0;
  // Every row, leaving what changed as it is (a savepoint between two checkpoints).
  virtual void snapshot_all(std::string& out) const = 0;
  // Fills the (empty) tables from chains, one per part of the checkpoint (each its full
  // snapshot, then its changes in order), keeping the rows of the key groups `owner` owns.
  virtual bool restore(const std::vector<std::vector<std::string_view>>& chains, const TableOwnership& owner,
                       std::string& error) = 0;
  // One chain, every row.
  bool restore(const std::vector<std::string_view>& chain, std::string& error) { return restore({chain}, TableOwnership{}, error); }
  // No checkpoint will ask for changes (savepoints and restores need none): stop noting them.
  virtual void stop_tracking() = 0;
};

class StateBackend {
 public:
  virtual ~StateBackend() = default;
  // The table of one operator (a column family in RocksDB); rows are `row_size` bytes laid out
  // as `layout` says. Without a layout the table is not checkpointed (it is rebuilt on restore).
  virtual StateTable& table(const std::string& name, int64_t row_size, const RowLayout* layout = nullptr) = 0;
  // The record buffer of one operator; records are `record_size` bytes.
  virtual ListStateTable& list_table(const std::string& name, int64_t record_size, const RowLayout* layout = nullptr) = 0;
  // The database the backend checkpoints itself, or nullptr (the heap backend: operators
  // snapshot their tables).
  virtual PersistentState* persistent() { return nullptr; }
  // The snapshot chain the backend checkpoints its tables in, or nullptr.
  virtual IncrementalSnapshots* incremental() { return nullptr; }
};

std::unique_ptr<StateBackend> make_heap_state_backend();
// The heap backend of a job that checkpoints: tables with a layout note their changes
// (state/tracked_tables.h) and are checkpointed incrementally through incremental().
std::unique_ptr<StateBackend> make_checkpointed_heap_backend();
// The RocksDB backend, its database in `dir` (created, or emptied; "" for a temporary
// directory removed with the backend). nullptr, with `error`, when RocksDB cannot open it.
std::unique_ptr<StateBackend> make_rocksdb_state_backend(const std::string& dir, std::string& error);

}  // namespace flow

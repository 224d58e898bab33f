// Keyed state behind one interface (architecture.md, "State, time and checkpoints"): fixed-size
// value rows addressed by (key group, key bytes, namespace), in tables of one operator each.
// Windows, joins and timers use only this interface, so the heap backend here and the RocksDB
// backend of issue 5 are interchangeable.
//
// The full address is encoded as RocksDB will store it: big-endian key group (2 bytes), the
// memcomparable key bytes, then the namespace (8 bytes, big-endian with the sign bit flipped), so
// iterating a table in byte order visits key groups, then keys, then namespaces in order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace flow {

constexpr uint32_t kDefaultMaxParallelism = 128;

// hash(key) % max_parallelism: the unit in which state moves when parallelism changes.
uint32_t key_group_of(std::string_view key, uint32_t max_parallelism = kDefaultMaxParallelism);

// (key group, key, namespace) as one byte string, in the order described above.
std::string encode_state_key(uint32_t key_group, std::string_view key, int64_t name_space);

class StateTable {
 public:
  virtual ~StateTable() = default;
  // The value of the address, or nullptr. Stays valid until the entry is removed.
  virtual uint8_t* find(uint32_t key_group, std::string_view key, int64_t name_space) = 0;
  // The value of the address, created zero-filled when absent (*created tells which).
  virtual uint8_t* get_or_create(uint32_t key_group, std::string_view key, int64_t name_space, bool* created) = 0;
  virtual bool remove(uint32_t key_group, std::string_view key, int64_t name_space) = 0;
  virtual std::size_t size() const = 0;
  // Every entry in encoded-address order: (encoded address, value).
  virtual void for_each(const std::function<void(std::string_view address, const uint8_t* value)>& visit) const = 0;
  virtual int64_t value_size() const = 0;
};

class StateBackend {
 public:
  virtual ~StateBackend() = default;
  // The table of one operator (a column family in RocksDB); values are `value_size` bytes.
  virtual StateTable& table(const std::string& name, int64_t value_size) = 0;
};

std::unique_ptr<StateBackend> make_heap_state_backend();

}  // namespace flow

// flow_agg_table: the keyed accumulator rows of one unwindowed aggregate. An open-addressing
// hash table (a mix of short encoded keys, XXH3 of long ones; linear probing) maps encoded keys to fixed-size rows
// whose layout the compiler chose; rows live in an arena so they never move.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "agg/distinct_set.h"
#include "core/arena.h"
#include "flow/abi.h"

struct flow_agg_table {
 public:
  explicit flow_agg_table(int64_t row_size);

  // The row of `key`, created zero-filled (and *is_new = 1) when the key is new.
  uint8_t* upsert(const uint8_t* key, std::size_t key_len, int32_t* is_new);
  std::size_t size() const { return entries_.size(); }
  int64_t row_size() const { return row_size_; }

  // Every row, ordered by encoded key bytes (memcmp, a prefix first).
  std::vector<uint8_t*> rows_in_key_order() const;

  // Keys, copied strings and distinct-set strings: lives as long as the table.
  flow::Arena& storage() { return storage_; }
  flow_distinct_set* new_distinct_set();

 private:
  struct Entry {
    uint64_t hash;
    const uint8_t* key;
    std::size_t key_len;
    uint8_t* row;
  };
  // A slot holds entry index + 1 (0 = empty), the full hash, the row, and short keys
  // themselves, so that a lookup of a key of up to 16 bytes (most keys) touches one cache
  // line of the slot array and nothing else.
  static constexpr std::size_t kShortKey = 16;
  struct Slot {
    uint64_t hash;
    uint8_t* row;
    uint32_t entry_plus_one;
    uint32_t key_len;
    uint64_t short_key[2];  // zero-padded key bytes when key_len <= kShortKey
  };
  bool same_key(const Slot& slot, const uint64_t* padded, const uint8_t* key, std::size_t key_len) const;
  void grow();

  int64_t row_size_;
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  flow::Arena storage_{256 * 1024};
  flow::Arena rows_{1024 * 1024};
  std::vector<std::unique_ptr<flow_distinct_set>> distinct_sets_;
};

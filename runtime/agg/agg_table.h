// flow_agg_table: the keyed accumulator rows of one unwindowed aggregate (or of one window
// slice). An open-addressing hash table (short encoded keys hashed as numbers by a multiply,
// XXH3 of long ones; linear probing) maps encoded keys to fixed-size rows whose layout the
// compiler chose; rows live in chunks so they never move.
#pragma once

#include <algorithm>
#include <bit>
#include <cstring>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "agg/distinct_set.h"
#include "core/arena.h"
#include "flow/abi.h"

struct flow_agg_table {
 public:
  explicit flow_agg_table(int64_t row_size);

  // The row of `key`, created zero-filled (and *is_new = 1) when the key is new. Inline, the
  // common case: a short key in its home slot while no changes are tracked.
  uint8_t* upsert(const uint8_t* key, std::size_t key_len, int32_t* is_new) {
    if (key_len <= kShortKey && !tracking_) {
      uint64_t short_key = 0;
      uint64_t hash = hash_key(key, key_len, short_key);
      const Slot& slot = slots_[home(hash)];
      if (slot.short_key == short_key && slot.check == check_word(hash, key_len) && slot.entry_plus_one != 0) {
        *is_new = 0;
        last_entry_ = slot.entry_plus_one - 1;
        return row_at(last_entry_);
      }
    }
    return upsert_probing(key, key_len, is_new);
  }
  // The row of `key`, or nullptr.
  uint8_t* find(const uint8_t* key, std::size_t key_len) const;
  std::size_t size() const { return entries_.size(); }
  // Metrics of an unwindowed aggregate: records that updated a row through generated code
  // (flow_agg_upsert*), and rows emitted (counted by the job runner). A run's own counts.
  int64_t records_in = 0;
  int64_t records_out = 0;
  int64_t row_size() const { return row_size_; }

  // Every row, ordered by encoded key bytes (memcmp, a prefix first).
  std::vector<uint8_t*> rows_in_key_order() const;
  // The same with each row's key; the order is cached until a key is added.
  struct KeyedRow {
    std::string_view key;
    uint8_t* row;
    uint64_t prefix;  // the first 8 key bytes read big-endian, zero-padded: compares like them

    bool operator<(const KeyedRow& other) const {
      return prefix != other.prefix ? prefix < other.prefix : key < other.key;
    }
    bool same_key(const KeyedRow& other) const {
      return prefix == other.prefix && key.size() == other.key.size() && (key.size() <= 8 || key == other.key);
    }
  };
  const std::vector<KeyedRow>& entries_in_key_order();
  // Every (key, row) in insertion order.
  template <typename Visit>
  void for_each_entry(Visit&& visit) const {
    for (std::size_t i = 0; i < entries_.size(); ++i)
      visit(std::string_view(reinterpret_cast<const char*>(entries_[i].key), entries_[i].key_len), row_at(i));
  }
  // The key of the row the last upsert returned.
  std::string_view last_key() const {
    if (last_entry_ >= entries_.size()) return {};
    const Entry& e = entries_[last_entry_];
    return std::string_view(reinterpret_cast<const char*>(e.key), e.key_len);
  }

  // Incremental checkpoints: once tracking, every row upserted is marked changed until
  // clear_changes(); for_each_changed visits those (key, row) in insertion order.
  void track_changes() {
    tracking_ = true;
    changed_.assign(entries_.size(), 0);
  }
  template <typename Visit>
  void for_each_changed(Visit&& visit) const {
    for (std::size_t i = 0; i < changed_.size(); ++i)
      if (changed_[i])
        visit(std::string_view(reinterpret_cast<const char*>(entries_[i].key), entries_[i].key_len), row_at(i));
  }
  std::size_t changed() const {
    std::size_t n = 0;
    for (uint8_t c : changed_) n += c;
    return n;
  }
  void clear_changes() { std::fill(changed_.begin(), changed_.end(), uint8_t{0}); }

  // Keys, copied strings and distinct-set strings: lives as long as the table.
  flow::Arena& storage() { return storage_; }
  flow_distinct_set* new_distinct_set();

 private:
  struct Entry {
    uint64_t hash;
    const uint8_t* key;
    std::size_t key_len;
  };
  // 16 bytes, so that the slot array of a table with tens of thousands of keys stays in the
  // L2 cache: the entry index + 1 (0 = empty), a check word (upper hash bits and the key
  // length), and keys of up to 8 bytes (most keys: one number) themselves, so that their
  // lookup touches nothing but the slot and the row.
  static constexpr std::size_t kShortKey = 8;
  struct Slot {
    uint64_t short_key;  // zero-padded key bytes when the key has at most kShortKey bytes
    uint32_t entry_plus_one;
    uint32_t check;
  };
  // (From the low hash bits: the high ones pick the slot.)
  static uint32_t check_word(uint64_t hash, std::size_t key_len) {
    return (static_cast<uint32_t>(hash) & ~uint32_t{0xF}) | static_cast<uint32_t>(key_len < 0xF ? key_len : 0xF);
  }
  // Rows live in chunks, so a row's address follows from its entry index and rows never move.
  // The chunks double from 16 rows to 1024 (a window slice may hold a handful of rows), then
  // stay at 1024.
  static constexpr std::size_t kFirstChunkRows = 16;
  static constexpr std::size_t kRowsPerChunk = 1024;
  static constexpr std::size_t kGrowingChunks = 7;                   // 16, 32, ..., 1024 rows
  static constexpr std::size_t kGrowingRows = kFirstChunkRows * 127;  // rows in those: 2032
  static std::size_t chunk_of(std::size_t entry, std::size_t& index_in_chunk) {
    if (entry < kGrowingRows) {
      std::size_t chunk = static_cast<std::size_t>(std::bit_width(entry / kFirstChunkRows + 1)) - 1;
      index_in_chunk = entry - kFirstChunkRows * ((std::size_t{1} << chunk) - 1);
      return chunk;
    }
    index_in_chunk = (entry - kGrowingRows) % kRowsPerChunk;
    return kGrowingChunks + (entry - kGrowingRows) / kRowsPerChunk;
  }
  static std::size_t chunk_rows(std::size_t chunk) {
    return chunk < kGrowingChunks ? kFirstChunkRows << chunk : kRowsPerChunk;
  }
  uint8_t* row_at(std::size_t entry) const {
    std::size_t index = 0;
    std::size_t chunk = chunk_of(entry, index);
    return row_chunks_[chunk].get() + index * static_cast<std::size_t>(row_size_);
  }
  uint8_t* upsert_probing(const uint8_t* key, std::size_t key_len, int32_t* is_new);
  uint8_t* new_row();
  void grow();

  // Entry indexes ordered by key, each with its key prefix.
  struct Ranked {
    uint64_t prefix;
    uint32_t entry;
  };
  std::vector<Ranked> key_order() const;
  // The slot hash of a key; keys of up to kShortKey bytes are also returned zero-padded.
  // Short keys (at most kShortKey bytes, an i64's) are hashed inline: every upsert hashes.
  // Their bytes read as a big-endian number (an encoded id is the id, sign bit flipped) times
  // 2^64 / golden ratio: the top bits of the product, which pick the slot (home()), spread
  // consecutive ids evenly over the slots, so ids close together (the common key) rarely
  // share one, and strided numbers (times in ms) spread as well as random ones.
  static uint64_t hash_key(const uint8_t* key, std::size_t key_len, uint64_t& short_key) {
    if (key_len > kShortKey) return long_hash(key, key_len);
    if (key_len == 0) return 0;  // an empty key may come as a null pointer
    std::memcpy(&short_key, key, key_len);
    uint64_t number = __builtin_bswap64(short_key) >> (8 * (kShortKey - key_len));
    return (number ^ (uint64_t{key_len} << 56)) * 0x9E3779B97F4A7C15ULL;
  }
  std::size_t home(uint64_t hash) const { return static_cast<std::size_t>(hash >> shift_); }
  static uint64_t long_hash(const uint8_t* key, std::size_t key_len);

  int64_t row_size_;
  bool tracking_ = false;
  std::vector<uint8_t> changed_;  // per entry, while tracking
  std::size_t last_entry_ = SIZE_MAX;  // of the last upsert: kept as an index so a hit touches no entry
  std::vector<KeyedRow> sorted_;  // entries_in_key_order(), valid while its size is entries_.size()
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;  // 64 - log2(slots): home() is the hash's top bits
  flow::Arena storage_{4 * 1024, 256 * 1024};  // small at first: a window slice may hold few rows
  std::vector<std::unique_ptr<uint8_t[]>> row_chunks_;
  std::vector<std::unique_ptr<flow_distinct_set>> distinct_sets_;
};

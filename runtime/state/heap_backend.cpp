// The heap state backend: per table, an ordered map from namespace to that namespace's
// flow_agg_table. Ordered iteration over everything sorts addresses on demand (snapshots and
// rescaling are rare; the hot path is a row lookup in one namespace).
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "core/arena.h"
#include "core/hash_mix.h"
#include "state/state_backend.h"

namespace flow {

uint64_t long_key_hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

std::string encode_state_key(uint32_t key_group, std::string_view key, int64_t name_space) {
  std::string out;
  out.reserve(2 + key.size() + 8);
  out += static_cast<char>((key_group >> 8) & 0xFF);
  out += static_cast<char>(key_group & 0xFF);
  out.append(key);
  uint64_t ns = static_cast<uint64_t>(name_space) ^ (uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((ns >> shift) & 0xFF);
  return out;
}

namespace {

// The chain index's hash of a key: fixed-width 8-byte keys (an i64) mixed in a few cycles.
inline uint64_t chain_hash(std::string_view key) {
  if (key.size() != 8) return XXH3_64bits(key.data(), key.size());
  uint64_t bits;
  std::memcpy(&bits, key.data(), 8);
  return mix64(bits);
}

// Key bytes equal to `key` (whose length the caller checked): one load for the common
// fixed-width keys (an i64), memcmp otherwise.
inline bool same_bytes(const char* stored, std::string_view key) {
  if (key.size() == 8) {
    uint64_t a, b;
    std::memcpy(&a, stored, 8);
    std::memcpy(&b, key.data(), 8);
    return a == b;
  }
  return std::memcmp(stored, key.data(), key.size()) == 0;
}

class HeapStateTable final : public StateTable {
 public:
  explicit HeapStateTable(int64_t row_size) : row_size_(row_size <= 0 ? 8 : row_size) {}

  flow_agg_table& rows(int64_t name_space) override {
    auto& slot = namespaces_[name_space];
    if (!slot) slot = std::make_unique<flow_agg_table>(row_size_);
    return *slot;
  }

  flow_agg_table* find_rows(int64_t name_space) override {
    auto it = namespaces_.find(name_space);
    return it == namespaces_.end() ? nullptr : it->second.get();
  }

  void drop(int64_t name_space) override { namespaces_.erase(name_space); }
  std::size_t namespaces() const override { return namespaces_.size(); }

  std::size_t size() const override {
    std::size_t n = 0;
    for (const auto& [ns, rows] : namespaces_) n += rows->size();
    return n;
  }

  void for_each(const std::function<void(std::string_view, const uint8_t*)>& visit) const override {
    std::vector<std::pair<std::string, const uint8_t*>> entries;
    for (const auto& [ns, rows] : namespaces_)
      rows->for_each_entry([&](std::string_view key, const uint8_t* row) {
        entries.emplace_back(encode_state_key(key_group_of(key), key, ns), row);
      });
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [address, row] : entries) visit(address, row);
  }

  int64_t row_size() const override { return row_size_; }

 private:
  int64_t row_size_;
  std::map<int64_t, std::unique_ptr<flow_agg_table>> namespaces_;
};

// The records of each key of one namespace, as chains through the namespace's arena: an
// open-addressing table (linear probing, at most half full) whose keys are copied into the
// arena too, so a record costs no allocation of its own and a drop frees whole blocks.
class ChainIndex {
 public:
  struct Entry {
    uint64_t hash = 0;
    const char* key = nullptr;  // null: an empty slot
    std::size_t len = 0;
    uint8_t* first = nullptr;
    uint8_t* last = nullptr;
    int64_t count = 0;
  };

  const Entry* find(std::string_view key, uint64_t hash) const {
    if (slots_.empty()) return nullptr;
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Entry& e = slots_[i];
      if (!e.key) return nullptr;
      if (e.hash == hash && e.len == key.size() && same_bytes(e.key, key)) return &e;
    }
  }

  Entry& find_or_add(std::string_view key, uint64_t hash, Arena& arena) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      Entry& e = slots_[i];
      if (!e.key) {
        e.hash = hash;
        e.key = arena.copy(key.data(), key.size()).data();
        e.len = key.size();
        ++size_;
        return e;
      }
      if (e.hash == hash && e.len == key.size() && same_bytes(e.key, key)) return e;
    }
  }

  // In key byte order. Sorted on the first 8 key bytes read big-endian (zero-padded), which
  // order like the bytes, then on the whole key among equal prefixes: most keys are one
  // number, and a comparison then reads no key.
  std::vector<const Entry*> sorted() const {
    struct Ranked {
      uint64_t prefix;
      const Entry* entry;
    };
    std::vector<Ranked> ranked;
    ranked.reserve(size_);
    for (const Entry& e : slots_) {
      if (!e.key) continue;
      uint64_t prefix = 0;
      std::memcpy(&prefix, e.key, std::min<std::size_t>(e.len, sizeof prefix));
      ranked.push_back(Ranked{__builtin_bswap64(prefix), &e});
    }
    std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
      if (a.prefix != b.prefix) return a.prefix < b.prefix;
      return std::string_view(a.entry->key, a.entry->len) < std::string_view(b.entry->key, b.entry->len);
    });
    std::vector<const Entry*> out;
    out.reserve(ranked.size());
    for (const Ranked& r : ranked) out.push_back(r.entry);
    return out;
  }

  // Empties the table, keeping its slots for the next namespace.
  void clear() {
    if (size_ == 0) return;
    std::fill(slots_.begin(), slots_.end(), Entry{});
    size_ = 0;
  }

 private:
  void grow() {
    std::vector<Entry> old(slots_.empty() ? 64 : slots_.size() * 2);
    old.swap(slots_);
    std::size_t mask = slots_.size() - 1;
    for (const Entry& e : old) {
      if (!e.key) continue;
      std::size_t i = e.hash & mask;
      while (slots_[i].key) i = (i + 1) & mask;
      slots_[i] = e;
    }
  }

  std::vector<Entry> slots_;
  std::size_t size_ = 0;
};

// Per namespace: an arena holding its records, keys and strings, and the chain index. Dropped
// namespaces are kept (emptied) for reuse, so a steady stream of time buckets allocates
// nothing new.
class HeapListStateTable final : public ListStateTable {
 public:
  explicit HeapListStateTable(int64_t record_size) : record_size_(record_size <= 0 ? 8 : (record_size + 7) / 8 * 8) {}

  uint8_t* append(int64_t name_space, std::string_view key) override {
    Namespace& ns = space(name_space);
    ChainIndex::Entry& chain = ns.index.find_or_add(key, chain_hash(key), ns.arena);
    std::size_t bytes = kNextOffset + static_cast<std::size_t>(record_size_);
    char* block = ns.arena.allocate(bytes, 8);
    std::memset(block, 0, bytes);
    auto* record = reinterpret_cast<uint8_t*>(block + kNextOffset);
    if (chain.last) std::memcpy(chain.last - kNextOffset, &record, sizeof record);
    else chain.first = record;
    chain.last = record;
    ++chain.count;
    ++ns.records;
    ++records_;
    return record;
  }

  flow_str copy_string(int64_t name_space, const char* p, int64_t len) override {
    std::string_view copy = space(name_space).arena.copy(p, static_cast<std::size_t>(len));
    return flow_str{copy.data(), static_cast<int64_t>(copy.size())};
  }

  Records find(int64_t name_space, std::string_view key) const override {
    const Namespace* ns = cached_ && cached_key_ == name_space ? cached_ : nullptr;  // (a lookup table's one namespace)
    if (!ns) {
      auto it = namespaces_.find(name_space);
      if (it == namespaces_.end()) return {};
      ns = it->second.get();
    }
    const ChainIndex::Entry* e = ns->index.find(key, chain_hash(key));
    return e ? Records{e->first, e->count} : Records{};
  }

  void for_each_key(int64_t name_space, const std::function<void(std::string_view, Records)>& visit) const override {
    auto ns = namespaces_.find(name_space);
    if (ns == namespaces_.end()) return;
    for (const ChainIndex::Entry* e : ns->second->index.sorted()) visit(std::string_view(e->key, e->len), Records{e->first, e->count});
  }

  void drop(int64_t name_space) override {
    auto ns = namespaces_.find(name_space);
    if (ns == namespaces_.end()) return;
    records_ -= ns->second->records;
    if (cached_ == ns->second.get()) cached_ = nullptr;
    ns->second->arena.reset();
    ns->second->index.clear();
    ns->second->records = 0;
    if (spare_.size() < kSpares) spare_.push_back(std::move(ns->second));
    namespaces_.erase(ns);
  }
  std::size_t namespaces() const override { return namespaces_.size(); }
  std::vector<int64_t> namespace_ids() const override {
    std::vector<int64_t> ids;
    for (const auto& [ns, space] : namespaces_) ids.push_back(ns);
    return ids;
  }
  std::size_t size() const override { return records_; }
  int64_t record_size() const override { return record_size_; }

 private:
  struct Namespace {
    Arena arena{64 * 1024};
    ChainIndex index;
    std::size_t records = 0;
  };
  static constexpr std::size_t kSpares = 4;

  Namespace& space(int64_t name_space) {
    if (cached_ && cached_key_ == name_space) return *cached_;
    auto& slot = namespaces_[name_space];
    if (!slot) {
      if (spare_.empty()) {
        slot = std::make_unique<Namespace>();
      } else {
        slot = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    cached_ = slot.get();
    cached_key_ = name_space;
    return *slot;
  }

  int64_t record_size_;
  std::map<int64_t, std::unique_ptr<Namespace>> namespaces_;
  std::vector<std::unique_ptr<Namespace>> spare_;
  Namespace* cached_ = nullptr;  // the namespace appended to last (records of one bucket come together)
  int64_t cached_key_ = 0;
  std::size_t records_ = 0;
};

class HeapStateBackend final : public StateBackend {
 public:
  StateTable& table(const std::string& name, int64_t row_size, const RowLayout* = nullptr) override {
    auto& slot = tables_[name];
    if (!slot) slot = std::make_unique<HeapStateTable>(row_size);
    return *slot;
  }

  ListStateTable& list_table(const std::string& name, int64_t record_size, const RowLayout* = nullptr) override {
    auto& slot = lists_[name];
    if (!slot) slot = std::make_unique<HeapListStateTable>(record_size);
    return *slot;
  }

 private:
  std::map<std::string, std::unique_ptr<HeapStateTable>> tables_;
  std::map<std::string, std::unique_ptr<HeapListStateTable>> lists_;
};

}  // namespace

std::unique_ptr<StateBackend> make_heap_state_backend() { return std::make_unique<HeapStateBackend>(); }

}  // namespace flow

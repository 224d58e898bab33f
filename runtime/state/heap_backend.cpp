// The heap state backend: per table, an ordered map from namespace to that namespace's
// flow_agg_table. Ordered iteration over everything sorts addresses on demand (snapshots and
// rescaling are rare; the hot path is a row lookup in one namespace).
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

#include "core/arena.h"
#include "state/state_backend.h"

namespace flow {

uint32_t key_group_of(std::string_view key, uint32_t max_parallelism) {
  return static_cast<uint32_t>(XXH3_64bits(key.data(), key.size()) % max_parallelism);
}

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

// Hashes encoded keys for lookups by string_view without building a std::string.
struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const { return XXH3_64bits(key.data(), key.size()); }
};

// Per namespace: an arena holding its records and their strings, and a hash map from key to
// the chain of its records (first, last, count); the chain links live in the arena, in front
// of each record.
class HeapListStateTable final : public ListStateTable {
 public:
  explicit HeapListStateTable(int64_t record_size) : record_size_(record_size <= 0 ? 8 : (record_size + 7) / 8 * 8) {}

  uint8_t* append(int64_t name_space, std::string_view key) override {
    Namespace& ns = namespaces_[name_space];
    auto it = ns.keys.find(key);
    if (it == ns.keys.end()) it = ns.keys.emplace(std::string(key), Chain{}).first;
    Chain& chain = it->second;
    char* block = ns.arena.allocate(kNextOffset + static_cast<std::size_t>(record_size_), 8);
    std::memset(block, 0, kNextOffset + static_cast<std::size_t>(record_size_));
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
    std::string_view copy = namespaces_[name_space].arena.copy(p, static_cast<std::size_t>(len));
    return flow_str{copy.data(), static_cast<int64_t>(copy.size())};
  }

  Records find(int64_t name_space, std::string_view key) const override {
    auto ns = namespaces_.find(name_space);
    if (ns == namespaces_.end()) return {};
    auto it = ns->second.keys.find(key);
    if (it == ns->second.keys.end()) return {};
    return Records{it->second.first, it->second.count};
  }

  void for_each_key(int64_t name_space, const std::function<void(std::string_view, Records)>& visit) const override {
    auto ns = namespaces_.find(name_space);
    if (ns == namespaces_.end()) return;
    std::vector<const std::pair<const std::string, Chain>*> entries;
    entries.reserve(ns->second.keys.size());
    for (const auto& entry : ns->second.keys) entries.push_back(&entry);
    std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* entry : entries) visit(entry->first, Records{entry->second.first, entry->second.count});
  }

  void drop(int64_t name_space) override {
    auto ns = namespaces_.find(name_space);
    if (ns == namespaces_.end()) return;
    records_ -= ns->second.records;
    namespaces_.erase(ns);
  }
  std::size_t namespaces() const override { return namespaces_.size(); }
  std::size_t size() const override { return records_; }
  int64_t record_size() const override { return record_size_; }

 private:
  struct Chain {
    uint8_t* first = nullptr;
    uint8_t* last = nullptr;
    int64_t count = 0;
  };
  struct Namespace {
    Arena arena{64 * 1024};
    std::unordered_map<std::string, Chain, KeyHash, std::equal_to<>> keys;
    std::size_t records = 0;
  };
  int64_t record_size_;
  std::map<int64_t, Namespace> namespaces_;
  std::size_t records_ = 0;
};

class HeapStateBackend final : public StateBackend {
 public:
  StateTable& table(const std::string& name, int64_t row_size) override {
    auto& slot = tables_[name];
    if (!slot) slot = std::make_unique<HeapStateTable>(row_size);
    return *slot;
  }

  ListStateTable& list_table(const std::string& name, int64_t record_size) override {
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

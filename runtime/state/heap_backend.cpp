// The heap state backend: per table, a hash map from the encoded address to a stable,
// zero-filled value row. Ordered iteration sorts the addresses on demand (snapshots and
// rescaling are rare; point access is the hot path).
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

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
  explicit HeapStateTable(int64_t value_size) : value_size_(value_size <= 0 ? 1 : value_size) {}

  uint8_t* find(uint32_t key_group, std::string_view key, int64_t name_space) override {
    auto it = values_.find(encode_state_key(key_group, key, name_space));
    return it == values_.end() ? nullptr : it->second.get();
  }

  uint8_t* get_or_create(uint32_t key_group, std::string_view key, int64_t name_space, bool* created) override {
    auto [it, inserted] = values_.try_emplace(encode_state_key(key_group, key, name_space));
    if (inserted) it->second.reset(new uint8_t[static_cast<std::size_t>(value_size_)]());
    if (created) *created = inserted;
    return it->second.get();
  }

  bool remove(uint32_t key_group, std::string_view key, int64_t name_space) override {
    return values_.erase(encode_state_key(key_group, key, name_space)) > 0;
  }

  std::size_t size() const override { return values_.size(); }

  void for_each(const std::function<void(std::string_view, const uint8_t*)>& visit) const override {
    std::vector<const std::pair<const std::string, std::unique_ptr<uint8_t[]>>*> entries;
    entries.reserve(values_.size());
    for (const auto& entry : values_) entries.push_back(&entry);
    std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
    for (const auto* entry : entries) visit(entry->first, entry->second.get());
  }

  int64_t value_size() const override { return value_size_; }

 private:
  int64_t value_size_;
  std::unordered_map<std::string, std::unique_ptr<uint8_t[]>> values_;
};

class HeapStateBackend final : public StateBackend {
 public:
  StateTable& table(const std::string& name, int64_t value_size) override {
    auto& slot = tables_[name];
    if (!slot) slot = std::make_unique<HeapStateTable>(value_size);
    return *slot;
  }

 private:
  std::map<std::string, std::unique_ptr<HeapStateTable>> tables_;
};

}  // namespace

std::unique_ptr<StateBackend> make_heap_state_backend() { return std::make_unique<HeapStateBackend>(); }

}  // namespace flow

// The heap state backend: per table, an ordered map from namespace to that namespace's
// flow_agg_table. Ordered iteration over everything sorts addresses on demand (snapshots and
// rescaling are rare; the hot path is a row lookup in one namespace).
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
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

class HeapStateBackend final : public StateBackend {
 public:
  StateTable& table(const std::string& name, int64_t row_size) override {
    auto& slot = tables_[name];
    if (!slot) slot = std::make_unique<HeapStateTable>(row_size);
    return *slot;
  }

 private:
  std::map<std::string, std::unique_ptr<HeapStateTable>> tables_;
};

}  // namespace

std::unique_ptr<StateBackend> make_heap_state_backend() { return std::make_unique<HeapStateBackend>(); }

}  // namespace flow

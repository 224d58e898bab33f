// The aggregate hash table and the flow_agg_* / flow_distinct_new entry points.
#include "agg/agg_table.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "agg/key_buffer.h"

namespace {
constexpr std::size_t kInitialSlots = 16;  // a window slice may hold a single row
}  // namespace

flow_agg_table::flow_agg_table(int64_t row_size) : row_size_(row_size <= 0 ? 8 : (row_size + 7) / 8 * 8) {
  slots_.assign(kInitialSlots, Slot{});
  mask_ = kInitialSlots - 1;
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(kInitialSlots));
}

uint64_t flow_agg_table::long_hash(const uint8_t* key, std::size_t key_len) { return XXH3_64bits(key, key_len); }

uint8_t* flow_agg_table::find(const uint8_t* key, std::size_t key_len) const {
  uint64_t short_key = 0;
  uint64_t hash = hash_key(key, key_len, short_key);
  uint32_t check = check_word(hash, key_len);
  for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.entry_plus_one == 0) return nullptr;
    if (slot.check != check) continue;
    std::size_t entry = slot.entry_plus_one - 1;
    bool same = key_len <= kShortKey ? slot.short_key == short_key
                                     : entries_[entry].key_len == key_len && std::memcmp(entries_[entry].key, key, key_len) == 0;
    if (same) return row_at(entry);
  }
}

// Every case: a key past its home slot, a new key, changes tracked, a long key.
uint8_t* flow_agg_table::upsert_probing(const uint8_t* key, std::size_t key_len, int32_t* is_new) {
  uint64_t short_key = 0;
  uint64_t hash = hash_key(key, key_len, short_key);
  uint32_t check = check_word(hash, key_len);
  for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.entry_plus_one == 0) break;
    if (slot.check != check) continue;
    std::size_t entry = slot.entry_plus_one - 1;
    bool same = key_len <= kShortKey ? slot.short_key == short_key
                                     : entries_[entry].key_len == key_len && std::memcmp(entries_[entry].key, key, key_len) == 0;
    if (same) {
      *is_new = 0;
      last_entry_ = entry;
      if (tracking_) changed_[entry] = 1;
      return row_at(entry);
    }
  }
  // A new key. Grow first (keeping the load factor under 1/2), then insert.
  if ((entries_.size() + 1) * 2 > slots_.size()) grow();
  auto* stored_key =
      reinterpret_cast<const uint8_t*>(storage_.copy(reinterpret_cast<const char*>(key), key_len).data());
  entries_.push_back(Entry{hash, stored_key, key_len});
  if (tracking_) changed_.resize(entries_.size(), 0), changed_.back() = 1;
  uint8_t* row = new_row();
  std::size_t i = home(hash);
  while (slots_[i].entry_plus_one != 0) i = (i + 1) & mask_;
  slots_[i] = Slot{short_key, static_cast<uint32_t>(entries_.size()), check};
  *is_new = 1;
  last_entry_ = entries_.size() - 1;
  return row;
}

// The row of the newest entry, zero-filled.
uint8_t* flow_agg_table::new_row() {
  std::size_t entry = entries_.size() - 1;
  std::size_t index = 0;
  std::size_t chunk = chunk_of(entry, index);
  if (chunk >= row_chunks_.size())
    row_chunks_.emplace_back(new uint8_t[chunk_rows(chunk) * static_cast<std::size_t>(row_size_)]);
  uint8_t* row = row_at(entry);
  std::memset(row, 0, static_cast<std::size_t>(row_size_));
  return row;
}

void flow_agg_table::grow() {
  std::vector<Slot> bigger(slots_.size() * 2, Slot{});
  mask_ = bigger.size() - 1;
  --shift_;
  for (const Slot& slot : slots_) {
    if (slot.entry_plus_one == 0) continue;
    std::size_t i = home(entries_[slot.entry_plus_one - 1].hash);
    while (bigger[i].entry_plus_one != 0) i = (i + 1) & mask_;
    bigger[i] = slot;
  }
  slots_.swap(bigger);
}

std::vector<uint8_t*> flow_agg_table::rows_in_key_order() const {
  std::vector<uint8_t*> rows;
  rows.reserve(entries_.size());
  for (const Ranked& r : key_order()) rows.push_back(row_at(r.entry));
  return rows;
}

const std::vector<flow_agg_table::KeyedRow>& flow_agg_table::entries_in_key_order() {
  if (sorted_.size() == entries_.size()) return sorted_;
  sorted_.clear();
  sorted_.reserve(entries_.size());
  for (const Ranked& r : key_order()) {
    const Entry& e = entries_[r.entry];
    sorted_.push_back(KeyedRow{std::string_view(reinterpret_cast<const char*>(e.key), e.key_len), row_at(r.entry), r.prefix});
  }
  return sorted_;
}

namespace {

// Least significant byte first radix sort on the prefixes (stable), skipping the bytes every
// prefix shares — most keys are small numbers whose high bytes are all alike.
template <typename Ranked>
void radix_sort_by_prefix(std::vector<Ranked>& items) {
  uint32_t counts[8][256] = {};
  for (const Ranked& r : items)
    for (int b = 0; b < 8; ++b) ++counts[b][(r.prefix >> (8 * b)) & 0xFF];
  std::vector<Ranked> scratch(items.size());
  for (int b = 0; b < 8; ++b) {
    if (counts[b][(items[0].prefix >> (8 * b)) & 0xFF] == items.size()) continue;
    uint32_t next = 0;
    for (uint32_t& c : counts[b]) next += std::exchange(c, next);
    for (const Ranked& r : items) scratch[counts[b][(r.prefix >> (8 * b)) & 0xFF]++] = r;
    items.swap(scratch);
  }
}

}  // namespace

// Sorted on the first 8 key bytes read big-endian (most keys are one number: the whole key);
// keys with equal prefixes are then ordered by their full bytes.
std::vector<flow_agg_table::Ranked> flow_agg_table::key_order() const {
  std::vector<Ranked> ranked(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    uint64_t prefix = 0;
    if (entries_[i].key_len > 0) std::memcpy(&prefix, entries_[i].key, std::min(entries_[i].key_len, sizeof prefix));
    ranked[i] = Ranked{__builtin_bswap64(prefix), static_cast<uint32_t>(i)};
  }
  if (ranked.size() >= 128) {
    radix_sort_by_prefix(ranked);
  } else {
    std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) { return a.prefix < b.prefix; });
  }
  auto full_key_less = [this](const Ranked& a, const Ranked& b) {
    const Entry& x = entries_[a.entry];
    const Entry& y = entries_[b.entry];
    int c = std::memcmp(x.key, y.key, std::min(x.key_len, y.key_len));
    return c != 0 ? c < 0 : x.key_len < y.key_len;
  };
  for (std::size_t i = 0; i < ranked.size();) {
    std::size_t j = i + 1;
    while (j < ranked.size() && ranked[j].prefix == ranked[i].prefix) ++j;
    if (j - i > 1) std::sort(ranked.begin() + i, ranked.begin() + j, full_key_less);
    i = j;
  }
  return ranked;
}

flow_distinct_set* flow_agg_table::new_distinct_set() {
  distinct_sets_.push_back(std::make_unique<flow_distinct_set>(storage_));
  return distinct_sets_.back().get();
}

extern "C" {

uint8_t* flow_agg_upsert(flow_agg_table* t, flow_key_buf* k, int32_t* is_new) {
  ++t->records_in;
  return t->upsert(k->bytes.data(), k->bytes.size(), is_new);
}

uint8_t* flow_agg_upsert_key(flow_agg_table* t, const uint8_t* key, int64_t len, int32_t* is_new) {
  ++t->records_in;
  return t->upsert(key, static_cast<std::size_t>(len), is_new);
}

void flow_agg_copy_str(flow_agg_table* t, const char* p, int64_t len, flow_str* out) {
  flow::set_str(out, t->storage().copy(p, static_cast<std::size_t>(len)));
}

flow_distinct_set* flow_distinct_new(flow_agg_table* t) { return t->new_distinct_set(); }

}  // extern "C"

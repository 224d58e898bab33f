// count_distinct sets and their flow_distinct_* entry points.
#include "agg/distinct_set.h"

#include <xxhash.h>

#include <cstring>

#include "core/hash_mix.h"

namespace {
using flow::mix64;
constexpr std::size_t kInitialSlots = 8;
}  // namespace

void flow_distinct_set::add_i64(int64_t v) {
  if (v == kEmpty) {
    if (!has_empty_value_) ++i64_count_;
    has_empty_value_ = true;
    return;
  }
  if ((i64_count_ + 1) * 2 > i64_slots_.size()) grow_i64();
  std::size_t mask = i64_slots_.size() - 1;
  for (std::size_t i = mix64(static_cast<uint64_t>(v)) & mask;; i = (i + 1) & mask) {
    if (i64_slots_[i] == v) return;
    if (i64_slots_[i] == kEmpty) {
      i64_slots_[i] = v;
      ++i64_count_;
      return;
    }
  }
}

void flow_distinct_set::grow_i64() {
  std::vector<int64_t> old;
  old.swap(i64_slots_);
  i64_slots_.assign(old.empty() ? kInitialSlots : old.size() * 2, kEmpty);
  std::size_t mask = i64_slots_.size() - 1;
  for (int64_t v : old) {
    if (v == kEmpty) continue;
    std::size_t i = mix64(static_cast<uint64_t>(v)) & mask;
    while (i64_slots_[i] != kEmpty) i = (i + 1) & mask;
    i64_slots_[i] = v;
  }
}

void flow_distinct_set::add_str(const char* p, std::size_t len) {
  if ((str_count_ + 1) * 2 > str_slots_.size()) grow_str();
  uint64_t hash = XXH3_64bits(p, len);
  std::size_t mask = str_slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    StrSlot& slot = str_slots_[i];
    if (slot.ptr == nullptr) {
      // Empty strings need a non-null pointer too, to tell them from a free slot.
      slot = StrSlot{hash, len ? storage_->copy(p, len).data() : "", len};
      ++str_count_;
      return;
    }
    if (slot.hash == hash && slot.len == len && std::memcmp(slot.ptr, p, len) == 0) return;
  }
}

void flow_distinct_set::grow_str() {
  std::vector<StrSlot> old;
  old.swap(str_slots_);
  str_slots_.assign(old.empty() ? kInitialSlots : old.size() * 2, StrSlot{0, nullptr, 0});
  std::size_t mask = str_slots_.size() - 1;
  for (const StrSlot& s : old) {
    if (s.ptr == nullptr) continue;
    std::size_t i = s.hash & mask;
    while (str_slots_[i].ptr != nullptr) i = (i + 1) & mask;
    str_slots_[i] = s;
  }
}

void flow_distinct_set::add_all(const flow_distinct_set& other) {
  if (other.has_empty_value_) add_i64(kEmpty);
  for (int64_t v : other.i64_slots_)
    if (v != kEmpty) add_i64(v);
  for (const StrSlot& s : other.str_slots_)
    if (s.ptr != nullptr) add_str(s.ptr, s.len);
  elsewhere_ += other.elsewhere_;
}

extern "C" {

void flow_distinct_merge(flow_distinct_set* into, const flow_distinct_set* from) {
  if (from) into->add_all(*from);
}

void flow_distinct_add_i64(flow_distinct_set* s, int64_t v) { s->add_i64(v); }

void flow_distinct_add_str(flow_distinct_set* s, const char* p, int64_t len) {
  s->add_str(p, static_cast<std::size_t>(len));
}

int64_t flow_distinct_count(flow_distinct_set* s) { return s->count(); }

}  // extern "C"

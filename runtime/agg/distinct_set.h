// flow_distinct_set: the state of one count_distinct, a small open-addressing set of 64-bit
// values or of strings (copied into the owning table's storage). Starts tiny because an
// aggregate may keep one per key.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/arena.h"
#include "flow/abi.h"

struct flow_distinct_set {
 public:
  explicit flow_distinct_set(flow::Arena& storage) : storage_(&storage) {}

  void add_i64(int64_t v);
  void add_str(const char* p, std::size_t len);
  // Adds every value of `other` (strings copied into this set's storage), and what it counted
  // elsewhere.
  void add_all(const flow_distinct_set& other);
  // Counts `n` values that other sets hold and this one never will: the partial sets of a
  // salted aggregate at a job's end (exec/parallel_runner.cpp), each value in one of them.
  // Only then, after the job's last checkpoint: snapshots keep the values alone.
  void count_elsewhere(int64_t n) { elsewhere_ += n; }
  int64_t count() const { return static_cast<int64_t>(i64_count_ + str_count_) + elsewhere_; }
  // Every value, in slot order (snapshots): numbers, then strings.
  template <typename Visit>
  void for_each_i64(Visit&& visit) const {
    if (has_empty_value_) visit(kEmpty);
    for (int64_t v : i64_slots_)
      if (v != kEmpty) visit(v);
  }
  template <typename Visit>
  void for_each_str(Visit&& visit) const {
    for (const StrSlot& s : str_slots_)
      if (s.ptr) visit(std::string_view(s.ptr, s.len));
  }

 private:
  struct StrSlot {
    uint64_t hash;
    const char* ptr;  // nullptr = empty
    std::size_t len;
  };
  void grow_i64();
  void grow_str();

  flow::Arena* storage_;
  // The value kEmpty marks a free slot; whether kEmpty itself is in the set is kept aside.
  static constexpr int64_t kEmpty = INT64_MIN;
  std::vector<int64_t> i64_slots_;
  std::size_t i64_count_ = 0;
  bool has_empty_value_ = false;
  std::vector<StrSlot> str_slots_;
  std::size_t str_count_ = 0;
  int64_t elsewhere_ = 0;
};

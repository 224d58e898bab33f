// Interval and window joins over ListStateTable buffers, and lookup tables (join_operator.h).
#include "join/join_operator.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "checkpoint/byte_io.h"
#include "checkpoint/state_snapshot.h"
#include "core/hash_mix.h"
#include "exec/job_context.h"
#include "time/watermark.h"

namespace flow {
namespace {

// Every stored record starts with its event time, whether it paired (left records) and its
// arrival number (so that unmatched records with equal due times come out in arrival order,
// after a restore too).
struct StoredHeader {
  int64_t time;
  int64_t matched;
  int64_t seq;
};
constexpr std::size_t kHeader = sizeof(StoredHeader);

StoredHeader* header_of(uint8_t* payload) { return reinterpret_cast<StoredHeader*>(payload - kHeader); }
int64_t time_of(uint8_t* payload) { return header_of(payload)->time; }

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) return b > 0 ? INT64_MAX : INT64_MIN;
  return out;
}

int64_t saturate(__int128 v) {
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : static_cast<int64_t>(v);
}

// The multiple of `width` at or below t (saturated at the ends of the range).
int64_t align_down(int64_t t, int64_t width) {
  __int128 r = t % width;
  return saturate(r < 0 ? __int128{t} - r - width : __int128{t} - r);
}

// Appends a record of time t under (name_space, key) and points `holder` (handed out as
// *owner) at where its strings go; returns the payload, after the header.
uint8_t* store_record(ListStateTable& table, int64_t name_space, const uint8_t* key, std::size_t len, int64_t t,
                      flow_state_owner& holder, flow_state_owner** owner) {
  uint8_t* payload = table.append(name_space, std::string_view(reinterpret_cast<const char*>(key), len)) + kHeader;
  header_of(payload)->time = t;
  holder = flow_state_owner{&table, name_space};
  *owner = &holder;
  return payload;
}

// Calls visit(payload) for each record of a chain.
void write_set(ByteWriter& w, const std::set<int64_t>& values) {
  w.u64(values.size());
  for (int64_t v : values) w.i64(v);
}

bool read_set(ByteReader& r, std::set<int64_t>& values) {
  uint64_t n = 0;
  if (!r.number(n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    int64_t v = 0;
    if (!r.number(v)) return false;
    values.insert(v);
  }
  return true;
}

// Both sides' records, each side's pointer slots shifted past the header.
// Empty when the backend keeps the records (RocksDB).
void write_side(ByteWriter& w, const ListStateTable& side, const RowLayout& layout) {
  std::string bytes;
  if (!side.kept_by_backend()) snapshot_records(side, layout.shifted(static_cast<int64_t>(kHeader)), bytes);
  w.bytes(bytes);
}

void write_sides(ByteWriter& w, const ListStateTable& left, const ListStateTable& right, const JoinOperatorSpec& spec) {
  write_side(w, left, spec.left_layout);
  write_side(w, right, spec.right_layout);
}

bool read_side(std::string_view bytes, ListStateTable& side, const RowLayout& layout, std::string& error) {
  if (bytes.empty()) return side.kept_by_backend() || (error = "its join records are not in the snapshot: the state backend keeps them", false);
  return restore_records(bytes, layout.shifted(static_cast<int64_t>(kHeader)), side, error);
}

bool read_sides(ByteReader& r, ListStateTable& left, ListStateTable& right, const JoinOperatorSpec& spec, bool whole,
                std::string& error) {
  std::string_view l, rr;
  if (!r.bytes(l) || !r.bytes(rr)) return error = "truncated join snapshot", false;
  if (!whole && !(l.empty() && rr.empty()))
    return error = "its join records are in the operator's snapshot, which cannot be split between instances", false;
  return read_side(l, left, spec.left_layout, error) && read_side(rr, right, spec.right_layout, error);
}

// Reads the parts of a join snapshot in order: `magic`, then what `read` takes of each
// (watermark, dropped count, own fields), then both sides. The watermark is the parts'
// minimum (they agree, taken at one consistent moment), the dropped count the dealt parts' sum.
template <typename Read>
bool read_join_parts(const std::vector<std::string_view>& parts, const KeyOwnership& owner, const char* magic, const char* what,
                     int64_t& watermark, int64_t& dropped, ListStateTable& left, ListStateTable& right,
                     const JoinOperatorSpec& spec, std::string& error, Read&& read) {
  bool whole = parts.size() == 1 && owner.owns_all();
  watermark = parts.empty() ? INT64_MIN : INT64_MAX;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    ByteReader r(parts[k]);
    int64_t w = 0, d = 0;
    if (!r.expect(magic)) return error = std::string("not ") + what + " snapshot", false;
    if (!r.number(w) || !r.number(d) || !read(r)) return error = "truncated join snapshot", false;
    watermark = std::min(watermark, w);
    if (owner.counts(k)) dropped += d;
    if (!read_sides(r, left, right, spec, whole, error)) return false;
    if (!r.done()) return error = "trailing bytes after a join snapshot", false;
  }
  return true;
}

template <typename Visit>
void for_each_record(ListStateTable::Records records, Visit&& visit) {
  uint8_t* at = records.first;
  for (int64_t i = 0; i < records.count; ++i, at = ListStateTable::next(at)) visit(at + kHeader);
}

class IntervalJoin final : public flow_join {
 public:
  IntervalJoin(const JoinOperatorSpec& spec, flow_ctx& ctx, ListStateTable& left, ListStateTable& right)
      : flow_join(spec, ctx, left, right),
        // About two buckets span the interval, so a probe reads two or three of them.
        bucket_(saturate(std::max<__int128>(1000, (__int128{spec.upper_ms} - spec.lower_ms) / 2))) {}

  uint8_t* insert(int32_t side, const uint8_t* key, std::size_t len, int64_t t, flow_state_owner** owner) override {
    if (t < watermark_) {
      ++dropped_;
      return nullptr;
    }
    int64_t b = align_down(t, bucket_);
    (side == 0 ? left_buckets_ : right_buckets_).insert(b);
    uint8_t* payload = store_record(side == 0 ? left_ : right_, b, key, len, t, owner_, owner);
    header_of(payload)->seq = seq_++;
    last_side_ = side;
    last_ = payload;
    last_key_.assign(reinterpret_cast<const char*>(key), len);
    if (side == 0 && left_outer()) due_.push(Due{saturating_add(t, spec_.upper_ms), header_of(payload)->seq, payload});
    return payload;
  }

  void snapshot(std::string& out) const override {
    ByteWriter w(out);
    w.raw("FLOWIJN1", 8);
    w.i64(watermark_);
    w.i64(dropped_);
    w.i64(seq_);
    write_set(w, left_buckets_);
    write_set(w, right_buckets_);
    write_sides(w, left_, right_, spec_);
  }

  bool restore(const std::vector<std::string_view>& parts, const KeyOwnership& owner, std::string& error) override {
    bool ok = read_join_parts(parts, owner, "FLOWIJN1", "an interval join", watermark_, dropped_, left_, right_, spec_, error,
                              [&](ByteReader& r) {
                                int64_t seq = 0;
                                if (!r.number(seq)) return false;
                                seq_ = std::max(seq_, seq);
                                return read_set(r, left_buckets_) && read_set(r, right_buckets_);
                              });
    if (!ok) return false;
    // What is still due: the left records that never paired and whose time + HI the
    // watermark has not passed (the others came out before the snapshot).
    if (left_outer())
      for (int64_t ns : left_.namespace_ids())
        left_.for_each_key(ns, [&](std::string_view, ListStateTable::Records records) {
          for_each_record(records, [&](uint8_t* l) {
            int64_t at = saturating_add(time_of(l), spec_.upper_ms);
            if (!header_of(l)->matched && (at >= watermark_ || watermark_ == kWatermarkEnd))
              due_.push(Due{at, header_of(l)->seq, l});
          });
        });
    return true;
  }

  int32_t match() override {
    int64_t t = time_of(last_);
    if (last_side_ == 0) {
      int64_t lo = saturating_add(t, spec_.lower_ms), hi = saturating_add(t, spec_.upper_ms);
      return probe(right_, lo, hi, [&](uint8_t* r) -> int32_t {
        int64_t tr = time_of(r);
        if (tr < lo || tr > hi) return 0;
        if (int32_t h = holds(last_, r); h <= 0) return h < 0 ? 1 : 0;
        header_of(last_)->matched = 1;
        return emit(last_, r, std::max(t, tr));
      });
    }
    int64_t lo = saturating_add(t, -spec_.upper_ms), hi = saturating_add(t, -spec_.lower_ms);
    return probe(left_, lo, hi, [&](uint8_t* l) -> int32_t {
      int64_t tl = time_of(l);
      if (tl < lo || tl > hi) return 0;
      if (int32_t h = holds(l, last_); h <= 0) return h < 0 ? 1 : 0;
      header_of(l)->matched = 1;
      return emit(l, last_, std::max(t, tl));
    });
  }

  int32_t advance(int64_t w) override {
    watermark_ = w;
    // At the end of input everything is due, even a record whose t + HI saturated.
    while (!due_.empty() && (due_.top().at < w || w == kWatermarkEnd)) {
      Due due = due_.top();
      due_.pop();
      if (header_of(due.record)->matched) continue;
      if (int32_t status = emit(due.record, nullptr, time_of(due.record))) return status;
    }
    // A left record pairs while W <= t + HI, a right one while W <= t - LO.
    drop_buckets(left_, left_buckets_, spec_.upper_ms, w);
    drop_buckets(right_, right_buckets_, -spec_.lower_ms, w);
    return 0;
  }

  int64_t output_watermark(int64_t w) const override {
    // An unmatched left record (time t) comes out once W > t + HI.
    if (!left_outer() || w == kWatermarkEnd || w == kWatermarkStart) return w;
    return saturating_add(w, -std::max<int64_t>(spec_.upper_ms, 0));
  }

 private:
  struct Due {
    int64_t at;
    int64_t seq;
    uint8_t* record;
    bool operator>(const Due& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  template <typename Visit>
  int32_t probe(ListStateTable& other, int64_t lo, int64_t hi, Visit&& visit) {
    std::string_view key = last_key_;
    std::set<int64_t>& buckets = &other == &left_ ? left_buckets_ : right_buckets_;
    for (auto it = buckets.lower_bound(align_down(lo, bucket_)); it != buckets.end() && *it <= hi; ++it) {
      int32_t status = 0;
      for_each_record(other.find(*it, key), [&](uint8_t* r) {
        if (status == 0) status = visit(r);
      });
      if (status) return status;
    }
    return 0;
  }

  void drop_buckets(ListStateTable& table, std::set<int64_t>& buckets, int64_t reach, int64_t w) {
    while (!buckets.empty() && saturating_add(saturating_add(*buckets.begin(), bucket_ - 1), reach) < w) {
      table.drop(*buckets.begin());
      buckets.erase(buckets.begin());
    }
  }

  int64_t bucket_;
  std::set<int64_t> left_buckets_, right_buckets_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
  int32_t last_side_ = 0;
  uint8_t* last_ = nullptr;
  std::string last_key_;
  int64_t seq_ = 0;
};

class WindowJoin final : public flow_join {
 public:
  WindowJoin(const JoinOperatorSpec& spec, flow_ctx& ctx, ListStateTable& left, ListStateTable& right)
      : flow_join(spec, ctx, left, right), geometry_(spec.window_kind, spec.size_ms, spec.slide_ms) {}

  uint8_t* insert(int32_t side, const uint8_t* key, std::size_t len, int64_t t, flow_state_owner** owner) override {
    int64_t slice = geometry_.slice_start(t);
    if (geometry_.last_end(slice) <= watermark_) {  // every window holding it has fired
      ++dropped_;
      return nullptr;
    }
    slices_.insert(slice);
    return store_record(side == 0 ? left_ : right_, slice, key, len, t, owner_, owner);
  }

  void snapshot(std::string& out) const override {
    ByteWriter w(out);
    w.raw("FLOWWJN1", 8);
    w.i64(watermark_);
    w.i64(dropped_);
    w.i64(fired_through_);
    write_set(w, slices_);
    write_sides(w, left_, right_, spec_);
  }

  bool restore(const std::vector<std::string_view>& parts, const KeyOwnership& owner, std::string& error) override {
    fired_through_ = INT64_MIN;
    return read_join_parts(parts, owner, "FLOWWJN1", "a window join", watermark_, dropped_, left_, right_, spec_, error,
                           [&](ByteReader& r) {
                             int64_t fired = 0;
                             if (!r.number(fired)) return false;
                             fired_through_ = std::max(fired_through_, fired);
                             return read_set(r, slices_);
                           });
  }

  int32_t match() override { return 0; }  // pairs come out when their window fires

  int32_t advance(int64_t w) override {
    watermark_ = w;
    while (!slices_.empty()) {
      int64_t first = *slices_.begin();
      int64_t end = geometry_.first_end_after(first, fired_through_);
      if (end == INT64_MAX) {  // no window of this slice is left
        drop_slice(first);
        continue;
      }
      if (end > w) break;
      if (int32_t status = fire(end)) return status;
      fired_through_ = end;
      while (!slices_.empty() && geometry_.last_end(*slices_.begin()) <= fired_through_) drop_slice(*slices_.begin());
    }
    // Windows ending at or before W are past, empty ones included: a record accepted later (one
    // of its windows is still open) must not bring one of them back.
    fired_through_ = std::max(fired_through_, w);
    return 0;
  }

 private:
  int32_t fire(int64_t end) {
    int64_t start = geometry_.window_start(end);
    std::vector<int64_t> slices(slices_.lower_bound(start), slices_.lower_bound(end));
    std::map<std::string, std::vector<uint8_t*>> lefts;
    for (int64_t s : slices)
      left_.for_each_key(s, [&](std::string_view key, ListStateTable::Records records) {
        auto& list = lefts[std::string(key)];
        for_each_record(records, [&](uint8_t* l) { list.push_back(l); });
      });
    std::vector<uint8_t*> rights;
    for (const auto& [key, ls] : lefts) {
      rights.clear();
      for (int64_t s : slices) for_each_record(right_.find(s, key), [&](uint8_t* r) { rights.push_back(r); });
      for (uint8_t* l : ls)
        for (uint8_t* r : rights) {
          int32_t h = holds(l, r);
          if (h < 0) return 1;
          if (h > 0)
            if (int32_t status = emit(l, r, end - 1)) return status;
        }
    }
    return 0;
  }

  void drop_slice(int64_t slice) {
    left_.drop(slice);
    right_.drop(slice);
    slices_.erase(slice);
  }

  SliceGeometry geometry_;
  std::set<int64_t> slices_;
  int64_t fired_through_ = INT64_MIN;
};

}  // namespace

std::unique_ptr<flow_join> make_join_operator(const JoinOperatorSpec& spec, flow_ctx& ctx, StateBackend& backend,
                                              const std::string& name) {
  RowLayout left_layout = spec.left_layout.shifted(static_cast<int64_t>(kHeader));
  RowLayout right_layout = spec.right_layout.shifted(static_cast<int64_t>(kHeader));
  ListStateTable& left = backend.list_table(name + "-left", static_cast<int64_t>(kHeader) + spec.left_size, &left_layout);
  ListStateTable& right = backend.list_table(name + "-right", static_cast<int64_t>(kHeader) + spec.right_size, &right_layout);
  if (spec.kind == FLOW_JOIN_WINDOW) return std::make_unique<WindowJoin>(spec, ctx, left, right);
  return std::make_unique<IntervalJoin>(spec, ctx, left, right);
}

}  // namespace flow

int32_t flow_join::holds(const uint8_t* left, const uint8_t* right) {
  if (!spec_.condition) return 1;
  int32_t h = spec_.condition(&ctx_, left, right);
  return ctx_.failure.failed ? -1 : h;
}

int32_t flow_join::unmatched(const uint8_t* left, int64_t t) {
  if (t < watermark_) {
    ++dropped_;
    return 0;
  }
  return left_outer() ? emit(left, nullptr, t) : 0;
}

extern "C" {

flow_join* flow_ctx_join(flow_ctx* ctx, int32_t index) { return ctx->time.join(index); }

uint8_t* flow_join_insert(flow_join* j, int32_t side, const uint8_t* key, int64_t len, int64_t t, flow_state_owner** owner) {
  j->count_record_in();
  return j->insert(side, key, static_cast<std::size_t>(len), t, owner);
}

int32_t flow_join_match(flow_join* j) { return j->match(); }

}  // extern "C"

namespace {
// An 8-byte encoded key as a number that orders like it: consecutive ids are consecutive.
uint64_t big_endian_key(std::string_view key) {
  uint64_t bits;
  std::memcpy(&bits, key.data(), 8);
  return __builtin_bswap64(bits);
}
}  // namespace

// One pass over the keys (the table orders them for it, which costs more than the rest):
// a dense index when they are close together, else the hashed one.
bool flow_lookup::build_index() {
  std::vector<Slot> keyed;
  bool fixed = true;
  records.for_each_key(0, [&](std::string_view key, flow::ListStateTable::Records r) {
    fixed = fixed && key.size() == 8;
    if (!fixed) return;
    uint64_t bits;
    std::memcpy(&bits, key.data(), 8);
    keyed.push_back(Slot{bits, r.first, r.count});
  });
  if (!fixed) return indexable = false;
  index_built = true;
  if (build_dense_index(keyed)) return true;
  std::size_t slots = 16;
  while (slots < keyed.size() * 2) slots *= 2;
  index.assign(slots, Slot{0, nullptr, 0});
  mask = slots - 1;
  for (const Slot& k : keyed) {
    std::size_t i = flow::mix64(k.key) & mask;
    while (index[i].first) i = (i + 1) & mask;
    index[i] = k;
  }
  return true;
}

bool flow_lookup::build_dense_index(const std::vector<Slot>& keyed) {
  dense = flow_lookup_dense{0, 0, nullptr};
  dense_entries.clear();
  if (keyed.empty()) return false;
  uint64_t low = UINT64_MAX, high = 0;  // the keys' bytes read big-endian
  for (const Slot& k : keyed) {
    low = std::min(low, __builtin_bswap64(k.key));
    high = std::max(high, __builtin_bswap64(k.key));
  }
  if (high - low >= kDenseFactor * keyed.size()) return false;
  dense_entries.assign(high - low + 1, flow_lookup_entry{nullptr, 0});
  for (const Slot& k : keyed) dense_entries[__builtin_bswap64(k.key) - low] = flow_lookup_entry{k.first, k.count};
  dense = flow_lookup_dense{low, dense_entries.size(), dense_entries.data()};
  index.clear();
  return true;
}

flow::ListStateTable::Records flow_lookup::find(std::string_view key) {
  if (key.size() != 8 || !indexable || (!index_built && !build_index())) return records.find(0, key);
  if (dense.span != 0) {
    uint64_t at = big_endian_key(key) - dense.low;
    if (at >= dense.span) return {};
    return {const_cast<uint8_t*>(dense.entries[at].first), dense.entries[at].count};
  }
  uint64_t bits;
  std::memcpy(&bits, key.data(), 8);
  for (std::size_t i = flow::mix64(bits) & mask;; i = (i + 1) & mask) {
    const Slot& s = index[i];
    if (!s.first) return {};
    if (s.key == bits) return {s.first, s.count};
  }
}

extern "C" {

int32_t flow_join_unmatched(flow_join* j, const void* left, int64_t t) {
  return j->unmatched(static_cast<const uint8_t*>(left), t);
}

void flow_state_copy_str(flow_state_owner* owner, const char* p, int64_t len, flow_str* out) {
  *out = owner->table->copy_string(owner->name_space, p, len);
}

flow_lookup* flow_ctx_lookup(flow_ctx* ctx, int32_t index) { return ctx->lookups[static_cast<std::size_t>(index)].get(); }

uint8_t* flow_lookup_insert(flow_lookup* l, const uint8_t* key, int64_t len, flow_state_owner** owner) {
  *owner = &l->owner;
  l->inserted();
  return l->records.append(0, std::string_view(reinterpret_cast<const char*>(key), static_cast<std::size_t>(len)));
}

const flow_lookup_dense* flow_lookup_dense_index(flow_lookup* l) { return &l->dense; }

const uint8_t* flow_lookup_find(flow_lookup* l, const uint8_t* key, int64_t len, int64_t* count) {
  flow::ListStateTable::Records records = l->find(std::string_view(reinterpret_cast<const char*>(key), static_cast<std::size_t>(len)));
  *count = records.count;
  return records.first;
}

}  // extern "C"

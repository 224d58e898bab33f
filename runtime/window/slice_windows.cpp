// Tumbling, sliding and cumulating windows by slicing (architecture.md): a record updates the
// one slice holding it — a namespace of the operator's state table — and a firing window
// combines the rows of its slices key by key, so the cost per record does not grow with
// size / slide. Tumbling windows are one slice each and fire straight from their rows.
#include <algorithm>
#include <map>
#include <numeric>
#include <string_view>
#include <vector>

#include "time/windows.h"
#include "window/window_operator.h"

#include <cstring>

#include "checkpoint/byte_io.h"
#include "checkpoint/state_snapshot.h"
#include "exchange/exchange.h"
#include "exec/job_context.h"

namespace flow {

SliceGeometry::SliceGeometry(int32_t kind_, int64_t size_, int64_t slide_) : kind(kind_), size(size_), slide(slide_) {
  if (kind == FLOW_WINDOW_TUMBLING) slide = size;
  width = kind == FLOW_WINDOW_SLIDING ? std::gcd(size, slide) : slide;
}

// Ends are computed in 128 bits and saturate at INT64_MAX, so timestamps near the ends of the
// i64 range and the final watermark (+infinity) cannot overflow.
namespace {
int64_t saturate(__int128 v) {
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}
__int128 floor_div128(__int128 a, __int128 b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

int64_t SliceGeometry::slice_start(int64_t t) const { return align_down(t, width); }

int64_t SliceGeometry::last_end(int64_t a) const {
  return saturate(__int128{align_down(a, kind == FLOW_WINDOW_CUMULATING ? size : slide)} + size);
}

int64_t SliceGeometry::first_end_after(int64_t a, int64_t x) const {
  __int128 lo = std::max(x, a);
  // Window ends are size + k * slide (sliding, tumbling) or k * step (cumulating).
  __int128 end = kind == FLOW_WINDOW_CUMULATING ? (floor_div128(lo, slide) + 1) * slide
                                                : size + (floor_div128(lo - size, slide) + 1) * slide;
  int64_t last = last_end(a);
  return end <= last && last != INT64_MAX ? static_cast<int64_t>(end) : INT64_MAX;
}

int64_t SliceGeometry::window_start(int64_t end) const {
  return kind == FLOW_WINDOW_CUMULATING ? align_down(end - slide, size) : end - size;
}

namespace {

class SliceWindows final : public flow_window {
  struct CachedSlice;

 public:
  SliceWindows(const WindowOperatorSpec& spec, flow_ctx& ctx, StateTable& state)
      : flow_window(spec, ctx, state), geometry_(spec.kind, spec.size_ms, spec.slide_ms) {}

  uint8_t* upsert(const uint8_t* key, std::size_t len, int64_t t, flow_window_hit* hit) override {
    CachedSlice* slice = cached_slice(t);
    if (!slice) return nullptr;
    uint8_t* row = slice->rows->upsert(key, len, &hit->is_new);
    hit->state = slice->rows;
    hit->seq = ++open_.seq;
    hit->refire = !emit_final() && slice->first_end <= watermark_;
    last_slice_ = slice->start;
    open(*slice);
    return row;
  }

  uint8_t* upsert_local(const uint8_t* key, std::size_t len, int64_t t, flow_window_hit* hit) override {
    if (!ctx_.exchange) return upsert(key, len, t, hit);
    int64_t a = geometry_.slice_start(t);
    // Late by this instance's own watermark (which the key's instance cannot pass before the
    // partial row arrives): never a record that is not late at parallelism 1.
    if (past_lateness(geometry_.last_end(a), std::max(watermark_, own_watermark_))) {
      late_record();
      return nullptr;
    }
    std::unique_ptr<flow_agg_table>& rows = local_[a];
    if (!rows) rows = std::make_unique<flow_agg_table>(state_.row_size());
    uint8_t* row = rows->upsert(key, len, &hit->is_new);
    hit->state = rows.get();
    hit->seq = ++open_.seq;
    hit->refire = 0;
    return row;
  }

  int32_t flush_local(int64_t upto) override {
    while (!local_.empty() && geometry_.first_end_after(local_.begin()->first, local_.begin()->first) <= upto) {
      int64_t a = local_.begin()->first;
      std::unique_ptr<flow_agg_table> rows = std::move(local_.begin()->second);
      local_.erase(local_.begin());
      int32_t status = 0;
      flow_exchange& exchange = *ctx_.exchange;
      const int owners = owning_instances(spec_.parallelism, exchange.instances);
      rows->for_each_entry([&](std::string_view key, const uint8_t* row) {
        if (status != 0) return;
        int owner = owner_of_key(key, owners);
        if (owner == exchange.self) status = merge_partial(a, key, row);
        else exchange.send_window_row(owner, index_, a, key, row, state_.row_size(), spec_.row_layout.strings);
      });
      if (status != 0) return status;
    }
    return 0;
  }

  int32_t merge_partial(int64_t a, std::string_view key, const uint8_t* from) override {
    if (past_lateness(geometry_.last_end(a))) {  // cannot happen before its windows' lateness has passed
      late_record();
      return 0;
    }
    flow_agg_table& rows = slice(a);
    int32_t is_new = 0;
    uint8_t* into = rows.upsert(reinterpret_cast<const uint8_t*>(key.data()), key.size(), &is_new);
    merge(rows, into, from);
    if (emit_final() || geometry_.first_end_after(a, a) > watermark_) return 0;
    last_slice_ = a;
    return refire();
  }

  int32_t refire() override {
    flow_agg_table* rows = state_.find_rows(last_slice_);
    if (!rows) return 0;
    std::string key(rows->last_key());
    // The windows holding the slice that have fired and are not past their lateness.
    for (int64_t end = geometry_.first_end_after(last_slice_, last_slice_); end != INT64_MAX && end <= watermark_;
         end = geometry_.first_end_after(last_slice_, end)) {
      if (past_lateness(end)) continue;
      if (int32_t status = fire_key(end, key)) return status;
    }
    return 0;
  }

  int32_t fire_early() override {
    std::vector<int64_t> ends;
    for (const auto& [a, unused] : slices_)
      for (int64_t end = geometry_.first_end_after(a, fired_upto_); end != INT64_MAX; end = geometry_.first_end_after(a, end))
        ends.push_back(end);
    std::sort(ends.begin(), ends.end());
    ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
    for (int64_t end : ends)
      if (int32_t status = fire_window(end)) return status;
    return 0;
  }

 protected:
  int32_t on_watermark() override {
    if (open_.width != 0 && !still_open(opened_)) open_.width = 0;
    if (watermark_ >= next_due_) {
      for (;;) {
        int64_t end = next_window_end();
        if (end == INT64_MAX || !due(end)) break;
        if (int32_t status = fire_window(end)) return status;
        fired_upto_ = end;
      }
    }
    // Every window due by now has fired, including empty ones: a late record that reaches one
    // of them fires it at once (refire), never again here.
    int64_t settled = emit_final() && watermark_ != INT64_MAX ? std::max(watermark_, INT64_MIN + spec_.lateness_ms) - spec_.lateness_ms
                                                            : watermark_;
    fired_upto_ = std::max(fired_upto_, settled);
    if (watermark_ >= next_due_) next_due_ = due_time(next_window_end());
    // Slices whose every window is past its lateness are freed.
    while (!slices_.empty() && past_lateness(slices_.begin()->second)) {
      for (CachedSlice& c : cache_)
        if (c.start == slices_.begin()->first) c.rows = nullptr;
      state_.drop(slices_.begin()->first);
      slices_.erase(slices_.begin());
    }
    return 0;
  }

  void snapshot_own(std::string& out) const override {
    ByteWriter w(out);
    w.i64(fired_upto_);
    w.i64(next_due_);
    w.u64(slices_.size());
    for (const auto& [a, unused] : slices_) w.i64(a);
  }

  // Parts taken at one consistent moment agree on what has fired (every instance's watermark
  // is the minimum over all of them); each holds the slices of its own keys.
  bool restore_own(const std::vector<std::string_view>& parts, const KeyOwnership&, std::string& error) override {
    fired_upto_ = INT64_MIN;
    next_due_ = INT64_MAX;
    for (std::string_view in : parts) {
      ByteReader r(in);
      uint64_t n = 0;
      int64_t fired_upto = 0, next_due = 0;
      if (!r.number(fired_upto) || !r.number(next_due) || !r.number(n)) return error = "truncated window snapshot", false;
      fired_upto_ = std::max(fired_upto_, fired_upto);
      next_due_ = std::min(next_due_, next_due);
      for (uint64_t i = 0; i < n; ++i) {
        int64_t a = 0;
        if (!r.number(a)) return error = "truncated window snapshot", false;
        slices_.emplace(a, geometry_.last_end(a));
      }
      if (!r.done()) return error = "trailing bytes after a window snapshot", false;
    }
    for (CachedSlice& c : cache_) c = CachedSlice{};
    open_.width = 0;
    return true;
  }

 private:
  bool past_lateness(int64_t end) const { return past_lateness(end, watermark_); }
  bool past_lateness(int64_t end, int64_t watermark) const {
    return end > INT64_MAX - spec_.lateness_ms || end + spec_.lateness_ms <= watermark;
  }
  // When the window ending at `end` fires: at its end, or at end + lateness for `emit final`.
  int64_t due_time(int64_t end) const {
    if (end == INT64_MAX) return INT64_MAX;
    return emit_final() ? (end > INT64_MAX - spec_.lateness_ms ? INT64_MAX : end + spec_.lateness_ms) : end;
  }
  bool due(int64_t end) const { return due_time(end) <= watermark_; }

  // The slice holding t, or nullptr (having counted a late record) when every window holding
  // it is past its lateness. Out-of-order records mostly fall into one of the last few slices
  // used, so those are kept with what upsert needs of them: no divisions, no lookups then.
  CachedSlice* cached_slice(int64_t t) {
    for (CachedSlice& c : cache_) {
      if (c.rows && static_cast<uint64_t>(t) - static_cast<uint64_t>(c.start) < static_cast<uint64_t>(geometry_.width)) {
        if (!past_lateness(c.last_end)) return &c;
        break;  // the watermark has moved past it since
      }
    }
    int64_t a = geometry_.slice_start(t);
    CachedSlice entry{a, geometry_.last_end(a), geometry_.first_end_after(a, a), nullptr};
    if (past_lateness(entry.last_end)) {
      late_record();
      return nullptr;
    }
    entry.rows = &slice(a);
    CachedSlice& c = cache_[next_cached_];
    next_cached_ = (next_cached_ + 1) % kCachedSlices;
    c = entry;
    return &c;
  }

  // Records of a slice none of whose windows has fired or passed its lateness are placed by
  // generated code (flow_window_open_slice): nothing but the row is to be decided for them.
  bool still_open(const CachedSlice& c) const {
    return c.rows && !past_lateness(c.last_end) && (emit_final() || c.first_end > watermark_);
  }
  void open(const CachedSlice& c) {
    if (!still_open(c)) return;
    opened_ = c;
    open_.start = c.start;
    open_.width = static_cast<uint64_t>(geometry_.width);
    open_.rows = c.rows;
  }

  flow_agg_table& slice(int64_t a) {
    auto [it, created] = slices_.try_emplace(a, geometry_.last_end(a));
    if (created) next_due_ = std::min(next_due_, due_time(geometry_.first_end_after(a, fired_upto_)));
    return state_.rows(a);
  }

  // The smallest end of a window that has not fired and holds a slice. Slices whose windows
  // have all fired (kept for lateness) are skipped in order, and a window holding slice a ends
  // after a, so the walk stops at the first slice that starts past the best end so far: with
  // many slices open (tiny windows, a watermark that moves in steps) this stays short.
  int64_t next_window_end() const {
    int64_t best = INT64_MAX;
    // A window holding slice a ends by a + size: slices that start earlier have fired.
    auto from = fired_upto_ <= INT64_MIN + spec_.size_ms ? slices_.begin() : slices_.lower_bound(fired_upto_ - spec_.size_ms);
    for (auto it = from; it != slices_.end(); ++it) {
      int64_t a = it->first;
      if (a >= best) break;
      if (it->second <= fired_upto_) continue;
      best = std::min(best, geometry_.first_end_after(a, fired_upto_));
    }
    return best;
  }

  // Every key of the window ending at `end`, in key order.
  int32_t fire_window(int64_t end) {
    int64_t start = geometry_.window_start(end);
    std::vector<flow_agg_table*> parts;
    for (auto it = slices_.lower_bound(start); it != slices_.end() && it->first < end; ++it)
      if (flow_agg_table* rows = state_.find_rows(it->first); rows && rows->size() > 0) parts.push_back(rows);
    if (parts.empty()) return 0;
    if (parts.size() == 1) {
      for (const auto& entry : parts[0]->entries_in_key_order())
        if (int32_t status = emit(entry.row, start, end)) return status;
      return 0;
    }
    return fire_merged(parts, start, end);
  }

  // The rows of several slices combined key by key, in key order: a k-way merge of the slices'
  // key-ordered entries (each slice is ordered once, when its first window fires), so a firing
  // neither hashes nor sorts again.
  int32_t fire_merged(const std::vector<flow_agg_table*>& parts, int64_t start, int64_t end) {
    struct Cursor {
      const flow_agg_table::KeyedRow* at;
      const flow_agg_table::KeyedRow* stop;
    };
    std::vector<Cursor> cursors;
    cursors.reserve(parts.size());
    for (flow_agg_table* part : parts) {
      const auto& entries = part->entries_in_key_order();
      cursors.push_back(Cursor{entries.data(), entries.data() + entries.size()});
    }
    flow_agg_table scratch(state_.row_size());  // holds what merged rows point to (strings, sets)
    std::vector<uint64_t> row(static_cast<std::size_t>(scratch.row_size()) / sizeof(uint64_t));
    auto* combined = reinterpret_cast<uint8_t*>(row.data());
    for (;;) {
      const flow_agg_table::KeyedRow* least = nullptr;
      for (const Cursor& c : cursors)
        if (c.at != c.stop && (!least || *c.at < *least)) least = c.at;
      if (!least) return 0;
      const flow_agg_table::KeyedRow key = *least;
      std::fill(row.begin(), row.end(), 0);
      for (Cursor& c : cursors)
        if (c.at != c.stop && c.at->same_key(key)) merge(scratch, combined, (c.at++)->row);
      if (int32_t status = emit(combined, start, end)) return status;
    }
  }

  // One key of the window ending at `end` (a late firing).
  int32_t fire_key(int64_t end, const std::string& key) {
    int64_t start = geometry_.window_start(end);
    flow_agg_table combined(state_.row_size());
    int32_t is_new = 0;
    auto* k = reinterpret_cast<const uint8_t*>(key.data());
    uint8_t* into = combined.upsert(k, key.size(), &is_new);
    for (auto it = slices_.lower_bound(start); it != slices_.end() && it->first < end; ++it)
      if (flow_agg_table* rows = state_.find_rows(it->first))
        if (const uint8_t* row = rows->find(k, key.size())) merge(combined, into, row);
    return emit(into, start, end);
  }

  SliceGeometry geometry_;
  // The live slices (their rows are state namespaces), each with the end of the last window
  // holding it (the watermark checks it at every step: no division then).
  std::map<int64_t, int64_t> slices_;
  // `aggregate local`: this instance's partial rows per slice, not yet handed over.
  std::map<int64_t, std::unique_ptr<flow_agg_table>> local_;
  int64_t fired_upto_ = INT64_MIN;  // every window ending at or before it has fired
  int64_t next_due_ = INT64_MAX;    // the watermark at which the next firing is due
  int64_t last_slice_ = 0;
  // The slices of the last records and what upsert needs of them; rows is null when a slice
  // has been freed (or the entry never used).
  struct CachedSlice {
    int64_t start = 0;
    int64_t last_end = 0;   // of the last window holding it
    int64_t first_end = 0;  // of the first window holding it
    flow_agg_table* rows = nullptr;
  };
  static constexpr int kCachedSlices = 4;
  CachedSlice cache_[kCachedSlices];
  CachedSlice opened_;  // the slice open_ describes while its width is not 0
  int next_cached_ = 0;  // the entry replaced next
};

}  // namespace

std::unique_ptr<flow_window> make_session_windows(const WindowOperatorSpec& spec, flow_ctx& ctx, StateTable& state);

std::unique_ptr<flow_window> make_window_operator(const WindowOperatorSpec& spec, flow_ctx& ctx, StateTable& state) {
  if (spec.kind == FLOW_WINDOW_SESSION) return make_session_windows(spec, ctx, state);
  return std::make_unique<SliceWindows>(spec, ctx, state);
}

}  // namespace flow

void flow_window::snapshot(std::string& out) const {
  flow::ByteWriter w(out);
  w.raw("FLOWWIN1", 8);
  w.i64(watermark_);
  w.i64(dropped_);
  w.i64(open_.seq);
  std::string part;
  snapshot_own(part);
  w.bytes(part);
  part.clear();
  if (!state_.kept_by_backend()) flow::snapshot_rows(state_, spec_.row_layout, part);  // else its backend checkpoints them
  w.bytes(part);
}

bool flow_window::restore(const std::vector<std::string_view>& parts, const flow::KeyOwnership& owner, std::string& error) {
  std::vector<std::string_view> owns;
  watermark_ = INT64_MAX;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    flow::ByteReader r(parts[k]);
    std::string_view own, rows;
    int64_t watermark = 0, dropped = 0, seq = 0;
    if (!r.expect("FLOWWIN1")) return error = "not a window snapshot", false;
    if (!r.number(watermark) || !r.number(dropped) || !r.number(seq) || !r.bytes(own) || !r.bytes(rows) || !r.done())
      return error = "truncated window snapshot", false;
    watermark_ = std::min(watermark_, watermark);
    if (owner.counts(k)) dropped_ += dropped;
    open_.seq = std::max(open_.seq, seq);
    owns.push_back(own);
    if (rows.empty()) {
      if (!state_.kept_by_backend()) return error = "its window rows are not in the snapshot: the state backend keeps them", false;
    } else if (parts.size() > 1 || !owner.owns_all()) {
      return error = "its window rows are in the operator's snapshot, which cannot be split between instances", false;
    } else if (!flow::restore_rows(rows, spec_.row_layout, state_, error)) {
      return false;
    }
  }
  if (parts.empty()) watermark_ = INT64_MIN;
  return restore_own(owns, owner, error);
}

int32_t flow_window::advance(int64_t w) {
  if (w <= watermark_) return 0;
  watermark_ = w;
  return on_watermark();
}

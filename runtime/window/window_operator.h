// Windowed aggregation operators (language.md sections 3 "Time, precisely" and 4): the runtime
// half of a windowed aggregate. Generated code encodes the key and updates the accumulators
// inline; the operator decides which state row a record updates, whether it is late, and when
// windows fire, and it keeps its rows only through the StateBackend interface.
//
// Rules (equal to Flink's, whose watermark is ours minus 1 ms):
//  - a record is judged against the watermark W in force before it (the input's watermark);
//  - a window [start, end) past its lateness (end + lateness <= W) ignores a record; a record
//    every window ignores is late (the late stream gets it, or it is dropped and counted);
//  - by default a window fires when W reaches its end, and again at once for every record added
//    while end <= W < end + lateness; `emit final` fires once, when W reaches end + lateness;
//  - firings are ordered by window end, then key (encoded key bytes), so output is deterministic;
//  - a window's state is freed when W passes end + lateness.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exec/job_spec.h"
#include "flow/abi.h"
#include "state/state_backend.h"

// The operator behind the opaque flow_window handle of abi.h.
struct flow_window {
 public:
  virtual ~flow_window() = default;

  // flow_window_upsert: the row a record with event time t and key updates, or nullptr if late.
  virtual uint8_t* upsert(const uint8_t* key, std::size_t len, int64_t t, flow_window_hit* hit) = 0;
  // flow_window_refire: fires the already-fired windows of the last upserted record again.
  virtual int32_t refire() = 0;
  // `aggregate local` at --parallelism N > 1 (flow_window_upsert_local): the record's partial
  // row, kept here until flush_local() hands it to its key's instance (merge_partial there).
  // Without an exchange (N = 1) it is upsert().
  virtual uint8_t* upsert_local(const uint8_t* key, std::size_t len, int64_t t, flow_window_hit* hit) {
    return upsert(key, len, t, hit);
  }
  // Hands over the partial rows of every slice whose first window ends at or before `upto`
  // (before this instance's watermark passes it, so they arrive before the window fires);
  // the rows of keys this instance owns are merged here.
  virtual int32_t flush_local(int64_t /*upto*/) { return 0; }
  // A partial row of slice `slice` for `key` from an instance that pre-aggregated it: merged
  // into the slice's row (and fired again if a window holding it has fired).
  virtual int32_t merge_partial(int64_t /*slice*/, std::string_view /*key*/, const uint8_t* /*row*/) { return -1; }
  void set_index(int32_t index) { index_ = index; }
  // At --parallelism N > 1: the watermark of this instance's own inputs rose to w (before it
  // goes to the other instances). `aggregate local` judges records against it: the instance
  // owning a key cannot have a later watermark before this one's partial rows arrived.
  void own_watermark(int64_t w) { own_watermark_ = w; }
  // The input watermark moved to w: fires what is due (in order), frees what is past.
  int32_t advance(int64_t w);
  // `emit early every D`: fires every window that has not fired yet with its current result.
  virtual int32_t fire_early() = 0;
  // A checkpoint of everything the operator keeps (rows, live slices or sessions, watermark,
  // counts); restore() takes it into an operator of the same spec with empty state, which then
  // behaves as the snapshotted one would have.
  void snapshot(std::string& out) const;
  bool restore(std::string_view in, std::string& error) { return restore({in}, flow::KeyOwnership{}, error); }
  // The same from the snapshots of several parallel instances (a restore at another
  // parallelism): the keys `owner` owns of each, the counters of the parts dealt to it.
  bool restore(const std::vector<std::string_view>& parts, const flow::KeyOwnership& owner, std::string& error);

  int64_t watermark() const { return watermark_; }
  int64_t dropped() const { return dropped_; }
  const flow::WindowOperatorSpec& spec() const { return spec_; }
  std::size_t state_rows() const { return state_.size(); }
  // Metrics: records in, results (firings) out.
  void count_record_in() { ++open_.records_in; }
  int64_t records_in() const { return open_.records_in; }
  // Read and updated by generated code (flow_window_open); the kind keeps start, width, rows.
  flow_window_open_slice open_{0, 0, nullptr, 0, 0};
  int64_t records_out() const { return records_out_; }

 protected:
  flow_window(const flow::WindowOperatorSpec& spec, flow_ctx& ctx, flow::StateTable& state)
      : spec_(spec), ctx_(ctx), state_(state) {}

  // Fires and frees what watermark_ (just moved) makes due.
  virtual int32_t on_watermark() = 0;
  // The kind's own bookkeeping (the rows and base counters are done by snapshot/restore).
  virtual void snapshot_own(std::string& out) const = 0;
  virtual bool restore_own(const std::vector<std::string_view>& parts, const flow::KeyOwnership& owner, std::string& error) = 0;
  bool emit_final() const { return (spec_.flags & FLOW_WINDOW_EMIT_FINAL) != 0; }
  // A record no window takes: counted when there is no late stream to take it.
  void late_record() {
    if ((spec_.flags & FLOW_WINDOW_LATE_STREAM) == 0) ++dropped_;
  }
  int32_t emit(const uint8_t* row, int64_t start, int64_t end) {
    ++records_out_;
    return spec_.emit(&ctx_, row, start, end);
  }
  void merge(flow_agg_table& into_state, uint8_t* into, const uint8_t* from) { spec_.merge(&ctx_, &into_state, into, from); }

  const flow::WindowOperatorSpec spec_;  // a copy: the operator outlives nothing it was built from
  flow_ctx& ctx_;
  flow::StateTable& state_;
  int64_t watermark_ = INT64_MIN;
  int64_t dropped_ = 0;
  int64_t records_out_ = 0;            // not checkpointed: a run's own count (as open_.records_in)
  int32_t index_ = 0;                  // among the job's windows (flow_ctx_window)
  int64_t own_watermark_ = INT64_MIN;  // own_watermark()
};

namespace flow {

// Tumbling, sliding and cumulating windows by slicing, or session windows, per spec.kind.
std::unique_ptr<flow_window> make_window_operator(const WindowOperatorSpec& spec, flow_ctx& ctx, StateTable& state);

// The geometry of tumbling, sliding and cumulating windows over slices: a record updates the
// one slice [a, a + width) holding it; the windows holding a slice end at the ends listed by
// first_end_after, up to last_end.
struct SliceGeometry {
  int32_t kind;
  int64_t size;   // window size (cumulating: the maximum)
  int64_t slide;  // sliding: every; tumbling: size; cumulating: step
  int64_t width;  // slice width: gcd(size, slide) for sliding, else slide

  SliceGeometry(int32_t kind, int64_t size, int64_t slide);
  int64_t slice_start(int64_t t) const;
  // The end of the last window holding the slice that starts at a.
  int64_t last_end(int64_t a) const;
  // The smallest end > x of a window holding slice a, or INT64_MAX when there is none.
  int64_t first_end_after(int64_t a, int64_t x) const;
  // The start of the window that ends at `end`.
  int64_t window_start(int64_t end) const;
};

}  // namespace flow

// Stream joins and lookup tables (language.md section 4): the runtime half of a join stage.
// Generated code evaluates and encodes the keys and copies each record into the state this
// operator hands out; the operator decides which stored records pair with it, when a record
// is late, when unmatched left records are due, and when state is freed. It keeps records
// only through the StateBackend's ListStateTable, so another backend needs no join code.
//
// Interval join (`within LO .. HI`): left record l and right record r with equal keys pair
// when l.t + LO <= r.t <= l.t + HI; the pair's event time is max(l.t, r.t). Each side is kept
// in time buckets (namespaces); a record is probed against the other side when it arrives.
// With W the input watermark (the minimum over both sides): a record with t < W is late
// (dropped, counted); a left record can still pair while W <= l.t + HI, a right one while
// W <= r.t - LO, and a bucket is dropped once every record in it is past that. A left join
// emits a left record that never paired, with no right record, as soon as W > l.t + HI.
//
// Window join (`over WINDOW`, tumbling or sliding): each side is kept per slice; when W
// reaches a window's end, every left x right pair with equal keys in the window is emitted,
// in key order, with event time end - 1. A record all of whose windows have fired is late.
#pragma once

#include <cstdint>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "exec/job_spec.h"
#include "flow/abi.h"
#include "state/state_backend.h"
#include "window/window_operator.h"

// Where the strings of a record being stored are copied: its namespace in a ListStateTable.
struct flow_state_owner {
  flow::ListStateTable* table = nullptr;
  int64_t name_space = 0;
};

// The operator behind the opaque flow_join handle of abi.h.
struct flow_join {
 public:
  virtual ~flow_join() = default;
  // flow_join_insert: room for the record of `side` (0 left, 1 right), or nullptr if late.
  virtual uint8_t* insert(int32_t side, const uint8_t* key, std::size_t len, int64_t t, flow_state_owner** owner) = 0;
  // flow_join_match: pairs the record just inserted with what is stored (interval joins).
  virtual int32_t match() = 0;
  // The input watermark moved to w: emits what is due, frees what is past.
  virtual int32_t advance(int64_t w) = 0;
  // The watermark of the join's output when its input's is w.
  virtual int64_t output_watermark(int64_t w) const { return w; }
  // flow_join_unmatched: a left record that can never pair (a null key part).
  int32_t unmatched(const uint8_t* left, int64_t t);
  // A checkpoint of everything the operator keeps: both sides' records, watermark, counts and
  // what is due. restore() takes it into an operator of the same spec whose state is empty;
  // the operator then behaves as the snapshotted one would have.
  virtual void snapshot(std::string& out) const = 0;
  bool restore(std::string_view in, std::string& error) { return restore({in}, flow::KeyOwnership{}, error); }
  // The same from the snapshots of several parallel instances (a restore at another
  // parallelism): the counters of the parts `owner` is dealt; the records are the backend's.
  virtual bool restore(const std::vector<std::string_view>& parts, const flow::KeyOwnership& owner, std::string& error) = 0;

  int64_t dropped() const { return dropped_; }
  std::size_t stored() const { return left_.size() + right_.size(); }
  const flow::JoinOperatorSpec& spec() const { return spec_; }
  int64_t watermark() const { return watermark_; }
  // Metrics: records in on either side, joined records out.
  void count_record_in() { ++records_in_; }
  int64_t records_in() const { return records_in_; }
  int64_t records_out() const { return records_out_; }

 protected:
  flow_join(const flow::JoinOperatorSpec& spec, flow_ctx& ctx, flow::ListStateTable& left, flow::ListStateTable& right)
      : spec_(spec), ctx_(ctx), left_(left), right_(right) {}
  bool left_outer() const { return (spec_.flags & FLOW_JOIN_LEFT_OUTER) != 0; }
  // The residual condition on a candidate pair: 1 holds, 0 not, -1 the job failed evaluating it.
  int32_t holds(const uint8_t* left, const uint8_t* right);
  int32_t emit(const uint8_t* left, const uint8_t* right, int64_t t) {
    ++records_out_;
    return spec_.emit(&ctx_, left, right, t);
  }

  const flow::JoinOperatorSpec spec_;
  flow_ctx& ctx_;
  flow::ListStateTable& left_;
  flow::ListStateTable& right_;
  flow_state_owner owner_;
  int64_t watermark_ = INT64_MIN;
  int64_t dropped_ = 0;
  int64_t records_in_ = 0, records_out_ = 0;  // not checkpointed: a run's own counts
};

// A `table` hashed on the key of one lookup join: filled before any stream is read.
struct flow_lookup {
  // `stable`: the table's records never move once stored (heap state), so an index may point
  // at them.
  flow_lookup(flow::ListStateTable& records, bool stable) : records(records), indexable(stable) {}
  flow::ListStateTable::Records find(std::string_view key);
  void inserted() {
    index_built = false;
    dense.span = 0;
  }

  flow::ListStateTable& records;
  flow_state_owner owner{&records, 0};

 private:
  // Every key of a lookup table is read once, before the streams, and then only looked up: for
  // 8-byte keys (an i64) a flat index, built at the first lookup, finds a key's records with
  // one hash and, mostly, one probe, its key inline (the state table's chain index keeps keys
  // in its arena, one more cache miss per lookup).
  struct Slot {
    uint64_t key;
    uint8_t* first;  // nullptr: empty
    int64_t count;
  };
  bool build_index();
  // Keys k in [low, low + span) with span at most kDenseFactor per key: one entry per k.
  static constexpr uint64_t kDenseFactor = 4;
  bool build_dense_index(const std::vector<Slot>& keyed);
  std::vector<Slot> index;
  std::vector<flow_lookup_entry> dense_entries;

 public:
  flow_lookup_dense dense{0, 0, nullptr};  // read by generated code (abi.h)

 private:
  uint64_t mask = 0;
  bool indexable;
  bool index_built = false;
};

namespace flow {

std::unique_ptr<flow_join> make_join_operator(const JoinOperatorSpec& spec, flow_ctx& ctx, StateBackend& backend,
                                              const std::string& name);

}  // namespace flow

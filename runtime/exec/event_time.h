// The event-time graph of a job: each source's watermark, each window and join operator's
// input watermark (the minimum over its inputs, time/watermark.h), and the propagation between
// them.
// A source's watermark moves after each of its records (flow_source_advance); an operator
// fires what the new watermark makes due and only then passes the watermark on to the
// operators fed by its output (architecture.md), so chained windows see their input's
// firings before the watermark that caused them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "exec/job_spec.h"
#include "join/join_operator.h"
#include "state/state_backend.h"
#include "time/watermark.h"
#include "window/window_operator.h"

namespace flow {

// Processing time: the system clock, or for tests a clock that starts at `start` and moves
// `step` ms at every reading (--test-clock START:STEP), so ingestion time is reproducible.
class JobClock {
 public:
  void use_test_clock(int64_t start, int64_t step) {
    test_ = true;
    now_ = start;
    step_ = step;
  }
  int64_t now_ms();

 private:
  bool test_ = false;
  int64_t now_ = 0;
  int64_t step_ = 0;
};

class EventTimeGraph {
 public:
  // Creates the window and join operators of `spec` with their state in `backend`.
  void build(const JobSpec& spec, flow_ctx& ctx, StateBackend& backend);

  flow_window* window(int32_t index) { return nodes_[static_cast<std::size_t>(index)].window.get(); }
  std::size_t window_count() const { return window_count_; }
  flow_join* join(int32_t index) { return nodes_[window_count_ + static_cast<std::size_t>(index)].join.get(); }
  std::size_t join_count() const { return join_count_; }

  // A record of `source` with event time t has been processed.
  int32_t source_record(int32_t source, int64_t t) {
    SourceTime& s = sources_[static_cast<std::size_t>(source)];
    int64_t w = t < INT64_MIN + s.lag ? INT64_MIN : t - s.lag;
    if (w <= s.watermark) return 0;
    s.watermark = w;
    return forward(s.downstream, w);
  }
  int64_t source_watermark(int32_t source) const { return sources_[static_cast<std::size_t>(source)].watermark; }
  const int64_t* source_watermark_slot(int32_t source) const { return &sources_[static_cast<std::size_t>(source)].watermark; }
  // The source has been read to the end: its watermark becomes +infinity.
  int32_t end_of_source(int32_t source);
  // Between batches: early firings that processing time has made due.
  int32_t tick();
  // Checkpoints: the sources' and operators' watermarks (time), and each operator's state.
  void snapshot_time(std::string& out) const;
  bool restore_time(std::string_view in, std::string& error) { return restore_time(std::vector<std::string_view>{in}, error); }
  // From the snapshots of several parallel instances: the lowest watermark of each.
  bool restore_time(const std::vector<std::string_view>& parts, std::string& error);

  JobClock& clock() { return clock_; }

  // Parallel instances: an operator (window, join or partitioning stage; nodes in that order)
  // takes records from
  // its peers on the other instances too, so its watermark is the minimum of its own inputs'
  // and its peers' (each sent after the records it covers). Whenever its own inputs' minimum
  // rises it goes to the peers through `send`. Without this call there are no peers.
  void connect_instances(int instances, int self, std::function<void(int32_t node, int64_t w)> send);
  // The input watermark of operator `node` on instance `from` rose to `w`.
  int32_t peer_watermark(int32_t node, int from, int64_t w);
  // `aggregate local`: hands over the windows' partial rows whose slices are due at this
  // instance's own watermark (a record behind it, kept since), or every one (`all`: before a
  // checkpoint's barriers).
  int32_t flush_local(bool all);
  // After a restore: tells the peers each operator's restored input watermark (they only hear
  // of it when it rises).
  int32_t announce_to_peers();
  // Whether every operator has seen the end of all its inputs, its peers' included.
  bool operators_ended() const;

 private:
  struct Edge {
    std::size_t node;
    int32_t input;  // which input of that operator
  };
  struct SourceTime {
    int64_t lag = 0;
    int64_t watermark = kWatermarkStart;
    std::vector<Edge> downstream;
  };
  // A window (nodes 0 .. window_count_ - 1), a join (the next join_count_) or a partitioning
  // stage (the rest: neither window nor join; it passes its watermark on as it is).
  struct OperatorTime {
    std::unique_ptr<flow_window> window;
    std::unique_ptr<flow_join> join;
    std::unique_ptr<CombinedWatermark> input;
    // In parallel: input 0 is `input`'s minimum, input 1 + k peer k's (the instances but this).
    std::unique_ptr<CombinedWatermark> with_peers;
    std::vector<Edge> downstream;
    int64_t next_early = INT64_MIN;
  };

  void connect(const std::vector<WindowInput>& inputs, std::size_t node);
  int32_t forward(const std::vector<Edge>& edges, int64_t w);
  int32_t combine(std::size_t node, int input, int64_t w);
  int32_t fire(std::size_t node, int64_t w);

  std::vector<SourceTime> sources_;
  std::vector<OperatorTime> nodes_;
  std::size_t window_count_ = 0;
  std::size_t join_count_ = 0;
  JobClock clock_;
  int instances_ = 1;
  int self_ = 0;
  std::function<void(int32_t, int64_t)> send_;
};

}  // namespace flow

// The exchange between the parallel instances of a job (architecture.md, "Execution"): a record
// reaching a keyed operator goes to the instance that owns its key group, as Flink routes
// keyed streams: key group = hash(key) % 128 (state/state_backend.h key_group_of, the unit in
// which state moves), owner = key group * N / 128.
//
// Each ordered pair of instances has a channel: a queue of blocks, each block a run of
// messages (routed records, operator watermarks, end-of-aggregate marks) in the order the
// sender produced them, so a watermark follows every record it covers. A channel is bounded
// by bytes: a sender whose channel is full reads no more input until the receiver has taken
// blocks out (backpressure). Receiving never waits for room, so two instances that send to
// each other cannot deadlock; what one batch of input produces may overshoot the bound.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "flow/abi.h"
#include "state/state_backend.h"

namespace flow {

// Where the pointers of a route's record are (abi.h flow_job_route).
struct RouteSpec {
  int64_t record_size = 0;
  flow_route_fn apply = nullptr;
  std::vector<int64_t> strings;  // offsets of flow_str slots
  std::vector<int64_t> lists;    // offsets of flow_list slots: such a route cannot cross instances
};

// The channels between `instances` instances, and a wake-up signal per instance.
class ExchangeHub {
 public:
  ExchangeHub(int instances, std::size_t channel_bytes);

  int instances() const { return instances_; }
  // Appends a block to channel from -> to and wakes `to`.
  void push(int from, int to, std::string block);
  // Takes every block waiting in channel from -> to (appended to `out`), and wakes `from`: its
  // channel has room again.
  void take(int from, int to, std::vector<std::string>& out);
  // Whether channel from -> to holds at least its bound.
  bool full(int from, int to) const;
  // Bytes queued in channel from -> to, and the most it has held.
  std::size_t queued(int from, int to) const;
  std::size_t peak(int from, int to) const;

  // Waits until `self` is woken (input arrived, a channel it sends to has room, or stop()) or
  // `timeout_ms` has passed.
  void wait(int self, int timeout_ms);
  void wake(int self);
  // Ends the job everywhere (an instance failed): every waiting instance wakes.
  void stop();
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }

 private:
  struct Channel {
    mutable std::mutex mutex;
    std::deque<std::string> blocks;
    std::size_t bytes = 0;
    std::size_t peak = 0;
  };
  struct Signal {
    std::mutex mutex;
    std::condition_variable cv;
    bool raised = false;
  };
  Channel& channel(int from, int to) { return channels_[static_cast<std::size_t>(from * instances_ + to)]; }
  const Channel& channel(int from, int to) const { return channels_[static_cast<std::size_t>(from * instances_ + to)]; }

  int instances_;
  std::size_t channel_bytes_;
  std::vector<Channel> channels_;
  std::vector<Signal> signals_;
  std::atomic<bool> stopped_{false};
};

// The messages of a block. (ExchangeReceiver gets them decoded.)
enum class ExchangeMessage : uint8_t {
  record = 1, watermark = 2, stage_done = 3, row = 4, barrier = 5, window_row = 6, encoded_row = 7,
  positioned_record = 8  // a record and its position in its source's file (flow_exchange_send_at)
};

// Receives the messages of a block (decode_block).
class ExchangeReceiver {
 public:
  virtual ~ExchangeReceiver() = default;
  // `position`: where the record starts in its source's file, if it was sent with it (else 0).
  virtual int32_t record(int32_t route, const void* record, int64_t event_time, int64_t position) = 0;
  virtual int32_t watermark(int from, int32_t node, int64_t w) = 0;
  virtual int32_t stage_done(int from, int32_t stage) = 0;
  // A row of unwindowed aggregate `aggregate` and its encoded key (flow_exchange::send_row).
  virtual int32_t row(int32_t aggregate, std::string_view key, uint8_t* row) = 0;
  // A checkpoint barrier of round `round`: the sender sent `messages` messages since its last.
  virtual int32_t barrier(int from, int32_t round, int64_t messages) = 0;
  // A partial row of window `window`'s slice `slice` for `key` (`aggregate local`).
  virtual int32_t window_row(int32_t window, int64_t slice, std::string_view key, uint8_t* row) = 0;
  // A row of unwindowed aggregate `aggregate` that holds count_distinct sets, as
  // encode_row_value wrote it (flow_exchange::send_encoded_row).
  virtual int32_t encoded_row(int32_t aggregate, std::string_view key, std::string_view value) = 0;
};

// Decodes a block sent by instance `from` and hands each message to `receiver`, records where
// they lie in the block (which it changes: their strings are pointed into it); stops at the
// first non-zero status and returns it. A block that does not decode is a bug: returns -1.
// `rows`: per unwindowed aggregate, the size and string slots of its rows.
// `windows`: per window, the size and string slots of its rows.
int32_t decode_block(std::string& block, int from, const std::vector<RouteSpec>& routes, const std::vector<RouteSpec>& rows,
                     ExchangeReceiver& receiver, const std::vector<RouteSpec>& windows = {});

}  // namespace flow

// One instance's end of the exchange, as generated code sees it (abi.h flow_exchange_*): the
// blocks it is building for each other instance.
struct flow_exchange {
  flow_exchange(flow::ExchangeHub& hub, int self, const std::vector<flow::RouteSpec>& routes);

  // Stages annotated `@parallel(P)` run on the first P instances (P = 0: on every one).
  int among(int parallelism) const { return flow::owning_instances(parallelism, instances); }
  bool owns(const uint8_t* key, std::size_t len, int parallelism = 0) {
    last_owner = flow::owner_of_key(std::string_view(reinterpret_cast<const char*>(key), len), among(parallelism));
    return last_owner == self;
  }
  // `rebalance` stage `stage`: the next instance in its turn takes the record (each instance
  // starts with itself, so they do not all start at instance 0; each stage has a turn of its
  // own, or two in a row would undo each other). Like owns(), sets whom send_record() sends to.
  bool deal(int stage, int parallelism = 0) {
    if (stage < 0) stage = 0;
    if (static_cast<std::size_t>(stage) >= next_dealt_.size()) next_dealt_.resize(static_cast<std::size_t>(stage) + 1, self);
    int& next = next_dealt_[static_cast<std::size_t>(stage)];
    int n = among(parallelism);
    last_owner = next % n;
    next = last_owner + 1 == n ? 0 : last_owner + 1;
    return last_owner == self;
  }
  // `@parallel(P) rescale`: an instance beyond the first P hands its records to instance self % P.
  bool rescale(int parallelism) {
    int n = among(parallelism);
    last_owner = self < n ? self : self % n;
    return last_owner == self;
  }
  // Appends a record for the owner found by the last owns() or deal() (with its position in
  // its source's file: send_record_at).
  void send_record(int32_t route, const void* record, int64_t event_time);
  void send_record_at(int32_t route, const void* record, int64_t event_time, int64_t position);
  // To every other instance: operator `node`'s input watermark here. Only the newest of a node
  // goes out, at the next flush(): a watermark may come later than it could, never before a
  // record it covers.
  void send_watermark(int32_t node, int64_t w);
  // To every other instance: this instance has ended stage `stage` of the job's end
  // (exec/parallel_runner.cpp), after everything sent before.
  void send_stage_done(int32_t stage);
  // To instance `to`, the owner of `key`: the row of unwindowed aggregate `aggregate` (`layout`
  // its size and string slots) that this instance aggregated for that key.
  void send_row(int to, int32_t aggregate, std::string_view key, const uint8_t* row, const flow::RouteSpec& layout);
  // The same for a row that holds count_distinct sets, encoded with them (encode_row_value).
  void send_encoded_row(int to, int32_t aggregate, std::string_view key, std::string_view value);
  // To instance `to`, the owner of `key`: this instance's partial row of window `window`'s slice
  // `slice` (`aggregate local`), `row_size` bytes with flow_str slots at `strings`.
  void send_window_row(int to, int32_t window, int64_t slice, std::string_view key, const uint8_t* row, int64_t row_size,
                       const std::vector<int64_t>& strings);
  // To every other instance: a checkpoint barrier of round `round` (exec/parallel_runner.cpp),
  // after everything sent before, pending watermarks included, and carrying how many messages
  // that was since the last barrier, which it returns.
  int64_t send_barrier(int32_t round);
  // Pushes the blocks built so far into their channels.
  void flush();
  // Whether a channel this instance sends to is full: it should read no input now.
  bool blocked() const;

  flow::ExchangeHub& hub;
  const int self;
  const int instances;
  const std::vector<flow::RouteSpec>& routes;
  int last_owner = 0;
  int64_t records_sent = 0;
  int64_t messages_sent = 0;  // every kind but barriers

 private:
  void flush_to(int to);
  // A record message for last_owner, with the position in front when there is one.
  void append_record(int32_t route, const void* record, int64_t event_time, const int64_t* position);
  void write_watermarks();
  void write_to_others(flow::ExchangeMessage kind, uint32_t index, int64_t value);
  std::vector<std::string> building_;  // per destination
  std::vector<int64_t> watermarks_;     // per node: the newest not written yet
  std::vector<int32_t> pending_nodes_;  // nodes with a watermark not written yet
  int64_t sent_at_barrier_ = 0;         // messages_sent when the last barrier went out
  std::vector<int> next_dealt_;         // deal(): per stage
};

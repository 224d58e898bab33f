// Event-time progress (language.md "Time, precisely"): the watermark of one source, and the
// combined watermark of a stage with several inputs. Kept apart from operators, like
// timely's progress tracking, so its invariants are stated and tested in one place.
//
// Invariants:
//  - A watermark never goes backwards.
//  - A source's watermark depends only on the timestamps it has read, in order: after a record
//    with timestamp t, W = max(W, t - lag). So which records are late depends on the input
//    order only, never on batching, threads or the clock.
//  - A record is judged against the watermark in force *before* it (observe() returns it).
//  - End of a bounded input moves the watermark to kWatermarkEnd (+infinity).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace flow {

// Milliseconds since the epoch, like timestamp values.
constexpr int64_t kWatermarkStart = std::numeric_limits<int64_t>::min();  // nothing seen yet
constexpr int64_t kWatermarkEnd = std::numeric_limits<int64_t>::max();    // input ended

// Bounded out-of-orderness: W = (largest timestamp read) - lag. `watermark ascending` is lag 0.
class SourceWatermark {
 public:
  explicit SourceWatermark(int64_t lag_ms) : lag_(lag_ms < 0 ? 0 : lag_ms) {}

  // Takes the next record's timestamp: returns the watermark the record is judged against
  // (the one before it), then advances.
  int64_t observe(int64_t timestamp);
  void end_of_input() { current_ = kWatermarkEnd; }
  int64_t current() const { return current_; }

 private:
  int64_t lag_;
  int64_t current_ = kWatermarkStart;
};

// The watermark of a stage with several inputs: the minimum over the inputs that are not idle.
// An input is idle when it has had no record for `idle_timeout_ms` of processing time (the
// `idle D` clause); a record makes it active again. An ended input counts as +infinity. When
// every input is idle the combined watermark holds where it was.
class CombinedWatermark {
 public:
  // idle_timeout_ms < 0: the inputs never become idle.
  CombinedWatermark(int inputs, int64_t idle_timeout_ms);

  // Input `input` reported watermark `w` at processing time `now_ms` (a record arrived).
  void update(int input, int64_t w, int64_t now_ms);
  void end_of_input(int input);
  // Re-evaluates idleness at processing time `now_ms`; returns the combined watermark.
  int64_t advance_clock(int64_t now_ms);
  int64_t current() const { return current_; }
  bool is_idle(int input) const { return inputs_[input].idle; }
  // Checkpoints: every input's watermark and idleness, and the combined value.
  void snapshot(std::string& out) const;
  bool restore(std::string_view in);
  // From the snapshots of several parallel instances: each input's lowest watermark (the
  // instances differ in what their own inputs had seen).
  bool restore_lowest(const std::vector<std::string_view>& parts);

 private:
  struct Input {
    int64_t watermark = kWatermarkStart;
    int64_t last_record_ms = 0;
    bool idle = false;
  };
  void recompute();

  std::vector<Input> inputs_;
  int64_t idle_timeout_ms_;
  int64_t current_ = kWatermarkStart;
};

}  // namespace flow

// Source and combined watermarks (see watermark.h for the invariants).
#include "time/watermark.h"

#include "checkpoint/byte_io.h"

#include <algorithm>

namespace flow {

int64_t SourceWatermark::observe(int64_t timestamp) {
  int64_t before = current_;
  if (current_ == kWatermarkEnd) return before;
  // t - lag without overflow for timestamps near the minimum.
  int64_t candidate = timestamp < kWatermarkStart + lag_ ? kWatermarkStart : timestamp - lag_;
  current_ = std::max(current_, candidate);
  return before;
}

CombinedWatermark::CombinedWatermark(int inputs, int64_t idle_timeout_ms)
    : inputs_(static_cast<std::size_t>(inputs)), idle_timeout_ms_(idle_timeout_ms) {}

void CombinedWatermark::update(int input, int64_t w, int64_t now_ms) {
  Input& in = inputs_[static_cast<std::size_t>(input)];
  in.watermark = std::max(in.watermark, w);
  in.last_record_ms = now_ms;
  in.idle = false;
  if (inputs_.size() == 1) {  // most operators: recompute() would come to this
    current_ = std::max(current_, in.watermark);
    return;
  }
  recompute();
}

void CombinedWatermark::end_of_input(int input) {
  Input& in = inputs_[static_cast<std::size_t>(input)];
  in.watermark = kWatermarkEnd;
  in.idle = false;
  recompute();
}

int64_t CombinedWatermark::advance_clock(int64_t now_ms) {
  if (idle_timeout_ms_ >= 0)
    for (Input& in : inputs_)
      if (in.watermark != kWatermarkEnd && now_ms - in.last_record_ms >= idle_timeout_ms_) in.idle = true;
  recompute();
  return current_;
}

void CombinedWatermark::recompute() {
  int64_t minimum = kWatermarkEnd;
  bool any_active = false;
  for (const Input& in : inputs_) {
    if (in.idle) continue;
    any_active = true;
    minimum = std::min(minimum, in.watermark);
  }
  // All idle: hold. Never move backwards (an input coming back from idleness behind the
  // others does not pull the watermark back; its late records are late).
  if (any_active) current_ = std::max(current_, minimum);
}

void CombinedWatermark::snapshot(std::string& out) const {
  ByteWriter w(out);
  w.i64(current_);
  w.u64(inputs_.size());
  for (const Input& in : inputs_) {
    w.i64(in.watermark);
    w.i64(in.last_record_ms);
    w.u8(in.idle ? 1 : 0);
  }
}

bool CombinedWatermark::restore(std::string_view bytes) {
  ByteReader r(bytes);
  uint64_t n = 0;
  if (!r.number(current_) || !r.number(n) || n != inputs_.size()) return false;
  for (Input& in : inputs_) {
    uint8_t idle = 0;
    if (!r.number(in.watermark) || !r.number(in.last_record_ms) || !r.number(idle)) return false;
    in.idle = idle != 0;
  }
  return r.done();
}

bool CombinedWatermark::restore_lowest(const std::vector<std::string_view>& parts) {
  if (parts.empty()) return true;
  std::vector<Input> lowest(inputs_.size(), Input{kWatermarkEnd, INT64_MIN, true});
  int64_t current = kWatermarkEnd;
  for (std::string_view part : parts) {
    if (!restore(part)) return false;
    current = std::min(current, current_);
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      lowest[i].watermark = std::min(lowest[i].watermark, inputs_[i].watermark);
      lowest[i].last_record_ms = std::max(lowest[i].last_record_ms, inputs_[i].last_record_ms);
      lowest[i].idle = lowest[i].idle && inputs_[i].idle;
    }
  }
  inputs_ = lowest;
  current_ = current;
  return true;
}

}  // namespace flow

// Event-time timers of one operator: (time, key, namespace) entries fired in order of time,
// then key, then namespace when the watermark passes them — the order that makes window
// firings deterministic ("ordered by window end, then key"). A timer registered twice fires
// once.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace flow {

struct Timer {
  int64_t time;
  std::string key;  // encoded key bytes (memcomparable, so byte order is key order)
  int64_t name_space;  // e.g. a window end or slice
  bool operator<(const Timer& o) const {
    return std::tie(time, key, name_space) < std::tie(o.time, o.key, o.name_space);
  }
  bool operator==(const Timer& o) const { return time == o.time && key == o.key && name_space == o.name_space; }
};

class TimerService {
 public:
  // Registers a timer; returns false if the same timer was already registered.
  bool add(Timer timer) { return timers_.insert(std::move(timer)).second; }
  bool remove(const Timer& timer) { return timers_.erase(timer) > 0; }
  // Removes and returns, in firing order, every timer with time <= watermark.
  std::vector<Timer> fire_until(int64_t watermark);
  std::size_t size() const { return timers_.size(); }
  // The earliest pending time, or INT64_MAX when none.
  int64_t next_time() const;

 private:
  std::set<Timer> timers_;
};

}  // namespace flow

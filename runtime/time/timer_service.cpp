// Ordered event-time timers (see timer_service.h).
#include "time/timer_service.h"

#include <limits>

namespace flow {

std::vector<Timer> TimerService::fire_until(int64_t watermark) {
  std::vector<Timer> due;
  auto it = timers_.begin();
  while (it != timers_.end() && it->time <= watermark) {
    due.push_back(std::move(timers_.extract(it++).value()));
  }
  return due;
}

int64_t TimerService::next_time() const {
  return timers_.empty() ? std::numeric_limits<int64_t>::max() : timers_.begin()->time;
}

}  // namespace flow

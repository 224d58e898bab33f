// Restart strategies (restart_policy.h).
#include "exec/restart_policy.h"

#include <algorithm>
#include <sstream>
#include <vector>

#include "flow/abi.h"

namespace flow {

namespace {

std::vector<std::string> parts_of(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ':');) parts.push_back(part);
  return parts;
}

bool duration_of(const std::string& text, int64_t& ms) {
  return flow_parse_duration(text.data(), static_cast<int64_t>(text.size()), &ms) && ms >= 0;
}

bool count_of(const std::string& text, int64_t& n) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) return false;
  n = std::stoll(text);
  return n > 0;
}

}  // namespace

bool RestartPolicy::parse(const std::string& text, RestartPolicy& out, std::string& error) {
  std::vector<std::string> p = parts_of(text);
  out = RestartPolicy{};
  bool ok = false;
  if (text == "none") {
    ok = true;
  } else if (!p.empty() && p[0] == "fixed-delay") {
    out.kind_ = Kind::FixedDelay;
    ok = p.size() == 3 && count_of(p[1], out.attempts_) && duration_of(p[2], out.delay_ms_);
  } else if (!p.empty() && p[0] == "failure-rate") {
    out.kind_ = Kind::FailureRate;
    ok = p.size() == 4 && count_of(p[1], out.attempts_) && duration_of(p[2], out.interval_ms_) && duration_of(p[3], out.delay_ms_);
  } else if (!p.empty() && p[0] == "exponential-delay") {
    out.kind_ = Kind::ExponentialDelay;
    out.delay_ms_ = 1000;
    out.max_delay_ms_ = 300000;
    ok = p.size() == 1 || (p.size() == 3 && duration_of(p[1], out.delay_ms_) && duration_of(p[2], out.max_delay_ms_) &&
                           out.delay_ms_ <= out.max_delay_ms_);
  }
  if (!ok)
    error = "--restart: expected none, fixed-delay:ATTEMPTS:DELAY, failure-rate:MAX:INTERVAL:DELAY or "
            "exponential-delay[:INITIAL:MAX] (e.g. fixed-delay:3:1s), found `" + text + "`";
  return ok;
}

bool RestartPolicy::restart_after_failure(int64_t now_ms, int64_t& delay_ms) {
  switch (kind_) {
    case Kind::None: return false;
    case Kind::FixedDelay:
      if (restarts_ >= attempts_) return false;
      delay_ms = delay_ms_;
      break;
    case Kind::FailureRate:
      failures_.push_back(now_ms);
      while (!failures_.empty() && failures_.front() <= now_ms - interval_ms_) failures_.pop_front();
      if (static_cast<int64_t>(failures_.size()) > attempts_) return false;
      delay_ms = delay_ms_;
      break;
    case Kind::ExponentialDelay:
      delay_ms = delay_ms_;
      delay_ms_ = std::min(max_delay_ms_, delay_ms_ > max_delay_ms_ / 2 ? max_delay_ms_ : delay_ms_ * 2);
      break;
  }
  ++restarts_;
  return true;
}

}  // namespace flow

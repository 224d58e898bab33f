// In-process restarts after a job failure (issue 5; Flink's restart strategies): whether to
// run the job again, and after how long. A restarted job resumes from the newest usable
// checkpoint when it checkpoints, else from the beginning (file sinks are rewritten).
//   none                              never (the default)
//   fixed-delay:ATTEMPTS:DELAY        up to ATTEMPTS restarts, DELAY apart
//   failure-rate:MAX:INTERVAL:DELAY   restart unless MAX failures happened within INTERVAL
//   exponential-delay[:INITIAL:MAX]   always, waiting INITIAL (1s), then twice as long each
//                                     time up to MAX (5m)
#pragma once

#include <cstdint>
#include <deque>
#include <string>

namespace flow {

class RestartPolicy {
 public:
  // Parses the --restart value; false with `error` saying what was expected.
  static bool parse(const std::string& text, RestartPolicy& out, std::string& error);

  // After a failure at `now_ms`: true with the delay to wait before running again, or false.
  bool restart_after_failure(int64_t now_ms, int64_t& delay_ms);
  bool enabled() const { return kind_ != Kind::None; }
  int restarts() const { return restarts_; }

 private:
  enum class Kind { None, FixedDelay, FailureRate, ExponentialDelay };
  Kind kind_ = Kind::None;
  int64_t attempts_ = 0;  // fixed-delay: restarts allowed; failure-rate: failures allowed per interval
  int64_t interval_ms_ = 0;
  int64_t delay_ms_ = 0;  // fixed-delay, failure-rate; exponential: the next delay
  int64_t max_delay_ms_ = 0;
  int restarts_ = 0;
  std::deque<int64_t> failures_;  // failure-rate: times of the recent failures
};

}  // namespace flow

// Processing time: the real wall clock in production, a manual clock in tests, behind one
// small interface so that `time processing`, idleness and `emit early every D` can be tested
// deterministically.
#pragma once

#include <cstdint>

namespace flow {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;  // milliseconds since the epoch
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 0) : now_(start_ms) {}
  int64_t now_ms() const override { return now_; }
  void advance(int64_t ms) { now_ += ms; }
  void set(int64_t ms) { now_ = ms; }

 private:
  int64_t now_;
};

}  // namespace flow

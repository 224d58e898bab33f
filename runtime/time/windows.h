// Window assignment (language.md section 4): which [start, end) windows a record at event time
// t belongs to, for tumbling, sliding, cumulating and session windows. Windows are aligned to
// the epoch; a record belongs to the windows with start <= t < end. Negative timestamps (before
// 1970) are aligned the same way, by flooring division.
//
// Sliding windows are computed by slicing (architecture.md): a record updates exactly one
// slice of width gcd(size, slide), and a window is the union of size / gcd consecutive slices,
// so the cost per record does not grow with size / slide.
#pragma once

#include <cstdint>
#include <vector>

namespace flow {

struct Window {
  int64_t start;
  int64_t end;  // exclusive
  bool operator==(const Window& o) const { return start == o.start && end == o.end; }
  bool operator<(const Window& o) const { return end != o.end ? end < o.end : start < o.start; }
};

int64_t floor_div(int64_t a, int64_t b);  // rounds towards minus infinity; b > 0
int64_t align_down(int64_t t, int64_t step);  // the largest multiple of step <= t

Window tumbling_window(int64_t t, int64_t size);

// The windows of sliding(size, every = slide) holding t, by ascending end.
std::vector<Window> sliding_windows(int64_t t, int64_t size, int64_t slide);
// The slice width of sliding(size, slide), and the slice holding t.
int64_t slice_width(int64_t size, int64_t slide);
Window slice_of(int64_t t, int64_t width);
// The slices that make up window w (size / width of them), in order.
std::vector<Window> slices_of(const Window& w, int64_t width);

// cumulating(max_size, step = step): windows [base, base + k * step) for k = 1 .. max/step,
// base = align_down(t, max_size); those holding t, by ascending end.
std::vector<Window> cumulating_windows(int64_t t, int64_t max_size, int64_t step);

// Session windows of one key: a record at t opens [t, t + gap); windows that overlap or touch
// merge into one. Keeps the open sessions ordered by start.
class SessionWindows {
 public:
  explicit SessionWindows(int64_t gap) : gap_(gap) {}
  // Adds a record at t. Returns the session now holding it; `merged` receives the sessions
  // that were folded into it (their state must be merged into the result's).
  Window add(int64_t t, std::vector<Window>& merged);
  // Removes and returns, by ascending end, the sessions with end <= watermark.
  std::vector<Window> close_until(int64_t watermark);
  const std::vector<Window>& open() const { return sessions_; }

 private:
  int64_t gap_;
  std::vector<Window> sessions_;  // disjoint, not touching, ascending start
};

}  // namespace flow

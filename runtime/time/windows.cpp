// Window assignment and session merging (see windows.h).
#include "time/windows.h"

#include <algorithm>
#include <numeric>

namespace flow {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t align_down(int64_t t, int64_t step) { return floor_div(t, step) * step; }

Window tumbling_window(int64_t t, int64_t size) {
  int64_t start = align_down(t, size);
  return Window{start, start + size};
}

std::vector<Window> sliding_windows(int64_t t, int64_t size, int64_t slide) {
  std::vector<Window> out;
  // The latest window holding t starts at align_down(t, slide); earlier ones every `slide`
  // back while they still reach past t.
  for (int64_t start = align_down(t, slide); start > t - size; start -= slide) out.push_back(Window{start, start + size});
  std::reverse(out.begin(), out.end());
  return out;
}

int64_t slice_width(int64_t size, int64_t slide) { return std::gcd(size, slide); }

Window slice_of(int64_t t, int64_t width) { return tumbling_window(t, width); }

std::vector<Window> slices_of(const Window& w, int64_t width) {
  std::vector<Window> out;
  for (int64_t start = w.start; start < w.end; start += width) out.push_back(Window{start, start + width});
  return out;
}

std::vector<Window> cumulating_windows(int64_t t, int64_t max_size, int64_t step) {
  std::vector<Window> out;
  int64_t base = align_down(t, max_size);
  for (int64_t end = base + step; end <= base + max_size; end += step)
    if (end > t) out.push_back(Window{base, end});
  return out;
}

Window SessionWindows::add(int64_t t, std::vector<Window>& merged) {
  merged.clear();
  Window session{t, t + gap_};
  // Sessions are disjoint and ordered; the ones that overlap or touch [t, t + gap) are a run.
  auto first = std::lower_bound(sessions_.begin(), sessions_.end(), session.start,
                                [](const Window& w, int64_t start) { return w.end < start; });
  auto last = first;
  while (last != sessions_.end() && last->start <= session.end) {
    session.start = std::min(session.start, last->start);
    session.end = std::max(session.end, last->end);
    merged.push_back(*last);
    ++last;
  }
  auto at = sessions_.erase(first, last);
  sessions_.insert(at, session);
  return session;
}

std::vector<Window> SessionWindows::close_until(int64_t watermark) {
  std::vector<Window> closed;
  std::vector<Window> still_open;
  for (const Window& w : sessions_) (w.end <= watermark ? closed : still_open).push_back(w);
  sessions_.swap(still_open);
  std::sort(closed.begin(), closed.end());
  return closed;
}

}  // namespace flow

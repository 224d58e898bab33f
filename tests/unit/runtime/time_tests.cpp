// Unit tests of runtime/time: watermarks (language.md "Time, precisely"), window assignment and
// slicing checked against brute-force definitions, session merging, and timer order.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "time/clock.h"
#include "time/timer_service.h"
#include "time/watermark.h"
#include "time/windows.h"

using flow::Window;

TEST_CASE("watermark: a record is judged against the watermark before it, then W = max - lag") {
  flow::SourceWatermark w(2000);
  CHECK(w.observe(10'000) == flow::kWatermarkStart);
  CHECK(w.current() == 8'000);
  CHECK(w.observe(9'000) == 8'000);  // out of order but not late: the watermark holds
  CHECK(w.current() == 8'000);
  CHECK(w.observe(7'000) == 8'000);  // 7000 < 8000: late for a window ending at or before 8000
  CHECK(w.observe(15'000) == 8'000);
  CHECK(w.current() == 13'000);
  w.end_of_input();
  CHECK(w.current() == flow::kWatermarkEnd);
  CHECK(w.observe(1) == flow::kWatermarkEnd);
  flow::SourceWatermark low(5);
  low.observe(flow::kWatermarkStart + 1);  // no overflow near the minimum
  CHECK(low.current() == flow::kWatermarkStart);
}

TEST_CASE("watermark: the same input order gives the same lateness whatever the batching") {
  std::mt19937_64 random(7);
  std::vector<int64_t> ts;
  for (int i = 0; i < 1000; ++i) ts.push_back(static_cast<int64_t>(i * 100 + random() % 700));
  flow::SourceWatermark a(300), b(300);
  std::vector<int64_t> judged_a, judged_b;
  for (int64_t t : ts) judged_a.push_back(a.observe(t));
  // Batching does not exist for the watermark: feeding in chunks gives the same sequence.
  for (size_t i = 0; i < ts.size(); i += 37)
    for (size_t j = i; j < std::min(ts.size(), i + 37); ++j) judged_b.push_back(b.observe(ts[j]));
  CHECK(judged_a == judged_b);
  CHECK(std::is_sorted(judged_a.begin(), judged_a.end()));
}

TEST_CASE("combined watermark: minimum over active inputs; idle inputs stop holding it back") {
  flow::CombinedWatermark w(2, 1000);
  w.update(0, 5000, 0);
  CHECK(w.current() == flow::kWatermarkStart);  // input 1 has said nothing yet
  w.update(1, 3000, 10);
  CHECK(w.current() == 3000);
  w.update(0, 9000, 500);
  CHECK(w.current() == 3000);
  CHECK(w.advance_clock(1200) == 9000);  // input 1 silent for >= 1000 ms: idle
  CHECK(w.is_idle(1));
  w.update(1, 4000, 1300);  // back, but behind: the watermark does not go back
  CHECK(w.current() == 9000);
  CHECK_FALSE(w.is_idle(1));
  w.end_of_input(0);
  w.end_of_input(1);
  CHECK(w.current() == flow::kWatermarkEnd);
  flow::CombinedWatermark never_idle(2, -1);
  never_idle.update(0, 100, 0);
  CHECK(never_idle.advance_clock(1'000'000) == flow::kWatermarkStart);
}

TEST_CASE("combined watermark: restored from several instances' snapshots, each input at its lowest") {
  // Instance 0 read ahead on input 0, instance 1 on input 1: the restored one must not be
  // ahead of either on any input, or the records still to read would be late.
  flow::CombinedWatermark a(2, -1), b(2, -1);
  a.update(0, 5000, 0);
  a.update(1, 1000, 0);
  b.update(0, 2000, 0);
  b.update(1, 7000, 0);
  std::string sa, sb;
  a.snapshot(sa);
  b.snapshot(sb);
  flow::CombinedWatermark restored(2, -1);
  REQUIRE(restored.restore_lowest({sa, sb}));
  CHECK(restored.current() == 1000);
  restored.update(1, 9000, 0);
  CHECK(restored.current() == 2000);  // input 0 at instance 1's 2000, not instance 0's 5000
  flow::CombinedWatermark damaged(2, -1);
  CHECK_FALSE(damaged.restore_lowest({sa, sb.substr(0, 5)}));
}

TEST_CASE("windows: tumbling windows align to the epoch, also before 1970") {
  CHECK(flow::tumbling_window(10'500, 10'000) == Window{10'000, 20'000});
  CHECK(flow::tumbling_window(10'000, 10'000) == Window{10'000, 20'000});
  CHECK(flow::tumbling_window(-1, 10'000) == Window{-10'000, 0});
  CHECK(flow::tumbling_window(-10'000, 10'000) == Window{-10'000, 0});
  CHECK(flow::floor_div(-7, 2) == -4);
}

TEST_CASE("windows: sliding windows and their slices match the definition") {
  std::mt19937_64 random(11);
  for (int round = 0; round < 2000; ++round) {
    int64_t slide = 1 + static_cast<int64_t>(random() % 50);
    int64_t size = slide * (1 + static_cast<int64_t>(random() % 6)) + static_cast<int64_t>(random() % 2) * (random() % slide);
    int64_t t = static_cast<int64_t>(random() % 2000) - 1000;
    CAPTURE(t);
    CAPTURE(size);
    CAPTURE(slide);
    // Definition: every start = k * slide with start <= t < start + size.
    std::vector<Window> expected;
    for (int64_t start = flow::align_down(t - size - slide, slide); start <= t; start += slide)
      if (t < start + size) expected.push_back(Window{start, start + size});
    CHECK(flow::sliding_windows(t, size, slide) == expected);
    // Slicing: a window is exactly its slices, and t's slice lies in every window holding t.
    int64_t width = flow::slice_width(size, slide);
    Window slice = flow::slice_of(t, width);
    for (const Window& w : expected) {
      auto slices = flow::slices_of(w, width);
      CHECK(static_cast<int64_t>(slices.size()) == size / width);
      CHECK(std::find(slices.begin(), slices.end(), slice) != slices.end());
    }
  }
}

TEST_CASE("windows: cumulating windows grow by step inside each max-size period") {
  auto windows = flow::cumulating_windows(25, 60, 10);  // period [0, 60)
  CHECK(windows == std::vector<Window>{{0, 30}, {0, 40}, {0, 50}, {0, 60}});
  CHECK(flow::cumulating_windows(60, 60, 10).front() == Window{60, 70});
  CHECK(flow::cumulating_windows(-5, 60, 20) == std::vector<Window>{{-60, 0}});
}

TEST_CASE("windows: sessions merge when they overlap or touch, like a brute-force reference") {
  std::mt19937_64 random(5);
  for (int round = 0; round < 300; ++round) {
    int64_t gap = 1 + static_cast<int64_t>(random() % 20);
    flow::SessionWindows sessions(gap);
    std::vector<int64_t> points;
    std::vector<Window> merged;
    for (int i = 0; i < 30; ++i) {
      int64_t t = static_cast<int64_t>(random() % 300);
      points.push_back(t);
      Window w = sessions.add(t, merged);
      CHECK(w.start <= t);
      CHECK(t < w.end);
    }
    // Reference: sort the points and cut where the next point is beyond the current end.
    std::sort(points.begin(), points.end());
    std::vector<Window> expected;
    for (int64_t t : points) {
      if (!expected.empty() && t <= expected.back().end) expected.back().end = std::max(expected.back().end, t + gap);
      else expected.push_back(Window{t, t + gap});
    }
    CHECK(sessions.open() == expected);
    auto closed = sessions.close_until(150);
    for (const Window& w : closed) CHECK(w.end <= 150);
    for (const Window& w : sessions.open()) CHECK(w.end > 150);
    CHECK(closed.size() + sessions.open().size() == expected.size());
  }
}

TEST_CASE("timers: fire in order of time, then key, then namespace; duplicates fire once") {
  flow::TimerService timers;
  CHECK(timers.add({20, "b", 0}));
  CHECK(timers.add({10, "z", 0}));
  CHECK(timers.add({20, "a", 1}));
  CHECK(timers.add({20, "a", 0}));
  CHECK_FALSE(timers.add({20, "a", 0}));
  CHECK(timers.add({30, "a", 0}));
  CHECK(timers.next_time() == 10);
  auto due = timers.fire_until(20);
  REQUIRE(due.size() == 4);
  CHECK(due[0] == flow::Timer{10, "z", 0});
  CHECK(due[1] == flow::Timer{20, "a", 0});
  CHECK(due[2] == flow::Timer{20, "a", 1});
  CHECK(due[3] == flow::Timer{20, "b", 0});
  CHECK(timers.size() == 1);
  CHECK(timers.fire_until(29).empty());
  CHECK(timers.remove({30, "a", 0}));
  CHECK(timers.next_time() == INT64_MAX);
}

TEST_CASE("clock: a manual clock moves only when told; the system clock is near now") {
  flow::ManualClock manual(1000);
  CHECK(manual.now_ms() == 1000);
  manual.advance(250);
  CHECK(manual.now_ms() == 1250);
  flow::SystemClock system;
  CHECK(system.now_ms() > 1'700'000'000'000);  // after November 2023
}

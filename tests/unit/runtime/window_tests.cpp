// Unit tests of runtime/window: the slice geometry against the window definitions, early
// firings, and state that stays bounded as the watermark moves on. The end-to-end rules are
// checked by tests/differential and the golden tests.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "exec/job_context.h"
#include "time/windows.h"
#include "window/window_operator.h"

namespace {

// A row is one i64 count; emitted results are collected here.
struct Firing {
  int64_t count, start, end;
  bool operator==(const Firing& o) const { return count == o.count && start == o.start && end == o.end; }
};
std::vector<Firing> firings;

void merge_counts(flow_ctx*, flow_agg_table*, uint8_t* into, const uint8_t* from) {
  int64_t a, b;
  std::memcpy(&a, into, 8);
  std::memcpy(&b, from, 8);
  a += b;
  std::memcpy(into, &a, 8);
}

int32_t collect(flow_ctx*, const void* row, int64_t start, int64_t end) {
  int64_t count;
  std::memcpy(&count, row, 8);
  firings.push_back(Firing{count, start, end});
  return 0;
}

flow::WindowOperatorSpec spec(int32_t kind, int64_t size, int64_t slide, int64_t lateness, int32_t flags = 0) {
  flow::WindowOperatorSpec s;
  s.kind = kind;
  s.size_ms = size;
  s.slide_ms = slide;
  s.lateness_ms = lateness;
  s.flags = flags;
  s.row_size = 8;
  s.merge = merge_counts;
  s.emit = collect;
  return s;
}

// Adds one record (count += 1) with key `key` at t; false if it was late.
bool add(flow_window& w, const std::string& key, int64_t t) {
  flow_window_hit hit{};
  uint8_t* row = w.upsert(reinterpret_cast<const uint8_t*>(key.data()), key.size(), t, &hit);
  if (!row) return false;
  int64_t count;
  std::memcpy(&count, row, 8);
  ++count;
  std::memcpy(row, &count, 8);
  if (hit.refire) CHECK(w.refire() == 0);
  return true;
}

std::vector<int64_t> ends_of_slice(const flow::SliceGeometry& g, int64_t a) {
  std::vector<int64_t> ends;
  for (int64_t end = g.first_end_after(a, INT64_MIN + 1); end != INT64_MAX; end = g.first_end_after(a, end)) ends.push_back(end);
  return ends;
}

}  // namespace

TEST_CASE("window geometry: the windows holding a record's slice are the windows holding the record") {
  std::mt19937_64 random(11);
  for (int i = 0; i < 3000; ++i) {
    int64_t t = static_cast<int64_t>(random() % 200000) - 100000;
    int64_t slide = 1 + static_cast<int64_t>(random() % 50);
    int64_t size = slide * (1 + static_cast<int64_t>(random() % 6)) + (random() % 2 ? static_cast<int64_t>(random() % slide) : 0);
    flow::SliceGeometry sliding(FLOW_WINDOW_SLIDING, size, slide);
    std::vector<int64_t> expected;
    for (const flow::Window& w : flow::sliding_windows(t, size, slide)) expected.push_back(w.end);
    int64_t a = sliding.slice_start(t);
    CHECK(a <= t);
    CHECK(t < a + sliding.width);
    CHECK(ends_of_slice(sliding, a) == expected);
    for (int64_t end : expected) CHECK(sliding.window_start(end) == end - size);
    CHECK(sliding.last_end(a) == expected.back());

    int64_t step = slide, max_size = step * (1 + static_cast<int64_t>(random() % 5));
    flow::SliceGeometry cumulating(FLOW_WINDOW_CUMULATING, max_size, step);
    expected.clear();
    std::vector<int64_t> starts;
    for (const flow::Window& w : flow::cumulating_windows(t, max_size, step)) {
      expected.push_back(w.end);
      starts.push_back(w.start);
    }
    a = cumulating.slice_start(t);
    CHECK(ends_of_slice(cumulating, a) == expected);
    for (size_t k = 0; k < expected.size(); ++k) CHECK(cumulating.window_start(expected[k]) == starts[k]);
  }
  flow::SliceGeometry tumbling(FLOW_WINDOW_TUMBLING, 10, 0);
  CHECK(tumbling.slice_start(-1) == -10);
  CHECK(ends_of_slice(tumbling, -10) == std::vector<int64_t>{0});
}

TEST_CASE("windows: early firings show partial results of open windows only; the final firing follows") {
  flow_ctx ctx;
  auto backend = flow::make_heap_state_backend();
  flow::WindowOperatorSpec s = spec(FLOW_WINDOW_SLIDING, 10, 5, 0);
  s.early_every_ms = 1000;
  auto w = flow::make_window_operator(s, ctx, backend->table("w", 8));
  firings.clear();
  CHECK(add(*w, "k", 1));
  CHECK(add(*w, "k", 7));
  CHECK(w->fire_early() == 0);
  // [-5, 5) holds 1, [0, 10) holds both, [5, 15) holds 7.
  CHECK(firings == std::vector<Firing>{{1, -5, 5}, {2, 0, 10}, {1, 5, 15}});
  firings.clear();
  CHECK(w->advance(10) == 0);
  CHECK(firings == std::vector<Firing>{{1, -5, 5}, {2, 0, 10}});
  firings.clear();
  CHECK(w->fire_early() == 0);
  CHECK(firings == std::vector<Firing>{{1, 5, 15}});
}

TEST_CASE("windows: slice state is freed once the watermark passes end + lateness") {
  flow_ctx ctx;
  auto backend = flow::make_heap_state_backend();
  flow::StateTable& table = backend->table("w", 8);
  auto w = flow::make_window_operator(spec(FLOW_WINDOW_SLIDING, 100, 10, 50), ctx, table);
  firings.clear();
  std::size_t most = 0;
  std::set<std::pair<int64_t, int64_t>> windows_and_keys;  // what must fire, once each
  for (int64_t t = 0; t < 100000; t += 3) {
    for (const flow::Window& win : flow::sliding_windows(t, 100, 10)) windows_and_keys.insert({win.start, t % 7});
    CHECK(add(*w, "k" + std::to_string(t % 7), t));
    CHECK(w->advance(t - 20) == 0);
    most = std::max(most, table.namespaces());
  }
  // size 100 + lateness 50 + lag 20 over 10 ms slices, whatever the input's length.
  CHECK(most <= 19);
  CHECK(w->advance(INT64_MAX) == 0);
  CHECK(table.namespaces() == 0);
  CHECK(firings.size() == windows_and_keys.size());
}

TEST_CASE("windows: session state stays bounded on an endless input") {
  flow_ctx ctx;
  auto backend = flow::make_heap_state_backend();
  flow::StateTable& table = backend->table("s", 8);
  auto w = flow::make_window_operator(spec(FLOW_WINDOW_SESSION, 10, 0, 5), ctx, table);
  firings.clear();
  std::size_t most = 0;
  for (int64_t t = 0; t < 200000; t += 2) {
    // 100 keys, each with a session every 1000 ms of 5 records.
    int64_t key = (t / 10) % 100;
    CHECK(add(*w, "u" + std::to_string(key), t));
    CHECK(w->advance(t) == 0);
    most = std::max(most, table.size());
  }
  CHECK(most <= 3000);
  CHECK(w->dropped() == 0);
  CHECK(w->advance(INT64_MAX) == 0);
  CHECK(firings.size() == 200000 / 10);  // one session per run of 5 records
  for (const Firing& f : firings) CHECK(f.count == 5);
}

namespace {

int64_t placed_in_open = 0;  // by add_as_generated, through the open slice

// One record placed as generated code places it (abi.h, flow_window_open_slice): into the open
// slice when its time falls in it, else by flow_window_upsert.
bool add_as_generated(flow_window& w, const std::string& key, int64_t t) {
  flow_window_open_slice& open = *flow_window_open(&w);
  auto* k = reinterpret_cast<const uint8_t*>(key.data());
  flow_window_hit hit{};
  uint8_t* row = nullptr;
  if (static_cast<uint64_t>(t) - static_cast<uint64_t>(open.start) < open.width) {
    row = flow_agg_upsert_key(open.rows, k, static_cast<int64_t>(key.size()), &hit.is_new);
    hit.seq = ++open.seq;
    ++open.records_in;
    ++placed_in_open;
  } else {
    row = flow_window_upsert(&w, k, static_cast<int64_t>(key.size()), t, &hit);
  }
  if (!row) return false;
  int64_t count;
  std::memcpy(&count, row, 8);
  ++count;
  std::memcpy(row, &count, 8);
  if (hit.refire) CHECK(flow_window_refire(&w) == 0);
  return true;
}

}  // namespace

TEST_CASE("windows: the open slice is one none of whose windows has fired or passed its lateness") {
  flow_ctx ctx;
  auto backend = flow::make_heap_state_backend();
  auto w = flow::make_window_operator(spec(FLOW_WINDOW_TUMBLING, 100, 0, 50), ctx, backend->table("w", 8));
  const flow_window_open_slice& open = *flow_window_open(w.get());
  CHECK(open.width == 0);
  CHECK(add(*w, "k", 10));
  CHECK(open.start == 0);
  CHECK(open.width == 100);
  CHECK(open.seq == 1);
  CHECK(w->advance(99) == 0);
  CHECK(open.width == 100);
  CHECK(w->advance(100) == 0);  // [0, 100) fired: a record of it refires it
  CHECK(open.width == 0);
  CHECK(add(*w, "k", 20));
  CHECK(open.width == 0);
  CHECK(add(*w, "k", 120));
  CHECK(open.start == 100);
  CHECK(open.width == 100);

  // `emit final`: open until the window fires, at end + lateness.
  auto f = flow::make_window_operator(spec(FLOW_WINDOW_TUMBLING, 100, 0, 50, FLOW_WINDOW_EMIT_FINAL), ctx,
                                      backend->table("f", 8));
  CHECK(add(*f, "k", 10));
  CHECK(f->advance(149) == 0);
  CHECK(flow_window_open(f.get())->width == 100);
  CHECK(f->advance(150) == 0);
  CHECK(flow_window_open(f.get())->width == 0);

  // Sliding windows: the open slice is one slice (gcd of size and slide); sessions have none.
  auto s = flow::make_window_operator(spec(FLOW_WINDOW_SLIDING, 100, 40, 0), ctx, backend->table("s", 8));
  CHECK(add(*s, "k", 45));
  CHECK(flow_window_open(s.get())->start == 40);
  CHECK(flow_window_open(s.get())->width == 20);
  auto g = flow::make_window_operator(spec(FLOW_WINDOW_SESSION, 10, 0, 0), ctx, backend->table("g", 8));
  CHECK(add(*g, "k", 45));
  CHECK(flow_window_open(g.get())->width == 0);
}

TEST_CASE("windows: records placed through the open slice fire as records placed by the runtime") {
  std::mt19937_64 random(7);
  struct Shape {
    int32_t kind;
    int64_t size, slide, lateness;
    int32_t flags;
  };
  for (Shape shape : {Shape{FLOW_WINDOW_TUMBLING, 50, 0, 30, 0}, Shape{FLOW_WINDOW_SLIDING, 60, 20, 10, 0},
                      Shape{FLOW_WINDOW_CUMULATING, 60, 20, 25, 0}, Shape{FLOW_WINDOW_TUMBLING, 50, 0, 30, FLOW_WINDOW_EMIT_FINAL},
                      Shape{FLOW_WINDOW_SESSION, 15, 0, 20, 0}}) {
    CAPTURE(shape.kind);
    CAPTURE(shape.flags);
    flow_ctx ctx;
    auto backend = flow::make_heap_state_backend();
    const flow::WindowOperatorSpec s = spec(shape.kind, shape.size, shape.slide, shape.lateness, shape.flags);
    auto by_runtime = flow::make_window_operator(s, ctx, backend->table("r", 8));
    auto by_generated = flow::make_window_operator(s, ctx, backend->table("g", 8));
    std::vector<Firing> expected, got;
    // What one step fires, appended to `to`.
    auto into = [](std::vector<Firing>& to, auto step) {
      firings.clear();
      step();
      to.insert(to.end(), firings.begin(), firings.end());
    };
    int64_t watermark = INT64_MIN;
    placed_in_open = 0;
    for (int i = 0; i < 4000; ++i) {
      // Mostly in order, some records up to 80 ms late (some past the lateness).
      int64_t t = i * 3 - (random() % 5 == 0 ? static_cast<int64_t>(random() % 80) : 0);
      std::string key = "k" + std::to_string(random() % 4);
      bool placed = false;
      into(expected, [&] { placed = add(*by_runtime, key, t); });
      into(got, [&] { CHECK(add_as_generated(*by_generated, key, t) == placed); });
      if (random() % 3 == 0) {
        watermark = std::max(watermark, t - static_cast<int64_t>(random() % 10));
        into(expected, [&] { CHECK(by_runtime->advance(watermark) == 0); });
        into(got, [&] { CHECK(by_generated->advance(watermark) == 0); });
      }
    }
    into(expected, [&] { CHECK(by_runtime->advance(INT64_MAX) == 0); });
    into(got, [&] { CHECK(by_generated->advance(INT64_MAX) == 0); });
    CHECK(got.size() > 100);
    CHECK(got == expected);
    CHECK(by_generated->records_in() == 4000);  // late ones too
    if (shape.kind == FLOW_WINDOW_SESSION) CHECK(placed_in_open == 0);
    else CHECK(placed_in_open > 2000);
  }
}

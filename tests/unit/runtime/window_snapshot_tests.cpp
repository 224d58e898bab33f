// Window operators snapshot and restore (issue 5): random out-of-order records go through
// every window kind (with lateness, emit final, late records); at every cut point the
// operator is snapshotted and restored into a fresh backend, and must fire exactly what the
// uninterrupted operator fires from there on.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "exec/job_context.h"
#include "window/window_operator.h"

namespace {

std::vector<std::string>* g_fired = nullptr;

void add_counts(flow_ctx*, flow_agg_table*, uint8_t* into, const uint8_t* from) {
  int64_t a, b;
  std::memcpy(&a, into, 8);
  std::memcpy(&b, from, 8);
  a += b;
  std::memcpy(into, &a, 8);
}

int32_t log_firing(flow_ctx*, const void* row, int64_t start, int64_t end) {
  int64_t count;
  std::memcpy(&count, row, 8);
  g_fired->push_back(std::to_string(count) + " [" + std::to_string(start) + "," + std::to_string(end) + ")");
  return 0;
}

struct Step {
  bool advance;
  std::string key;
  int64_t time;
};

void run(flow_window& w, const std::vector<Step>& steps, std::size_t from, std::size_t to, int64_t& late) {
  for (std::size_t i = from; i < to; ++i) {
    const Step& s = steps[i];
    if (s.advance) {
      REQUIRE(w.advance(s.time) == 0);
      continue;
    }
    flow_window_hit hit{};
    uint8_t* row = w.upsert(reinterpret_cast<const uint8_t*>(s.key.data()), s.key.size(), s.time, &hit);
    if (!row) {
      ++late;
      continue;
    }
    int64_t count;
    std::memcpy(&count, row, 8);
    ++count;
    std::memcpy(row, &count, 8);
    if (hit.refire) REQUIRE(w.refire() == 0);
  }
}

void check_restores(int32_t kind, int64_t size, int64_t slide, int64_t lateness, int32_t flags) {
  flow::WindowOperatorSpec spec;
  spec.kind = kind;
  spec.size_ms = size;
  spec.slide_ms = slide;
  spec.lateness_ms = lateness;
  spec.flags = flags;
  spec.row_size = 8;
  spec.merge = add_counts;
  spec.emit = log_firing;
  std::mt19937_64 random(static_cast<uint64_t>(kind * 1000 + size + lateness));
  std::vector<Step> steps;
  int64_t largest = 0;
  for (int i = 0; i < 200; ++i) {
    int64_t t = i * 100 + static_cast<int64_t>(random() % 900) - (random() % 8 == 0 ? 3000 : 0);
    steps.push_back(Step{false, std::string(1, static_cast<char>('a' + random() % 3)), t});
    largest = std::max(largest, t);
    if (random() % 3 == 0) steps.push_back(Step{true, "", largest - 500});
  }
  steps.push_back(Step{true, "", INT64_MAX});
  flow_ctx ctx;
  std::vector<std::string> expected;
  g_fired = &expected;
  auto backend = flow::make_heap_state_backend();
  auto whole = flow::make_window_operator(spec, ctx, backend->table("w", 8));
  int64_t late_whole = 0;
  run(*whole, steps, 0, steps.size(), late_whole);
  REQUIRE(!expected.empty());
  for (std::size_t cut = 0; cut < steps.size(); cut += 5) {
    std::vector<std::string> got;
    g_fired = &got;
    std::string snapshot;
    int64_t late = 0;
    {
      auto first_backend = flow::make_heap_state_backend();
      auto first = flow::make_window_operator(spec, ctx, first_backend->table("w", 8));
      run(*first, steps, 0, cut, late);
      first->snapshot(snapshot);
    }
    auto second_backend = flow::make_heap_state_backend();
    auto second = flow::make_window_operator(spec, ctx, second_backend->table("w", 8));
    std::string error;
    REQUIRE(second->restore(snapshot, error));
    run(*second, steps, cut, steps.size(), late);
    CAPTURE(cut);
    CHECK(got == expected);
    CHECK(late == late_whole);
    CHECK(second->dropped() == whole->dropped());
    auto third_backend = flow::make_heap_state_backend();
    auto third = flow::make_window_operator(spec, ctx, third_backend->table("w", 8));
    CHECK_FALSE(third->restore(std::string_view(snapshot).substr(0, snapshot.size() - 1), error));
  }
  g_fired = nullptr;
}

}  // namespace

TEST_CASE("window snapshot: restored slice windows fire what the uninterrupted ones do") {
  check_restores(FLOW_WINDOW_TUMBLING, 1000, 1000, 0, 0);
  check_restores(FLOW_WINDOW_TUMBLING, 1000, 1000, 1500, 0);
  check_restores(FLOW_WINDOW_SLIDING, 2000, 500, 700, 0);
  check_restores(FLOW_WINDOW_SLIDING, 2000, 500, 700, FLOW_WINDOW_EMIT_FINAL);
  check_restores(FLOW_WINDOW_CUMULATING, 3000, 1000, 1000, 0);
}

TEST_CASE("window snapshot: restored session windows fire what the uninterrupted ones do") {
  check_restores(FLOW_WINDOW_SESSION, 400, 0, 0, 0);
  check_restores(FLOW_WINDOW_SESSION, 400, 0, 1200, 0);
  check_restores(FLOW_WINDOW_SESSION, 700, 0, 1200, FLOW_WINDOW_EMIT_FINAL);
}

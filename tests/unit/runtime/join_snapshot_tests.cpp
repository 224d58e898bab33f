// Join operators snapshot and restore (issue 5): random inputs go through an interval join
// (inner and left, negative bounds) and a window join; at every cut point the operator is
// snapshotted and restored into a fresh backend, and the restored one must emit exactly what
// the uninterrupted one emits from there on, strings of the stored records included.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "exec/job_context.h"
#include "join/join_operator.h"

namespace {

// A stored record: an id and a tag string.
struct Payload {
  int64_t id;
  flow_str tag;
};

std::vector<std::string>* g_log = nullptr;

std::string describe(const void* record) {
  if (!record) return "-";
  Payload p;
  std::memcpy(&p, record, sizeof p);
  return std::to_string(p.id) + "/" + std::string(p.tag.ptr, static_cast<std::size_t>(p.tag.len));
}

int32_t log_pair(flow_ctx*, const void* left, const void* right, int64_t t) {
  g_log->push_back(describe(left) + " " + describe(right) + " @" + std::to_string(t));
  return 0;
}

int32_t ids_differ(flow_ctx*, const void* left, const void* right) {  // a residual condition
  Payload l, r;
  std::memcpy(&l, left, sizeof l);
  std::memcpy(&r, right, sizeof r);
  return (l.id + r.id) % 3 != 0;
}

struct Step {
  bool advance = false;
  int32_t side = 0;
  std::string key;
  int64_t time = 0;  // or the watermark
  int64_t id = 0;
};

void run(flow_join& join, const std::vector<Step>& steps, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    const Step& s = steps[i];
    if (s.advance) {
      REQUIRE(join.advance(s.time) == 0);
      continue;
    }
    flow_state_owner* owner = nullptr;
    uint8_t* room = join.insert(s.side, reinterpret_cast<const uint8_t*>(s.key.data()), s.key.size(), s.time, &owner);
    if (!room) continue;
    Payload p{s.id, {}};
    std::string tag = "tag" + std::to_string(s.id);
    flow_state_copy_str(owner, tag.data(), static_cast<int64_t>(tag.size()), &p.tag);
    std::memcpy(room, &p, sizeof p);
    REQUIRE(join.match() == 0);
  }
}

std::vector<Step> random_steps(std::mt19937_64& random) {
  std::vector<Step> steps;
  int64_t largest = 0;
  for (int i = 0; i < 160; ++i) {
    Step s;
    s.side = static_cast<int32_t>(random() % 2);
    s.key = std::string(1, static_cast<char>('a' + random() % 3));
    s.time = i * 300 + static_cast<int64_t>(random() % 2000) - 1000;
    s.id = i;
    largest = std::max(largest, s.time);
    steps.push_back(s);
    if (random() % 4 == 0) steps.push_back(Step{true, 0, "", largest - 1500, 0});
  }
  steps.push_back(Step{true, 0, "", INT64_MAX, 0});  // end of input
  return steps;
}

void check_restores(flow::JoinOperatorSpec spec) {
  spec.emit = log_pair;
  spec.left_size = spec.right_size = sizeof(Payload);
  spec.left_layout.strings = spec.right_layout.strings = {offsetof(Payload, tag)};
  std::mt19937_64 random(99);
  for (int round = 0; round < 4; ++round) {
    std::vector<Step> steps = random_steps(random);
    flow_ctx ctx;
    std::vector<std::string> expected;
    g_log = &expected;
    auto backend = flow::make_heap_state_backend();
    auto whole = flow::make_join_operator(spec, ctx, *backend, "j");
    run(*whole, steps, 0, steps.size());
    REQUIRE(!expected.empty());
    for (std::size_t cut = 0; cut < steps.size(); cut += 7) {
      std::vector<std::string> got;
      g_log = &got;
      std::string snapshot;
      {
        auto first_backend = flow::make_heap_state_backend();
        auto first = flow::make_join_operator(spec, ctx, *first_backend, "j");
        run(*first, steps, 0, cut);
        first->snapshot(snapshot);
      }  // the first operator and its state are gone
      auto second_backend = flow::make_heap_state_backend();
      auto second = flow::make_join_operator(spec, ctx, *second_backend, "j");
      std::string error;
      REQUIRE(second->restore(snapshot, error));
      run(*second, steps, cut, steps.size());
      CAPTURE(cut);
      CHECK(got == expected);
      CHECK(second->dropped() == whole->dropped());
      auto third_backend = flow::make_heap_state_backend();
      auto third = flow::make_join_operator(spec, ctx, *third_backend, "j");
      CHECK_FALSE(third->restore(std::string_view(snapshot).substr(0, snapshot.size() / 2), error));
    }
  }
  g_log = nullptr;
}

}  // namespace

TEST_CASE("join snapshot: a restored left interval join emits what the uninterrupted one does") {
  flow::JoinOperatorSpec spec;
  spec.kind = FLOW_JOIN_INTERVAL;
  spec.flags = FLOW_JOIN_LEFT_OUTER;
  spec.lower_ms = -700;
  spec.upper_ms = 1200;
  check_restores(spec);
  spec.flags = 0;
  spec.condition = ids_differ;
  check_restores(spec);
}

TEST_CASE("join snapshot: a restored window join emits what the uninterrupted one does") {
  flow::JoinOperatorSpec spec;
  spec.kind = FLOW_JOIN_WINDOW;
  spec.window_kind = FLOW_WINDOW_SLIDING;
  spec.size_ms = 2000;
  spec.slide_ms = 1000;
  check_restores(spec);
  spec.window_kind = FLOW_WINDOW_TUMBLING;
  spec.slide_ms = 2000;
  check_restores(spec);
}

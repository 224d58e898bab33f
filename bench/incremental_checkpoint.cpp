// Full against incremental checkpoints (issue 5): KEYS keys with a count and a sum each, as
// `aggregate by k { n = count(), s = sum(v) }` keeps them, a full snapshot, then 1% of the
// keys updated and the delta of the changed rows. Twice: an unwindowed aggregate's table, and
// a window's rows in one open slice of the heap backend of a checkpointing job.
//   bench_incremental_checkpoint [KEYS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "agg/agg_table.h"
#include "checkpoint/state_snapshot.h"
#include "state/state_backend.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

// Adds one to the count and v to the sum of key k.
void update(flow_agg_table& table, int64_t k, int64_t v) {
  uint8_t key[8];
  std::memcpy(key, &k, 8);
  int32_t is_new = 0;
  uint8_t* row = table.upsert(key, 8, &is_new);
  int64_t acc[2];
  std::memcpy(acc, row, 16);
  acc[0] += 1;
  acc[1] += v;
  std::memcpy(row, acc, 16);
}

void update_one_percent(flow_agg_table& table, long keys) {
  std::mt19937_64 random(3);
  for (long i = 0; i < keys / 100; ++i) update(table, static_cast<int64_t>(random() % static_cast<uint64_t>(keys)), 1);
}

void report(const char* name, long keys, std::size_t changed, const std::string& full, const std::string& delta, double full_ms,
            double delta_ms) {
  std::printf("%s: keys=%ld changed=%zu full_bytes=%zu delta_bytes=%zu size_ratio=%.4f full_ms=%.1f delta_ms=%.1f\n", name, keys,
              changed, full.size(), delta.size(), static_cast<double>(delta.size()) / static_cast<double>(full.size()), full_ms,
              delta_ms);
}

void aggregate_table(long keys) {
  flow_agg_table table(16);
  for (long k = 0; k < keys; ++k) update(table, k, k % 100);
  flow::RowLayout layout;
  std::string full, delta;
  auto t0 = Clock::now();
  flow::snapshot_agg_table(table, layout, full);
  auto t1 = Clock::now();
  table.track_changes();
  update_one_percent(table, keys);
  auto t2 = Clock::now();
  flow::snapshot_agg_changes(table, layout, delta);
  auto t3 = Clock::now();
  report("incremental_checkpoint", keys, table.changed(), full, delta, ms(t0, t1), ms(t2, t3));
}

void window_rows(long keys) {
  auto backend = flow::make_checkpointed_heap_backend();
  flow::RowLayout layout;
  flow::StateTable& rows = backend->table("window-0", 16, &layout);
  flow_agg_table& slice = rows.rows(3600000);  // held on to, as a slice window does
  for (long k = 0; k < keys; ++k) update(slice, k, k % 100);
  std::string full, delta;
  auto t0 = Clock::now();
  backend->incremental()->snapshot_changes(true, full);
  auto t1 = Clock::now();
  update_one_percent(slice, keys);
  std::size_t changed = slice.changed();
  auto t2 = Clock::now();
  backend->incremental()->snapshot_changes(false, delta);
  auto t3 = Clock::now();
  report("incremental_window_checkpoint", keys, changed, full, delta, ms(t0, t1), ms(t2, t3));
}

}  // namespace

int main(int argc, char** argv) {
  long keys = argc > 1 ? std::atol(argv[1]) : 1000000;
  aggregate_table(keys);
  window_rows(keys);
  return 0;
}

// Full against incremental checkpoints of an unwindowed aggregate's state (issue 5): a table of
// KEYS keys (a count and a sum each, as `aggregate by k { n = count(), s = sum(v) }` keeps),
// a full snapshot of it, then 1% of the keys updated and the delta of the changed rows.
//   bench_incremental_checkpoint [KEYS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "agg/agg_table.h"
#include "checkpoint/state_snapshot.h"

int main(int argc, char** argv) {
  long keys = argc > 1 ? std::atol(argv[1]) : 1000000;
  flow_agg_table table(16);
  auto update = [&](int64_t k, int64_t v) {
    uint8_t key[8];
    std::memcpy(key, &k, 8);
    int32_t is_new = 0;
    uint8_t* row = table.upsert(key, 8, &is_new);
    int64_t acc[2];
    std::memcpy(acc, row, 16);
    acc[0] += 1;
    acc[1] += v;
    std::memcpy(row, acc, 16);
  };
  for (long k = 0; k < keys; ++k) update(k, k % 100);
  flow::RowLayout layout;
  using clock = std::chrono::steady_clock;
  std::string full, delta;
  auto t0 = clock::now();
  flow::snapshot_agg_table(table, layout, full);
  auto t1 = clock::now();
  table.track_changes();
  std::mt19937_64 random(3);
  for (long i = 0; i < keys / 100; ++i) update(static_cast<int64_t>(random() % static_cast<uint64_t>(keys)), 1);
  auto t2 = clock::now();
  flow::snapshot_agg_changes(table, layout, delta);
  auto t3 = clock::now();
  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  std::printf("incremental_checkpoint: keys=%ld changed=%zu full_bytes=%zu delta_bytes=%zu size_ratio=%.4f full_ms=%.1f delta_ms=%.1f\n",
              keys, table.changed(), full.size(), delta.size(), static_cast<double>(delta.size()) / static_cast<double>(full.size()),
              ms(t0, t1), ms(t2, t3));
  return 0;
}

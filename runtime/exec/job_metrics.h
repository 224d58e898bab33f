// What a running job reports about itself (issue 6, item 5): between batches it takes a
// reading of its operators and checkpoints (metrics/metrics.h) and publishes it to the
// metrics server of --metrics-port; run in a terminal, it keeps a progress line on stderr
// (records per second, share of the input read, watermark), cleared when the job ends.
#pragma once

#include <chrono>
#include <vector>

#include "exec/job_checkpoints.h"
#include "exec/job_context.h"
#include "metrics/metrics.h"

namespace flow {

class JobMetrics {
 public:
  // `instance_of_parallel`: the job is an instance of a parallel one, which publishes its
  // readings for the server to merge (and keeps no progress line).
  JobMetrics(flow_ctx& ctx, const std::vector<ActiveSource>& sources, const JobCheckpoints& checkpoints,
             bool instance_of_parallel = false);
  // Between batches: a reading when one is due, or at once when `waiting` (the source has
  // run out of input read so far and may wait for more).
  void tick(bool waiting = false) {
    if (!active_) return;
    auto now = std::chrono::steady_clock::now();
    if (now >= next_ || (waiting && server_)) update(now, "running");
  }
  // The job has ended: its last reading; the progress line is cleared.
  void finish(bool ok);

 private:
  void update(std::chrono::steady_clock::time_point now, const char* status);
  MetricsReading read(double seconds_since_last, const char* status);
  void print_progress(const MetricsReading& reading);
  static int64_t bytes_read(const ActiveSource& source);

  flow_ctx& ctx_;
  const std::vector<ActiveSource>& sources_;
  const JobCheckpoints& checkpoints_;
  MetricsServer* server_;
  bool progress_;  // stderr is a terminal (and stdout, if a sink writes it, is not)
  bool active_;
  std::chrono::steady_clock::time_point started_, last_, next_, next_progress_;
  MetricsReading previous_;  // for rates
  bool instance_of_parallel_;
};

}  // namespace flow

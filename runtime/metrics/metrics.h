// Metrics of a running job (issue 6, item 5): a reading of every operator (records in and out
// with their rates, watermark and its lag, late records dropped, state size, input read) and
// of its checkpoints, rendered as JSON and in Prometheus' text format, and served over HTTP
// with --metrics-port, next to a small web page that draws the dataflow graph with live rates.
//
// The job's thread takes a reading between batches (exec/job_metrics.cpp) and publishes it;
// the server's thread only ever serves the latest published reading, so the job never waits
// for a client and a client never sees a half-updated one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace flow {

// One parallel instance's part of an operator (skew shows here). -1: does not apply.
struct InstanceReading {
  int64_t records_in = -1, records_out = -1;
  double rate_in = 0, rate_out = 0;
  int64_t state_rows = -1;
  double busy = -1, backpressured = -1;  // sources: the instance's time shares
  int64_t queued_bytes = -1;             // sources: in the channels the instance sends to
};

// One operator. Counts that do not apply to its kind are -1.
struct OperatorReading {
  std::string id;     // "source-0", "window-1", "join-0", "aggregate-0", "lookup-0", "sink-2"
  std::string kind;   // source, window, join, aggregate, lookup, sink
  std::string label;  // what it is, for people: a source's name and file, a window's kind and place
  int64_t records_in = -1;
  int64_t records_out = -1;
  double rate_in = 0;   // records per second since the reading before
  double rate_out = 0;
  bool has_watermark = false;
  int64_t watermark = 0;         // event time, ms
  int64_t watermark_lag_ms = 0;  // wall clock minus watermark
  int64_t late_dropped = -1;
  int64_t state_rows = -1;   // rows or records kept
  int64_t bytes_read = -1;   // sources: how far into the input
  int64_t bytes_total = -1;  // sources: the input's size, when known
  // Sources at --parallelism N > 1: the shares of the last interval the instances reading it
  // spent working, with nothing to read, and held back with input left (backpressure: a
  // channel to another instance full, a sink slow to take records, or waiting for the other
  // instances to catch up), averaged over the instances; and the bytes waiting in the channels
  // they send to.
  double busy = -1, idle = -1, backpressured = -1;
  int64_t queued_bytes = -1;
  std::vector<InstanceReading> instances;  // at --parallelism N > 1: each instance's part
};

struct CheckpointReading {
  bool enabled = false;
  int64_t taken = 0;
  double last_pause_ms = 0;     // the synchronous part of the newest
  double last_duration_ms = 0;  // from its start to complete (pause and background)
  uint64_t last_bytes = 0;      // its files' bytes, shared ones included
};

struct MetricsReading {
  std::string job;     // the program's file name
  std::string status;  // running, finished, failed
  double uptime_s = 0;
  std::vector<OperatorReading> operators;
  std::vector<std::pair<std::string, std::string>> edges;  // operator ids
  CheckpointReading checkpoints;
};

// How an instance of a parallel job spent the last interval: shares of working, waiting for
// input, and being held back (backpressure), and the bytes in the channels it sends to.
struct TimeShares {
  double busy = -1, idle = -1, backpressured = -1;
  int64_t queued_bytes = -1;
};

// At --parallelism N > 1: the reading of the whole job from its instances' (records, rates,
// state and late records summed, watermarks the minimum, input read summed), each instance's
// time shares put on the sources it reads, then averaged. `readings` all have the same
// operators; `shares` has one entry per reading.
MetricsReading merge_readings(const std::vector<MetricsReading>& readings, const std::vector<TimeShares>& shares);

std::string metrics_json(const MetricsReading& reading);
std::string metrics_prometheus(const MetricsReading& reading);
// The web page served at /: fetches /metrics.json every second and draws the graph.
const std::string& metrics_web_page();

// A minimal HTTP/1.1 server on 127.0.0.1 for GET /, /metrics.json and /metrics (anything
// else: 404), one connection at a time, closed after each response. /metrics.json also says
// how old the reading is (`reading_age_s`): a job blocked waiting for input publishes none.
class MetricsServer {
 public:
  MetricsServer() = default;
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  ~MetricsServer() { stop(); }

  // Listens on `port` (0: a free one, see port()); false with `error` when it cannot.
  bool start(int port, std::string& error);
  int port() const { return port_; }
  void publish(const MetricsReading& reading);
  // Parallel instances publish their own readings, and a monitor their time shares (fresh
  // even while an instance is blocked and takes no reading); the server serves their merge
  // once each instance has published a reading.
  void publish_instance(int instance, int instances, MetricsReading reading);
  void publish_shares(int instance, int instances, const TimeShares& shares);
  void stop();

 private:
  void serve();
  void answer(int connection);

  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;  // guards the published texts and when they were published
  std::string json_ = "{}", prometheus_;
  std::chrono::steady_clock::time_point published_ = std::chrono::steady_clock::now();
  std::mutex instances_mutex_;
  void size_instances(int instances);  // instances_mutex_ held
  void publish_merged(int instances);  // instances_mutex_ held
  std::vector<MetricsReading> instance_readings_;
  std::vector<bool> instance_published_;
  std::vector<TimeShares> instance_shares_;
};

}  // namespace flow

// JobMetrics: readings of a running job's operators, for the metrics server and the progress line.
#include "exec/job_metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/value_format.h"
#include "time/watermark.h"

namespace flow {

namespace {

constexpr auto kReadingEvery = std::chrono::milliseconds(200);
constexpr auto kProgressEvery = std::chrono::milliseconds(500);

// A reading of one operator with nothing counted yet.
OperatorReading named(std::string id, std::string kind, std::string label) {
  OperatorReading o;
  o.id = std::move(id);
  o.kind = std::move(kind);
  o.label = std::move(label);
  return o;
}

std::string duration_text(int64_t ms) {
  if (ms > 0 && ms % 86400000 == 0) return std::to_string(ms / 86400000) + "d";
  if (ms > 0 && ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms > 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms > 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string window_label(const WindowOperatorSpec& w) {
  std::string size = duration_text(w.size_ms), slide = duration_text(w.slide_ms);
  switch (w.kind) {
    case FLOW_WINDOW_SLIDING: return "sliding(" + size + ", every " + slide + ") at " + w.where;
    case FLOW_WINDOW_SESSION: return "session(gap " + size + ") at " + w.where;
    case FLOW_WINDOW_CUMULATING: return "cumulating(" + size + ", step " + slide + ") at " + w.where;
    default: return "tumbling(" + size + ") at " + w.where;
  }
}

const char* node_prefix(int32_t kind) {
  switch (kind) {
    case FLOW_NODE_SOURCE: return "source-";
    case FLOW_NODE_AGGREGATE: return "aggregate-";
    case FLOW_NODE_WINDOW: return "window-";
    case FLOW_NODE_JOIN: return "join-";
    case FLOW_NODE_LOOKUP: return "lookup-";
    default: return "sink-";
  }
}

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void set_watermark(OperatorReading& o, int64_t w, int64_t now_ms) {
  if (w == kWatermarkStart) return;
  o.has_watermark = true;
  o.watermark = w;
  if (w != kWatermarkEnd) o.watermark_lag_ms = now_ms - w;
}

bool writes_stdout(const JobSpec& spec) {
  for (const SinkSpec& s : spec.sinks)
    if (s.kind == FLOW_SINK_STDOUT) return true;
  return false;
}

}  // namespace

JobMetrics::JobMetrics(flow_ctx& ctx, const std::vector<ActiveSource>& sources, const JobCheckpoints& checkpoints,
                       bool instance_of_parallel)
    : ctx_(ctx),
      sources_(sources),
      checkpoints_(checkpoints),
      server_(ctx.options.metrics),
      progress_(!instance_of_parallel && ::isatty(STDERR_FILENO) && !(writes_stdout(*ctx.spec) && ::isatty(STDOUT_FILENO))),
      active_(server_ || progress_),
      started_(std::chrono::steady_clock::now()),
      last_(started_),
      next_(started_),
      next_progress_(started_ + kProgressEvery),
      instance_of_parallel_(instance_of_parallel) {}

void JobMetrics::finish(bool ok) {
  if (!active_) return;
  update(std::chrono::steady_clock::now(), ok ? "finished" : "failed");
  if (progress_) std::fputs("\r\033[K", stderr);  // the line goes; the job's own messages follow
}

void JobMetrics::update(std::chrono::steady_clock::time_point now, const char* status) {
  double seconds = std::chrono::duration<double>(now - last_).count();
  MetricsReading reading = read(seconds, status);
  last_ = now;
  next_ = now + kReadingEvery;
  if (server_ && instance_of_parallel_) server_->publish_instance(ctx_.instance, ctx_.options.parallelism, reading);
  else if (server_) server_->publish(reading);
  if (progress_ && now >= next_progress_ && std::string(status) == "running") {
    print_progress(reading);
    next_progress_ = now + kProgressEvery;
  }
  previous_ = std::move(reading);
}

MetricsReading JobMetrics::read(double seconds, const char* status) {
  const JobSpec& spec = *ctx_.spec;
  MetricsReading r;
  r.job = spec.program;
  r.status = status;
  r.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  int64_t now_ms = wall_clock_ms();
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    const ActiveSource& s = sources_[i];
    OperatorReading o = named("source-" + std::to_string(i), "source", spec.sources[i].name + " (" + s.path + ")");
    o.records_out = s.records;
    if (spec.sources[i].time_kind != 0) set_watermark(o, ctx_.time.source_watermark(static_cast<int32_t>(i)), now_ms);
    o.bytes_total = s.bytes_total;
    o.bytes_read = bytes_read(s);
    r.operators.push_back(std::move(o));
  }
  for (std::size_t i = 0; i < ctx_.aggregates.size(); ++i) {
    OperatorReading o = named("aggregate-" + std::to_string(i), "aggregate", "aggregate (unwindowed)");
    o.records_in = ctx_.aggregates[i]->records_in;
    o.records_out = ctx_.aggregates[i]->records_out;
    o.state_rows = static_cast<int64_t>(ctx_.aggregates[i]->size());
    r.operators.push_back(std::move(o));
  }
  // Windows and joins: nodes of the event-time graph, which count the same things.
  auto timed = [&](std::string id, const char* kind, std::string label, const auto& op, std::size_t state_rows) {
    OperatorReading o = named(std::move(id), kind, std::move(label));
    o.records_in = op.records_in();
    o.records_out = op.records_out();
    set_watermark(o, op.watermark(), now_ms);
    o.late_dropped = op.dropped();
    o.state_rows = static_cast<int64_t>(state_rows);
    r.operators.push_back(std::move(o));
  };
  for (std::size_t i = 0; i < ctx_.time.window_count(); ++i) {
    const flow_window& w = *ctx_.time.window(static_cast<int32_t>(i));
    timed("window-" + std::to_string(i), "window", window_label(w.spec()), w, w.state_rows());
  }
  for (std::size_t i = 0; i < ctx_.time.join_count(); ++i) {
    const flow_join& j = *ctx_.time.join(static_cast<int32_t>(i));
    std::string kind = j.spec().kind == FLOW_JOIN_INTERVAL ? "interval join" : "window join";
    timed("join-" + std::to_string(i), "join", kind + " at " + j.spec().where, j, j.stored());
  }
  for (std::size_t i = 0; i < ctx_.lookups.size(); ++i) {
    int32_t table = spec.lookups[i].source;
    OperatorReading o =
        named("lookup-" + std::to_string(i), "lookup", "table " + spec.sources[static_cast<std::size_t>(table)].name);
    o.state_rows = static_cast<int64_t>(ctx_.lookups[i]->records.size());
    r.operators.push_back(std::move(o));
  }
  for (std::size_t i = 0; i < ctx_.sinks.size(); ++i) {
    const SinkSpec& s = spec.sinks[i];
    std::string format = s.format == FLOW_FORMAT_JSONL ? "jsonl" : "csv";
    std::string label = s.kind == FLOW_SINK_STDOUT ? "stdout (" + format + ")"
                        : s.kind == FLOW_SINK_NULL ? "null"
                                                   : ctx_.sink_paths[i] + " (" + format + ")";
    OperatorReading o = named("sink-" + std::to_string(i), "sink", label);
    o.records_in = ctx_.sinks[i]->records_written();
    r.operators.push_back(std::move(o));
  }
  if (previous_.operators.size() == r.operators.size() && seconds > 0)
    for (std::size_t i = 0; i < r.operators.size(); ++i) {
      OperatorReading& o = r.operators[i];
      const OperatorReading& before = previous_.operators[i];
      if (o.records_in >= 0) o.rate_in = static_cast<double>(o.records_in - before.records_in) / seconds;
      if (o.records_out >= 0) o.rate_out = static_cast<double>(o.records_out - before.records_out) / seconds;
    }
  for (const GraphEdgeSpec& e : spec.edges)
    r.edges.emplace_back(node_prefix(e.from_kind) + std::to_string(e.from_index), node_prefix(e.to_kind) + std::to_string(e.to_index));
  JobCheckpoints::Stats stats = checkpoints_.stats();
  r.checkpoints = CheckpointReading{checkpoints_.enabled(), stats.taken, stats.last_pause_ms, stats.last_duration_ms, stats.last_bytes};
  return r;
}

// How far into its input a source has read; read in parts, the bytes of the parts it read.
int64_t JobMetrics::bytes_read(const ActiveSource& s) {
  auto offset = [&] { return s.decoder ? static_cast<int64_t>(s.decoder->position().offset) : 0; };
  if (s.parts.empty()) return s.ended && s.bytes_total >= 0 ? s.bytes_total : offset();
  int64_t total = s.bytes_total >= 0 ? s.bytes_total : INT64_MAX;
  int64_t read = 0;
  for (std::size_t k = 0; k < s.next_part; ++k) {
    const ByteRange& part = s.parts[k];
    int64_t end = static_cast<int64_t>(std::min<uint64_t>(part.end, static_cast<uint64_t>(total)));
    bool current = k + 1 == s.next_part && !s.ended && !s.between_parts;
    read += (current ? std::min(offset(), end) : end) - static_cast<int64_t>(part.begin);
  }
  return read;
}

void JobMetrics::print_progress(const MetricsReading& reading) {
  double rate = 0;
  int64_t read = 0, total = 0;
  bool sized = true;
  int64_t watermark = kWatermarkEnd;
  bool any_watermark = false;
  for (const OperatorReading& o : reading.operators) {
    if (o.kind != "source") continue;
    rate += o.rate_out;
    if (o.bytes_total < 0) sized = false;
    read += o.bytes_read;
    total += o.bytes_total;
    if (o.has_watermark && o.watermark != kWatermarkEnd) {
      watermark = std::min(watermark, o.watermark);
      any_watermark = true;
    }
  }
  std::string line = "\r\033[K" + std::to_string(static_cast<int64_t>(rate)) + " records/s";
  if (sized && total > 0) line += ", " + std::to_string(100 * read / total) + "% of input read";
  if (any_watermark) {
    char text[kMaxValueText];
    line += ", watermark " + std::string(text, format_timestamp(text, watermark));
  }
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace flow

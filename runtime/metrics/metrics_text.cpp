// A metrics reading as JSON (/metrics.json, for the web page and scripts) and in Prometheus'
// text exposition format (/metrics). Counts that do not apply to an operator are left out.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "metrics/metrics.h"

namespace flow {

namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", v);
  return text;
}

// Watermarks are finite between the start (none yet) and the end of input (+infinity).
bool finite_watermark(const OperatorReading& o) { return o.has_watermark && o.watermark != INT64_MAX; }

void json_count(std::string& out, const char* name, int64_t v) {
  if (v >= 0) out += std::string(",\"") + name + "\":" + std::to_string(v);
}

std::string prometheus_label(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

MetricsReading merge_readings(const std::vector<MetricsReading>& readings, const std::vector<TimeShares>& shares) {
  auto with_shares = [&](std::size_t k) {
    MetricsReading r = readings[k];
    for (OperatorReading& o : r.operators)
      if (o.kind == "source" && shares[k].busy >= 0) {
        o.busy = shares[k].busy;
        o.idle = shares[k].idle;
        o.backpressured = shares[k].backpressured;
        o.queued_bytes = shares[k].queued_bytes;
      }
    return r;
  };
  MetricsReading out = with_shares(0);
  // The job is running until every instance has finished; it failed if one did.
  for (const MetricsReading& r : readings) {
    if (r.status == "failed" || (r.status == "running" && out.status != "failed")) out.status = r.status;
    out.uptime_s = std::max(out.uptime_s, r.uptime_s);
  }
  auto sum = [](int64_t& into, int64_t v) {
    if (into >= 0 && v >= 0) into += v;
  };
  for (std::size_t k = 1; k < readings.size(); ++k) {
    const MetricsReading r = with_shares(k);
    for (std::size_t i = 0; i < out.operators.size() && i < r.operators.size(); ++i) {
      OperatorReading& o = out.operators[i];
      const OperatorReading& p = r.operators[i];
      sum(o.records_in, p.records_in);
      sum(o.records_out, p.records_out);
      o.rate_in += p.rate_in;
      o.rate_out += p.rate_out;
      sum(o.late_dropped, p.late_dropped);
      if (o.kind != "lookup") sum(o.state_rows, p.state_rows);  // every instance holds the whole table
      sum(o.bytes_read, p.bytes_read);
      o.bytes_total = std::max(o.bytes_total, p.bytes_total);
      if (p.has_watermark && (!o.has_watermark || p.watermark < o.watermark)) {
        o.watermark = p.watermark;
        o.watermark_lag_ms = p.watermark_lag_ms;
      }
      o.has_watermark = o.has_watermark && p.has_watermark;
      o.busy += p.busy;
      o.idle += p.idle;
      o.backpressured += p.backpressured;
      sum(o.queued_bytes, p.queued_bytes);
    }
  }
  auto n = static_cast<double>(readings.size());
  for (OperatorReading& o : out.operators)
    if (o.busy >= 0) o.busy /= n, o.idle /= n, o.backpressured /= n;
  for (std::size_t k = 0; k < readings.size(); ++k) {
    const MetricsReading r = with_shares(k);
    for (std::size_t i = 0; i < out.operators.size() && i < r.operators.size(); ++i) {
      const OperatorReading& p = r.operators[i];
      out.operators[i].instances.push_back(
          InstanceReading{p.records_in, p.records_out, p.rate_in, p.rate_out, p.state_rows, p.busy, p.backpressured, p.queued_bytes});
    }
  }
  return out;
}

std::string metrics_json(const MetricsReading& reading) {
  std::string out = "{\"job\":" + json_string(reading.job) + ",\"status\":" + json_string(reading.status) +
                    ",\"uptime_s\":" + number(reading.uptime_s) + ",\"operators\":[";
  for (std::size_t i = 0; i < reading.operators.size(); ++i) {
    const OperatorReading& o = reading.operators[i];
    if (i > 0) out += ',';
    out += "{\"id\":" + json_string(o.id) + ",\"kind\":" + json_string(o.kind) + ",\"label\":" + json_string(o.label);
    json_count(out, "records_in", o.records_in);
    if (o.records_in >= 0) out += ",\"rate_in\":" + number(o.rate_in);
    json_count(out, "records_out", o.records_out);
    if (o.records_out >= 0) out += ",\"rate_out\":" + number(o.rate_out);
    if (finite_watermark(o))
      out += ",\"watermark_ms\":" + std::to_string(o.watermark) + ",\"watermark_lag_ms\":" + std::to_string(o.watermark_lag_ms);
    if (o.has_watermark && o.watermark == INT64_MAX) out += ",\"watermark_ms\":\"end\"";
    json_count(out, "late_dropped", o.late_dropped);
    json_count(out, "state_rows", o.state_rows);
    json_count(out, "bytes_read", o.bytes_read);
    json_count(out, "bytes_total", o.bytes_total);
    if (o.busy >= 0)
      out += ",\"busy_ratio\":" + number(o.busy) + ",\"idle_ratio\":" + number(o.idle) + ",\"backpressured_ratio\":" + number(o.backpressured);
    json_count(out, "queued_bytes", o.queued_bytes);
    if (!o.instances.empty()) {
      out += ",\"instances\":[";
      for (std::size_t k = 0; k < o.instances.size(); ++k) {
        const InstanceReading& p = o.instances[k];
        out += (k > 0 ? ",{\"instance\":" : "{\"instance\":") + std::to_string(k);
        json_count(out, "records_in", p.records_in);
        if (p.records_in >= 0) out += ",\"rate_in\":" + number(p.rate_in);
        json_count(out, "records_out", p.records_out);
        if (p.records_out >= 0) out += ",\"rate_out\":" + number(p.rate_out);
        json_count(out, "state_rows", p.state_rows);
        if (p.busy >= 0) out += ",\"busy_ratio\":" + number(p.busy) + ",\"backpressured_ratio\":" + number(p.backpressured);
        json_count(out, "queued_bytes", p.queued_bytes);
        out += '}';
      }
      out += ']';
    }
    out += '}';
  }
  out += "],\"edges\":[";
  for (std::size_t i = 0; i < reading.edges.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"from\":" + json_string(reading.edges[i].first) + ",\"to\":" + json_string(reading.edges[i].second) + "}";
  }
  const CheckpointReading& c = reading.checkpoints;
  out += "],\"checkpoints\":{\"enabled\":" + std::string(c.enabled ? "true" : "false") + ",\"taken\":" + std::to_string(c.taken) +
         ",\"last_pause_ms\":" + number(c.last_pause_ms) + ",\"last_duration_ms\":" + number(c.last_duration_ms) +
         ",\"last_bytes\":" + std::to_string(c.last_bytes) + "}}\n";
  return out;
}

std::string metrics_prometheus(const MetricsReading& reading) {
  std::string out;
  std::string job = prometheus_label(reading.job);
  auto family = [&](const char* name, const char* type, const char* help, auto value_of) {
    std::string lines;
    for (const OperatorReading& o : reading.operators) {
      std::optional<double> v = value_of(o);
      if (!v) continue;
      char value[40];
      std::snprintf(value, sizeof value, "%.17g", *v);
      lines += std::string(name) + "{job=\"" + job + "\",operator=\"" + prometheus_label(o.id) + "\",kind=\"" + o.kind + "\"} " +
               value + "\n";
    }
    if (lines.empty()) return;
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + lines;
  };
  auto count = [](int64_t OperatorReading::*field) {
    return [field](const OperatorReading& o) -> std::optional<double> {
      return o.*field >= 0 ? std::optional<double>(static_cast<double>(o.*field)) : std::nullopt;
    };
  };
  family("flowc_records_in_total", "counter", "Records into the operator.", count(&OperatorReading::records_in));
  family("flowc_records_out_total", "counter", "Records out of the operator.", count(&OperatorReading::records_out));
  family("flowc_watermark_ms", "gauge", "The operator's current event-time watermark (ms since the epoch).",
         [](const OperatorReading& o) { return finite_watermark(o) ? std::optional<double>(static_cast<double>(o.watermark)) : std::nullopt; });
  family("flowc_watermark_lag_ms", "gauge", "Wall clock minus the watermark.", [](const OperatorReading& o) {
    return finite_watermark(o) ? std::optional<double>(static_cast<double>(o.watermark_lag_ms)) : std::nullopt;
  });
  family("flowc_late_records_dropped_total", "counter", "Records too late for every window, dropped.",
         count(&OperatorReading::late_dropped));
  family("flowc_state_rows", "gauge", "Rows or records the operator keeps.", count(&OperatorReading::state_rows));
  family("flowc_input_bytes_read", "gauge", "How far into its input a source has read.", count(&OperatorReading::bytes_read));
  family("flowc_input_bytes_total", "gauge", "The size of a source's input.", count(&OperatorReading::bytes_total));
  auto share = [](double OperatorReading::*field) {
    return [field](const OperatorReading& o) -> std::optional<double> { return o.*field >= 0 ? std::optional<double>(o.*field) : std::nullopt; };
  };
  family("flowc_busy_ratio", "gauge", "Share of the last interval the instances reading a source worked.", share(&OperatorReading::busy));
  family("flowc_idle_ratio", "gauge", "Share of the last interval they waited for input.", share(&OperatorReading::idle));
  family("flowc_backpressured_ratio", "gauge", "Share of the last interval they were held back by a full channel or a slow sink.",
         share(&OperatorReading::backpressured));
  family("flowc_queued_bytes", "gauge", "Bytes waiting in the channels the instances reading a source send to.",
         count(&OperatorReading::queued_bytes));
  // At --parallelism N > 1, each instance's part, labelled `instance`.
  auto per_instance = [&](const char* name, const char* type, const char* help, auto value_of) {
    std::string lines;
    for (const OperatorReading& o : reading.operators)
      for (std::size_t k = 0; k < o.instances.size(); ++k) {
        std::optional<double> v = value_of(o.instances[k]);
        if (!v) continue;
        char value[40];
        std::snprintf(value, sizeof value, "%.17g", *v);
        lines += std::string(name) + "{job=\"" + job + "\",operator=\"" + prometheus_label(o.id) + "\",kind=\"" + o.kind +
                 "\",instance=\"" + std::to_string(k) + "\"} " + value + "\n";
      }
    if (lines.empty()) return;
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + lines;
  };
  auto instance_count = [](int64_t InstanceReading::*field) {
    return [field](const InstanceReading& p) -> std::optional<double> {
      return p.*field >= 0 ? std::optional<double>(static_cast<double>(p.*field)) : std::nullopt;
    };
  };
  per_instance("flowc_instance_records_in_total", "counter", "Records into the operator at one instance.",
               instance_count(&InstanceReading::records_in));
  per_instance("flowc_instance_records_out_total", "counter", "Records out of the operator at one instance.",
               instance_count(&InstanceReading::records_out));
  per_instance("flowc_instance_state_rows", "gauge", "Rows or records the operator keeps at one instance.",
               instance_count(&InstanceReading::state_rows));
  per_instance("flowc_instance_backpressured_ratio", "gauge", "Share of the last interval one instance reading a source was held back.",
               [](const InstanceReading& p) { return p.backpressured >= 0 ? std::optional<double>(p.backpressured) : std::nullopt; });
  per_instance("flowc_instance_queued_bytes", "gauge", "Bytes waiting in the channels one instance sends to.",
               instance_count(&InstanceReading::queued_bytes));
  const CheckpointReading& c = reading.checkpoints;
  auto job_gauge = [&](const char* name, const char* type, const char* help, double value) {
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", value);
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + "{job=\"" + job + "\"} " + text +
           "\n";
  };
  job_gauge("flowc_uptime_seconds", "gauge", "Seconds since the job started.", reading.uptime_s);
  if (c.enabled) {
    job_gauge("flowc_checkpoints_total", "counter", "Checkpoints completed.", static_cast<double>(c.taken));
    job_gauge("flowc_checkpoint_last_pause_ms", "gauge", "The synchronous part of the newest checkpoint.", c.last_pause_ms);
    job_gauge("flowc_checkpoint_last_duration_ms", "gauge", "The newest checkpoint, from its start to complete.", c.last_duration_ms);
    job_gauge("flowc_checkpoint_last_bytes", "gauge", "The bytes of the newest checkpoint's files.", static_cast<double>(c.last_bytes));
  }
  return out;
}

}  // namespace flow

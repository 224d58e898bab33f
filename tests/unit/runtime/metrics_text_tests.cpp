// Unit tests of metrics/metrics_text.cpp: a reading as JSON and as Prometheus text: counts that
// do not apply are left out, watermarks before any record and after the input's end are told
// apart, and names with quotes, backslashes or line breaks are escaped in both formats.
#include <doctest/doctest.h>

#include <climits>

#include "metrics/metrics.h"

namespace {

flow::MetricsReading sample_reading() {
  flow::MetricsReading r;
  r.job = "q\"1\".flow";
  r.status = "running";
  r.uptime_s = 1.5;
  flow::OperatorReading source{"source-0", "source", "bids (a\\b\n.csv)"};
  source.records_out = 10;
  source.rate_out = 2.5;
  source.has_watermark = true;
  source.watermark = 1000;
  source.watermark_lag_ms = 7;
  source.bytes_read = 5;
  source.bytes_total = 9;
  flow::OperatorReading window{"window-0", "window", "tumbling(1s) at 3:1"};
  window.records_in = 10;
  window.records_out = 1;
  window.has_watermark = true;
  window.watermark = LLONG_MAX;  // the input has ended
  window.late_dropped = 0;
  window.state_rows = 4;
  flow::OperatorReading sink{"sink-0", "sink", "stdout (csv)"};
  sink.records_in = 1;
  r.operators = {source, window, sink};
  r.edges = {{"source-0", "window-0"}, {"window-0", "sink-0"}};
  return r;
}

}  // namespace

TEST_CASE("metrics JSON: what applies, escaped names, watermarks at the end") {
  std::string json = flow::metrics_json(sample_reading());
  CHECK(json.find(R"x("job":"q\"1\".flow")x") != std::string::npos);
  CHECK(json.find(R"x("label":"bids (a\\b\u000a.csv)")x") != std::string::npos);
  CHECK(json.find(R"x({"id":"source-0","kind":"source","label":"bids (a\\b\u000a.csv)","records_out":10,"rate_out":2.500,)x"
                  R"x("watermark_ms":1000,"watermark_lag_ms":7,"bytes_read":5,"bytes_total":9})x") != std::string::npos);
  CHECK(json.find(R"x("watermark_ms":"end")x") != std::string::npos);
  CHECK(json.find(R"x({"id":"sink-0","kind":"sink","label":"stdout (csv)","records_in":1,"rate_in":0.000})x") != std::string::npos);
  CHECK(json.find(R"x("edges":[{"from":"source-0","to":"window-0"},{"from":"window-0","to":"sink-0"}])x") != std::string::npos);
  CHECK(json.find(R"x("checkpoints":{"enabled":false,"taken":0,)x") != std::string::npos);
}

TEST_CASE("metrics Prometheus text: one family per measure, labels escaped, only finite watermarks") {
  std::string text = flow::metrics_prometheus(sample_reading());
  CHECK(text.find("# TYPE flowc_records_out_total counter\n"
                  "flowc_records_out_total{job=\"q\\\"1\\\".flow\",operator=\"source-0\",kind=\"source\"} 10\n"
                  "flowc_records_out_total{job=\"q\\\"1\\\".flow\",operator=\"window-0\",kind=\"window\"} 1\n") != std::string::npos);
  CHECK(text.find("flowc_watermark_ms{job=\"q\\\"1\\\".flow\",operator=\"source-0\",kind=\"source\"} 1000\n") != std::string::npos);
  CHECK(text.find("operator=\"window-0\",kind=\"window\"} 9223372036854775807") == std::string::npos);
  CHECK(text.find("flowc_state_rows{job=\"q\\\"1\\\".flow\",operator=\"window-0\",kind=\"window\"} 4\n") != std::string::npos);
  CHECK(text.find("flowc_checkpoints_total") == std::string::npos);  // not checkpointing
  CHECK(text.find("flowc_uptime_seconds{job=\"q\\\"1\\\".flow\"} 1.5\n") != std::string::npos);
}

TEST_CASE("metrics: the reading of a parallel job merges its instances'") {
  flow::MetricsReading a = sample_reading(), b = sample_reading();
  b.operators[0].records_out = 30;
  b.operators[0].watermark = 400;  // this instance is behind
  b.operators[0].watermark_lag_ms = 607;
  b.operators[0].bytes_read = 3;
  b.status = "finished";
  flow::TimeShares working{0.9, 0.1, 0.0, 0}, held{0.1, 0.0, 0.9, 4096};
  flow::MetricsReading merged = flow::merge_readings({a, b}, {working, held});
  CHECK(merged.status == "running");  // until every instance has finished
  const flow::OperatorReading& source = merged.operators[0];
  CHECK(source.records_out == 40);
  CHECK(source.rate_out == doctest::Approx(5.0));
  CHECK(source.watermark == 400);  // the minimum
  CHECK(source.watermark_lag_ms == 607);
  CHECK(source.bytes_read == 8);
  CHECK(source.bytes_total == 9);  // one file, read in parts
  CHECK(source.busy == doctest::Approx(0.5));
  CHECK(source.backpressured == doctest::Approx(0.45));
  CHECK(source.queued_bytes == 4096);
  CHECK(merged.operators[1].busy < 0);  // shares are the sources'
  std::string json = flow::metrics_json(merged);
  CHECK(json.find("\"busy_ratio\":0.500,\"idle_ratio\":0.050,\"backpressured_ratio\":0.450,\"queued_bytes\":4096") != std::string::npos);
  CHECK(flow::metrics_prometheus(merged).find("flowc_backpressured_ratio{job=") != std::string::npos);
  // Each instance's part: where the skew is.
  REQUIRE(source.instances.size() == 2);
  CHECK(source.instances[0].records_out == 10);
  CHECK(source.instances[1].records_out == 30);
  CHECK(source.instances[1].backpressured == doctest::Approx(0.9));
  CHECK(json.find(R"x("instances":[{"instance":0,"records_out":10,"rate_out":2.500,"busy_ratio":0.900,"backpressured_ratio":0.000,)x"
                  R"x("queued_bytes":0},{"instance":1,"records_out":30,"rate_out":2.500,"busy_ratio":0.100,)x"
                  R"x("backpressured_ratio":0.900,"queued_bytes":4096}])x") != std::string::npos);
  CHECK(flow::metrics_prometheus(merged).find(
            "flowc_instance_records_out_total{job=\"q\\\"1\\\".flow\",operator=\"source-0\",kind=\"source\",instance=\"1\"} 30\n") !=
        std::string::npos);
  CHECK(flow::metrics_json(sample_reading()).find("\"instances\"") == std::string::npos);  // one instance: none
}

// CSV and JSONL writers: headers, quoting only where needed, shortest round-trip doubles,
// ISO-8601 timestamps (negative ones too), nulls, lists, and write errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/value_format.h"
#include "io/sink.h"
#include "test_support.h"

namespace {

std::string format_double(double v) {
  char text[flow::kMaxValueText];
  return std::string(text, flow::format_f64(text, v));
}

std::string format_ts(int64_t ms) {
  char text[flow::kMaxValueText];
  return std::string(text, flow::format_timestamp(text, ms));
}

struct OpenedSink {
  flow::JobFailure failure;
  std::unique_ptr<flow_sink> sink;
  std::string error;
};

void open(OpenedSink& s, int32_t format, const std::string& path, std::vector<std::string> fields) {
  s.sink = flow::open_sink(flow::SinkTarget{FLOW_SINK_FILE, format, path, std::move(fields)}, s.failure,
                           s.error, 64);
  REQUIRE(s.sink);
}

}  // namespace

TEST_CASE("doubles print as the shortest text that reads back to the same value") {
  CHECK(format_double(3.0) == "3");
  CHECK(format_double(0.1) == "0.1");
  CHECK(format_double(1e21) == "1e+21");
  CHECK(format_double(-0.0) == "-0");
  CHECK(format_double(2.5) == "2.5");
  CHECK(format_double(1.0 / 3) == "0.3333333333333333");
  CHECK(format_double(std::nan("")) == "NaN");
  CHECK(format_double(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(format_double(-std::numeric_limits<double>::infinity()) == "-inf");
  for (double v : {0.1, 1e21, 3.0, -0.0, 123456.789, 5e-324, 1.7976931348623157e308}) {
    std::string text = format_double(v);
    double back = 0;
    REQUIRE(flow_parse_f64(text.data(), static_cast<int64_t>(text.size()), &back));
    CHECK(back == v);
    CHECK(std::signbit(back) == std::signbit(v));
  }
}

TEST_CASE("timestamps print as ISO-8601 UTC with milliseconds, negative ones too") {
  CHECK(format_ts(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_ts(1767225610000) == "2026-01-01T00:00:10.000Z");
  CHECK(format_ts(1767225610250) == "2026-01-01T00:00:10.250Z");
  CHECK(format_ts(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_ts(-86400000) == "1969-12-31T00:00:00.000Z");
  CHECK(format_ts(951782400000) == "2000-02-29T00:00:00.000Z");
  CHECK(format_ts(-62135596800000) == "0001-01-01T00:00:00.000Z");
  CHECK(format_ts(253402300800000) == "+10000-01-01T00:00:00.000Z");
  // Every printed timestamp parses back to itself.
  for (int64_t ms : {int64_t{-1}, int64_t{-62135596800001}, int64_t{1700000000123}, int64_t{4102444800000}}) {
    std::string text = format_ts(ms);
    int64_t back = 0;
    REQUIRE(flow_parse_timestamp(text.data(), static_cast<int64_t>(text.size()), &back));
    CHECK(back == ms);
  }
}

TEST_CASE("csv writer: header at open, quoting only where needed, nulls empty") {
  flow_test::TempDir dir;
  std::string path = dir.file("out.csv");
  OpenedSink s;
  open(s, FLOW_FORMAT_CSV, path, {"name", "price", "ok", "ts", "note"});
  flow_out_str(s.sink.get(), "plain", 5);
  flow_out_f64(s.sink.get(), 3.0);
  flow_out_bool(s.sink.get(), 1);
  flow_out_timestamp(s.sink.get(), 1767225610000);
  flow_out_null(s.sink.get());
  CHECK(flow_out_end(s.sink.get()) == 0);
  flow_out_str(s.sink.get(), "a,b", 3);
  flow_out_f64(s.sink.get(), 0.1);
  flow_out_bool(s.sink.get(), 0);
  flow_out_i64(s.sink.get(), -42);
  flow_out_str(s.sink.get(), "say \"hi\"\nbye", 12);
  CHECK(flow_out_end(s.sink.get()) == 0);
  flow_out_str(s.sink.get(), " spaced ", 8);
  flow_out_f64(s.sink.get(), std::nan(""));
  flow_out_duration(s.sink.get(), 250);
  flow_out_list_begin(s.sink.get());
  flow_out_str(s.sink.get(), "x", 1);
  flow_out_str(s.sink.get(), "y\"", 2);
  flow_out_list_end(s.sink.get());
  flow_out_list_begin(s.sink.get());
  flow_out_list_end(s.sink.get());
  CHECK(flow_out_end(s.sink.get()) == 0);
  REQUIRE(s.sink->finish());
  CHECK(flow_test::read_file(path) ==
        "name,price,ok,ts,note\n"
        "plain,3,true,2026-01-01T00:00:10.000Z,\n"
        "\"a,b\",0.1,false,-42,\"say \"\"hi\"\"\nbye\"\n"
        " spaced ,NaN,250,\"[\"\"x\"\",\"\"y\\\"\"\"\"]\",[]\n");
  CHECK(s.sink->records_written() == 3);
}

TEST_CASE("csv writer: a sink with no records still has its header") {
  flow_test::TempDir dir;
  std::string path = dir.file("empty.csv");
  OpenedSink s;
  open(s, FLOW_FORMAT_CSV, path, {"a", "b,c"});
  REQUIRE(s.sink->finish());
  CHECK(flow_test::read_file(path) == "a,\"b,c\"\n");
}

TEST_CASE("jsonl writer: objects with escaped strings, null, ISO timestamps, lists") {
  flow_test::TempDir dir;
  std::string path = dir.file("out.jsonl");
  OpenedSink s;
  open(s, FLOW_FORMAT_JSONL, path, {"word", "n", "avg", "ts", "missing", "words"});
  flow_out_str(s.sink.get(), "q\"\\\n\x01\xC3\xA9", 7);
  flow_out_i64(s.sink.get(), 7);
  flow_out_f64(s.sink.get(), 1e21);
  flow_out_timestamp(s.sink.get(), -1);
  flow_out_null(s.sink.get());
  flow_out_list_begin(s.sink.get());
  flow_out_str(s.sink.get(), "a", 1);
  flow_out_i64(s.sink.get(), 2);
  flow_out_f64(s.sink.get(), std::numeric_limits<double>::infinity());
  flow_out_list_end(s.sink.get());
  CHECK(flow_out_end(s.sink.get()) == 0);
  REQUIRE(s.sink->finish());
  CHECK(flow_test::read_file(path) ==
        "{\"word\":\"q\\\"\\\\\\n\\u0001\xC3\xA9\",\"n\":7,\"avg\":1e+21,"
        "\"ts\":\"1969-12-31T23:59:59.999Z\",\"missing\":null,\"words\":[\"a\",2,null]}\n");
}

TEST_CASE("file sinks: an unwritable path is reported with the reason") {
  flow::JobFailure failure;
  std::string error;
  auto sink = flow::open_sink(
      flow::SinkTarget{FLOW_SINK_FILE, FLOW_FORMAT_CSV, "/nonexistent-dir/out.csv", {"a"}}, failure, error);
  CHECK_FALSE(sink);
  CHECK(error == "cannot write `/nonexistent-dir/out.csv`: No such file or directory");
}

TEST_CASE("file sinks: a failing write fails the record and records the reason") {
  flow::JobFailure failure;
  std::string error;
  // /dev/full accepts the open and fails every write with ENOSPC.
  auto sink = flow::open_sink(flow::SinkTarget{FLOW_SINK_FILE, FLOW_FORMAT_CSV, "/dev/full", {"a"}}, failure,
                              error, 64);
  REQUIRE(sink);
  int32_t status = 0;
  for (int i = 0; i < 100 && status == 0; ++i) {
    flow_out_str(sink.get(), "some text", 9);
    status = flow_out_end(sink.get());
  }
  CHECK(status != 0);
  CHECK(failure.failed);
  CHECK(failure.message == "cannot write `/dev/full`: No space left on device");
}

TEST_CASE("stdout sinks share one buffer: records in emission order, each CSV header above its first row") {
  flow_test::TempDir dir;
  flow::OutputBuffer shared(16);  // small: flushes mid-line must not mix the sinks' lines
  std::string reason;
  REQUIRE(shared.open_file(dir.file("stdout"), reason));
  flow::JobFailure failure;
  std::string error;
  auto open_stdout = [&](int32_t format, std::vector<std::string> fields) {
    auto sink = flow::open_sink(flow::SinkTarget{FLOW_SINK_STDOUT, format, "", std::move(fields)}, failure, error,
                                flow::OutputBuffer::kDefaultCapacity, -1, nullptr, &shared);
    REQUIRE(sink);
    return sink;
  };
  auto counts = open_stdout(FLOW_FORMAT_CSV, {"page", "n"});
  auto late = open_stdout(FLOW_FORMAT_JSONL, {"page"});
  auto empty = open_stdout(FLOW_FORMAT_CSV, {"nothing"});
  flow_out_str(counts.get(), "home", 4);
  flow_out_i64(counts.get(), 3);
  CHECK(flow_out_end(counts.get()) == 0);
  flow_out_str(late.get(), "cart", 4);
  CHECK(flow_out_end(late.get()) == 0);
  flow_out_str(counts.get(), "cart", 4);
  flow_out_i64(counts.get(), 1);
  CHECK(flow_out_end(counts.get()) == 0);
  CHECK(counts->finish());
  CHECK(late->finish());
  CHECK(empty->finish());
  CHECK(shared.close());
  CHECK(flow_test::read_file(dir.file("stdout")) == "page,n\nhome,3\n{\"page\":\"cart\"}\ncart,1\nnothing\n");
}

TEST_CASE("a restored stdout sink writes its CSV header again, before its first row") {
  flow_test::TempDir dir;
  flow::OutputBuffer shared(64);
  std::string reason;
  REQUIRE(shared.open_file(dir.file("stdout"), reason));
  flow::JobFailure failure;
  std::string error;
  auto restored = flow::open_sink(flow::SinkTarget{FLOW_SINK_STDOUT, FLOW_FORMAT_CSV, "", {"n"}}, failure, error,
                                  flow::OutputBuffer::kDefaultCapacity, 0, nullptr, &shared);
  REQUIRE(restored);
  flow_out_i64(restored.get(), 7);
  CHECK(flow_out_end(restored.get()) == 0);
  CHECK(restored->finish());
  CHECK(shared.close());
  CHECK(flow_test::read_file(dir.file("stdout")) == "n\n7\n");
}

TEST_CASE("null sink discards records but counts them") {
  flow::JobFailure failure;
  std::string error;
  auto sink = flow::open_sink(flow::SinkTarget{FLOW_SINK_NULL, FLOW_FORMAT_CSV, "", {"a"}}, failure, error);
  REQUIRE(sink);
  flow_out_i64(sink.get(), 1);
  CHECK(flow_out_end(sink.get()) == 0);
  CHECK(sink->records_written() == 1);
}

TEST_CASE("TimestampTexts gives format_timestamp's text for repeated, alternating and new times") {
  flow::TimestampTexts texts;
  // A firing's rows alternate start and end; then the next firing; then a third time that
  // evicts the older of the two remembered.
  const int64_t times[] = {0, 10000, 0, 10000, 0, 1000, 10000, 11000, 1000, 11000, 12000, 1000, 0, -1, 0, -1};
  for (int64_t ms : times) {
    CAPTURE(ms);
    CHECK(std::string(texts.format(ms)) == format_ts(ms));
  }
}

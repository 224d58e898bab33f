// End to end: flow_runtime_main with a hand-written job (standing in for generated code) that
// reads a CSV source, filters, writes a file sink and counts per channel in an aggregate.
// Checks outputs, exit codes and the exact messages on stderr.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "flow/abi.h"
#include "test_support.h"

namespace {

// What the setup function reads: a plain function pointer has no closure.
struct JobConfig {
  std::string input;
  std::string output;
  std::string counts;
  std::string dead_letters;
  int32_t on_error = FLOW_ON_ERROR_FAIL;
  int32_t sink_format = FLOW_FORMAT_CSV;
} config;

// Params: 0 input, 1 limit, 2 output.
int32_t input_path(flow_ctx* ctx, flow_str* out) {
  flow_param_str(ctx, 0, out);
  return 0;
}
int32_t output_path(flow_ctx* ctx, flow_str* out) {
  flow_param_str(ctx, 2, out);
  return 0;
}
int32_t counts_path(flow_ctx*, flow_str* out) {
  out->ptr = config.counts.data();
  out->len = static_cast<int64_t>(config.counts.size());
  return 0;
}
int32_t dead_letter_path(flow_ctx*, flow_str* out) {
  out->ptr = config.dead_letters.data();
  out->len = static_cast<int64_t>(config.dead_letters.size());
  return 0;
}

// The accumulator row of `aggregate by channel { n = count() }`.
struct CountRow {
  flow_str channel;
  int64_t n;
};

// bids | filter price > limit | sink file(output); bids | aggregate by channel {n = count()}
int32_t consume_bids(flow_ctx* ctx, const flow_batch* batch) {
  flow_sink* out = flow_ctx_sink(ctx, 0);
  flow_agg_table* counts = flow_ctx_agg(ctx, 0);
  flow_key_buf* key = flow_ctx_key_buf(ctx);
  double limit = flow_param_f64(ctx, 1);
  for (int64_t r = 0; r < batch->num_rows; ++r) {
    const flow_cell* row = batch->cells + r * batch->num_fields;
    int64_t auction;
    double price;
    if (!flow_parse_i64(row[0].ptr, row[0].len, &auction)) {
      if (int32_t status = flow_bad_field(ctx, batch, r, 0, FLOW_T_I64)) return status;
      continue;
    }
    if (!flow_parse_f64(row[1].ptr, row[1].len, &price)) {
      if (int32_t status = flow_bad_field(ctx, batch, r, 1, FLOW_T_F64)) return status;
      continue;
    }
    flow_key_reset(key);
    flow_key_str(key, row[2].ptr, row[2].len);
    int32_t is_new;
    auto* acc = reinterpret_cast<CountRow*>(flow_agg_upsert(counts, key, &is_new));
    if (is_new) flow_agg_copy_str(counts, row[2].ptr, row[2].len, &acc->channel);
    acc->n += 1;
    if (!(price > limit)) continue;
    flow_str upper;
    flow_str_upper(ctx, row[2].ptr, row[2].len, &upper);
    flow_out_i64(out, auction);
    flow_out_f64(out, price);
    flow_out_str(out, upper.ptr, upper.len);
    if (int32_t status = flow_out_end(out)) return status;
  }
  return 0;
}

int32_t emit_count(flow_ctx* ctx, const void* row) {
  auto* acc = static_cast<const CountRow*>(row);
  flow_sink* out = flow_ctx_sink(ctx, 1);
  flow_out_str(out, acc->channel.ptr, acc->channel.len);
  flow_out_i64(out, acc->n);
  return flow_out_end(out);
}

int32_t dead_letter(flow_ctx* ctx, const void* row) {
  auto* fields = static_cast<const flow_str*>(row);
  flow_sink* out = flow_ctx_sink(ctx, 2);
  for (int i = 0; i < 4; ++i) flow_out_str(out, fields[i].ptr, fields[i].len);
  return flow_out_end(out);
}

void setup(flow_job_builder* b) {
  flow_job_program(b, "bids.flow");
  flow_job_param(b, "input", FLOW_T_STRING, config.input.c_str());
  flow_job_param(b, "limit", FLOW_T_F64, "100");
  flow_job_param(b, "output", FLOW_T_STRING, config.output.c_str());
  flow_job_source(b, "bids", FLOW_FORMAT_CSV, config.on_error, input_path, consume_bids,
                  config.on_error == FLOW_ON_ERROR_DEAD_LETTER ? dead_letter : nullptr);
  flow_job_source_field(b, "auction", FLOW_T_I64, 0, 1);
  flow_job_source_field(b, "price", FLOW_T_F64, 0, 1);
  flow_job_source_field(b, "channel", FLOW_T_STRING, 0, 1);
  flow_job_source_field(b, "ts", FLOW_T_TIMESTAMP, 0, 0);
  flow_job_sink(b, FLOW_SINK_FILE, config.sink_format, output_path);
  flow_job_sink_field(b, "auction");
  flow_job_sink_field(b, "price");
  flow_job_sink_field(b, "channel");
  flow_job_sink(b, FLOW_SINK_FILE, FLOW_FORMAT_CSV, counts_path);
  flow_job_sink_field(b, "channel");
  flow_job_sink_field(b, "n");
  flow_job_sink(b, FLOW_SINK_FILE, FLOW_FORMAT_CSV, dead_letter_path);
  for (const char* f : {"source", "position", "raw", "error"}) flow_job_sink_field(b, f);
  flow_job_aggregate(b, 0, sizeof(CountRow), emit_count, nullptr);
}

struct RunResult {
  int code;
  std::string err;
  std::string out;
};

// Runs flow_runtime_main with `args` after argv[0], capturing stdout and stderr.
RunResult run(const flow_test::TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "bids_job");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string err_path = dir.file("stderr.txt");
  std::string out_path = dir.file("stdout.txt");
  fflush(stdout);
  fflush(stderr);
  int saved_err = dup(2), saved_out = dup(1);
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(err_fd, 2);
  dup2(out_fd, 1);
  int code = flow_runtime_main(static_cast<int>(args.size()), argv.data(), setup);
  fflush(stdout);
  fflush(stderr);
  dup2(saved_err, 2);
  dup2(saved_out, 1);
  close(err_fd);
  close(out_fd);
  close(saved_err);
  close(saved_out);
  return RunResult{code, flow_test::read_file(err_path), flow_test::read_file(out_path)};
}

const char* kBids =
    "auction,price,channel,ts\n"
    "1,150.5,web,2026-01-01T00:00:01Z\n"
    "2,99,app,2026-01-01T00:00:02Z\n"
    "3,abc,web,2026-01-01T00:00:03Z\n"
    "4,300,\"mobile, tablet\",2026-01-01T00:00:04Z\n"
    "5,20\n"
    "x,1,app,2026-01-01T00:00:06Z\n";

void configure(const flow_test::TempDir& dir, const std::string& input, int32_t on_error) {
  config.input = dir.write("bids.csv", input);
  config.output = dir.file("out.csv");
  config.counts = dir.file("counts.csv");
  config.dead_letters = dir.file("bad.csv");
  config.on_error = on_error;
  config.sink_format = FLOW_FORMAT_CSV;
}

}  // namespace

TEST_CASE("runtime main: a good input runs to the end with exit code 0") {
  flow_test::TempDir dir;
  configure(dir,
            "auction,price,channel,ts\n1,150.5,web,0\n2,99,app,0\n4,300,\"mobile, tablet\",0\n5,101,web,0\n",
            FLOW_ON_ERROR_FAIL);
  RunResult r = run(dir, {});
  CHECK(r.code == 0);
  CHECK(r.err == "");
  CHECK(flow_test::read_file(config.output) ==
        "auction,price,channel\n1,150.5,WEB\n4,300,\"MOBILE, TABLET\"\n5,101,WEB\n");
  // The aggregate emits at the end of its source, in key order.
  CHECK(flow_test::read_file(config.counts) == "channel,n\napp,1\n\"mobile, tablet\",1\nweb,2\n");
  CHECK(flow_test::read_file(config.dead_letters) == "source,position,raw,error\n");
}

TEST_CASE("runtime main: --param overrides defaults, typed") {
  flow_test::TempDir dir;
  configure(dir, "auction,price,channel,ts\n1,150.5,web,0\n2,99,app,0\n", FLOW_ON_ERROR_FAIL);
  std::string other = dir.file("other.csv");
  RunResult r = run(dir, {"--param", "limit=10", "--param", "output=" + other});
  CHECK(r.code == 0);
  CHECK(flow_test::read_file(other) == "auction,price,channel\n1,150.5,WEB\n2,99,APP\n");

  RunResult bad_type = run(dir, {"--param", "limit=lots"});
  CHECK(bad_type.code == 2);
  CHECK(bad_type.err == "error: param `limit`: expected f64, found `lots`\n");
}

TEST_CASE("runtime main: a missing input file fails with exit code 3") {
  flow_test::TempDir dir;
  configure(dir, "", FLOW_ON_ERROR_FAIL);
  std::string missing = dir.file("nope.csv");
  RunResult r = run(dir, {"--param", "input=" + missing});
  CHECK(r.code == 3);
  CHECK(r.err == "error: cannot open `" + missing + "` (source `bids`): No such file or directory\n");
}

TEST_CASE("runtime main: a bad field under `on error fail` stops the job with its position") {
  flow_test::TempDir dir;
  configure(dir, kBids, FLOW_ON_ERROR_FAIL);
  RunResult r = run(dir, {});
  CHECK(r.code == 3);
  CHECK(r.err == "error: " + config.input + ":4:3: field `price`: expected f64, found `abc`\n");
}

TEST_CASE("runtime main: a wrong field count under `on error fail` names the line") {
  flow_test::TempDir dir;
  configure(dir, "auction,price,channel,ts\n1,150.5,web,0\n5,20\n", FLOW_ON_ERROR_FAIL);
  RunResult r = run(dir, {});
  CHECK(r.code == 3);
  CHECK(r.err == "error: " + config.input + ":3:1: expected 4 fields, found 2\n");
}

TEST_CASE("runtime main: `on error skip` counts bad records and goes on") {
  flow_test::TempDir dir;
  configure(dir, kBids, FLOW_ON_ERROR_SKIP);
  RunResult r = run(dir, {});
  CHECK(r.code == 0);
  CHECK(r.err == "warning: source `bids`: 3 bad records skipped\n");
  CHECK(flow_test::read_file(config.output) ==
        "auction,price,channel\n1,150.5,WEB\n4,300,\"MOBILE, TABLET\"\n");
}

TEST_CASE("runtime main: `on error -> bad` hands source, position, raw and error over") {
  flow_test::TempDir dir;
  configure(dir, kBids, FLOW_ON_ERROR_DEAD_LETTER);
  RunResult r = run(dir, {});
  CHECK(r.code == 0);
  CHECK(r.err == "");
  std::string p = config.input;
  CHECK(flow_test::read_file(config.dead_letters) ==
        "source,position,raw,error\n"
        "bids," +
            p +
            ":4:3,\"3,abc,web,2026-01-01T00:00:03Z\",\"field `price`: expected f64, found `abc`\"\n"
            "bids," +
            p +
            ":6:1,\"5,20\",\"expected 4 fields, found 2\"\n"
            "bids," +
            p + ":7:1,\"x,1,app,2026-01-01T00:00:06Z\",\"field `auction`: expected i64, found `x`\"\n");
}

TEST_CASE("runtime main: command-line errors exit with 2") {
  flow_test::TempDir dir;
  configure(dir, "auction,price,channel,ts\n", FLOW_ON_ERROR_FAIL);
  RunResult unknown = run(dir, {"--param", "nosuch=1"});
  CHECK(unknown.code == 2);
  CHECK(unknown.err == "error: unknown param `nosuch` (params: input, limit, output)\n");

  RunResult malformed = run(dir, {"--param", "limit"});
  CHECK(malformed.code == 2);
  CHECK(malformed.err == "error: --param expects NAME=VALUE, found `limit`\n");

  RunResult flag = run(dir, {"--frobnicate"});
  CHECK(flag.code == 2);
  CHECK(flag.err.rfind("error: ", 0) == 0);
  CHECK(flag.err.find("--frobnicate") != std::string::npos);

  RunResult too_many = run(dir, {"--parallelism", "129"});
  CHECK(too_many.code == 2);
  CHECK(too_many.err.find("--parallelism") != std::string::npos);
  RunResult zero = run(dir, {"--parallelism", "0"});
  CHECK(zero.code == 2);
  RunResult state = run(dir, {"--state", "disk"});
  CHECK(state.code == 2);
  CHECK(state.err.find("--state") != std::string::npos);
  RunResult state_dir = run(dir, {"--state-dir", dir.file("db")});
  CHECK(state_dir.code == 2);
  CHECK(state_dir.err == "error: --state-dir needs --state rocksdb\n");
  RunResult interval = run(dir, {"--checkpoint-interval", "1s"});
  CHECK(interval.code == 2);
  CHECK(interval.err == "error: --checkpoint-interval needs --checkpoint-dir\n");
  RunResult bad_interval = run(dir, {"--checkpoint-dir", dir.file("cp"), "--checkpoint-interval", "soon"});
  CHECK(bad_interval.code == 2);
  CHECK(bad_interval.err == "error: --checkpoint-interval: expected a positive duration such as 1s or 500ms, found `soon`\n");
  RunResult latest = run(dir, {"--restore", "latest"});
  CHECK(latest.code == 2);
  CHECK(latest.err == "error: --restore latest needs --checkpoint-dir\n");
  RunResult at_least_once = run(dir, {"--at-least-once"});
  CHECK(at_least_once.code == 2);
  CHECK(at_least_once.err == "error: --at-least-once needs --checkpoint-dir\n");
}

TEST_CASE("runtime main: --help lists the params and exits with 0") {
  flow_test::TempDir dir;
  configure(dir, "auction,price,channel,ts\n", FLOW_ON_ERROR_FAIL);
  RunResult r = run(dir, {"--help"});
  CHECK(r.code == 0);
  CHECK(r.out.find("--param") != std::string::npos);
  CHECK(r.out.find("limit: f64 = 100") != std::string::npos);
}

TEST_CASE("runtime main: a missing column and an unwritable output fail with exit code 3") {
  flow_test::TempDir dir;
  configure(dir, "auction,channel,ts\n1,web,0\n", FLOW_ON_ERROR_FAIL);
  RunResult missing = run(dir, {});
  CHECK(missing.code == 3);
  CHECK(missing.err == "error: " + config.input + ":1: missing column `price` (source `bids`)\n");

  RunResult unwritable = run(dir, {"--param", "output=/nonexistent-dir/out.csv"});
  CHECK(unwritable.code == 3);
  CHECK(unwritable.err == "error: cannot write `/nonexistent-dir/out.csv`: No such file or directory\n");

  configure(dir, "", FLOW_ON_ERROR_FAIL);
  RunResult empty = run(dir, {});
  CHECK(empty.code == 3);
  CHECK(empty.err ==
        "error: " + config.input + ": empty file: a CSV source needs a header row (source `bids`)\n");
}

TEST_CASE("runtime main: JSONL output of the same job") {
  flow_test::TempDir dir;
  configure(dir, "auction,price,channel,ts\n1,150.5,\"we\"\"b\",0\n", FLOW_ON_ERROR_FAIL);
  config.sink_format = FLOW_FORMAT_JSONL;
  RunResult r = run(dir, {});
  CHECK(r.code == 0);
  CHECK(flow_test::read_file(config.output) == "{\"auction\":1,\"price\":150.5,\"channel\":\"WE\\\"B\"}\n");
}

// Unit tests of compiler/sema and the diagnostic renderer: typing rules, inlining, and the
// exact text of diagnostics.
#include <doctest/doctest.h>

#include <algorithm>

#include "compiler/plan/plan.h"

namespace {

using flow::sema::CheckedProgram;
using flow::sema::Type;

struct Checked {
  std::optional<CheckedProgram> program;
  std::string diagnostics;
};

Checked check(const std::string& text) {
  flow::SourceFile file("t.flow", text);
  flow::Diagnostics diagnostics;
  Checked c;
  auto ast = flow::parse_program(file, diagnostics);
  if (ast) c.program = flow::sema::check_program(*ast, file, diagnostics);
  if (diagnostics.has_errors()) c.program.reset();
  c.diagnostics = flow::render_all(diagnostics, file);
  return c;
}

const std::string kBid =
    "schema Bid { auction: i64, bidder: i64, price: f64, channel: string, ts: timestamp, note: string? }\n"
    "source bids: Bid = file(\"bids.csv\", format = csv)\n";

// The type of `x` in `bids | map { x = EXPR } | sink stdout()`.
std::string type_of(const std::string& expr) {
  Checked c = check(kBid + "bids | map { x = " + expr + " } | sink stdout()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  return flow::sema::to_string(c.program->flows[0].stages[0].output->fields[0].type);
}

}  // namespace

TEST_CASE("sema: the example of language.md renders exactly") {
  Checked c = check(
      "schema Bid { auction: i64, bidder: i64, price: f64, channel: string, ts: timestamp }\n"
      "source bids: Bid = file(\"bids.csv\", format = csv)\n"
      "\n"
      "bids\n"
      "  | filter prize > 10.0\n"
      "  | sink stdout()\n");
  CHECK_FALSE(c.program);
  CHECK(c.diagnostics ==
        "error[E0213]: unknown field `prize` in schema `Bid`\n"
        " --> t.flow:5:12\n"
        "  |\n"
        "5 | | filter prize > 10.0\n"
        "  |          ^^^^^ did you mean `price`?\n"
        "\n"
        "error: 1 error\n");
}

TEST_CASE("sema: typing rules of language.md sections 2 and 5") {
  CHECK(type_of("auction + 1") == "i64");
  CHECK(type_of("auction + price") == "f64");
  CHECK(type_of("auction / 2") == "i64");
  CHECK(type_of("ts - ts") == "duration");
  CHECK(type_of("ts + 10s") == "timestamp");
  CHECK(type_of("10s + 5m") == "duration");
  CHECK(type_of("channel + \"!\"") == "string");
  CHECK(type_of("note ?? \"none\"") == "string");
  CHECK(type_of("len(note)") == "i64?");
  CHECK(type_of("note == null") == "bool");
  CHECK(type_of("if price > 1.0 then auction else price") == "f64");
  CHECK(type_of("if price > 1.0 then channel else null") == "string?");
  CHECK(type_of("split_words(channel)") == "[string]");
  CHECK(type_of("i64(channel)") == "i64?");
  CHECK(type_of("i64(ts)") == "i64");
  CHECK(type_of("timestamp(auction)") == "timestamp");
  CHECK(type_of("string(price)") == "string");
  CHECK(type_of("auction in (1, 2, 3)") == "bool");
  CHECK(type_of("date_trunc(\"hour\", ts)") == "timestamp?");
}

TEST_CASE("sema: fn calls are inlined and `...` keeps the input fields") {
  Checked c = check(kBid + "fn net(p: f64) -> f64 = p * 0.908\n"
                           "bids | map { ..., price = net(price) } | sink stdout()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  const auto& map = c.program->flows[0].stages[0];
  REQUIRE(map.output->fields.size() == 6);
  CHECK(map.output->fields.back().name == "price");
  CHECK(map.assignments.back().value.kind == flow::sema::Expr::Kind::Binary);
}

TEST_CASE("sema: an aggregate's output is its keys then its bindings") {
  Checked c = check(kBid + "bids | aggregate by channel, a = auction { n = count(), s = sum(price), f = first(note), d = count_distinct(bidder) } | sink stdout()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  const auto& out = *c.program->flows[0].stages[0].output;
  REQUIRE(out.fields.size() == 6);
  CHECK(out.fields[0].name == "channel");
  CHECK(out.fields[1].name == "a");
  CHECK(flow::sema::to_string(out.fields[3].type) == "f64");
  CHECK(flow::sema::to_string(out.fields[4].type) == "string?");
}

TEST_CASE("sema: every error is reported, each with its code and place") {
  Checked c = check(kBid + "bids\n| map { auction, x = lower(price), y = substr(channel) }\n| sink stdout(format = jsn)\n");
  CHECK_FALSE(c.program);
  CHECK(c.diagnostics.find("error[E0303]: argument 1 of `lower` must be `string`, found `f64`\n --> t.flow:4:28") != std::string::npos);
  CHECK(c.diagnostics.find("error[E0302]: `substr` takes 2 or 3 arguments, found 1") != std::string::npos);
  // The sink after the failed map is still checked.
  CHECK(c.diagnostics.find("error[E0403]: unknown output format `jsn`") != std::string::npos);
  CHECK(c.diagnostics.find("error: 3 errors") != std::string::npos);
}

TEST_CASE("sema: exact messages for common mistakes") {
  Checked unknown_format = check("schema L { line: string }\nsource s: L = file(\"x\", format = jsn)\ns | sink stdout()\n");
  CHECK(unknown_format.diagnostics ==
        "error[E0403]: unknown input format `jsn`\n"
        " --> t.flow:2:34\n"
        "  |\n"
        "2 | source s: L = file(\"x\", format = jsn)\n"
        "  |                                  ^^^ expected `csv`, `jsonl` or `text`\n"
        "\n"
        "error: 1 error\n");
  Checked mismatch = check(kBid + "bids | filter channel > 3 | sink stdout()\n");
  CHECK(mismatch.diagnostics.find("error[E0301]: cannot compare `string` with `i64`") != std::string::npos);
  Checked no_sink = check(kBid + "bids | filter price > 1.0\n");
  CHECK(no_sink.diagnostics.find("error[E0401]: this flow does not end in a sink") != std::string::npos);
  Checked window = check(
      "schema C { page: string, ts: timestamp }\n"
      "source cs: C = file(\"c.csv\", format = csv) time ts watermark lag 5s\n"
      "cs | aggregate by page over tumbling(10s) late 1s drop { n = count() } | sink stdout()\n");
  CHECK(window.diagnostics == "");
  Checked unused_late = check(
      "schema C { page: string, ts: timestamp }\n"
      "source cs: C = file(\"c.csv\", format = csv) time ts watermark lag 5s\n"
      "cs | aggregate by page over tumbling(10s) late 1s -> late { n = count() } | sink stdout()\n");
  CHECK(unused_late.diagnostics ==
        "warning[W0401]: late stream `late` is never used\n"
        " --> t.flow:3:54\n"
        "  |\n"
        "3 | cs | aggregate by page over tumbling(10s) late 1s -> late { n = count() } | sink stdout()\n"
        "  |                                                      ^^^^ its records are lost\n"
        "  = help: add a flow such as `late | sink stdout()`, or write `late ... drop`\n"
        "\n"
        "warning: 1 warning\n");
  Checked no_time = check(kBid + "bids | aggregate by auction over tumbling(10s) late 0s drop { n = count() } | sink stdout()\n");
  CHECK(no_time.diagnostics.find("error[E0409]: a window needs event time, and this stream has none") != std::string::npos);
  Checked emit_alone = check(kBid + "bids | aggregate by auction emit final { n = count() } | sink stdout()\n");
  CHECK(emit_alone.diagnostics.find("error[E0410]: `emit` needs a window") != std::string::npos);
  Checked recursive = check(kBid + "fn f(x: i64) -> i64 = f(x)\nbids | map { y = f(auction) } | sink stdout()\n");
  CHECK(recursive.diagnostics.find("error[E0307]: `f` calls itself") != std::string::npos);
}

TEST_CASE("sema: time clauses and window specifications are checked in full") {
  Checked c = check(
      "schema C { page: string, ts: timestamp, n: i64 }\n"
      "source cs: C = file(\"c.csv\", format = csv) time ts watermark lag 2s idle 1m\n"
      "cs | map { page, ts } | sink stdout()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  const auto& time = c.program->sources[0].time;
  CHECK(time.kind == flow::sema::EventTime::Kind::Field);
  CHECK(time.field == 1);
  CHECK(time.lag_ms == 2000);
  CHECK(time.idle_ms == 60000);
  auto windows = [](const std::string& window) {
    return check("schema C { page: string, ts: timestamp }\n"
                 "source cs: C = file(\"c.csv\", format = csv) time ts watermark ascending\n"
                 "cs | aggregate by page over " + window + " late 0s drop { n = count() } | sink stdout()\n")
        .diagnostics;
  };
  CHECK(windows("sliding(10s, every = 2s)").find("E0410") == std::string::npos);
  CHECK(windows("session(gap = 30m)").find("E0410") == std::string::npos);
  CHECK(windows("cumulating(1h, step = 10m)").find("E0410") == std::string::npos);
  CHECK(windows("cumulating(1h, step = 7m)").find("error[E0410]: `step` must divide the window length") != std::string::npos);
  CHECK(windows("tumbling(0s)").find("error[E0410]: a window length must be positive") != std::string::npos);
  CHECK(windows("session(10s)").find("error[E0410]: `session` takes no size here") != std::string::npos);
  CHECK(windows("tumbling(10)").find("error[E0301]: a window length must be a duration such as `5s`") != std::string::npos);
  CHECK(windows("sliding(10s)").find("error[E0410]: `sliding` is missing an argument") != std::string::npos);
}

TEST_CASE("diagnostics: closest_name suggests only likely typos") {
  CHECK(flow::closest_name("prize", {"auction", "price", "channel"}) == "price");
  CHECK(flow::closest_name("chanel", {"auction", "price", "channel"}) == "channel");
  CHECK(flow::closest_name("zzz", {"auction", "price", "channel"}).empty());
}

TEST_CASE("plan: stateless stages fuse into the pipeline of their source") {
  Checked c = check(kBid + "bids | filter price > 1.0 | map { auction, channel } | aggregate by channel { n = count() } | map { ..., m = n * 2 } | sink stdout()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  auto plan = flow::plan::build_plan(*c.program);
  REQUIRE(plan.pipelines.size() == 2);
  CHECK(plan.pipelines[0].stages.size() == 2);
  CHECK(plan.pipelines[0].updates_aggregate == 0);
  CHECK(plan.pipelines[1].entry == flow::plan::Entry::AggregateEmit);
  CHECK(plan.pipelines[1].stages.size() == 1);
  CHECK(plan.pipelines[1].sink == 0);
  // Only the fields the program reads are decoded.
  CHECK(plan.fields_used[0] == std::vector<bool>{true, false, true, true, false, false});
  // A string key is encoded by runtime calls; explain says so, and which fields are decoded.
  std::string explained = flow::plan::explain(plan);
  CHECK(explained.find("key: variable width, encoded by runtime calls") != std::string::npos);
  CHECK(explained.find("source `bids` decodes only: auction, price, channel") != std::string::npos);
  CHECK(flow::plan::fixed_key_width(*plan.aggregates[0].stage) == 0);
  // In parallel: the unwindowed aggregate is aggregated where read, not shuffled.
  CHECK(explained.find("source `bids`: each instance reads its parts of the file, cut at line breaks") != std::string::npos);
  CHECK(explained.find("aggregate 0: local aggregation where read; at the end one row per key and instance goes to the "
                       "key's instance and is merged there (two-phase, no shuffle of records)") != std::string::npos);
}

TEST_CASE("plan: explain says which operators shuffle records at --parallelism > 1") {
  Checked c = check(kBid + "bids | aggregate by channel { n = count_distinct(auction) } | sink stdout()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  auto plan = flow::plan::build_plan(*c.program);
  CHECK_FALSE(flow::plan::combinable(plan.aggregates[0]));
  CHECK(flow::plan::explain(plan).find("aggregate 0: shuffle, salted: each record goes to the instance owning its key and its "
                                       "`count_distinct` value") != std::string::npos);
  // last() over one source's records goes by their positions in its file: rows combine. Over
  // a merge of two flows it goes by arrival: records go to their key's instance.
  Checked ordered = check(kBid + "bids | aggregate by channel { p = last(price) } | sink stdout()\n"
                                 "merge(bids, bids) | aggregate by auction { a = last(price) } | sink stdout()\n");
  INFO(ordered.diagnostics);
  REQUIRE(ordered.program);
  auto ordered_plan = flow::plan::build_plan(*ordered.program);
  REQUIRE(ordered_plan.aggregates.size() == 2);
  CHECK(ordered_plan.aggregates[0].ordered_by_position);
  CHECK_FALSE(ordered_plan.aggregates[0].ties_by_value);
  CHECK(flow::plan::combinable(ordered_plan.aggregates[0]));
  CHECK(ordered_plan.pipelines[static_cast<std::size_t>(ordered_plan.aggregates[0].update_pipeline)].carries_position);
  CHECK_FALSE(ordered_plan.aggregates[1].ordered_by_position);
  CHECK_FALSE(flow::plan::combinable(ordered_plan.aggregates[1]));
  CHECK_FALSE(ordered_plan.pipelines[static_cast<std::size_t>(ordered_plan.aggregates[1].update_pipeline)].carries_position);
  std::string ordered_text = flow::plan::explain(ordered_plan);
  CHECK(ordered_text.find("aggregate 1: shuffle: each record goes to the instance owning its key") != std::string::npos);
  CHECK(ordered_text.find("    order (first, last, arg_* ties): position in the source (a file's line, a generator's event number)\n") != std::string::npos);
  CHECK(ordered_text.find("    order (first, last, arg_* ties): the order records arrive in\n") != std::string::npos);
  // Over an aggregate's rows or a window's results the order does not depend on arrival either:
  // the rows all tie, the results go by window end; a tie goes by value.
  Checked results = check("schema Bid { auction: i64, price: f64, ts: timestamp }\n"
                          "source bids: Bid = file(\"bids.csv\", format = csv) time ts watermark lag 1s\n"
                          "bids | aggregate by auction { n = count() } | aggregate by n { a = last(auction) } | sink stdout()\n"
                          "bids | aggregate by auction over tumbling(1s) late 0s drop { n = count() }\n"
                          "  | aggregate over tumbling(2s) late 0s drop { a = arg_max(auction, n) } | sink stdout()\n");
  INFO(results.diagnostics);
  REQUIRE(results.program);
  auto results_plan = flow::plan::build_plan(*results.program);
  REQUIRE(results_plan.aggregates.size() == 4);
  for (int i : {1, 3}) {
    const auto& a = results_plan.aggregates[static_cast<std::size_t>(i)];
    CHECK(a.ordered_by_position);
    CHECK(a.ties_by_value);
    CHECK(results_plan.pipelines[static_cast<std::size_t>(a.update_pipeline)].carries_position);
  }
  CHECK(flow::plan::combinable(results_plan.aggregates[1]));
  std::string results_text = flow::plan::explain(results_plan);
  CHECK(results_text.find("    order (first, last, arg_* ties): the least value (the greatest for last): the rows of an "
                          "aggregate all tie\n") != std::string::npos);
  CHECK(results_text.find("    order (first, last, arg_* ties): window end, then the least value on a tie (the greatest "
                          "for last)\n") != std::string::npos);
  // A flatmap gives several records one position: after it, a stage that moves records could
  // bring them to the aggregate from two instances, tied. Without one, they stay in order.
  Checked split = check(kBid + "bids | flatmap w in split_words(channel) { w, price } | rebalance | aggregate by w { p = first(price) } | sink stdout()\n"
                               "bids | flatmap w in split_words(channel) { w, price } | aggregate by w { p = first(price) } | sink stdout()\n");
  INFO(split.diagnostics);
  REQUIRE(split.program);
  auto split_plan = flow::plan::build_plan(*split.program);
  REQUIRE(split_plan.aggregates.size() == 2);
  CHECK_FALSE(split_plan.aggregates[0].ordered_by_position);
  CHECK(split_plan.aggregates[1].ordered_by_position);
}

TEST_CASE("sema: import std.nexmark declares its schemas and a generator source whose arguments reach the runtime") {
  Checked c = check("import std.nexmark\nparam n: i64 = 500\n"
                    "source bid: Bid = nexmark(events = n * 2, seed = 7) time dateTime watermark lag 4s\n"
                    "table person: Person = nexmark(events = 1000)\n"
                    "bid | filter price > 100 | sink null()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  REQUIRE(c.program->sources.size() == 2);
  const flow::sema::Source& bid = c.program->sources[0];
  CHECK(bid.format == flow::sema::SourceFormat::Generated);
  CHECK(bid.schema->name == "Bid");
  CHECK(bid.schema->index_of("dateTime") == 5);
  CHECK(bid.schema->fields[2].type.kind == flow::sema::Type::Kind::I64);  // price, in cents
  // The path is a string expression the runtime evaluates (params apply at run time).
  CHECK(bid.path.kind == flow::sema::Expr::Kind::Binary);
  std::string explained = flow::plan::explain(flow::plan::build_plan(*c.program));
  CHECK(explained.find("source `bid` (generated, typed values)") != std::string::npos);
  CHECK(explained.find("source `bid`: each instance generates its parts of the event numbers") != std::string::npos);
  // Without the import, nexmark is unknown and says which module has it.
  Checked missing = check("source bid: Bid = nexmark(events = 10)\nbid | sink null()\n");
  CHECK(missing.diagnostics.find("error[E0408]: `nexmark` needs `import std.nexmark`") != std::string::npos);
}

TEST_CASE("plan: explain says at which parallelism a job's checkpoints restore") {
  auto explained = [](const std::string& window) {
    Checked c = check("schema Bid { channel: string, ts: timestamp }\n"
                      "source bids: Bid = file(\"bids.csv\", format = csv) time ts watermark lag 1s\n"
                      "bids | aggregate by channel over " + window + " late 0s drop { n = count() } | sink stdout()\n");
    INFO(c.diagnostics);
    REQUIRE(c.program);
    return flow::plan::explain(flow::plan::build_plan(*c.program));
  };
  CHECK(explained("tumbling(1m)").find("  checkpoints: barriers in band; they restore at any parallelism (state moves by key "
                                       "group)\n") != std::string::npos);
  CHECK(explained("session(gap = 1m)").find("  checkpoints: barriers in band; they restore at any parallelism (state moves "
                                            "by key group)\n") != std::string::npos);
}

TEST_CASE("plan: explain states each source's time clause as the watermark it gives") {
  auto explained = [](const std::string& time) {
    std::string text = "schema E { k: i64, ts: timestamp }\nsource events: E = file(\"e.csv\", format = csv) " + time +
                       "\nevents | sink stdout()\n";
    Checked c = check(text);
    INFO(c.diagnostics);
    REQUIRE(c.program);
    return flow::plan::explain(flow::plan::build_plan(*c.program));
  };
  CHECK(explained("time ts watermark lag 2s").find("    event time `ts`, watermark = the largest `ts` so far - 2s\n") !=
        std::string::npos);
  CHECK(explained("time ts watermark ascending idle 30s")
            .find("    event time `ts`, watermark = the largest `ts` so far; idle after 30s without records\n") != std::string::npos);
  CHECK(explained("time ingestion").find("ingestion time (the clock when a record is read)") != std::string::npos);
  CHECK(explained("").find("event time") == std::string::npos);
}

TEST_CASE("sema: a join condition splits into key pairs and a residual; the alias's fields follow the record's") {
  Checked c = check(
      "schema O { id: i64, amount: f64, ts: timestamp }\n"
      "schema P { order: i64, paid: f64, method: string, ts: timestamp }\n"
      "source orders: O = file(\"o.csv\", format = csv) time ts watermark lag 1s\n"
      "source pays: P = file(\"p.csv\", format = csv) time ts watermark lag 1s\n"
      "orders | left join pays as p on p.order == id and p.paid >= amount and p.method != \"gift\" within -1s .. 1h\n"
      "| sink stdout()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  REQUIRE(c.program->joins.size() == 1);
  const flow::sema::Join& j = c.program->joins[0];
  CHECK(j.kind == flow::sema::Join::Kind::Interval);
  CHECK(j.left_outer);
  CHECK(j.lower_ms == -1000);
  CHECK(j.upper_ms == 3600000);
  REQUIRE(j.left_keys.size() == 1);
  CHECK(j.left_keys[0].kind == flow::sema::Expr::Kind::Field);
  CHECK(j.left_keys[0].index == 0);   // id in the order record
  CHECK(j.right_keys[0].index == 0);  // order in the payment record
  REQUIRE(j.residual);
  CHECK(j.residual->binary_op == flow::sema::BinaryOp::And);
  CHECK(flow::sema::to_string(*j.output) ==
        "{ id: i64, amount: f64, ts: timestamp, p.order: i64?, p.paid: f64?, p.method: string?, p.ts: timestamp? }");
  // Both inputs end in the join; the pairs start a pipeline of their own, timed by the join.
  flow::plan::PhysicalPlan plan = flow::plan::build_plan(*c.program);
  REQUIRE(plan.joins.size() == 1);
  CHECK(plan.joins[0].input_time.size() == 2);
  const flow::plan::Pipeline& out = plan.pipelines[static_cast<std::size_t>(plan.joins[0].output_pipeline)];
  CHECK(out.entry == flow::plan::Entry::JoinOutput);
  CHECK(out.time == std::vector<flow::plan::TimeInput>{flow::plan::TimeInput{-1, -1, 0}});
  CHECK(plan.pipelines[static_cast<std::size_t>(plan.joins[0].left_pipeline)].join_side == 0);
  CHECK(plan.pipelines[static_cast<std::size_t>(plan.joins[0].right_pipeline)].join_side == 1);
}

TEST_CASE("plan: a lookup join is fused into its pipeline and its table fills the hash table first") {
  Checked c = check(
      "schema E { ad: i64, kind: string }\nschema C { ad: i64, campaign: i64 }\n"
      "source events: E = file(\"e.csv\", format = csv)\ntable campaigns: C = file(\"c.csv\", format = csv)\n"
      "events | filter kind == \"view\" | join table campaigns as c on ad == c.ad | map { campaign = c.campaign } | sink stdout()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  CHECK(c.program->sources[1].is_table);
  flow::plan::PhysicalPlan plan = flow::plan::build_plan(*c.program);
  REQUIRE(plan.pipelines.size() == 2);
  CHECK(plan.pipelines[0].source == 1);
  CHECK(plan.pipelines[0].fills_lookups == std::vector<int>{0});
  CHECK(plan.pipelines[1].stages.size() == 3);  // filter, join, map
  CHECK(plan.pipelines[1].sink == 0);
  CHECK(flow::plan::explain(plan).find("lookup join with table `campaigns` as `c` on 1 key part") != std::string::npos);
}

TEST_CASE("plan: the stages after a lookup join read the source's fields they name, not all of them") {
  auto used = [](const std::string& flow) {
    Checked c = check(
        "schema E { ad: i64, kind: string, user: i64, ts: timestamp, note: string }\nschema C { ad: i64, campaign: i64 }\n"
        "source events: E = file(\"e.csv\", format = csv) time ts watermark lag 1s\ntable campaigns: C = file(\"c.csv\", format = csv)\n" +
        flow);
    INFO(c.diagnostics);
    REQUIRE(c.program);
    return flow::plan::build_plan(*c.program).fields_used[0];
  };
  // The key, the filter's field and the event time; then what the residual and the map name.
  CHECK(used("events | filter kind == \"view\" | join table campaigns as c on ad == c.ad "
             "| aggregate by campaign = c.campaign over tumbling(10s) { n = count() } | sink stdout()\n") ==
        std::vector<bool>{true, true, false, true, false});
  CHECK(used("events | join table campaigns as c on ad == c.ad and user > c.campaign | map { campaign = c.campaign, note } "
             "| sink stdout()\n") == std::vector<bool>{true, false, true, true, true});
  // A sink after the join writes the source's fields too.
  CHECK(used("events | join table campaigns as c on ad == c.ad | sink stdout()\n") ==
        std::vector<bool>{true, true, true, true, true});
}

TEST_CASE("plan: the dataflow graph follows pipelines through streams, splits, lookups and joins") {
  Checked c = check(
      "schema O { id: i64, user: i64, ts: timestamp }\n"
      "schema P { id: i64, method: string, ts: timestamp }\n"
      "schema U { user: i64, name: string }\n"
      "source orders: O = file(\"o.csv\", format = csv) time ts watermark lag 1s\n"
      "source payments: P = file(\"p.csv\", format = csv) time ts watermark lag 1s\n"
      "table users: U = file(\"u.csv\", format = csv)\n"
      "let named = orders | join table users as u on user == u.user\n"
      "named | left join payments as p on id == p.id within 0s .. 1h\n"
      "  | split { when p.id == null -> unpaid  else -> paid }\n"
      "paid | aggregate by user over tumbling(1m) late 0s drop { n = count() } | sink stdout()\n"
      "unpaid | sink null()\n"
      "named | aggregate { n = count() } | sink stdout()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  auto plan = flow::plan::build_plan(*c.program);
  std::vector<std::string> edges;
  const char* names[] = {"source", "aggregate", "window", "join", "lookup", "sink"};
  for (const auto& e : flow::plan::dataflow_edges(plan))
    edges.push_back(std::string(names[static_cast<int>(e.from.kind)]) + std::to_string(e.from.index) + "->" +
                    names[static_cast<int>(e.to.kind)] + std::to_string(e.to.index));
  std::sort(edges.begin(), edges.end());
  CHECK(edges == std::vector<std::string>{"aggregate0->sink2", "join0->sink1", "join0->window0", "lookup0->aggregate0",
                                          "lookup0->join0", "source0->aggregate0", "source0->join0", "source1->join0",
                                          "source2->lookup0", "window0->sink0"});
}

TEST_CASE("plan: partitioning stages cut pipelines, pass event time on and count the moves a record can make") {
  Checked c = check(
      "schema E { user: string, v: i64, ts: timestamp }\n"
      "source events: E = file(\"e.csv\", format = csv) time ts watermark lag 1s\n"
      "events | rebalance | map { user, v, ts } | partition by u = upper(user)\n"
      "  | aggregate by user over tumbling(1m) late 0s drop { n = count() } | sink stdout()\n"
      "let big = events | rescale | filter v > 1\n"
      "big | partition by v | sink null()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  auto plan = flow::plan::build_plan(*c.program);
  REQUIRE(plan.partitions.size() == 4);
  using P = flow::sema::Stage::Partitioning;
  CHECK(plan.partitions[0].stage->partitioning == P::Rebalance);
  CHECK(plan.partitions[1].stage->partitioning == P::ByKeys);
  CHECK(plan.partitions[1].stage->keys.size() == 1);
  CHECK(plan.partitions[2].stage->partitioning == P::Rescale);
  // Each starts a pipeline fed with its records, whose time is the partition's own node.
  for (std::size_t i = 0; i < plan.partitions.size(); ++i) {
    const auto& x = plan.partitions[i];
    CHECK(plan.pipelines[static_cast<std::size_t>(x.from_pipeline)].feeds_partition == static_cast<int>(i));
    const auto& to = plan.pipelines[static_cast<std::size_t>(x.to_pipeline)];
    CHECK(to.entry == flow::plan::Entry::Partitioned);
    CHECK(x.time_node == static_cast<int>(i));
    CHECK(to.time == std::vector<flow::plan::TimeInput>{flow::plan::TimeInput{-1, -1, -1, static_cast<int>(i)}});
  }
  CHECK(plan.partitions[1].input_time == std::vector<flow::plan::TimeInput>{flow::plan::TimeInput{-1, -1, -1, 0}});
  const auto& window = plan.aggregates[0];
  CHECK(window.input_time == std::vector<flow::plan::TimeInput>{flow::plan::TimeInput{-1, -1, -1, 1}});
  // Two moves on the way to the window; rescale, then the stream, then partition by v: two.
  CHECK(plan.partition_hops() == 2);
  std::string explained = flow::plan::explain(plan);
  CHECK(explained.find("partition 0: shuffle: records dealt round robin over the instances") != std::string::npos);
  CHECK(explained.find("partition 1: shuffle: each record goes to its key's owner among the instances") != std::string::npos);
  CHECK(explained.find("partition 2: no shuffle") != std::string::npos);
  CHECK(explained.find("-> partition by u") != std::string::npos);
  // The graph goes through them to the operators.
  std::vector<std::string> edges;
  for (const auto& e : flow::plan::dataflow_edges(plan))
    edges.push_back(std::to_string(static_cast<int>(e.from.kind)) + ":" + std::to_string(e.from.index) + "->" +
                    std::to_string(static_cast<int>(e.to.kind)) + ":" + std::to_string(e.to.index));
  std::sort(edges.begin(), edges.end());
  CHECK(edges == std::vector<std::string>{"0:0->2:0", "0:0->5:1", "2:0->5:0"});
}

TEST_CASE("plan: a job without partitioning stages makes no extra moves") {
  Checked c = check(
      "schema E { user: string, v: i64 }\nsource events: E = file(\"e.csv\", format = csv)\n"
      "events | aggregate by user { n = count() } | sink stdout()\n");
  REQUIRE(c.program);
  auto plan = flow::plan::build_plan(*c.program);
  CHECK(plan.partitions.empty());
  CHECK(plan.partition_hops() == 0);
}

TEST_CASE("plan: a late stream's records take the watermark of the window that found them late") {
  // At --parallelism N > 1 a late record is handed on by the window's instance: the operators
  // after it must not take the watermark of the instance that read it (which may run ahead
  // of the record), but the window's, which each instance passes on after its late records.
  Checked c = check(
      "schema E { k: i64, ts: timestamp }\n"
      "source events: E = file(\"e.csv\", format = csv) time ts watermark lag 1s\n"
      "events | aggregate by k over tumbling(1s) late 0s -> tardy { n = count() } | sink null()\n"
      "tardy | aggregate by k over tumbling(1s) late 1h drop { n = count() } | sink stdout()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  auto plan = flow::plan::build_plan(*c.program);
  REQUIRE(plan.aggregates.size() == 2);
  const auto& late = plan.pipelines[static_cast<std::size_t>(plan.aggregates[0].late_pipeline)];
  CHECK(late.entry == flow::plan::Entry::LateRecords);
  CHECK(late.time == std::vector<flow::plan::TimeInput>{flow::plan::TimeInput{-1, 0}});
  CHECK(plan.aggregates[1].input_time == std::vector<flow::plan::TimeInput>{flow::plan::TimeInput{-1, 0}});
}

TEST_CASE("plan: an unwindowed count_distinct of one value is salted, unless order, other values or `partition by` rule it out") {
  Checked c = check(
      "schema E { user: string, v: i64, w: i64, ts: timestamp }\n"
      "source events: E = file(\"e.csv\", format = csv) time ts watermark lag 1s\n"
      "events | aggregate by user { a = count_distinct(v), b = count_distinct(v), n = count() } | sink null()\n"
      "events | aggregate by user { a = count_distinct(v), b = count_distinct(w) } | sink null()\n"
      "events | aggregate by user { a = count_distinct(v), f = first(w) } | sink null()\n"
      "events | partition by user | aggregate by user { a = count_distinct(v) } | sink null()\n"
      "events | aggregate by user over tumbling(1m) late 0s drop { a = count_distinct(v) } | sink null()\n"
      "events | aggregate by user { n = count() } | sink null()\n"
      "events | aggregate by user { a = count_distinct(date_trunc(\"second\", now())) } | sink null()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  auto plan = flow::plan::build_plan(*c.program);
  REQUIRE(plan.aggregates.size() == 7);
  REQUIRE(plan.aggregates[0].salt);
  CHECK(plan.aggregates[0].salt->kind == flow::sema::Expr::Kind::Field);
  CHECK(plan.aggregates[0].salt->index == 1);  // v
  for (std::size_t i = 1; i < 7; ++i) CHECK_MESSAGE(plan.aggregates[i].salt == nullptr, "aggregate ", i);
  std::string explained = flow::plan::explain(plan);
  CHECK(explained.find("aggregate 0: shuffle, salted: each record goes to the instance owning its key and its `count_distinct` "
                       "value, so a hot key spreads over the instances (pipeline 1); at the end one row per key and instance goes "
                       "to the key's instance, which adds up their counts of values (merges the values, after a restore at "
                       "another parallelism)") != std::string::npos);
  CHECK(explained.find("aggregate 1: shuffle: each record goes to the instance owning its key") != std::string::npos);
}

TEST_CASE("sema: `@parallel(P)` on a keyed operator is its own; on a split or sink it is a rescale in front") {
  Checked c = check(
      "schema E { user: string, v: i64, ts: timestamp }\n"
      "source events: E = file(\"e.csv\", format = csv) time ts watermark lag 1s\n"
      "source more: E = file(\"m.csv\", format = csv) time ts watermark lag 1s\n"
      "events | @parallel(3) aggregate by user over tumbling(1m) late 0s drop { n = count() } | sink null()\n"
      "events | @parallel(2) join more as m on user == m.user within 0s .. 1s | @parallel(1) sink null()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  // (flows in any order; the one with the join ends in the rescale the sink's annotation is, then the sink)
  const flow::sema::Stage* window = nullptr;
  const std::vector<flow::sema::Stage>* joined = nullptr;
  for (const auto& f : c.program->flows)
    for (const auto& stage : f.stages) {
      if (stage.kind == flow::sema::Stage::Kind::Aggregate) window = &stage;
      if (stage.kind == flow::sema::Stage::Kind::Join) joined = &f.stages;
    }
  REQUIRE(window);
  CHECK(window->parallelism == 3);
  REQUIRE(c.program->joins.size() == 1);
  CHECK(c.program->joins[0].parallelism == 2);
  REQUIRE(joined);
  REQUIRE(joined->size() >= 3);
  const auto& rescale = (*joined)[joined->size() - 2];
  CHECK(rescale.kind == flow::sema::Stage::Kind::Partition);
  CHECK(rescale.partitioning == flow::sema::Stage::Partitioning::Rescale);
  CHECK(rescale.parallelism == 1);
  CHECK(joined->back().kind == flow::sema::Stage::Kind::Sink);
  std::string explained = flow::plan::explain(flow::plan::build_plan(*c.program));
  CHECK(explained.find("  aggregate 0: `@parallel(3)`: the first min(N, 3) instances own its keys\n") != std::string::npos);
  CHECK(explained.find("  join 0: `@parallel(2)`: the first min(N, 2) instances own its keys\n") != std::string::npos);
}

TEST_CASE("plan: explain says a keyed operator after `partition by` the same fields shuffles nothing more") {
  Checked c = check(
      "schema E { user: string, v: i64, ts: timestamp }\n"
      "source events: E = file(\"e.csv\", format = csv) time ts watermark lag 1s\n"
      "events | partition by user | filter v > 0 | aggregate by user over tumbling(1m) late 0s drop { n = count() } | sink null()\n"
      "events | partition by user | aggregate by v { n = count_distinct(user) } | sink null()\n"
      "events | @parallel(2) partition by user | aggregate by user { n = count_distinct(v) } | sink null()\n");
  INFO(c.diagnostics);
  REQUIRE(c.program);
  std::string explained = flow::plan::explain(flow::plan::build_plan(*c.program));
  CHECK(explained.find("aggregate 0 (window 0): no shuffle: its records are at their key's instance already (partition 0 by the "
                       "same keys)") != std::string::npos);
  // Other keys, or the keys' owner among fewer instances: they move again.
  CHECK(explained.find("aggregate 1: shuffle") != std::string::npos);
  CHECK(explained.find("aggregate 2: shuffle") != std::string::npos);
}

// The exchange between parallel instances (exchange/exchange.h) and the cutting of inputs into
// parts (io/input_split.h).
#include <algorithm>
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "exchange/exchange.h"
#include "io/input_split.h"
#include "io/record_decoder.h"
#include "test_support.h"

namespace {

// A route's record as generated code lays it out: an i64, a string, a bool.
struct Record {
  int64_t id;
  flow_str name;
  uint8_t flag;
};

// What a receiver was handed, as text.
struct Collector final : flow::ExchangeReceiver {
  std::vector<std::string> seen;
  int32_t record(int32_t route, const void* r, int64_t t, int64_t position) override {
    const auto* rec = static_cast<const Record*>(r);
    CHECK(reinterpret_cast<uintptr_t>(r) % alignof(Record) == 0);
    seen.push_back("record " + std::to_string(route) + " t=" + std::to_string(t) + " " + std::to_string(rec->id) + " " +
                   std::string(rec->name.ptr, static_cast<std::size_t>(rec->name.len)) + " " + std::to_string(rec->flag) +
                   (position ? " at " + std::to_string(position) : ""));
    return 0;
  }
  int32_t watermark(int from, int32_t node, int64_t w) override {
    seen.push_back("watermark " + std::to_string(from) + " " + std::to_string(node) + " " + std::to_string(w));
    return 0;
  }
  int32_t stage_done(int from, int32_t stage) override {
    seen.push_back("stage " + std::to_string(from) + " " + std::to_string(stage));
    return 0;
  }
  int32_t row(int32_t aggregate, std::string_view key, uint8_t* row) override {
    const auto* rec = reinterpret_cast<const Record*>(row);
    seen.push_back("row " + std::to_string(aggregate) + " key=" + std::string(key) + " " + std::to_string(rec->id) + " " +
                   std::string(rec->name.ptr, static_cast<std::size_t>(rec->name.len)));
    return 0;
  }
  int32_t window_row(int32_t window, int64_t slice, std::string_view key, uint8_t* row) override {
    const auto* rec = reinterpret_cast<const Record*>(row);
    seen.push_back("window " + std::to_string(window) + " slice=" + std::to_string(slice) + " key=" + std::string(key) + " " +
                   std::to_string(rec->id) + " " + std::string(rec->name.ptr, static_cast<std::size_t>(rec->name.len)));
    return 0;
  }
  int32_t encoded_row(int32_t aggregate, std::string_view key, std::string_view value) override {
    seen.push_back("encoded row " + std::to_string(aggregate) + " key=" + std::string(key) + " " + std::string(value));
    return 0;
  }
  int32_t barrier(int from, int32_t round, int64_t messages) override {
    seen.push_back("barrier " + std::to_string(from) + " round=" + std::to_string(round) + " messages=" + std::to_string(messages));
    return 0;
  }
};

flow::RouteSpec record_layout() {
  return flow::RouteSpec{sizeof(Record), nullptr, {offsetof(Record, name)}, {}};
}

// An encoded key owned by instance `owner` of `instances`.
std::string key_owned_by(int owner, int instances) {
  for (int i = 0;; ++i) {
    std::string key = "key-" + std::to_string(i);
    if (flow::owner_of_key(key, instances) == owner) return key;
  }
}

// What instance `to` has received from instance 0, as one block, decoded (routes, aggregate
// rows and window rows all laid out as `routes[0]`).
std::vector<std::string> received(flow::ExchangeHub& hub, int to, const std::vector<flow::RouteSpec>& routes) {
  std::vector<std::string> blocks;
  hub.take(0, to, blocks);
  REQUIRE(blocks.size() == 1);
  Collector got;
  REQUIRE(flow::decode_block(blocks[0], 0, routes, routes, got, routes) == 0);
  return got.seen;
}

}  // namespace

TEST_CASE("exchange: records, rows and marks arrive in the order they were sent, strings intact") {
  flow::ExchangeHub hub(2, 1 << 20);
  std::vector<flow::RouteSpec> routes{record_layout()};
  flow_exchange sender(hub, 0, routes);
  std::string key = key_owned_by(1, 2);
  REQUIRE_FALSE(sender.owns(reinterpret_cast<const uint8_t*>(key.data()), key.size()));

  std::string name = "a name longer than fifteen bytes";
  Record r{42, {name.data(), static_cast<int64_t>(name.size())}, 1};
  sender.send_record(0, &r, 1000);
  sender.send_watermark(3, 900);
  sender.send_watermark(3, 950);  // only the newest of a node goes out
  Record empty{-7, {"", 0}, 0};
  sender.send_record(0, &empty, 1001);
  Record positioned{8, {"where it was", 12}, 1};
  sender.send_record_at(0, &positioned, 1002, 123456789012);
  Record row{5, {"xyz", 3}, 0};
  sender.send_row(1, 0, key, reinterpret_cast<const uint8_t*>(&row), routes[0]);
  Record partial{9, {"a partial row's string", 22}, 0};
  sender.send_window_row(1, 0, -60000, key, reinterpret_cast<const uint8_t*>(&partial), sizeof(Record), routes[0].strings);
  sender.send_encoded_row(1, 0, key, "an encoded row of 27 bytes.");
  sender.send_stage_done(4);
  sender.flush();
  name.assign(name.size(), '#');  // the block holds its own copy

  std::vector<std::string> expected{"record 0 t=1000 42 a name longer than fifteen bytes 1", "record 0 t=1001 -7  0",
                                    "record 0 t=1002 8 where it was 1 at 123456789012",
                                    "row 0 key=" + key + " 5 xyz", "window 0 slice=-60000 key=" + key + " 9 a partial row's string",
                                    "encoded row 0 key=" + key + " an encoded row of 27 bytes.",
                                    "watermark 0 3 950", "stage 0 4"};
  CHECK(received(hub, 1, routes) == expected);
}

TEST_CASE("exchange: a barrier follows the pending watermarks and counts the messages since the last one") {
  flow::ExchangeHub hub(3, 1 << 20);
  std::vector<flow::RouteSpec> routes{record_layout()};
  flow_exchange sender(hub, 0, routes);
  std::string key = key_owned_by(2, 3);
  REQUIRE_FALSE(sender.owns(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  Record r{1, {"a", 1}, 0};
  sender.send_record(0, &r, 10);
  sender.send_watermark(0, 5);
  CHECK(sender.send_barrier(0) == 2);  // the record and the watermark
  CHECK(sender.send_barrier(1) == 0);
  sender.flush();
  for (int to : {1, 2}) {
    std::vector<std::string> expected{"watermark 0 0 5", "barrier 0 round=0 messages=2", "barrier 0 round=1 messages=0"};
    if (to == 2) expected.insert(expected.begin(), "record 0 t=10 1 a 0");
    CHECK(received(hub, to, routes) == expected);
  }
}

TEST_CASE("exchange: a damaged block is refused, not read past its end") {
  flow::ExchangeHub hub(2, 1 << 20);
  std::vector<flow::RouteSpec> routes{record_layout()};
  flow_exchange sender(hub, 0, routes);
  std::string key = key_owned_by(1, 2);
  sender.owns(reinterpret_cast<const uint8_t*>(key.data()), key.size());
  Record r{1, {"hello", 5}, 0};
  sender.send_record(0, &r, 0);
  sender.flush();
  std::vector<std::string> blocks;
  hub.take(0, 1, blocks);
  REQUIRE(blocks.size() == 1);
  Collector got;
  std::string cut = blocks[0].substr(0, blocks[0].size() - 8);
  CHECK(flow::decode_block(cut, 0, routes, routes, got) == -1);
  std::string unknown_route = blocks[0];
  unknown_route[4] = 9;
  CHECK(flow::decode_block(unknown_route, 0, routes, routes, got) == -1);
  std::string unknown_kind = blocks[0];
  unknown_kind[0] = 77;
  CHECK(flow::decode_block(unknown_kind, 0, routes, routes, got) == -1);
}

TEST_CASE("exchange: a channel is full at its bound and has room again once taken") {
  flow::ExchangeHub hub(3, 100);
  CHECK_FALSE(hub.full(0, 2));
  hub.push(0, 2, std::string(60, 'a'));
  CHECK_FALSE(hub.full(0, 2));
  hub.push(0, 2, std::string(60, 'b'));
  CHECK(hub.full(0, 2));
  CHECK_FALSE(hub.full(1, 2));  // channels are per ordered pair
  CHECK(hub.queued(0, 2) == 120);
  std::vector<std::string> blocks;
  hub.take(0, 2, blocks);
  CHECK(blocks.size() == 2);
  CHECK(blocks[0][0] == 'a');
  CHECK_FALSE(hub.full(0, 2));
  CHECK(hub.peak(0, 2) == 120);
}

TEST_CASE("exchange: key groups are dealt to instances in contiguous ranges, all of them used") {
  for (int instances : {1, 2, 3, 4, 7, 128}) {
    int previous = 0;
    std::vector<int> groups(static_cast<std::size_t>(instances), 0);
    for (uint32_t g = 0; g < flow::kDefaultMaxParallelism; ++g) {
      int owner = flow::owner_of_key_group(g, instances);
      REQUIRE(owner >= previous);
      REQUIRE(owner < instances);
      previous = owner;
      ++groups[static_cast<std::size_t>(owner)];
    }
    for (int n : groups) CHECK(n >= static_cast<int>(flow::kDefaultMaxParallelism) / instances);
  }
}

TEST_CASE("exchange: rebalance deals records to every instance in turn, starting with the dealer") {
  flow::ExchangeHub hub(3, 1 << 20);
  std::vector<flow::RouteSpec> routes;
  flow_exchange x(hub, 1, routes);
  std::vector<int> dealt;
  for (int i = 0; i < 7; ++i) {
    bool stays = x.deal(0);
    CHECK(stays == (x.last_owner == 1));
    dealt.push_back(x.last_owner);
  }
  CHECK(dealt == std::vector<int>{1, 2, 0, 1, 2, 0, 1});
  // Two stages in a row each deal in turns of their own: a record kept by the first is dealt
  // on by the second, and the first still spreads its records over every instance.
  flow_exchange y(hub, 1, routes);
  std::vector<int> first, second;
  for (int i = 0; i < 6; ++i) {
    y.deal(0);
    first.push_back(y.last_owner);
    if (y.last_owner == 1) {
      y.deal(1);
      second.push_back(y.last_owner);
    }
  }
  CHECK(first == std::vector<int>{1, 2, 0, 1, 2, 0});
  CHECK(second == std::vector<int>{1, 2});
  // `@parallel(2)`: among instances 0 and 1 only.
  dealt.clear();
  for (int i = 0; i < 4; ++i) {
    y.deal(2, 2);
    dealt.push_back(y.last_owner);
  }
  CHECK(dealt == std::vector<int>{1, 0, 1, 0});
}

TEST_CASE("exchange: @parallel(P) keys are owned among the first P instances; rescale folds the others onto them") {
  flow::ExchangeHub hub(4, 1 << 20);
  std::vector<flow::RouteSpec> routes;
  std::vector<std::unique_ptr<flow_exchange>> ends;
  for (int k = 0; k < 4; ++k) ends.push_back(std::make_unique<flow_exchange>(hub, k, routes));
  for (int key = 0; key < 200; ++key) {
    std::string encoded = "key" + std::to_string(key);
    const auto* data = reinterpret_cast<const uint8_t*>(encoded.data());
    int owners = 0, owner = -1;
    for (int k = 0; k < 4; ++k)
      if (ends[static_cast<std::size_t>(k)]->owns(data, encoded.size(), 2)) ++owners, owner = k;
    CHECK(owners == 1);
    CHECK(owner < 2);
    CHECK(owner == flow::owner_of_key(encoded, 2));
    // More than the job has: every instance.
    CHECK(ends[0]->owns(data, encoded.size(), 9) == (flow::owner_of_key(encoded, 4) == 0));
  }
  std::vector<int> rescaled;
  for (int k = 0; k < 4; ++k) {
    bool stays = ends[static_cast<std::size_t>(k)]->rescale(3);
    CHECK(stays == (k < 3));
    rescaled.push_back(ends[static_cast<std::size_t>(k)]->last_owner);
  }
  CHECK(rescaled == std::vector<int>{0, 1, 2, 0});
}

TEST_CASE("input split: parts start at line starts, cover the file once and are dealt round robin") {
  flow_test::TempDir dir;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "line " + std::to_string(i) + (i % 7 == 0 ? " with more words in it" : "") + "\n";
  text += "last line without a break";
  std::string path = dir.write("in.txt", text);
  for (int instances : {1, 2, 3}) {
    auto parts = flow::split_input(path, instances, 100);
    REQUIRE(parts.size() == static_cast<std::size_t>(instances));
    std::vector<flow::ByteRange> all;
    for (std::size_t k = 0;; ++k) {  // part k is instance k % N's (k / N)-th
      const auto& mine = parts[k % parts.size()];
      if (k / parts.size() >= mine.size()) break;
      all.push_back(mine[k / parts.size()]);
    }
    REQUIRE(!all.empty());
    CHECK(all.front().begin == 0);
    CHECK(all.back().end == text.size());
    for (std::size_t k = 0; k < all.size(); ++k) {
      CHECK(all[k].begin < all[k].end);
      if (k > 0) CHECK(all[k].begin == all[k - 1].end);
      if (all[k].begin > 0) CHECK(text[all[k].begin - 1] == '\n');
    }
  }
}

TEST_CASE("input split: what a restore has left to read is cut at line starts within its ranges") {
  flow_test::TempDir dir;
  std::string text;
  for (int i = 0; i < 300; ++i) text += "row " + std::to_string(i) + "\n";
  std::string path = dir.write("in.txt", text);
  std::size_t a = text.find("row 40\n"), b = text.find("row 90\n"), c = text.find("row 200\n");
  std::vector<flow::ByteRange> left{{a, b}, {c, text.size()}};
  auto parts = flow::split_ranges(path, left, 3, 64);
  std::vector<flow::ByteRange> all;
  for (const auto& mine : parts) all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.begin < y.begin; });
  uint64_t covered = 0;
  for (const flow::ByteRange& r : all) {
    CHECK(r.begin < r.end);
    CHECK(text[r.begin - 1] == '\n');
    CHECK(((r.begin >= a && r.end <= b) || (r.begin >= c && r.end <= text.size())));
    covered += r.end - r.begin;
  }
  CHECK(covered == (b - a) + (text.size() - c));
  for (const auto& mine : parts) CHECK(!mine.empty());
}

TEST_CASE("input split: a pipe is one part, instance 0's; an empty file has none") {
  flow_test::TempDir dir;
  std::string fifo = dir.file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto parts = flow::split_input(fifo, 2, 100);
  REQUIRE(parts[0].size() == 1);
  CHECK(parts[0][0].begin == 0);
  CHECK(parts[1].empty());
  auto none = flow::split_input(dir.write("empty.csv", ""), 2, 100);
  CHECK(none[0].empty());
  CHECK(none[1].empty());
}

TEST_CASE("input split: a decoder reads only its parts, and says lines as the file counts them") {
  flow_test::TempDir dir;
  std::string text = "a,b\n";
  for (int i = 1; i <= 50; ++i) text += std::to_string(i) + ",x\n";
  text += "bad\n";
  std::string path = dir.write("in.csv", text);
  auto parts = flow::split_input(path, 2, 64);
  std::vector<std::string> firsts;
  int64_t rows = 0;
  bool bad_seen = false;
  for (int instance = 0; instance < 2; ++instance) {
    flow::Arena arena;
    auto decoder = flow::make_decoder(FLOW_FORMAT_CSV, {{"a", true}, {"b", true}}, arena);
    std::string error;
    REQUIRE(decoder->input().open(path, error));
    REQUIRE(decoder->start());
    for (const flow::ByteRange& part : parts[static_cast<std::size_t>(instance)]) {
      REQUIRE(decoder->read_range(part.begin, part.end));
      for (;;) {
        flow::DecodeStep step = decoder->next();
        if (step == flow::DecodeStep::end) break;
        if (step == flow::DecodeStep::bad_record) {
          bad_seen = true;
          CHECK(decoder->file_line(decoder->bad_record().line) == 52);  // header, 50 rows, then it
          continue;
        }
        REQUIRE(step == flow::DecodeStep::batch);
        const flow_batch& batch = decoder->batch();
        for (int64_t r = 0; r < batch.num_rows; ++r) {
          std::string a(batch.cells[r * 2].ptr, static_cast<std::size_t>(batch.cells[r * 2].len));
          CHECK(decoder->file_line(decoder->origin(r).line) == std::stoll(a) + 1);
          ++rows;
        }
      }
    }
  }
  CHECK(rows == 50);
  CHECK(bad_seen);
}

TEST_CASE("input split: a decoder reads ranges that follow one another (a restore's) whole, with file lines") {
  flow_test::TempDir dir;
  std::string text = "a,b\n";
  for (int i = 1; i <= 60; ++i) text += std::to_string(i) + ",x\n";
  std::string path = dir.write("in.csv", text);
  std::vector<flow::ByteRange> ranges;
  for (const auto& mine : flow::split_input(path, 3, 50)) ranges.insert(ranges.end(), mine.begin(), mine.end());
  std::sort(ranges.begin(), ranges.end(), [](const auto& x, const auto& y) { return x.begin < y.begin; });
  REQUIRE(ranges.size() > 3);
  flow::Arena arena;
  auto decoder = flow::make_decoder(FLOW_FORMAT_CSV, {{"a", true}, {"b", true}}, arena);
  std::string error;
  REQUIRE(decoder->input().open(path, error));
  REQUIRE(decoder->start());
  int64_t rows = 0;
  for (std::size_t k = 1; k < ranges.size(); ++k) {  // the first as if read before the restore
    REQUIRE(decoder->read_range(ranges[k].begin, ranges[k].end));
    for (flow::DecodeStep step; (step = decoder->next()) != flow::DecodeStep::end;) {
      REQUIRE(step == flow::DecodeStep::batch);
      const flow_batch& batch = decoder->batch();
      for (int64_t r = 0; r < batch.num_rows; ++r) {
        std::string a(batch.cells[r * 2].ptr, static_cast<std::size_t>(batch.cells[r * 2].len));
        CHECK(decoder->file_line(decoder->origin(r).line) == std::stoll(a) + 1);
        ++rows;
      }
    }
  }
  int64_t first_range_rows = std::count(text.begin() + static_cast<std::ptrdiff_t>(ranges[0].begin),
                                        text.begin() + static_cast<std::ptrdiff_t>(ranges[0].end), '\n') - 1;  // less the header
  CHECK(rows == 60 - first_range_rows);
}

TEST_CASE("input split: a quoted line break in a CSV read in parts stops the source") {
  flow_test::TempDir dir;
  std::string path = dir.write("in.csv", "a,b\n1,\"two\nlines\"\n");
  flow::Arena arena;
  auto decoder = flow::make_decoder(FLOW_FORMAT_CSV, {{"a", true}, {"b", true}}, arena);
  std::string error;
  REQUIRE(decoder->input().open(path, error));
  REQUIRE(decoder->start());
  REQUIRE(decoder->read_range(0, 100));
  CHECK(decoder->next() == flow::DecodeStep::failed);
  CHECK(decoder->error().line == 2);
  CHECK(decoder->error().message ==
        "a quoted field holds a line break, so the file cannot be read in parts by parallel instances; run with "
        "--parallelism 1");
}

TEST_CASE("key ownership: the key groups an instance owns are one range, from first_group up to end_group") {
  for (int instances = 1; instances <= 128; ++instances)
    for (int instance = 0; instance < instances; ++instance) {
      flow::KeyOwnership owner{instance, instances};
      for (uint32_t group = 0; group < flow::kDefaultMaxParallelism; ++group) {
        CAPTURE(instances);
        CAPTURE(instance);
        CAPTURE(group);
        REQUIRE(owner.owns_group(group) == (owner.first_group() <= group && group < owner.end_group()));
      }
    }
}

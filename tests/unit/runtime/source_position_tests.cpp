// Source positions (issue 5: a checkpoint keeps where each source is): after any batch, a new
// decoder of the same file that resumes at the old one's position() returns exactly the rows,
// bad records and line numbers the old one returned after that batch, whatever the chunk size.
#include <doctest/doctest.h>

#include <memory>
#include <random>

#include "test_support.h"

namespace {

// One returned step as text: a batch's rows with their lines, or a bad record.
struct Steps {
  std::vector<std::string> text;
  std::vector<flow::SourcePosition> after;  // position() after each step (when resumable)
  std::vector<bool> resumable;
};

Steps decode_steps(flow::RecordDecoder& decoder, flow::Arena& arena) {
  Steps out;
  for (;;) {
    flow::DecodeStep step = decoder.next();
    if (step == flow::DecodeStep::end || step == flow::DecodeStep::failed) break;
    std::string s;
    if (step == flow::DecodeStep::bad_record) {
      s = "bad " + std::to_string(decoder.bad_record().line) + " " + decoder.bad_record().message;
    } else {
      const flow_batch& b = decoder.batch();
      for (int64_t r = 0; r < b.num_rows; ++r) {
        s += std::to_string(decoder.origin(r).line) + ":";
        for (int32_t f = 0; f < b.num_fields; ++f) {
          const flow_cell& c = b.cells[r * b.num_fields + f];
          s += "[" + std::string(c.ptr ? c.ptr : "", static_cast<std::size_t>(c.len)) + "]";
        }
        s += "\n";
      }
    }
    out.text.push_back(s);
    out.after.push_back(decoder.position());
    out.resumable.push_back(decoder.resumable());
    arena.reset();
  }
  return out;
}

std::unique_ptr<flow::RecordDecoder> open_decoder(int32_t format, const std::string& path,
                                                  std::vector<flow::SourceField> schema, flow::Arena& arena,
                                                  std::size_t chunk) {
  auto decoder = flow::make_decoder(format, std::move(schema), arena, {chunk, 3});
  std::string reason;
  REQUIRE(decoder->input().open(path, reason));
  REQUIRE(decoder->start());
  return decoder;
}

void check_resume(int32_t format, const std::string& content, std::vector<flow::SourceField> schema) {
  flow_test::TempDir dir;
  std::string path = dir.write("input", content);
  for (std::size_t chunk : {16, 40, 1 << 16}) {
    flow::Arena arena;
    auto whole = open_decoder(format, path, schema, arena, chunk);
    Steps all = decode_steps(*whole, arena);
    REQUIRE(all.text.size() > 3);
    int resumed = 0;
    for (std::size_t k = 0; k < all.text.size(); ++k) {
      if (!all.resumable[k]) continue;
      ++resumed;
      flow::Arena arena2;
      auto again = open_decoder(format, path, schema, arena2, chunk);
      REQUIRE(again->resume(all.after[k]));
      Steps rest = decode_steps(*again, arena2);
      // The resumed decoder may cut batches elsewhere; the rows, in order, are the same.
      std::string expected, got;
      for (std::size_t i = k + 1; i < all.text.size(); ++i) expected += all.text[i];
      for (const auto& s : rest.text) got += s;
      CAPTURE(chunk);
      CAPTURE(k);
      CHECK(got == expected);
    }
    CHECK(resumed > 2);
  }
}

}  // namespace

TEST_CASE("source positions: csv resumes after any batch, quoted newlines and bad records included") {
  std::string content = "id,text\n";
  for (int i = 0; i < 30; ++i) {
    content += std::to_string(i) + ",";
    content += i % 7 == 3 ? "\"two\nlines\"" : i % 5 == 4 ? "\"a,b\"" : "plain" + std::to_string(i);
    content += i % 11 == 6 ? ",extra\n" : "\n";  // an extra field: a bad record
  }
  check_resume(FLOW_FORMAT_CSV, content, flow_test::fields({"id", "text"}));
}

TEST_CASE("source positions: jsonl and text resume after any batch") {
  std::string jsonl, text;
  for (int i = 0; i < 30; ++i) {
    jsonl += i % 9 == 5 ? "{broken\n" : "{\"a\": " + std::to_string(i) + "}\n";
    text += "line " + std::to_string(i) + (i % 4 == 0 ? "\r\n" : "\n");
  }
  check_resume(FLOW_FORMAT_JSONL, jsonl, flow_test::fields({"a"}));
  check_resume(FLOW_FORMAT_TEXT, text, flow_test::fields({"line"}));
}

TEST_CASE("source positions: a position before the first record is refused") {
  flow_test::TempDir dir;
  std::string path = dir.write("input", "a,b\n1,2\n");
  flow::Arena arena;
  auto decoder = open_decoder(FLOW_FORMAT_CSV, path, flow_test::fields({"a", "b"}), arena, 1 << 16);
  CHECK(decoder->position() == flow::SourcePosition{4, 2});
  CHECK_FALSE(decoder->resume(flow::SourcePosition{2, 1}));
  CHECK(decoder->error().message == "cannot resume before the first record (offset 2)");
}

// CSV decoding: header matching, RFC 4180 quoting, line ends, records straddling read chunks,
// and bad records with their line numbers.
#include <doctest/doctest.h>

#include "io/csv_decoder.h"
#include "test_support.h"

using flow_test::decode_file;
using flow_test::fields;

TEST_CASE("csv: columns are matched by name, extra columns ignored") {
  flow_test::TempDir dir;
  auto path = dir.write("a.csv", "extra,price,name\nx,1.5,apple\ny,2,pear\n");
  auto d = decode_file(FLOW_FORMAT_CSV, path, fields({"name", "price"}));
  REQUIRE(d.started);
  REQUIRE(d.rows.size() == 2);
  CHECK(d.rows[0].cells[0].text == "apple");
  CHECK(d.rows[0].cells[1].text == "1.5");
  CHECK(d.rows[1].cells[0].text == "pear");
  CHECK(d.rows[1].cells[1].text == "2");
  CHECK(d.rows[0].line == 2);
  CHECK(d.rows[1].line == 3);
  CHECK(d.rows[0].raw == "x,1.5,apple");
}

TEST_CASE("csv: quoted fields with commas, doubled quotes and newlines inside") {
  flow_test::TempDir dir;
  auto path = dir.write("q.csv",
                        "a,b\n"
                        "\"x,y\",\"say \"\"hi\"\"\"\n"
                        "\"two\nlines\",\"\"\n"
                        ",plain\n");
  auto d = decode_file(FLOW_FORMAT_CSV, path, fields({"a", "b"}));
  REQUIRE(d.rows.size() == 3);
  CHECK(d.rows[0].cells[0].text == "x,y");
  CHECK(d.rows[0].cells[0].flags == FLOW_CELL_QUOTED);
  CHECK(d.rows[0].cells[1].text == "say \"hi\"");
  CHECK(d.rows[1].cells[0].text == "two\nlines");
  CHECK(d.rows[1].cells[1].text == "");
  CHECK(d.rows[1].cells[1].flags == FLOW_CELL_QUOTED);
  CHECK(d.rows[2].cells[0].text == "");
  CHECK(d.rows[2].cells[0].flags == 0);
  CHECK(d.rows[2].cells[1].text == "plain");
  // The record with the embedded newline starts on line 3 and the next one on line 5.
  CHECK(d.rows[1].line == 3);
  CHECK(d.rows[2].line == 5);
}

TEST_CASE("csv: CRLF line ends, a final line without newline, blank trailing line") {
  flow_test::TempDir dir;
  auto crlf = dir.write("crlf.csv", "a,b\r\n1,2\r\n\"q\",4\r\n5,6");
  auto d = decode_file(FLOW_FORMAT_CSV, crlf, fields({"a", "b"}));
  REQUIRE(d.rows.size() == 3);
  CHECK(d.rows[0].cells[1].text == "2");
  CHECK(d.rows[1].cells[0].text == "q");
  CHECK(d.rows[1].cells[1].text == "4");
  CHECK(d.rows[2].cells[1].text == "6");
  CHECK(d.rows[0].raw == "1,2");

  auto blank = dir.write("blank.csv", "a\n1\n2\n\n");
  auto b = decode_file(FLOW_FORMAT_CSV, blank, fields({"a"}));
  CHECK(b.rows.size() == 2);
  CHECK(b.bad.empty());
}

TEST_CASE("csv: records straddling tiny read chunks decode the same") {
  std::string content = "id,text,n\n";
  for (int i = 0; i < 200; ++i) {
    content += std::to_string(i) + ",\"hello, \"\"world\"\"\n" + std::string(i % 7, 'x') + "\"," +
               std::to_string(i * 3) + (i % 2 ? "\r\n" : "\n");
  }
  flow_test::TempDir dir;
  auto path = dir.write("big.csv", content);
  auto whole = decode_file(FLOW_FORMAT_CSV, path, fields({"id", "text", "n"}));
  for (std::size_t chunk : {16, 17, 31, 64, 100}) {
    CAPTURE(chunk);
    auto small = decode_file(FLOW_FORMAT_CSV, path, fields({"id", "text", "n"}), chunk, 7);
    REQUIRE(small.rows.size() == 200);
    CHECK(small.bad.empty());
    for (std::size_t i = 0; i < 200; ++i) {
      CHECK(small.rows[i].cells[0].text == std::to_string(i));
      CHECK(small.rows[i].cells[1].text == "hello, \"world\"\n" + std::string(i % 7, 'x'));
      CHECK(small.rows[i].cells[2].text == std::to_string(i * 3));
      CHECK(small.rows[i].line == whole.rows[i].line);
    }
  }
}

TEST_CASE("csv: a record larger than the buffer grows it") {
  std::string big(5000, 'z');
  flow_test::TempDir dir;
  auto path = dir.write("wide.csv", "a,b\n1," + big + "\n2,\"" + big + "\"\n");
  auto d = decode_file(FLOW_FORMAT_CSV, path, fields({"a", "b"}), 64);
  REQUIRE(d.rows.size() == 2);
  CHECK(d.rows[0].cells[1].text == big);
  CHECK(d.rows[1].cells[1].text == big);
}

TEST_CASE("csv: a schema field missing from the header is an error on line 1") {
  flow_test::TempDir dir;
  auto path = dir.write("m.csv", "name,qty\nx,1\n");
  auto d = decode_file(FLOW_FORMAT_CSV, path, fields({"name", "price"}));
  CHECK_FALSE(d.started);
  CHECK(d.error.line == 1);
  CHECK(d.error.message == "missing column `price`");
}

TEST_CASE("csv: an empty file has no header and is an error") {
  flow_test::TempDir dir;
  auto d = decode_file(FLOW_FORMAT_CSV, dir.write("e.csv", ""), fields({"a"}));
  CHECK_FALSE(d.started);
  CHECK(d.error.message.find("empty file") != std::string::npos);
}

TEST_CASE("csv: a header without data rows gives no rows") {
  flow_test::TempDir dir;
  auto d = decode_file(FLOW_FORMAT_CSV, dir.write("h.csv", "a,b"), fields({"a"}));
  CHECK(d.started);
  CHECK(d.rows.empty());
}

TEST_CASE("csv: a byte order mark before the header is ignored") {
  flow_test::TempDir dir;
  auto d = decode_file(FLOW_FORMAT_CSV, dir.write("bom.csv", "\xEF\xBB\xBFid\n7\n"), fields({"id"}));
  REQUIRE(d.started);
  REQUIRE(d.rows.size() == 1);
  CHECK(d.rows[0].cells[0].text == "7");
}

TEST_CASE("csv: wrong field counts are bad records with their line numbers, in order") {
  flow_test::TempDir dir;
  auto path = dir.write("bad.csv", "a,b,c\n1,2,3\n4,5\n6,7,8\n\"x\ny\",1\n9,9,9,9\n10,11,12\n");
  auto d = decode_file(FLOW_FORMAT_CSV, path, fields({"a", "c"}));
  REQUIRE(d.rows.size() == 3);
  REQUIRE(d.bad.size() == 3);
  CHECK(d.bad[0].line == 3);
  CHECK(d.bad[0].column == 1);
  CHECK(d.bad[0].message == "expected 3 fields, found 2");
  CHECK(d.bad_raw[0] == "4,5");
  CHECK(d.bad[1].line == 5);
  CHECK(d.bad_raw[1] == "\"x\ny\",1");
  CHECK(d.bad[2].line == 7);
  CHECK(d.bad[2].message == "expected 3 fields, found 4");
  CHECK(d.rows[2].cells[0].text == "10");
  CHECK(d.rows[2].line == 8);
}

TEST_CASE("csv: bad quoting is a bad record naming the column") {
  flow_test::TempDir dir;
  auto path = dir.write("quote.csv", "a,b\n1,\"x\"y\n2,\"open\n");
  auto d = decode_file(FLOW_FORMAT_CSV, path, fields({"a", "b"}));
  CHECK(d.rows.empty());
  REQUIRE(d.bad.size() == 2);
  CHECK(d.bad[0].line == 2);
  CHECK(d.bad[0].column == 6);
  CHECK(d.bad[0].message == "unexpected text after a closing quote");
  CHECK(d.bad[1].line == 3);
  CHECK(d.bad[1].column == 3);
  CHECK(d.bad[1].message == "unterminated quoted field");
}

TEST_CASE("csv: field positions point at the start of the field") {
  flow_test::TempDir dir;
  auto path = dir.write("pos.csv", "auction,price,ts\n1,2.0,5\n22,\"a\nbc\",\"abc\"\n");
  flow::Arena arena;
  auto decoder = flow::make_decoder(FLOW_FORMAT_CSV, fields({"auction", "price", "ts"}), arena);
  std::string reason;
  REQUIRE(decoder->input().open(path, reason));
  REQUIRE(decoder->start());
  REQUIRE(decoder->next() == flow::DecodeStep::batch);
  REQUIRE(decoder->batch().num_rows == 2);
  CHECK(decoder->field_position(0, 1).line == 2);
  CHECK(decoder->field_position(0, 1).column == 3);
  CHECK(decoder->field_position(1, 0).column == 1);
  CHECK(decoder->field_position(1, 1).line == 3);
  CHECK(decoder->field_position(1, 1).column == 4);
  // The third field starts on the record's second line.
  CHECK(decoder->field_position(1, 2).line == 4);
  CHECK(decoder->field_position(1, 2).column == 5);
}

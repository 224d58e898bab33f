// JSONL and text decoding: fields by name, null and absent fields, escapes, nested values,
// blank lines, and invalid lines as bad records.
#include <doctest/doctest.h>

#include "test_support.h"

using flow_test::decode_file;
using flow_test::fields;

TEST_CASE("jsonl: fields by name in any order; absent and null fields are NULL cells") {
  flow_test::TempDir dir;
  auto path = dir.write("a.jsonl",
                        "{\"b\": 2, \"a\": \"x\"}\n"
                        "{\"a\": null}\n"
                        "{\"a\": \"tab\\there \\u00e9\", \"b\": -1.5e3, \"c\": true}\n");
  auto d = decode_file(FLOW_FORMAT_JSONL, path, fields({"a", "b", "c"}));
  REQUIRE(d.rows.size() == 3);
  CHECK(d.bad.empty());
  CHECK(d.rows[0].cells[0].text == "x");
  CHECK(d.rows[0].cells[0].flags == FLOW_CELL_QUOTED);
  CHECK(d.rows[0].cells[1].text == "2");
  CHECK(d.rows[0].cells[1].flags == 0);
  CHECK(d.rows[0].cells[2].flags == FLOW_CELL_NULL);
  CHECK(d.rows[1].cells[0].flags == FLOW_CELL_NULL);
  CHECK(d.rows[1].cells[1].flags == FLOW_CELL_NULL);
  CHECK(d.rows[2].cells[0].text == "tab\there \xC3\xA9");
  CHECK(d.rows[2].cells[1].text == "-1.5e3");
  CHECK(d.rows[2].cells[2].text == "true");
  CHECK(d.rows[2].line == 3);
}

TEST_CASE("jsonl: objects and arrays are NESTED raw text") {
  flow_test::TempDir dir;
  auto path = dir.write("n.jsonl", "{\"a\": {\"x\": [1, 2]} , \"b\": [\"p\", {\"q\": 1}] }\n");
  auto d = decode_file(FLOW_FORMAT_JSONL, path, fields({"a", "b"}));
  REQUIRE(d.rows.size() == 1);
  CHECK(d.rows[0].cells[0].text == "{\"x\": [1, 2]}");
  CHECK(d.rows[0].cells[0].flags == FLOW_CELL_NESTED);
  CHECK(d.rows[0].cells[1].text == "[\"p\", {\"q\": 1}]");
}

TEST_CASE("jsonl: blank lines are skipped; invalid lines are bad records") {
  flow_test::TempDir dir;
  auto path = dir.write("bad.jsonl",
                        "{\"a\": 1}\n"
                        "\n"
                        "   \r\n"
                        "{\"a\": 2\n"
                        "[1, 2]\n"
                        "{\"a\": 3} trailing\n"
                        "{\"a\": tru}\n"
                        "{\"a\": 12x}\n"
                        "{\"a\": 4}\r\n");
  auto d = decode_file(FLOW_FORMAT_JSONL, path, fields({"a"}));
  REQUIRE(d.rows.size() == 2);
  CHECK(d.rows[0].cells[0].text == "1");
  CHECK(d.rows[1].cells[0].text == "4");
  CHECK(d.rows[1].line == 9);
  REQUIRE(d.bad.size() == 5);
  CHECK(d.bad[0].line == 4);
  CHECK(d.bad[0].message.rfind("invalid JSON: ", 0) == 0);
  CHECK(d.bad_raw[0] == "{\"a\": 2");
  CHECK(d.bad[1].line == 5);
  CHECK(d.bad[1].message == "expected a JSON object");
  CHECK(d.bad[2].line == 6);
  CHECK(d.bad[2].message.rfind("invalid JSON: ", 0) == 0);
  CHECK(d.bad[3].line == 7);
  CHECK(d.bad[4].line == 8);
}

TEST_CASE("jsonl: lines straddling tiny chunks; strings with escapes are copied out") {
  std::string content;
  for (int i = 0; i < 100; ++i)
    content += "{\"id\": " + std::to_string(i) + ", \"s\": \"q\\\"" + std::string(i % 5, 'w') + "\"}\n";
  flow_test::TempDir dir;
  auto path = dir.write("s.jsonl", content);
  auto d = decode_file(FLOW_FORMAT_JSONL, path, fields({"id", "s"}), 16, 5);
  REQUIRE(d.rows.size() == 100);
  for (int i = 0; i < 100; ++i) {
    CHECK(d.rows[i].cells[0].text == std::to_string(i));
    CHECK(d.rows[i].cells[1].text == "q\"" + std::string(i % 5, 'w'));
  }
}

TEST_CASE("text: every line is a record, LF or CRLF, last line without newline") {
  flow_test::TempDir dir;
  auto path = dir.write("t.txt", "one two\r\n\nthree\nlast");
  auto d = decode_file(FLOW_FORMAT_TEXT, path, fields({"line"}), 16, 2);
  REQUIRE(d.rows.size() == 4);
  CHECK(d.rows[0].cells[0].text == "one two");
  CHECK(d.rows[1].cells[0].text == "");
  CHECK(d.rows[2].cells[0].text == "three");
  CHECK(d.rows[3].cells[0].text == "last");
  CHECK(d.rows[3].line == 4);
  auto empty = decode_file(FLOW_FORMAT_TEXT, dir.write("e.txt", ""), fields({"line"}));
  CHECK(empty.rows.empty());
  auto newline_end = decode_file(FLOW_FORMAT_TEXT, dir.write("n.txt", "a\nb\n"), fields({"line"}));
  CHECK(newline_end.rows.size() == 2);
}

// A differential check of the streaming decoders: random inputs built from the characters that
// matter to each format must decode to the same rows, bad records and line numbers whatever
// the read chunk and batch sizes, so no record boundary depends on where a read ends.
#include <doctest/doctest.h>

#include <random>

#include "test_support.h"

namespace {

std::string random_text(std::mt19937& random, const std::string& alphabet, std::size_t length) {
  std::string text;
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  for (std::size_t i = 0; i < length; ++i) text += alphabet[pick(random)];
  return text;
}

// Everything observable about a decode, as one string.
std::string summary(const flow_test::Decoded& d) {
  std::string s = d.started ? "started\n" : "not started: " + d.error.message + "\n";
  for (const auto& row : d.rows) {
    s += std::to_string(row.line) + ":";
    for (const auto& cell : row.cells) s += "[" + cell.text + "|" + std::to_string(cell.flags) + "]";
    s += "\n";
  }
  for (std::size_t i = 0; i < d.bad.size(); ++i)
    s += "bad " + std::to_string(d.bad[i].line) + ":" + std::to_string(d.bad[i].column) + " " +
         d.bad[i].message + " <" + d.bad_raw[i] + ">\n";
  return s;
}

void check_chunk_independence(int32_t format, const std::string& alphabet, const std::string& header,
                              std::vector<flow::SourceField> schema) {
  std::mt19937 random(12345);
  flow_test::TempDir dir;
  for (int round = 0; round < 150; ++round) {
    std::string content = header + random_text(random, alphabet, 20 + round * 3);
    std::string path = dir.write("input", content);
    std::string expected = summary(flow_test::decode_file(format, path, schema, 1 << 16, 2048));
    for (std::size_t chunk : {16, 19, 33}) {
      for (std::size_t rows : {1, 3}) {
        CAPTURE(content);
        CAPTURE(chunk);
        CHECK(summary(flow_test::decode_file(format, path, schema, chunk, rows)) == expected);
      }
    }
  }
}

}  // namespace

TEST_CASE("csv: random inputs decode the same at every chunk size") {
  check_chunk_independence(FLOW_FORMAT_CSV, "ab,,\"\"\r\n\n", "a,b\n", flow_test::fields({"a", "b"}));
}

// Long unquoted lines with about five fields: most records take the 64-byte-block fast path
// (csv_plain_record.h) when the buffer is large and the general scanner when it is small.
TEST_CASE("csv: the plain-record fast path decodes like the general scanner") {
  check_chunk_independence(FLOW_FORMAT_CSV, "abcdefghijklmnopqrstuvwxyz0123456789,,,,\r\n", "a,b,c,d,e\n",
                           flow_test::fields({"a", "c", "e"}));
}

TEST_CASE("jsonl: random inputs decode the same at every chunk size") {
  check_chunk_independence(FLOW_FORMAT_JSONL, "{}\"a:1,\\ \n\r[]", "{\"a\": \"x\\\"y\"}\n",
                           flow_test::fields({"a"}));
}

TEST_CASE("text: random inputs decode the same at every chunk size") {
  check_chunk_independence(FLOW_FORMAT_TEXT, "ab \r\n\n", "", flow_test::fields({"line"}));
}

TEST_CASE("csv: the plain-record fast path strips CR of CRLF and keeps line numbers") {
  flow_test::TempDir dir;
  std::string content = "a,b,c,d,e\r\n";
  for (int i = 0; i < 40; ++i) content += "alpha" + std::to_string(i) + ",beta,gamma,delta,epsilon-" + std::to_string(i) + "\r\n";
  std::string path = dir.write("input", content);
  auto decoded = flow_test::decode_file(FLOW_FORMAT_CSV, path, flow_test::fields({"a", "e"}));
  REQUIRE(decoded.rows.size() == 40);
  CHECK(decoded.rows[0].cells[0].text == "alpha0");
  CHECK(decoded.rows[0].cells[1].text == "epsilon-0");
  CHECK(decoded.rows[39].cells[1].text == "epsilon-39");
  CHECK(decoded.rows[39].line == 41);
  CHECK(decoded.rows[7].raw == "alpha7,beta,gamma,delta,epsilon-7");
}

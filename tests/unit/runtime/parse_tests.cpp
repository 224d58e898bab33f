// flow_parse_*: the conversions of input cells and params, valid and invalid texts.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "flow/abi.h"

namespace {
bool parse_i64(const std::string& s, int64_t* v) { return flow_parse_i64(s.data(), s.size(), v); }
bool parse_f64(const std::string& s, double* v) { return flow_parse_f64(s.data(), s.size(), v); }
bool parse_ts(const std::string& s, int64_t* v) { return flow_parse_timestamp(s.data(), s.size(), v); }
bool parse_dur(const std::string& s, int64_t* v) { return flow_parse_duration(s.data(), s.size(), v); }
}  // namespace

TEST_CASE("parse i64 accepts signs and the full range, rejects overflow and spaces") {
  int64_t v = 0;
  CHECK(parse_i64("42", &v));
  CHECK(v == 42);
  CHECK(parse_i64("-7", &v));
  CHECK(v == -7);
  CHECK(parse_i64("+5", &v));
  CHECK(v == 5);
  CHECK(parse_i64("9223372036854775807", &v));
  CHECK(v == INT64_MAX);
  CHECK(parse_i64("-9223372036854775808", &v));
  CHECK(v == INT64_MIN);
  CHECK_FALSE(parse_i64("9223372036854775808", &v));
  CHECK_FALSE(parse_i64("-9223372036854775809", &v));
  CHECK_FALSE(parse_i64("", &v));
  CHECK_FALSE(parse_i64("-", &v));
  CHECK_FALSE(parse_i64(" 1", &v));
  CHECK_FALSE(parse_i64("1 ", &v));
  CHECK_FALSE(parse_i64("1.0", &v));
  CHECK_FALSE(parse_i64("abc", &v));
}

TEST_CASE("parse i64 of long numbers (read eight digits at a time) agrees with the digit-by-digit rule") {
  int64_t v = 0;
  // Every length from 1 to 18 digits, with each position in turn replaced by every non-digit
  // byte neighbouring the digits and by bytes whose nibbles look like digits.
  const std::string digits = "918273645546372819";
  for (std::size_t n = 1; n <= digits.size(); ++n) {
    std::string text = digits.substr(0, n);
    REQUIRE(parse_i64(text, &v));
    CHECK(v == std::stoll(text));
    REQUIRE(parse_i64("-" + text, &v));
    CHECK(v == -std::stoll(text));
    for (std::size_t at = 0; at < n; ++at)
      for (char bad : {'/', ':', ' ', '\x3f', '\x13', '\xf9', '\xfa', '\xff', '\x00'}) {
        std::string broken = text;
        broken[at] = bad;
        CAPTURE(broken);
        CHECK_FALSE(parse_i64(broken, &v));
      }
  }
  CHECK(parse_i64("1700000000123", &v));
  CHECK(v == 1700000000123);
  CHECK(parse_i64("00000000000000000000042", &v));  // leading zeros beyond 18 digits
  CHECK(v == 42);
}

TEST_CASE("parse f64 accepts decimals, exponents and integers, rejects inf and nan") {
  double v = 0;
  CHECK(parse_f64("3", &v));
  CHECK(v == 3.0);
  CHECK(parse_f64("0.1", &v));
  CHECK(v == 0.1);
  CHECK(parse_f64("-2.5e3", &v));
  CHECK(v == -2500.0);
  CHECK(parse_f64("+1.5", &v));
  CHECK(v == 1.5);
  CHECK(parse_f64(".5", &v));
  CHECK(v == 0.5);
  CHECK(parse_f64("-0", &v));
  CHECK(std::signbit(v));
  CHECK_FALSE(parse_f64("inf", &v));
  CHECK_FALSE(parse_f64("-inf", &v));
  CHECK_FALSE(parse_f64("nan", &v));
  CHECK_FALSE(parse_f64("1e400", &v));
  CHECK_FALSE(parse_f64("abc", &v));
  CHECK_FALSE(parse_f64("1.5x", &v));
  CHECK_FALSE(parse_f64("", &v));
  CHECK_FALSE(parse_f64(" 1", &v));
}

TEST_CASE("parse bool accepts true/false/1/0 only") {
  uint8_t v = 7;
  CHECK(flow_parse_bool("true", 4, &v));
  CHECK(v == 1);
  CHECK(flow_parse_bool("0", 1, &v));
  CHECK(v == 0);
  CHECK(flow_parse_bool("1", 1, &v));
  CHECK(v == 1);
  CHECK(flow_parse_bool("false", 5, &v));
  CHECK(v == 0);
  CHECK_FALSE(flow_parse_bool("yes", 3, &v));
  CHECK_FALSE(flow_parse_bool("TRUE", 4, &v));
  CHECK_FALSE(flow_parse_bool("", 0, &v));
}

TEST_CASE("parse timestamp: epoch milliseconds and ISO-8601 forms") {
  int64_t v = 0;
  CHECK(parse_ts("1700000000000", &v));
  CHECK(v == 1700000000000);
  CHECK(parse_ts("-1000", &v));
  CHECK(v == -1000);
  CHECK(parse_ts("2026-01-01T00:00:10Z", &v));
  CHECK(v == 1767225610000);
  CHECK(parse_ts("2026-01-01T00:00:10.250Z", &v));
  CHECK(v == 1767225610250);
  CHECK(parse_ts("2026-01-01 00:00:10", &v));
  CHECK(v == 1767225610000);
  CHECK(parse_ts("2026-01-01T01:00:10+01:00", &v));
  CHECK(v == 1767225610000);
  CHECK(parse_ts("2025-12-31T23:00:10-01:00", &v));
  CHECK(v == 1767225610000);
  CHECK(parse_ts("2026-01-01T00:00:10.5Z", &v));
  CHECK(v == 1767225610500);
  CHECK(parse_ts("1969-12-31T23:59:59.999Z", &v));
  CHECK(v == -1);
  CHECK(parse_ts("2024-02-29T00:00:00Z", &v));
  CHECK(parse_ts("2026-01-01", &v));
  CHECK(v == 1767225600000);
  CHECK_FALSE(parse_ts("2023-02-29T00:00:00Z", &v));
  CHECK_FALSE(parse_ts("2026-13-01T00:00:00Z", &v));
  CHECK_FALSE(parse_ts("2026-01-32T00:00:00Z", &v));
  CHECK_FALSE(parse_ts("2026-01-01T24:00:00Z", &v));
  CHECK_FALSE(parse_ts("2026-01-01T00:60:00Z", &v));
  CHECK_FALSE(parse_ts("2026-01-01T00:00:60Z", &v));
  CHECK_FALSE(parse_ts("2026-01-01T00:00:00+25:00", &v));
  CHECK_FALSE(parse_ts("2026-01-01T00:00:00Zjunk", &v));
  CHECK_FALSE(parse_ts("2026-1-1", &v));
  CHECK_FALSE(parse_ts("yesterday", &v));
  CHECK_FALSE(parse_ts("", &v));
}

TEST_CASE("parse duration: integer milliseconds and unit literals") {
  int64_t v = 0;
  CHECK(parse_dur("250", &v));
  CHECK(v == 250);
  CHECK(parse_dur("250ms", &v));
  CHECK(v == 250);
  CHECK(parse_dur("10s", &v));
  CHECK(v == 10000);
  CHECK(parse_dur("5m", &v));
  CHECK(v == 300000);
  CHECK(parse_dur("2h", &v));
  CHECK(v == 7200000);
  CHECK(parse_dur("1d", &v));
  CHECK(v == 86400000);
  CHECK(parse_dur("-5s", &v));
  CHECK(v == -5000);
  CHECK_FALSE(parse_dur("5 s", &v));
  CHECK_FALSE(parse_dur("5x", &v));
  CHECK_FALSE(parse_dur("s", &v));
  CHECK_FALSE(parse_dur("", &v));
  CHECK_FALSE(parse_dur("9223372036854775807d", &v));
}

TEST_CASE("string casts ignore surrounding spaces") {
  int64_t i = 0;
  double d = 0;
  CHECK(flow_str_to_i64(" 12 ", 4, &i));
  CHECK(i == 12);
  CHECK(flow_str_to_f64("\t1.5", 4, &d));
  CHECK(d == 1.5);
  CHECK_FALSE(flow_str_to_i64("1x", 2, &i));
}

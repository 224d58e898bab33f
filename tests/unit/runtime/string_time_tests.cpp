// String and time built-ins: UTF-8 length and substr, case mapping, split_words, string(x),
// date_trunc, format_time, year and hour (negative timestamps too), division by zero.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "exec/job_context.h"

namespace {

std::string str(const flow_str& s) { return std::string(s.ptr, static_cast<std::size_t>(s.len)); }

std::vector<std::string> split(flow_ctx& ctx, const std::string& text) {
  flow_list list;
  flow_split_words(&ctx, text.data(), static_cast<int64_t>(text.size()), &list);
  std::vector<std::string> words;
  auto* items = static_cast<const flow_str*>(list.data);
  for (int64_t i = 0; i < list.len; ++i) words.push_back(str(items[i]));
  return words;
}

std::string format(flow_ctx& ctx, int64_t ms, const std::string& fmt) {
  flow_str out;
  flow_time_format(&ctx, ms, fmt.data(), static_cast<int64_t>(fmt.size()), &out);
  return str(out);
}

int64_t trunc(const std::string& unit, int64_t ms) {
  int64_t out = -12345;
  REQUIRE(flow_time_trunc(unit.data(), static_cast<int64_t>(unit.size()), ms, &out));
  return out;
}

}  // namespace

TEST_CASE("strings: length and substr count code points") {
  std::string s = "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C";  // "héllo 世界"
  CHECK(flow_str_len(s.data(), static_cast<int64_t>(s.size())) == 8);
  flow_str out;
  flow_str_substr(s.data(), static_cast<int64_t>(s.size()), 1, 3, &out);
  CHECK(str(out) == "\xC3\xA9ll");
  flow_str_substr(s.data(), static_cast<int64_t>(s.size()), 6, -1, &out);
  CHECK(str(out) == "\xE4\xB8\x96\xE7\x95\x8C");
  flow_str_substr(s.data(), static_cast<int64_t>(s.size()), 7, 100, &out);
  CHECK(str(out) == "\xE7\x95\x8C");
  flow_str_substr(s.data(), static_cast<int64_t>(s.size()), 50, 2, &out);
  CHECK(out.len == 0);
  flow_str_substr(s.data(), static_cast<int64_t>(s.size()), -3, 1, &out);
  CHECK(str(out) == "h");
}

TEST_CASE("strings: lower, upper, concat, comparisons") {
  flow_ctx ctx;
  flow_str out;
  std::string mixed = "HeLLo \xC3\x89t\xC3\xA9 \xD0\x9F\xD1\x80\xD0\xB8";  // "HeLLo Été При"
  flow_str_lower(&ctx, mixed.data(), static_cast<int64_t>(mixed.size()), &out);
  CHECK(str(out) == "hello \xC3\xA9t\xC3\xA9 \xD0\xBF\xD1\x80\xD0\xB8");
  flow_str_upper(&ctx, mixed.data(), static_cast<int64_t>(mixed.size()), &out);
  CHECK(str(out) == "HELLO \xC3\x89T\xC3\x89 \xD0\x9F\xD0\xA0\xD0\x98");
  flow_str_concat(&ctx, "ab", 2, "cd", 2, &out);
  CHECK(str(out) == "abcd");
  CHECK(flow_str_contains("hello", 5, "ell", 3));
  CHECK(flow_str_contains("hello", 5, "", 0));
  CHECK_FALSE(flow_str_contains("hello", 5, "elk", 3));
  CHECK(flow_str_starts_with("hello", 5, "he", 2));
  CHECK_FALSE(flow_str_starts_with("he", 2, "hello", 5));
  CHECK(flow_str_equal("a", 1, "a", 1));
  CHECK_FALSE(flow_str_equal("a", 1, "ab", 2));
  CHECK(flow_str_compare("a", 1, "ab", 2) < 0);
  CHECK(flow_str_compare("b", 1, "ab", 2) > 0);
  CHECK(flow_str_compare("ab", 2, "ab", 2) == 0);
  CHECK(flow_str_compare("\xC3\xA9", 2, "z", 1) > 0);  // bytes, not locale
}

TEST_CASE("split_words: maximal runs of letters and digits, non-ASCII letters included") {
  flow_ctx ctx;
  CHECK(split(ctx, "Hello, world! 42 times") == std::vector<std::string>{"Hello", "world", "42", "times"});
  CHECK(split(ctx, "  --  ").empty());
  CHECK(split(ctx, "").empty());
  CHECK(split(ctx, "don't stop_me") == std::vector<std::string>{"don", "t", "stop", "me"});
  CHECK(split(ctx, "caf\xC3\xA9 na\xC3\xAFve") == std::vector<std::string>{"caf\xC3\xA9", "na\xC3\xAFve"});
  // Curly quotes, an em dash and a no-break space separate words; CJK and Cyrillic are letters.
  CHECK(split(ctx,
              "\xE2\x80\x9Cquoted\xE2\x80\x9D\xE2\x80\x94"
              "dash\xC2\xA0"
              "end") == std::vector<std::string>{"quoted", "dash", "end"});
  CHECK(split(ctx, "\xE4\xB8\x96\xE7\x95\x8C \xD0\xBC\xD0\xB8\xD1\x80") ==
        std::vector<std::string>{"\xE4\xB8\x96\xE7\x95\x8C", "\xD0\xBC\xD0\xB8\xD1\x80"});
  // Invalid UTF-8 bytes separate words instead of joining or crashing.
  CHECK(split(ctx,
              "ab\xFF"
              "cd\xC3") == std::vector<std::string>{"ab", "cd"});
}

TEST_CASE("string(x) of numbers, bools, timestamps and durations") {
  flow_ctx ctx;
  flow_str out;
  flow_i64_to_str(&ctx, -9223372036854775807 - 1, &out);
  CHECK(str(out) == "-9223372036854775808");
  flow_f64_to_str(&ctx, 3.0, &out);
  CHECK(str(out) == "3");
  flow_f64_to_str(&ctx, 0.1, &out);
  CHECK(str(out) == "0.1");
  flow_bool_to_str(&ctx, 1, &out);
  CHECK(str(out) == "true");
  flow_timestamp_to_str(&ctx, 1767225610250, &out);
  CHECK(str(out) == "2026-01-01T00:00:10.250Z");
  flow_duration_to_str(&ctx, 1500, &out);
  CHECK(str(out) == "1500");
  CHECK(flow_round(2.5) == 3.0);
  CHECK(flow_round(-2.5) == -3.0);
  CHECK(flow_round(1.4) == 1.0);
  CHECK(flow_hash_bytes("abc", 3) == flow_hash_bytes("abc", 3));
  CHECK(flow_hash_bytes("abc", 3) != flow_hash_bytes("abd", 3));
}

TEST_CASE("year and hour on UTC civil time, negative timestamps too") {
  CHECK(flow_time_year(0) == 1970);
  CHECK(flow_time_year(-1) == 1969);
  CHECK(flow_time_hour(-1) == 23);
  CHECK(flow_time_year(1767225610000) == 2026);
  CHECK(flow_time_hour(1767225610000) == 0);
  CHECK(flow_time_hour(1767225610000 + 13 * 3600000) == 13);
  CHECK(flow_time_year(951868800000) == 2000);  // 2000-03-01
  CHECK(flow_time_year(-62135596800000) == 1);
  CHECK(flow_time_year(-62135596800001) == 0);
}

TEST_CASE("date_trunc by second, minute, hour, day, month, year") {
  int64_t t = 1767312245678;  // 2026-01-02T00:04:05.678Z
  CHECK(trunc("second", t) == 1767312245000);
  CHECK(trunc("minute", t) == 1767312240000);
  CHECK(trunc("hour", t) == 1767312000000);
  CHECK(trunc("day", t) == 1767312000000);
  CHECK(trunc("month", t) == 1767225600000);
  CHECK(trunc("year", t) == 1767225600000);
  int64_t leap = 951868799999;                  // 2000-02-29T23:59:59.999Z
  CHECK(trunc("month", leap) == 949363200000);  // 2000-02-01
  CHECK(trunc("day", leap) == 951782400000);
  // Before the epoch truncation still goes down (toward the past).
  CHECK(trunc("second", -1) == -1000);
  CHECK(trunc("day", -1) == -86400000);
  CHECK(trunc("year", -1) == -31536000000);  // 1969-01-01
  int64_t out = 7;
  CHECK_FALSE(flow_time_trunc("week", 4, 0, &out));
  CHECK(out == 7);
}

TEST_CASE("format_time directives") {
  flow_ctx ctx;
  int64_t t = 1767312245678;  // 2026-01-02T00:04:05.678Z, a Friday
  CHECK(format(ctx, t, "%Y-%m-%d %H:%M:%S.%3f") == "2026-01-02 00:04:05.678");
  CHECK(format(ctx, t, "%a %b %j %% %q") == "Fri Jan 002 % %q");
  CHECK(format(ctx, -1, "%Y-%m-%dT%H:%M:%S") == "1969-12-31T23:59:59");
  CHECK(format(ctx, 951782400000, "%j %a") == "060 Tue");  // 2000-02-29
  CHECK(format(ctx, t, "trailing %") == "trailing %");
}

TEST_CASE("division by zero names the program, line and column") {
  flow::JobSpec spec;
  spec.program = "q1.flow";
  flow_ctx ctx;
  ctx.spec = &spec;
  CHECK(flow_fail_division_by_zero(&ctx, 7, 12) != 0);
  CHECK(ctx.failure.message == "q1.flow:7:12: division by zero");
}

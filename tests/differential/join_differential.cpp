// Differential test of stream joins: random two-input programs (interval joins, inner and
// left, negative bounds, a residual condition, null keys; tumbling and sliding window joins)
// run through `flowc run` and are compared with a nested-loop join straight from language.md:
// every pair of records with equal non-null keys whose times satisfy the bounds (or share a
// window), plus, for a left join, every left record that paired with nothing. Each input is
// out of order by less than its watermark lag, so no record is late and the joined multiset
// is exactly the reference's; output order is the engine's business, so lines are compared
// sorted.
//
//   flow_join_differential FLOWC [CASES] [SEED]
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "differential_support.h"

namespace {

using differential::floor_div;
using differential::read_file;
using differential::timestamp;
using differential::write_file;

constexpr int64_t kBase = 1767225600000;  // 2026-01-01T00:00:00Z

enum class Kind { Interval, Tumbling, Sliding };

struct Case {
  Kind kind = Kind::Interval;
  bool left_outer = false;
  bool residual = false;  // `and v.x >= x`
  int64_t lower = 0, upper = 0;  // interval
  int64_t size = 0, slide = 0;   // windows
  int64_t lag = 0;
};

struct Record {
  std::optional<int64_t> key;
  int64_t x, time;
};

// The starts of the windows holding t.
std::vector<int64_t> window_starts(const Case& c, int64_t t) {
  std::vector<int64_t> out;
  int64_t slide = c.kind == Kind::Tumbling ? c.size : c.slide;
  for (int64_t start = floor_div(t, slide) * slide; start > t - c.size; start -= slide) out.push_back(start);
  return out;
}

bool pairs(const Case& c, const Record& l, const Record& r) {
  if (!l.key || !r.key || *l.key != *r.key) return false;
  if (c.residual && !(r.x >= l.x)) return false;
  if (c.kind == Kind::Interval) return r.time >= l.time + c.lower && r.time <= l.time + c.upper;
  return false;  // windows: counted per shared window below
}

std::string line(const Record& l, const Record* r) {
  std::string key = l.key ? std::to_string(*l.key) : "";
  std::string out = key + "," + std::to_string(l.x) + "," + timestamp(l.time) + ",";
  out += r ? std::to_string(r->x) + "," + timestamp(r->time) : ",";
  return out;
}

std::vector<std::string> reference(const Case& c, const std::vector<Record>& left, const std::vector<Record>& right) {
  std::vector<std::string> out;
  for (const Record& l : left) {
    bool matched = false;
    for (const Record& r : right) {
      if (c.kind == Kind::Interval) {
        if (!pairs(c, l, r)) continue;
        matched = true;
        out.push_back(line(l, &r));
        continue;
      }
      if (!l.key || !r.key || *l.key != *r.key || (c.residual && !(r.x >= l.x))) continue;
      std::vector<int64_t> a = window_starts(c, l.time), b = window_starts(c, r.time);
      for (int64_t s : a)
        if (std::find(b.begin(), b.end(), s) != b.end()) out.push_back(line(l, &r));
    }
    if (c.left_outer && !matched) out.push_back(line(l, nullptr));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string program(const Case& c) {
  std::string lag = std::to_string(c.lag) + "ms";
  std::string clause = c.kind == Kind::Interval ? "within " + std::to_string(c.lower) + "ms .. " + std::to_string(c.upper) + "ms"
                       : c.kind == Kind::Tumbling ? "over tumbling(" + std::to_string(c.size) + "ms)"
                                                  : "over sliding(" + std::to_string(c.size) + "ms, every = " + std::to_string(c.slide) + "ms)";
  return "schema L { k: i64?, x: i64, ts: timestamp }\n"
         "schema R { k: i64?, x: i64, ts: timestamp }\n"
         "source ls: L = file(\"left.csv\", format = csv) time ts watermark lag " + lag + "\n"
         "source rs: R = file(\"right.csv\", format = csv) time ts watermark lag " + lag + "\n"
         "ls\n| " + std::string(c.left_outer ? "left " : "") + "join rs as v on k == v.k" + (c.residual ? " and v.x >= x" : "") +
         " " + clause + "\n"
         "| map { k, x, ts, vx = v.x, vts = v.ts }\n"
         "| sink file(\"out.csv\", format = csv)\n";
}

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string l;
  bool header = true;
  while (std::getline(in, l)) {
    if (header) {
      header = false;
      continue;
    }
    lines.push_back(l);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

Case random_case(std::mt19937_64& random) {
  Case c;
  c.kind = static_cast<Kind>(random() % 3);
  c.left_outer = c.kind == Kind::Interval && random() % 2 == 0;
  c.residual = random() % 3 == 0;
  static const int64_t bounds[][2] = {{0, 1000}, {-1000, 1000}, {-2500, -500}, {0, 0}, {300, 4000}, {-6000, 200}};
  const auto& bound = bounds[random() % 6];
  c.lower = bound[0];
  c.upper = bound[1];
  static const int64_t sizes[] = {1000, 2000, 3000};
  c.size = sizes[random() % 3];
  c.slide = c.size / (1 + static_cast<int64_t>(random() % 3));
  static const int64_t lags[] = {0, 400, 1500};
  c.lag = lags[random() % 3];
  return c;
}

// Mostly forward with jitter, never behind the largest time so far by more than the lag.
std::vector<Record> random_input(std::mt19937_64& random, const Case& c, int n, std::string& csv) {
  std::vector<Record> out;
  csv = "k,x,ts\n";
  int64_t largest = INT64_MIN;
  for (int j = 0; j < n; ++j) {
    int64_t t = kBase + j * 200 + static_cast<int64_t>(random() % 600);
    if (largest != INT64_MIN && t < largest - c.lag) t = largest - c.lag;
    largest = std::max(largest, t);
    Record r{random() % 12 == 0 ? std::nullopt : std::optional<int64_t>(static_cast<int64_t>(random() % 5)),
             static_cast<int64_t>(random() % 10), t};
    out.push_back(r);
    csv += (r.key ? std::to_string(*r.key) : "") + "," + std::to_string(r.x) + "," + std::to_string(r.time) + "\n";
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  differential::Setup setup;
  if (!differential::setup(argc, argv, 30, 20261202, "join", setup)) return 2;
  const int cases = setup.cases;
  const uint64_t seed = setup.seed;
  const std::string& dir = setup.dir;
  std::mt19937_64 random(seed);
  int failures = 0;
  for (int i = 0; i < cases && failures == 0; ++i) {
    Case c = random_case(random);
    std::string left_csv, right_csv;
    std::vector<Record> left = random_input(random, c, 20 + static_cast<int>(random() % 120), left_csv);
    std::vector<Record> right = random_input(random, c, 20 + static_cast<int>(random() % 120), right_csv);
    std::vector<std::string> expected = reference(c, left, right);
    write_file(dir + "/left.csv", left_csv);
    write_file(dir + "/right.csv", right_csv);
    write_file(dir + "/job.flow", program(c));
    std::remove((dir + "/out.csv").c_str());
    int status = differential::run_job(setup);
    std::string stderr_text = read_file(dir + "/stderr.txt");
    std::vector<std::string> got = sorted_lines(read_file(dir + "/out.csv"));
    if (status != 0 || got != expected || stderr_text.find("late record") != std::string::npos) {
      ++failures;
      std::string text;
      for (const std::string& l : expected) text += l + "\n";
      write_file(dir + "/expected_sorted.csv", text);
      std::printf("case %d (seed %llu) differs from the nested-loop join (%zu lines, expected %zu); files kept in %s\n%s\nstderr:\n%s",
                  i, static_cast<unsigned long long>(seed), got.size(), expected.size(), dir.c_str(), program(c).c_str(),
                  stderr_text.c_str());
    }
  }
  if (failures == 0) {
    std::printf("%d random join programs agree with the nested-loop join\n", cases);
    differential::remove_dir(setup);
  }
  return failures == 0 ? 0 : 1;
}

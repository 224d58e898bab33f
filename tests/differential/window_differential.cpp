// Differential test of windowed aggregation: random out-of-order inputs and random window
// programs run through `flowc run`, compared byte for byte with a slow reference that applies
// the rules of language.md ("Time, precisely" and section 4) literally: every record is kept,
// every window's content is recomputed from scratch when it fires, nothing is sliced, merged
// incrementally or freed.
//
//   flow_window_differential FLOWC [CASES] [SEED]
//
// On a mismatch it prints the program, and keeps the case's directory, so it can be rerun.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
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
constexpr int64_t kInfinity = INT64_MAX;

enum class Kind { Tumbling, Sliding, Cumulating, Session };

struct Case {
  Kind kind = Kind::Tumbling;
  int64_t size = 0, slide = 0;  // slide: every (sliding), step (cumulating); size: gap (session)
  int64_t lateness = 0, lag = 0;
  bool emit_final = false, late_stream = false;
};

struct Record {
  int64_t key, value, time, seq;
};

struct Window {
  int64_t start, end;
  bool operator<(const Window& o) const { return end != o.end ? end < o.end : start < o.start; }
};

// Every window holding t, straight from the definitions.
std::vector<Window> windows_of(const Case& c, int64_t t) {
  std::vector<Window> out;
  if (c.kind == Kind::Tumbling) {
    int64_t start = floor_div(t, c.size) * c.size;
    out.push_back({start, start + c.size});
  } else if (c.kind == Kind::Sliding) {
    for (int64_t start = floor_div(t, c.slide) * c.slide; start > t - c.size; start -= c.slide) out.push_back({start, start + c.size});
  } else {
    int64_t base = floor_div(t, c.size) * c.size;
    for (int64_t end = base + c.slide; end <= base + c.size; end += c.slide)
      if (end > t) out.push_back({base, end});
  }
  std::sort(out.begin(), out.end());
  return out;
}

// n, s, lo, f, l, d of the records (in arrival order).
std::string result(int64_t key, const Window& w, std::vector<Record> rows) {
  std::sort(rows.begin(), rows.end(), [](const Record& a, const Record& b) { return a.seq < b.seq; });
  int64_t sum = 0, low = rows[0].value;
  std::set<int64_t> distinct;
  for (const Record& r : rows) {
    sum += r.value;
    low = std::min(low, r.value);
    distinct.insert(r.value);
  }
  std::ostringstream line;
  line << key << ',' << timestamp(w.start) << ',' << timestamp(w.end) << ',' << rows.size() << ',' << sum << ',' << low << ','
       << rows.front().value << ',' << rows.back().value << ',' << distinct.size() << '\n';
  return line.str();
}

struct Expected {
  std::string output = "k,window_start,window_end,n,s,lo,f,l,d\n";
  std::string late = "k,v,ts\n";
  int64_t dropped = 0;
  void late_record(const Case& c, const Record& r) {
    if (!c.late_stream) {
      ++dropped;
      return;
    }
    late += std::to_string(r.key) + ',' + std::to_string(r.value) + ',' + timestamp(r.time) + '\n';
  }
};

Expected reference_slices(const Case& c, const std::vector<Record>& input) {
  Expected out;
  std::map<std::pair<Window, int64_t>, std::vector<Record>> content;  // by (window, key): end, start, key order
  int64_t w = INT64_MIN;
  auto due = [&](const Window& win) { return c.emit_final ? win.end + c.lateness : win.end; };
  auto fire_between = [&](int64_t from, int64_t to) {  // windows due in (from, to], by end then key
    for (const auto& [address, rows] : content)
      if (due(address.first) > from && due(address.first) <= to) out.output += result(address.second, address.first, rows);
  };
  for (const Record& r : input) {
    bool taken = false;
    for (const Window& win : windows_of(c, r.time)) {
      if (win.end + c.lateness <= w) continue;  // past its lateness: ignores the record
      taken = true;
      auto& rows = content[{win, r.key}];
      rows.push_back(r);
      if (!c.emit_final && win.end <= w) out.output += result(r.key, win, rows);  // fired already: again, at once
    }
    if (!taken) out.late_record(c, r);
    int64_t next = std::max(w, r.time - c.lag);
    if (next > w) fire_between(w, next);
    w = next;
  }
  fire_between(w, kInfinity);
  return out;
}

Expected reference_sessions(const Case& c, const std::vector<Record>& input) {
  struct Session {
    Window bounds;
    std::vector<Record> rows;
    bool fired;
  };
  Expected out;
  std::map<int64_t, std::vector<Session>> sessions;  // by key
  int64_t w = INT64_MIN;
  auto past = [&](const Session& s) { return s.bounds.end + c.lateness <= w; };
  for (const Record& r : input) {
    auto& list = sessions[r.key];
    list.erase(std::remove_if(list.begin(), list.end(), past), list.end());
    Window own{r.time, r.time + c.size};
    std::vector<Session> touching, others;
    for (Session& s : list) (s.bounds.start <= own.end && own.start <= s.bounds.end ? touching : others).push_back(s);
    if (touching.empty() && own.end + c.lateness <= w) {
      out.late_record(c, r);
    } else {
      Session merged{own, {r}, false};
      for (const Session& s : touching) {
        merged.bounds.start = std::min(merged.bounds.start, s.bounds.start);
        merged.bounds.end = std::max(merged.bounds.end, s.bounds.end);
        merged.rows.insert(merged.rows.end(), s.rows.begin(), s.rows.end());
      }
      // The same window as before (the record fell inside one session) keeps its firing.
      if (touching.size() == 1 && touching[0].bounds.start == merged.bounds.start && touching[0].bounds.end == merged.bounds.end)
        merged.fired = touching[0].fired;
      if (!c.emit_final && merged.bounds.end <= w) {
        merged.fired = true;
        out.output += result(r.key, merged.bounds, merged.rows);
      }
      others.push_back(merged);
      list = others;
    }
    int64_t next = std::max(w, r.time - c.lag);
    if (next > w) {
      // Sessions due by the new watermark, by end then key.
      std::vector<std::pair<std::pair<int64_t, int64_t>, Session*>> due;
      for (auto& [key, all] : sessions)
        for (Session& s : all) {
          int64_t at = c.emit_final ? s.bounds.end + c.lateness : s.bounds.end;
          if (!s.fired && at <= next) due.push_back({{s.bounds.end, key}, &s});
        }
      std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& [order, s] : due) {
        s->fired = true;
        out.output += result(order.second, s->bounds, s->rows);
      }
    }
    w = next;
  }
  std::vector<std::pair<std::pair<int64_t, int64_t>, Session*>> rest;
  for (auto& [key, all] : sessions)
    for (Session& s : all)
      if (!s.fired) rest.push_back({{s.bounds.end, key}, &s});
  std::sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, s] : rest) out.output += result(order.second, s->bounds, s->rows);
  return out;
}

std::string program(const Case& c) {
  std::string window = c.kind == Kind::Tumbling  ? "tumbling(" + std::to_string(c.size) + "ms)"
                       : c.kind == Kind::Sliding ? "sliding(" + std::to_string(c.size) + "ms, every = " + std::to_string(c.slide) + "ms)"
                       : c.kind == Kind::Session ? "session(gap = " + std::to_string(c.size) + "ms)"
                                                 : "cumulating(" + std::to_string(c.size) + "ms, step = " + std::to_string(c.slide) + "ms)";
  std::string text =
      "schema E { k: i64, v: i64, ts: timestamp }\n"
      "source e: E = file(\"in.csv\", format = csv) time ts watermark lag " + std::to_string(c.lag) + "ms\n"
      "e | aggregate by k over " + window + " late " + std::to_string(c.lateness) + "ms " +
      (c.late_stream ? "-> late_e" : "drop") + (c.emit_final ? " emit final" : "") +
      " { n = count(), s = sum(v), lo = min(v), f = first(v), l = last(v), d = count_distinct(v) }\n"
      "| sink file(\"out.csv\", format = csv)\n";
  if (c.late_stream) text += "late_e | sink file(\"late.csv\", format = csv)\n";
  return text;
}

Case random_case(std::mt19937_64& random) {
  Case c;
  c.kind = static_cast<Kind>(random() % 4);
  static const int64_t sizes[] = {1000, 2000, 3000, 4000, 6000};
  c.size = sizes[random() % 5];
  if (c.kind == Kind::Sliding) {
    static const int64_t slides[] = {500, 1000, 1500, 2000};
    c.slide = std::min(c.size, slides[random() % 4]);
  } else if (c.kind == Kind::Cumulating) {
    c.slide = c.size / (1 + static_cast<int64_t>(random() % 3));
    if (c.size % c.slide != 0) c.slide = c.size;
  }
  static const int64_t latenesses[] = {0, 0, 700, 2000, 5000};
  static const int64_t lags[] = {0, 300, 1000, 2500};
  c.lateness = latenesses[random() % 5];
  c.lag = lags[random() % 4];
  c.emit_final = random() % 3 == 0;
  c.late_stream = random() % 2 == 0;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  differential::Setup setup;
  if (!differential::setup(argc, argv, 40, 20261124, "window", setup)) return 2;
  const int cases = setup.cases;
  const uint64_t seed = setup.seed;
  const std::string& dir = setup.dir;
  std::mt19937_64 random(seed);
  int failures = 0;
  for (int i = 0; i < cases && failures == 0; ++i) {
    Case c = random_case(random);
    std::vector<Record> input;
    std::string csv = "k,v,ts\n";
    int n = 20 + static_cast<int>(random() % 150);
    for (int j = 0; j < n; ++j) {
      // Mostly forward in time with jitter; now and then far behind (late).
      int64_t jitter = static_cast<int64_t>(random() % 1200) - 900;
      if (random() % 10 == 0) jitter -= static_cast<int64_t>(random() % 8000);
      Record r{static_cast<int64_t>(random() % 4), static_cast<int64_t>(random() % 10), kBase + j * 250 + jitter, j};
      input.push_back(r);
      csv += std::to_string(r.key) + "," + std::to_string(r.value) + "," + std::to_string(r.time) + "\n";
    }
    Expected expected = c.kind == Kind::Session ? reference_sessions(c, input) : reference_slices(c, input);
    write_file(dir + "/in.csv", csv);
    write_file(dir + "/job.flow", program(c));
    std::remove((dir + "/out.csv").c_str());
    std::remove((dir + "/late.csv").c_str());
    int status = differential::run_job(setup);
    std::string stderr_text = read_file(dir + "/stderr.txt");
    std::string dropped_line = expected.dropped == 0 ? "" : std::to_string(expected.dropped) + " late record";
    bool ok = status == 0 && read_file(dir + "/out.csv") == expected.output &&
              (!c.late_stream || read_file(dir + "/late.csv") == expected.late) &&
              (expected.dropped == 0 ? stderr_text.find("late record") == std::string::npos
                                     : stderr_text.find(": " + dropped_line) != std::string::npos);
    if (!ok) {
      ++failures;
      std::printf("case %d (seed %llu) differs from the reference; files kept in %s\n%s", i,
                  static_cast<unsigned long long>(seed), dir.c_str(), program(c).c_str());
      write_file(dir + "/expected.csv", expected.output);
      write_file(dir + "/expected_late.csv", expected.late);
      std::printf("expected dropped: %lld; stderr:\n%s", static_cast<long long>(expected.dropped), stderr_text.c_str());
    }
  }
  if (failures == 0) {
    std::printf("%d random window programs agree with the reference\n", cases);
    differential::remove_dir(setup);
  }
  return failures == 0 ? 0 : 1;
}

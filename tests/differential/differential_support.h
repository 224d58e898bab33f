// What the differential tests share: their command line (FLOWC [CASES] [SEED]), a scratch
// directory, running `flowc run job.flow` there, files as strings, and time formatting.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "core/value_format.h"

namespace differential {

struct Setup {
  std::string flowc;
  int cases = 0;
  uint64_t seed = 0;
  std::string dir;  // a fresh scratch directory
};

// Parses FLOWC [CASES] [SEED] and makes the scratch directory; false after saying why.
inline bool setup(int argc, char** argv, int default_cases, uint64_t default_seed, const char* name, Setup& out) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FLOWC [CASES] [SEED]\n", argv[0]);
    return false;
  }
  out.flowc = argv[1];
  out.cases = argc > 2 ? std::atoi(argv[2]) : default_cases;
  out.seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : default_seed;
  std::string pattern = std::string("/tmp/flow-") + name + "-diff-XXXXXX";
  if (!mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    return false;
  }
  out.dir = pattern;
  return true;
}

// `flowc run job.flow` in the scratch directory, stdout and stderr to files there.
inline int run_job(const Setup& s) {
  std::string command = "cd " + s.dir + " && '" + s.flowc + "' run job.flow > stdout.txt 2> stderr.txt";
  return std::system(command.c_str());
}

inline void remove_dir(const Setup& s) { std::system(("rm -rf " + s.dir).c_str()); }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

inline std::string timestamp(int64_t ms) {
  char buffer[64];
  return std::string(buffer, flow::format_timestamp(buffer, ms));
}

inline int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace differential

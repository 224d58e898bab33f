// Small helpers shared by taking and restoring checkpoints (job_checkpoints.cpp, job_restore.cpp).
#pragma once

#include <cstdio>
#include <optional>
#include <string>

namespace flow {

// The file of operator `i` of a kind in a checkpoint: "window-3.state".
inline std::string numbered(const char* what, std::size_t i) { return std::string(what) + "-" + std::to_string(i) + ".state"; }

// A whole file, or nothing when it cannot be read.
inline std::optional<std::string> read_whole(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  std::string text;
  char buffer[1 << 16];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) text.append(buffer, n);
  std::fclose(f);
  return text;
}

}  // namespace flow

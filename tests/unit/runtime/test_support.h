// Helpers for the runtime unit tests: a temporary directory with files, and a decoder driver
// that collects every row and bad record of an input as strings.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/record_decoder.h"

namespace flow_test {

// A fresh directory under the system temp dir, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "flowrt-test-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data())) std::abort();
    path_ = buffer.data();
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(file(name), std::ios::binary) << content;
    return file(name);
  }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct DecodedCell {
  std::string text;
  int32_t flags;
};

struct DecodedRow {
  std::vector<DecodedCell> cells;
  int64_t line;
  std::string raw;
};

struct Decoded {
  bool started = false;
  flow::DecoderError error;  // from start() or a failed read
  std::vector<DecodedRow> rows;
  std::vector<flow::BadRecord> bad;  // raw copied into bad_raw
  std::vector<std::string> bad_raw;
  int batches = 0;
};

inline std::vector<flow::SourceField> fields(std::initializer_list<const char*> names) {
  std::vector<flow::SourceField> out;
  for (const char* n : names) out.push_back(flow::SourceField{n, true});
  return out;
}

// Decodes the whole file at `path` with the decoder for `format`.
inline Decoded decode_file(int32_t format, const std::string& path, std::vector<flow::SourceField> schema,
                           std::size_t chunk_size = 1 << 16, std::size_t max_rows = 2048) {
  Decoded result;
  flow::Arena arena;
  auto decoder = flow::make_decoder(format, std::move(schema), arena, {chunk_size, max_rows});
  std::string reason;
  if (!decoder->input().open(path, reason)) {
    result.error.message = reason;
    return result;
  }
  if (!decoder->start()) {
    result.error = decoder->error();
    return result;
  }
  result.started = true;
  for (;;) {
    flow::DecodeStep step = decoder->next();
    if (step == flow::DecodeStep::end) break;
    if (step == flow::DecodeStep::failed) {
      result.error = decoder->error();
      break;
    }
    if (step == flow::DecodeStep::bad_record) {
      result.bad.push_back(decoder->bad_record());
      result.bad_raw.emplace_back(decoder->bad_record().raw);
      continue;
    }
    ++result.batches;
    const flow_batch& batch = decoder->batch();
    for (int64_t r = 0; r < batch.num_rows; ++r) {
      DecodedRow row;
      for (int32_t f = 0; f < batch.num_fields; ++f) {
        const flow_cell& c = batch.cells[r * batch.num_fields + f];
        row.cells.push_back(DecodedCell{std::string(c.ptr ? c.ptr : "", c.len), c.flags});
      }
      row.line = decoder->origin(r).line;
      row.raw.assign(decoder->origin(r).raw, decoder->origin(r).raw_len);
      result.rows.push_back(std::move(row));
    }
    arena.reset();
  }
  return result;
}

}  // namespace flow_test

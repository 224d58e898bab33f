// CSV header matching and record decoding.
#include "io/csv_decoder.h"

#include "io/csv_plain_record.h"

#include <climits>
#include <cstring>
#include <string>
#include <string_view>

#include "io/csv_scanner.h"

namespace flow {

namespace {

// Copies a quoted field's text with each doubled quote reduced to one.
std::string_view undouble_quotes(Arena& arena, const char* text, std::size_t len) {
  char* out = arena.allocate(len);
  std::size_t n = 0;
  for (std::size_t i = 0; i < len; ++i) {
    out[n++] = text[i];
    if (text[i] == '"') ++i;  // the scanner guarantees the next byte is the second quote
  }
  return {out, n};
}

std::string header_name(const char* text, std::size_t len, bool doubled) {
  std::string name(text, len);
  if (doubled) {
    std::string undone;
    for (std::size_t i = 0; i < name.size(); ++i) {
      undone += name[i];
      if (name[i] == '"') ++i;
    }
    name = undone;
  }
  return name;
}

}  // namespace

bool CsvDecoder::start() { return read_header(); }

bool CsvDecoder::read_header() {
  std::vector<std::string> names;
  CsvRecordExtent extent;
  for (;;) {
    names.clear();
    const char* p = input_.data();
    const char* end = p + input_.size();
    if (input_.at_eof() && p == end) return fail("empty file: a CSV source needs a header row");
    CsvScan scan = scan_csv_record(
        p, end, input_.at_eof(),
        [&](int32_t, const char* text, std::size_t len, bool, bool doubled, const char*) {
          names.push_back(header_name(text, len, doubled));
        },
        extent);
    if (scan == CsvScan::complete) break;
    if (scan == CsvScan::malformed) return fail(std::string("header: ") + extent.problem, 1);
    if (!input_.fill(error_.message)) {
      error_.read_failed = true;
      return false;
    }
  }
  input_.consume(static_cast<std::size_t>(extent.end - input_.data()));
  line_ = 1 + extent.newlines;
  // A UTF-8 byte order mark is not part of the first name.
  if (!names.empty() && names[0].compare(0, 3, "\xEF\xBB\xBF") == 0) names[0].erase(0, 3);

  header_columns_ = static_cast<int32_t>(names.size());
  field_of_column_.assign(names.size(), -1);
  column_of_field_.assign(fields_.size(), -1);
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (names[c] == fields_[f].name) {
        column_of_field_[f] = static_cast<int32_t>(c);
        if (fields_[f].used) field_of_column_[c] = static_cast<int32_t>(f);
        break;
      }
    }
    if (column_of_field_[f] < 0) return fail("missing column `" + fields_[f].name + "`", 1);
  }
  return true;
}

// Plain records (one line, no quotes, every column) one after the other; a blank line, an
// unusual record or the last 64 bytes of the buffer stop the run.
int64_t CsvDecoder::decode_common(int64_t room) {
  if (input_.fills() != masks_fills_) {
    masks_ = CsvBlockMasks{};
    masks_fills_ = input_.fills();
  }
  const int32_t* field_of_column = field_of_column_.data();
  const int32_t known_columns = header_columns_;
  const char* p = input_.data();
  const char* end = p + input_.size();
  int64_t added = 0;
  while (added < room && p != end && *p != '\n' && *p != '\r') {
    const char* next = decode_plain_csv_record(p, end, known_columns, field_of_column, row_cells(), masks_);
    if (!next) break;
    const char* line_end = next - 1;
    if (line_end > p && line_end[-1] == '\r') --line_end;
    commit_row(RowOrigin{p, static_cast<int64_t>(line_end - p), line_++});
    p = next;
    ++added;
  }
  input_.consume(static_cast<std::size_t>(p - input_.data()));
  return added;
}

RecordDecoder::Outcome CsvDecoder::decode_one() {
  const char* p = input_.data();
  const char* end = p + input_.size();
  bool at_eof = input_.at_eof();
  if (p == end) return at_eof ? Outcome::end : Outcome::incomplete;
  // Blank lines carry no record.
  if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
    input_.consume(*p == '\n' ? 1 : 2);
    ++line_;
    return Outcome::skipped;
  }
  if (*p == '\r' && p + 1 == end) {
    if (!at_eof) return Outcome::incomplete;
    input_.consume(1);  // a lone CR closing the file is a line end, not a record
    return Outcome::skipped;
  }

  flow_cell* cells = row_cells();
  const int32_t* field_of_column = field_of_column_.data();
  const int32_t known_columns = header_columns_;
  bool too_long = false;
  CsvRecordExtent extent;
  CsvScan scan = scan_csv_record(
      p, end, at_eof,
      [&](int32_t column, const char* text, std::size_t len, bool quoted, bool doubled, const char*) {
        if (column >= known_columns) return;
        int32_t field = field_of_column[column];
        if (field < 0) return;
        if (len > INT32_MAX) too_long = true;
        flow_cell& cell = cells[field];
        if (doubled) {
          std::string_view undone = undouble_quotes(arena_, text, len);
          cell.ptr = undone.data();
          cell.len = static_cast<int32_t>(undone.size());
        } else {
          cell.ptr = text;
          cell.len = static_cast<int32_t>(len);
        }
        cell.flags = quoted ? FLOW_CELL_QUOTED : 0;
      },
      extent);
  if (scan == CsvScan::incomplete) return Outcome::incomplete;
  // A file read in parts is cut at line breaks: one inside a quoted field would cut a record.
  if (reads_parts_ && std::memchr(p, '\n', static_cast<std::size_t>(extent.raw_len)) != nullptr) {
    fail("a quoted field holds a line break, so the file cannot be read in parts by parallel instances; "
         "run with --parallelism 1",
         line_);
    return Outcome::failed;
  }

  RowOrigin origin{p, static_cast<int64_t>(extent.raw_len), line_};
  input_.consume(static_cast<std::size_t>(extent.end - p));
  line_ += extent.newlines;
  if (scan == CsvScan::malformed || extent.columns != header_columns_ || too_long) {
    bad_.line = origin.line;
    bad_.column = 1;
    bad_.raw = std::string_view(p, extent.raw_len);
    if (scan == CsvScan::malformed) {
      // Report the line and column where the quoting went wrong.
      for (const char* c = p; c < extent.problem_at; ++c) {
        if (*c == '\n') {
          ++bad_.line;
          bad_.column = 1;
        } else {
          ++bad_.column;
        }
      }
      bad_.message = extent.problem;
    } else if (too_long) {
      bad_.message = "field longer than 2 GiB";
    } else {
      bad_.message =
          "expected " + std::to_string(header_columns_) + " fields, found " + std::to_string(extent.columns);
    }
    return Outcome::bad;
  }
  commit_row(origin);
  return Outcome::row;
}

FieldPosition CsvDecoder::field_position(int64_t row, int32_t field) const {
  const RowOrigin& o = origin(row);
  if (field < 0 || static_cast<std::size_t>(field) >= column_of_field_.size()) return {o.line, 1};
  int32_t wanted = column_of_field_[static_cast<std::size_t>(field)];
  const char* field_start = o.raw;
  CsvRecordExtent extent;
  scan_csv_record(
      o.raw, o.raw + o.raw_len, true,
      [&](int32_t column, const char*, std::size_t, bool, bool, const char* start) {
        if (column == wanted) field_start = start;
      },
      extent);
  FieldPosition position{o.line, 1};
  for (const char* c = o.raw; c < field_start; ++c) {
    if (*c == '\n') {
      ++position.line;
      position.column = 1;
    } else {
      ++position.column;
    }
  }
  return position;
}

}  // namespace flow

// scan_csv_record: finds the fields of one RFC 4180 record at the front of a buffer. Shared by
// the header reader, the row decoder and the error reporter (which rescans a record to find
// where a field starts). Header-only so the field callback inlines into the hot loop.
#pragma once

#include <cstdint>
#include <cstring>

namespace flow {

// The first `,` or LF at or after q (or end): eight bytes at a time, since unquoted fields
// are the common case and this loop is where CSV decoding spends its time. The lowest flagged
// byte of the zero-byte test is always exact, so the first match is found.
inline const char* find_unquoted_field_end(const char* q, const char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
  while (end - q >= 8) {
    uint64_t word;
    std::memcpy(&word, q, 8);
    uint64_t comma = word ^ (kOnes * ','), newline = word ^ (kOnes * '\n');
    uint64_t found = ((comma - kOnes) & ~comma & kHighs) | ((newline - kOnes) & ~newline & kHighs);
    if (found) return q + (__builtin_ctzll(found) >> 3);
    q += 8;
  }
  while (q < end && *q != ',' && *q != '\n') ++q;
  return q;
}

enum class CsvScan {
  complete,    // a whole record; `end` is past its line end
  incomplete,  // the buffer ends inside the record and more input may follow
  malformed,   // bad quoting; `end` is past the line where the problem was found
};

struct CsvRecordExtent {
  const char* end = nullptr;         // first byte after the record and its line end
  std::size_t raw_len = 0;           // the record's length without its line end
  int32_t columns = 0;               // number of fields
  int64_t newlines = 0;              // line ends consumed, the final one included
  const char* problem_at = nullptr;  // for malformed: where the bad quoting starts
  const char* problem = nullptr;     // for malformed: what is wrong
};

// Scans the record starting at p. on_field(column, text, length, quoted, has_doubled_quotes,
// field_start) is called once per field; `text` excludes the quotes, `field_start` is where the
// field begins in the buffer (its opening quote if quoted). At end of input (at_eof) the last
// record may lack a line end. A line end is LF or CRLF.
template <class OnField>
CsvScan scan_csv_record(const char* p, const char* end, bool at_eof, OnField&& on_field,
                        CsvRecordExtent& out) {
  const char* record_start = p;
  int32_t column = 0;
  int64_t newlines = 0;
  for (;;) {
    if (p < end && *p == '"') {
      const char* field_start = p;
      const char* q = p + 1;
      bool doubled = false;
      for (;;) {
        q = static_cast<const char*>(std::memchr(q, '"', static_cast<std::size_t>(end - q)));
        if (!q) {
          if (!at_eof) return CsvScan::incomplete;
          out.problem_at = field_start;
          out.problem = "unterminated quoted field";
          out.end = end;
          out.raw_len = static_cast<std::size_t>(end - record_start);
          out.newlines = newlines;
          return CsvScan::malformed;
        }
        if (q + 1 == end && !at_eof) return CsvScan::incomplete;  // maybe a doubled quote
        if (q + 1 < end && q[1] == '"') {
          doubled = true;
          q += 2;
          continue;
        }
        break;
      }
      for (const char* c = field_start + 1; c < q; ++c) newlines += *c == '\n';
      on_field(column++, field_start + 1, static_cast<std::size_t>(q - field_start - 1), true, doubled,
               field_start);
      p = q + 1;
      if (p == end) {  // at_eof here: the last record of the file
        out.end = p;
        out.raw_len = static_cast<std::size_t>(p - record_start);
        break;
      }
      if (*p == ',') {
        ++p;
        continue;
      }
      if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
        out.raw_len = static_cast<std::size_t>(p - record_start);
        out.end = p + (*p == '\r' ? 2 : 1);
        ++newlines;
        break;
      }
      if (*p == '\r' && p + 1 == end) {
        if (!at_eof) return CsvScan::incomplete;
        out.raw_len = static_cast<std::size_t>(p - record_start);
        out.end = end;
        break;
      }
      // Text after a closing quote: skip to the end of the line and report the record.
      const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
      if (!nl && !at_eof) return CsvScan::incomplete;
      const char* line_end = nl ? static_cast<const char*>(nl) : end;
      out.problem_at = p;
      out.problem = "unexpected text after a closing quote";
      out.raw_len = static_cast<std::size_t>(line_end - record_start);
      if (nl && out.raw_len > 0 && line_end[-1] == '\r') --out.raw_len;
      out.end = nl ? line_end + 1 : end;
      out.newlines = newlines + (nl ? 1 : 0);
      out.columns = column;
      return CsvScan::malformed;
    }
    // An unquoted field runs to the next comma or line end.
    const char* q = find_unquoted_field_end(p, end);
    if (q == end && !at_eof) return CsvScan::incomplete;
    if (q < end && *q == ',') {
      on_field(column++, p, static_cast<std::size_t>(q - p), false, false, p);
      p = q + 1;
      continue;
    }
    const char* field_end = (q > p && q[-1] == '\r') ? q - 1 : q;
    on_field(column++, p, static_cast<std::size_t>(field_end - p), false, false, p);
    out.raw_len = static_cast<std::size_t>(field_end - record_start);
    if (q < end) {
      out.end = q + 1;
      ++newlines;
    } else {
      out.end = end;
    }
    break;
  }
  out.columns = column;
  out.newlines = newlines;
  return CsvScan::complete;
}

}  // namespace flow

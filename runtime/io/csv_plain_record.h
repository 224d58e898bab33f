// decode_plain_csv_record: the fast path of CSV decoding for the common record, one line with
// no quotes. It finds separators 64 bytes at a time (SSE2 compares turned into bit masks) and
// walks the mask with count-trailing-zeros, so field lengths cost no branch mispredictions.
// Anything unusual (a quote, a line longer than the buffered input, the wrong number of fields)
// is left to the general RFC 4180 scanner in csv_scanner.h.
#pragma once

#include <emmintrin.h>

#include <cstdint>

#include "flow/abi.h"

namespace flow {

namespace csv_detail {

// Bit i set where block[i] == c, for 64 bytes.
inline uint64_t match_mask(const __m128i (&chunks)[4], char c) {
  const __m128i needle = _mm_set1_epi8(c);
  uint64_t mask = 0;
  for (int i = 0; i < 4; ++i)
    mask |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunks[i], needle)))) << (16 * i);
  return mask;
}

}  // namespace csv_detail

// The separator masks of one 64-byte block, kept from one record to the next: short records
// share a block, so each byte is compared once rather than once per record touching it.
struct CsvBlockMasks {
  const char* block = nullptr;  // none yet
  uint64_t newlines = 0;
  uint64_t quotes = 0;
  uint64_t commas = 0;

  void scan(const char* at) {
    __m128i chunks[4];
    for (int i = 0; i < 4; ++i) chunks[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + 16 * i));
    block = at;
    newlines = csv_detail::match_mask(chunks, '\n');
    quotes = csv_detail::match_mask(chunks, '"');
    commas = csv_detail::match_mask(chunks, ',');
  }
  bool holds(const char* p) const { return block != nullptr && p >= block && p < block + 64; }
};

// Decodes the record at p if it is plain: fills cells[field_of_column[c]] for the columns
// c < columns that are read, and returns the first byte after the line end. Returns nullptr
// (having possibly written some cells, which the caller overwrites) when the record needs the
// general scanner. Needs 64 readable bytes from every block start it scans, so it gives up
// within 64 bytes of `end`. `masks` carries the last block scanned to the next call; the caller
// clears it when the bytes under it change (a refill).
[[gnu::always_inline]] inline const char* decode_plain_csv_record(const char* p, const char* end, int32_t columns,
                                           const int32_t* field_of_column, flow_cell* cells, CsvBlockMasks& masks) {
  const char* field = p;
  int32_t column = 0;
  auto emit = [&](const char* field_end) {
    if (column < columns) {
      int32_t index = field_of_column[column];
      if (index >= 0) cells[index] = flow_cell{field, static_cast<int32_t>(field_end - field), 0};
    }
    ++column;
  };
  if (!masks.holds(p)) {
    if (end - p < 64) return nullptr;
    masks.scan(p);
  }
  // Bytes of the block before p belong to earlier records.
  uint64_t from_p = ~uint64_t{0} << (p - masks.block);
  uint64_t newlines = masks.newlines & from_p;
  uint64_t quotes = masks.quotes & from_p;
  uint64_t commas = masks.commas & from_p;
  for (;;) {
    const char* block = masks.block;
    uint64_t in_record = newlines ? (newlines & (0 - newlines)) - 1 : ~uint64_t{0};
    if (quotes & in_record) return nullptr;
    for (commas &= in_record; commas; commas &= commas - 1) {
      const char* comma = block + __builtin_ctzll(commas);
      emit(comma);
      field = comma + 1;
    }
    if (newlines) {
      const char* newline = block + __builtin_ctzll(newlines);
      const char* line_end = (newline > field && newline[-1] == '\r') ? newline - 1 : newline;
      emit(line_end);
      return column == columns ? newline + 1 : nullptr;
    }
    if (end - (block + 64) < 64 || block + 64 - p > (1 << 20)) return nullptr;
    masks.scan(block + 64);
    newlines = masks.newlines;
    quotes = masks.quotes;
    commas = masks.commas;
  }
}

}  // namespace flow

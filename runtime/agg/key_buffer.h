// flow_key_buf: scratch space where generated code encodes one aggregate key as a
// memcomparable byte string (sorting the bytes with memcmp sorts the keys by value).
#pragma once

#include <cstdint>
#include <vector>

#include "flow/abi.h"

struct flow_key_buf {
  std::vector<uint8_t> bytes;
};

namespace flow {

// The encodings, also used directly by tests:
//  - i64: 8 bytes big-endian with the sign bit flipped;
//  - f64: the IEEE bits, all flipped for negatives and only the sign bit for positives, so the
//    integers order like the doubles; -0.0 is stored as 0.0 and every NaN as one NaN (last);
//  - bool: one byte 0 or 1;
//  - string: the bytes with 0x00 written as 0x00 0xFF, then the terminator 0x00 0x00, so that
//    a prefix sorts first and no key is a prefix of another;
//  - a nullable part starts with 0x00 (null, nothing follows) or 0x01 (a value follows).
void append_key_u64(std::vector<uint8_t>& out, uint64_t bits);

}  // namespace flow

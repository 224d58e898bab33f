// mix64: the 64-bit finaliser of MurmurHash3, used by the runtime's hash tables to spread
// nearby integers (ids, short encoded keys) over their slots.
#pragma once

#include <cstdint>

namespace flow {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace flow

// CRC-32C: a byte-wise table (reflected polynomial 0x82F63B78) and, where the CPU supports
// SSE 4.2, its crc32 instruction eight bytes at a time. Both give the same value.
#include "checkpoint/crc32c.h"

#include <array>
#include <cstring>

namespace flow {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kTable = make_table();

uint32_t extend_portable(uint32_t state, const uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) state = kTable[(state ^ p[i]) & 0xFF] ^ (state >> 8);
  return state;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t state, const uint8_t* p, std::size_t n) {
  uint64_t s = state;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    s = __builtin_ia32_crc32di(s, word);
  }
  uint32_t s32 = static_cast<uint32_t>(s);
  for (; n > 0; --n, ++p) s32 = __builtin_ia32_crc32qi(s32, *p);
  return s32;
}
#endif

}  // namespace

uint32_t crc32c_extend(uint32_t crc, const void* data, std::size_t n) {
  auto* p = static_cast<const uint8_t*>(data);
  uint32_t state = ~crc;
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return ~extend_sse42(state, p, n);
#endif
  return ~extend_portable(state, p, n);
}

}  // namespace flow

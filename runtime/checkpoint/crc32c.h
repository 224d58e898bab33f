// CRC-32C (Castagnoli), the checksum of checkpoint files: the same polynomial RocksDB and
// ext4 use, computed with the SSE 4.2 instruction when the CPU has it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace flow {

// Extends `crc` (0 to start) over n bytes.
uint32_t crc32c_extend(uint32_t crc, const void* data, std::size_t n);
inline uint32_t crc32c(const void* data, std::size_t n) { return crc32c_extend(0, data, n); }

}  // namespace flow

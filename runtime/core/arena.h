// Arena: a bump allocator for short-lived strings (the per-call arena, reset after every call
// into generated code) and for long-lived copies (keys and strings owned by an aggregate table).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "flow/abi.h"

namespace flow {

class Arena {
 public:
  explicit Arena(std::size_t block_size = 64 * 1024) : block_size_(block_size), max_block_size_(block_size) {}
  // Blocks start at `first_block` bytes and double up to `max_block`: an arena that may stay
  // small (a window slice's rows) costs little, one that grows needs few blocks.
  Arena(std::size_t first_block, std::size_t max_block) : block_size_(first_block), max_block_size_(max_block) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // `n` bytes aligned to `align` (a power of two); stable until reset().
  char* allocate(std::size_t n, std::size_t align = 1) {
    std::size_t start = (position_ + (align - 1)) & ~(align - 1);
    if (current_ < blocks_.size() && start + n <= blocks_[current_].size) {
      position_ = start + n;
      return blocks_[current_].data.get() + start;
    }
    return allocate_slow(n, align);
  }

  std::string_view copy(const char* p, std::size_t n) {
    char* out = allocate(n);
    if (n != 0) std::memcpy(out, p, n);
    return {out, n};
  }

  // Forgets every allocation but keeps the blocks for reuse, so a steady state allocates
  // nothing.
  void reset() {
    current_ = 0;
    position_ = 0;
  }

  std::size_t bytes_reserved() const;

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size;
  };
  char* allocate_slow(std::size_t n, std::size_t align);

  std::size_t block_size_;  // of the next new block
  std::size_t max_block_size_;
  std::vector<Block> blocks_;
  std::size_t current_ = 0;   // block being filled
  std::size_t position_ = 0;  // next free byte in that block
};

// The per-call arena of a running job (defined by the job context in runtime/exec).
Arena& call_arena(flow_ctx* ctx);

inline void set_str(flow_str* out, std::string_view s) {
  out->ptr = s.data();
  out->len = static_cast<int64_t>(s.size());
}

}  // namespace flow

// Arena's slow path: moving on to the next block, reusing blocks kept from before a reset.
#include "core/arena.h"

namespace flow {

char* Arena::allocate_slow(std::size_t n, std::size_t align) {
  // Walk to the next kept block that is large enough; blocks too small for this request stay
  // in the list and are reused after the next reset.
  std::size_t need = n + align;
  std::size_t next = blocks_.empty() ? 0 : current_ + 1;
  while (next < blocks_.size() && blocks_[next].size < need) ++next;
  if (next >= blocks_.size()) {
    std::size_t size = need > block_size_ ? need : block_size_;
    blocks_.push_back(Block{std::unique_ptr<char[]>(new char[size]), size});
    if (block_size_ < max_block_size_) block_size_ = block_size_ * 2 < max_block_size_ ? block_size_ * 2 : max_block_size_;
    next = blocks_.size() - 1;
  }
  if (next != current_ + 1 && current_ + 1 < blocks_.size()) {
    // Keep blocks in fill order: the chosen one becomes the next to fill.
    std::swap(blocks_[current_ + 1], blocks_[next]);
    next = current_ + 1;
  }
  current_ = next;
  auto base = reinterpret_cast<std::uintptr_t>(blocks_[current_].data.get());
  std::size_t start = ((base + align - 1) & ~(std::uintptr_t(align) - 1)) - base;
  position_ = start + n;
  return blocks_[current_].data.get() + start;
}

std::size_t Arena::bytes_reserved() const {
  std::size_t total = 0;
  for (const Block& b : blocks_) total += b.size;
  return total;
}

}  // namespace flow

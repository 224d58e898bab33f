// InputBuffer: chunked reading with read(2), no per-record copies.
#include "io/input_buffer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

namespace flow {

InputBuffer::InputBuffer(std::size_t chunk_size) : chunk_size_(chunk_size < 16 ? 16 : chunk_size) {}

InputBuffer::~InputBuffer() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

bool InputBuffer::open(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    error = std::strerror(EISDIR);
    return false;
  }
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  fd_ = fd;
  owns_fd_ = true;
  return true;
}

void InputBuffer::adopt(int fd) {
  fd_ = fd;
  owns_fd_ = false;
}

bool InputBuffer::seek(uint64_t offset, std::string& error) {
  if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
    error = std::strerror(errno);
    return false;
  }
  ++fills_;  // pointers into the old contents are stale
  begin_ = end_ = 0;
  eof_ = false;
  read_total_ = offset;
  return true;
}

void InputBuffer::limit(uint64_t end) {
  limit_ = end;
  if (read_total_ <= end) return;
  uint64_t past = std::min<uint64_t>(read_total_ - end, size());
  end_ -= static_cast<std::size_t>(past);
  read_total_ -= past;
  eof_ = true;
  ++fills_;  // what was derived from the cut bytes (the CSV decoder's masks) is stale
  if (buffer_) std::memset(buffer_.get() + end_, 0, kPadding);
}

int64_t InputBuffer::line_breaks_before(uint64_t offset) const {
  std::unique_ptr<char[]> block(new char[1 << 16]);
  int64_t breaks = 0;
  for (uint64_t at = 0; at < offset;) {
    std::size_t want = static_cast<std::size_t>(std::min<uint64_t>(1 << 16, offset - at));
    ssize_t n = ::pread(fd_, block.get(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    breaks += std::count(block.get(), block.get() + n, '\n');
    at += static_cast<uint64_t>(n);
  }
  return breaks;
}

bool InputBuffer::fill(std::string& error) {
  if (eof_) return true;
  ++fills_;
  std::size_t pending = size();
  if (buffer_ && begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, pending);
  }
  begin_ = 0;
  end_ = pending;
  // Keep at least half a chunk of room to read into: the buffer only grows when one record
  // fills more than half of it.
  std::size_t capacity = capacity_ == 0 ? chunk_size_ : capacity_;
  while (capacity - pending < chunk_size_ / 2) capacity *= 2;
  if (capacity != capacity_) {
    std::unique_ptr<char[]> bigger(new char[capacity + kPadding]);
    if (pending) std::memcpy(bigger.get(), buffer_.get(), pending);
    buffer_ = std::move(bigger);
    capacity_ = capacity;
  }
  // Reads end at file offsets that are multiples of half a chunk, wherever reading started:
  // then a source resumed from a checkpoint cuts its batches where the uninterrupted run did
  // (a batch ends where the buffer does), and several sources interleave the same way.
  std::size_t half = chunk_size_ / 2;
  std::size_t to_boundary = static_cast<std::size_t>(half - read_total_ % half);
  std::size_t room = std::min(capacity_ - end_, to_boundary);
  if (read_total_ >= limit_) room = 0;
  else room = static_cast<std::size_t>(std::min<uint64_t>(room, limit_ - read_total_));
  while (true) {
    ssize_t n = ::read(fd_, buffer_.get() + end_, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      return false;
    }
    if (n == 0) eof_ = true;
    end_ += static_cast<std::size_t>(n);
    read_total_ += static_cast<uint64_t>(n);
    break;
  }
  std::memset(buffer_.get() + end_, 0, kPadding);
  return true;
}

}  // namespace flow

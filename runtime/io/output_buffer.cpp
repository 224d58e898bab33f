// OutputBuffer: buffered writes with write(2).
#include "io/output_buffer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "checkpoint/crc32c.h"

namespace flow {

OutputBuffer::OutputBuffer(std::size_t capacity)
    : data_(new char[capacity < 64 ? 64 : capacity]), capacity_(capacity < 64 ? 64 : capacity) {}

OutputBuffer::~OutputBuffer() { close(); }

bool OutputBuffer::open_file(const std::string& path, std::string& error) {
  if (!close()) {
    error = error_;
    return false;
  }
  written_ = 0;
  checksum_ = 0;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  fd_ = fd;
  owns_fd_ = true;
  return true;
}

bool OutputBuffer::resume_file(const std::string& path, uint64_t length, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) < length) {
    error = "it has " + std::to_string(st.st_size) + " bytes, fewer than the " + std::to_string(length) +
            " the checkpoint counted: it was changed since";
    ::close(fd);
    return false;
  }
  if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(length)) != 0 || ::lseek(fd, 0, SEEK_END) < 0) {
    error = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  fd_ = fd;
  owns_fd_ = true;
  written_ = length;
  return true;
}

bool OutputBuffer::sync() {
  if (!flush()) return false;
  if (owns_fd_ && fd_ >= 0 && ::fsync(fd_) != 0) {
    error_ = std::strerror(errno);
    return false;
  }
  return true;
}

void OutputBuffer::use_fd(int fd) {
  fd_ = fd;
  owns_fd_ = false;
}

void OutputBuffer::make_room(std::size_t n) {
  if (!deliver_) {
    flush();
    return;
  }
  std::size_t capacity = capacity_;
  while (capacity - used_ < n) capacity *= 2;
  std::unique_ptr<char[]> bigger(new char[capacity]);
  std::memcpy(bigger.get(), data_.get(), used_);
  data_ = std::move(bigger);
  capacity_ = capacity;
}

void OutputBuffer::append_slow(const char* p, std::size_t n) {
  if (deliver_) {
    make_room(n);
    std::memcpy(data_.get() + used_, p, n);
    used_ += n;
    return;
  }
  flush();
  if (n >= capacity_) {
    write_all(p, n);
    return;
  }
  std::memcpy(data_.get(), p, n);
  used_ = n;
}

bool OutputBuffer::write_all(const char* p, std::size_t n) {
  if (failed() || fd_ < 0) return !failed();
  while (n > 0) {
    ssize_t written = ::write(fd_, p, n);
    if (written < 0) {
      if (errno == EINTR) continue;
      error_ = std::strerror(errno);
      return false;
    }
    if (tracking_checksum_) checksum_ = crc32c_extend(checksum_, p, static_cast<std::size_t>(written));
    p += written;
    n -= static_cast<std::size_t>(written);
    written_ += static_cast<uint64_t>(written);
  }
  return true;
}

bool OutputBuffer::flush() {
  std::size_t n = used_;
  used_ = 0;
  if (!deliver_) return write_all(data_.get(), n);
  if (failed()) return false;
  if (n > 0 && !deliver_(data_.get(), n, error_)) {
    if (error_.empty()) error_ = "the output failed";
    return false;
  }
  written_ += n;
  return true;
}

bool OutputBuffer::close() {
  bool ok = flush();
  if (owns_fd_ && fd_ >= 0) {
    if (::close(fd_) != 0 && ok) {
      error_ = std::strerror(errno);
      ok = false;
    }
  }
  fd_ = -1;
  owns_fd_ = false;
  return ok;
}

}  // namespace flow

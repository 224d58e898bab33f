// OutputBuffer: a large write buffer in front of a file descriptor (write(2) in big blocks).
// Errors are sticky: after the first failed write everything is discarded and error() says why.
#pragma once

#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace flow {

class OutputBuffer {
 public:
  static constexpr std::size_t kDefaultCapacity = 1 << 20;

  explicit OutputBuffer(std::size_t capacity = kDefaultCapacity);
  ~OutputBuffer();
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;

  // Creates or truncates `path`; false with `error` set (strerror text) on failure. Closes
  // the file written before, if any, and counts bytes (and the checksum) from zero again.
  bool open_file(const std::string& path, std::string& error);
  // Writes to an already open descriptor (1 for stdout), which close() leaves open.
  void use_fd(int fd);
  // Reopens `path` as a checkpoint left it: cut to its first `length` bytes, writing after
  // them (a restore: what came after the checkpoint is written again). A missing file, or one
  // shorter than `length`, is an error: the output the checkpoint counted is gone.
  bool resume_file(const std::string& path, uint64_t length, std::string& error);
  // Bytes handed to the file so far (its length, for a file this buffer created or resumed).
  uint64_t bytes_written() const { return written_; }
  // With checksum tracking on, the CRC-32C of the bytes counted by bytes_written(): a staged
  // sink file is verified with it before it is committed (io/file_transaction.h).
  void track_checksum() { tracking_checksum_ = true; }
  uint32_t checksum() const { return checksum_; }
  // Flushes, then makes what was written durable (a file; nothing for stdout). False on error.
  bool sync();

  // Hands whole records to `deliver` instead of writing to a descriptor (a sink of a parallel
  // instance, io/shared_output.h): the buffer grows rather than flush within a record, and
  // record_end() delivers once `at_least` bytes are buffered. `deliver` returns false with the
  // reason in its last argument when the output failed.
  using Delivery = std::function<bool(const char*, std::size_t, std::string&)>;
  void deliver_to(Delivery deliver, std::size_t at_least) {
    deliver_ = std::move(deliver);
    deliver_at_ = at_least;
  }
  void record_end() {
    if (deliver_ && used_ >= deliver_at_) flush();
  }

  void put(char c) {
    if (used_ == capacity_) make_room(1);
    data_[used_++] = c;
  }
  void append(const char* p, std::size_t n) {
    if (n <= capacity_ - used_) {
      std::memcpy(data_.get() + used_, p, n);
      used_ += n;
      return;
    }
    append_slow(p, n);
  }
  void append(std::string_view s) { append(s.data(), s.size()); }

  // Writes out everything buffered; false if this or an earlier write failed.
  bool flush();
  // Flushes and closes an owned descriptor.
  bool close();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  void append_slow(const char* p, std::size_t n);
  void make_room(std::size_t n);
  bool write_all(const char* p, std::size_t n);

  std::unique_ptr<char[]> data_;
  std::size_t capacity_;
  std::size_t used_ = 0;
  int fd_ = -1;
  bool owns_fd_ = false;
  uint64_t written_ = 0;
  bool tracking_checksum_ = false;
  uint32_t checksum_ = 0;
  std::string error_;
  Delivery deliver_;
  std::size_t deliver_at_ = 0;
};

}  // namespace flow

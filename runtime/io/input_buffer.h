// InputBuffer: reads a file in large chunks into one buffer, keeping the unconsumed tail
// (a record that straddles two chunks) at the front when it refills, and growing only when a
// single record is larger than the buffer. Memory stays bounded by the largest record. Reads
// end at offsets that are multiples of half a chunk, so where the buffer ends depends on the
// file alone, not on where reading began (a resumed source batches as the first run did).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace flow {

class InputBuffer {
 public:
  static constexpr std::size_t kDefaultChunk = 4 << 20;
  // Readable bytes kept after the data (simdjson reads up to 64 bytes past a document).
  static constexpr std::size_t kPadding = 64;

  explicit InputBuffer(std::size_t chunk_size = kDefaultChunk);
  ~InputBuffer();
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  // Opens `path`; on failure returns false with `error` set to the reason (strerror text).
  bool open(const std::string& path, std::string& error);
  // Reads from an already open descriptor (tests, stdin); the buffer does not close it.
  void adopt(int fd);

  // The bytes read but not consumed yet.
  const char* data() const { return buffer_.get() + begin_; }
  std::size_t size() const { return end_ - begin_; }
  bool at_eof() const { return eof_; }
  // Bytes of capacity after data(), padding included (for simdjson).
  std::size_t capacity_after(const char* p) const {
    return static_cast<std::size_t>(buffer_.get() + capacity_ + kPadding - p);
  }
  void consume(std::size_t n) { begin_ += n; }

  // Moves the unconsumed bytes to the front and reads one more chunk (growing the buffer if the
  // unconsumed bytes already fill it). Invalidates pointers into the buffer. Returns false on a
  // read error (then `error` holds the reason); at end of file sets at_eof().
  bool fill(std::string& error);
  // How many times fill() has run: pointers into the buffer from an earlier count are stale.
  uint64_t fills() const { return fills_; }
  // The file offset of data(): where the unconsumed bytes start.
  uint64_t position() const { return read_total_ - size(); }
  // Drops what is buffered and continues reading at file offset `offset` (an opened file, not
  // a pipe). False with `error` set when the file cannot seek there.
  bool seek(uint64_t offset, std::string& error);
  // Reading stops at file offset `end` as if the file ended there (one instance's part of a
  // split input, io/input_split.h).
  // Bytes already buffered past it are dropped.
  void limit(uint64_t end);
  // The line breaks in the file before `offset`, read with pread (the position stays); -1
  // when the file cannot be read.
  int64_t line_breaks_before(uint64_t offset) const;

 private:
  std::size_t chunk_size_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  int fd_ = -1;
  bool owns_fd_ = false;
  bool eof_ = false;
  uint64_t fills_ = 0;
  uint64_t read_total_ = 0;  // the file offset just past the bytes read
  uint64_t limit_ = UINT64_MAX;
};

}  // namespace flow

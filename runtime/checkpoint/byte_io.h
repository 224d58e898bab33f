// Little-endian byte strings for snapshots: a writer that appends fixed-width numbers and
// length-prefixed bytes, and a reader that checks every length against what is left, so
// damaged input is an error, never a read past the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace flow {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void bytes(std::string_view b) {
    u64(b.size());
    out_.append(b);
  }
  void raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }

 private:
  std::string& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool raw(void* p, std::size_t n) {
    if (in_.size() - at_ < n) return false;
    std::memcpy(p, in_.data() + at_, n);
    at_ += n;
    return true;
  }
  template <typename T>
  bool number(T& v) {
    return raw(&v, sizeof v);
  }
  bool view(std::size_t n, std::string_view& v) {
    if (in_.size() - at_ < n) return false;
    v = in_.substr(at_, n);
    at_ += n;
    return true;
  }
  bool bytes(std::string_view& v) {
    uint64_t n = 0;
    return number(n) && n <= in_.size() - at_ && view(static_cast<std::size_t>(n), v);
  }
  // Reads the magic bytes a snapshot starts with: false unless they are `magic`.
  bool expect(std::string_view magic) {
    std::string_view seen;
    return view(magic.size(), seen) && seen == magic;
  }
  bool done() const { return at_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t at_ = 0;
};

}  // namespace flow

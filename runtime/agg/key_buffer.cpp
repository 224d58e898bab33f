// The flow_key_* functions: memcomparable key encoding (see key_buffer.h for the format).
#include "agg/key_buffer.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace flow {

void append_key_u64(std::vector<uint8_t>& out, uint64_t bits) {
  uint64_t big_endian = __builtin_bswap64(bits);
  std::size_t at = out.size();
  out.resize(at + 8);
  std::memcpy(out.data() + at, &big_endian, 8);
}

}  // namespace flow

extern "C" {

void flow_key_reset(flow_key_buf* k) { k->bytes.clear(); }

const uint8_t* flow_key_data(flow_key_buf* k, int64_t* len) {
  *len = static_cast<int64_t>(k->bytes.size());
  return k->bytes.data();
}

void flow_key_null(flow_key_buf* k) { k->bytes.push_back(0); }

void flow_key_present(flow_key_buf* k) { k->bytes.push_back(1); }

void flow_key_bool(flow_key_buf* k, int32_t v) { k->bytes.push_back(v ? 1 : 0); }

void flow_key_i64(flow_key_buf* k, int64_t v) {
  flow::append_key_u64(k->bytes, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}

void flow_key_f64(flow_key_buf* k, double v) {
  if (v == 0.0) v = 0.0;  // -0.0 and 0.0 are one key
  if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits = (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
  flow::append_key_u64(k->bytes, bits);
}

void flow_key_str(flow_key_buf* k, const char* p, int64_t len) {
  std::vector<uint8_t>& out = k->bytes;
  const char* end = p + len;
  while (p < end) {
    const void* zero = std::memchr(p, 0, static_cast<std::size_t>(end - p));
    const char* stop = zero ? static_cast<const char*>(zero) : end;
    out.insert(out.end(), p, stop);
    if (!zero) break;
    out.push_back(0x00);
    out.push_back(0xFF);
    p = stop + 1;
  }
  out.push_back(0x00);
  out.push_back(0x00);
}

}  // extern "C"

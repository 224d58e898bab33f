// String built-ins: concatenation, case mapping, code-point length and substr, comparisons.
#include <algorithm>
#include <cstring>
#include <string_view>

#include "core/arena.h"
#include "core/utf8.h"
#include "flow/abi.h"

namespace {

// Case pairs handled beyond ASCII: Latin-1, Greek and Cyrillic capitals, whose lower-case
// forms have the same UTF-8 length. (Full Unicode case mapping would need ICU.)
uint32_t to_lower_code_point(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0x80) return cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  return cp;
}

uint32_t to_upper_code_point(uint32_t cp) {
  if (cp >= 'a' && cp <= 'z') return cp - 32;
  if (cp < 0x80) return cp;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 0x20;
  if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2) return cp - 0x20;
  if (cp >= 0x430 && cp <= 0x44F) return cp - 0x20;
  if (cp >= 0x450 && cp <= 0x45F) return cp - 0x50;
  return cp;
}

template <class MapFn>
void map_case(flow_ctx* ctx, const char* p, int64_t len, flow_str* out, MapFn map) {
  char* dst = flow::call_arena(ctx).allocate(static_cast<std::size_t>(len));
  auto* s = reinterpret_cast<const unsigned char*>(p);
  auto* end = s + len;
  char* d = dst;
  while (s < end) {
    if (*s < 0x80) {
      *d++ = static_cast<char>(map(*s));
      ++s;
      continue;
    }
    int size;
    uint32_t cp = flow::decode_utf8(s, end, &size);
    uint32_t mapped = cp == 0xFFFD ? cp : map(cp);
    if (mapped != cp && size == 2) {
      flow::encode_utf8(mapped, d);  // both forms are two bytes long (see the tables above)
    } else {
      std::memcpy(d, s, static_cast<std::size_t>(size));
    }
    d += size;
    s += size;
  }
  out->ptr = dst;
  out->len = len;
}

// Byte offset of code point `index` (or len when the string is shorter).
int64_t byte_offset_of(const char* p, int64_t len, int64_t index) {
  int64_t offset = 0;
  for (int64_t seen = 0; offset < len; ++offset) {
    if (flow::is_utf8_continuation(static_cast<unsigned char>(p[offset]))) continue;
    if (seen == index) return offset;
    ++seen;
  }
  return len;
}

}  // namespace

extern "C" {

void flow_str_concat(flow_ctx* ctx, const char* a, int64_t alen, const char* b, int64_t blen, flow_str* out) {
  char* dst = flow::call_arena(ctx).allocate(static_cast<std::size_t>(alen + blen));
  if (alen) std::memcpy(dst, a, static_cast<std::size_t>(alen));
  if (blen) std::memcpy(dst + alen, b, static_cast<std::size_t>(blen));
  out->ptr = dst;
  out->len = alen + blen;
}

void flow_str_lower(flow_ctx* ctx, const char* p, int64_t len, flow_str* out) {
  map_case(ctx, p, len, out, to_lower_code_point);
}

void flow_str_upper(flow_ctx* ctx, const char* p, int64_t len, flow_str* out) {
  map_case(ctx, p, len, out, to_upper_code_point);
}

int64_t flow_str_len(const char* p, int64_t len) {
  int64_t count = 0;
  for (int64_t i = 0; i < len; ++i) count += !flow::is_utf8_continuation(static_cast<unsigned char>(p[i]));
  return count;
}

void flow_str_substr(const char* p, int64_t len, int64_t start, int64_t count, flow_str* out) {
  if (start < 0) start = 0;
  int64_t begin = byte_offset_of(p, len, start);
  int64_t end = len;
  if (count >= 0) end = begin + byte_offset_of(p + begin, len - begin, count);
  out->ptr = p + begin;
  out->len = end - begin;
}

int32_t flow_str_contains(const char* p, int64_t len, const char* q, int64_t qlen) {
  return std::string_view(p, static_cast<std::size_t>(len))
             .find(std::string_view(q, static_cast<std::size_t>(qlen))) != std::string_view::npos;
}

int32_t flow_str_starts_with(const char* p, int64_t len, const char* q, int64_t qlen) {
  return qlen <= len && (qlen == 0 || std::memcmp(p, q, static_cast<std::size_t>(qlen)) == 0);
}

int32_t flow_str_equal(const char* p, int64_t len, const char* q, int64_t qlen) {
  return len == qlen && (len == 0 || std::memcmp(p, q, static_cast<std::size_t>(len)) == 0);
}

int32_t flow_str_compare(const char* p, int64_t len, const char* q, int64_t qlen) {
  int64_t common = std::min(len, qlen);
  int c = common == 0 ? 0 : std::memcmp(p, q, static_cast<std::size_t>(common));
  if (c != 0) return c < 0 ? -1 : 1;
  return len < qlen ? -1 : (len > qlen ? 1 : 0);
}

}  // extern "C"

// split_words(s): the maximal runs of word characters, as a list of views into `s`.
// Word characters are ASCII letters and digits and non-ASCII letters. Without Unicode tables
// "letter" is approximated: every non-ASCII code point counts except the known blocks of
// spaces, punctuation, symbols and emoji listed in is_non_letter_block.
#include <vector>

#include "core/arena.h"
#include "core/utf8.h"
#include "flow/abi.h"

namespace {

bool is_non_letter_block(uint32_t cp) {
  if (cp >= 0x80 && cp <= 0xBF) return cp != 0xAA && cp != 0xB5 && cp != 0xBA;  // Latin-1 punctuation
  if (cp == 0xD7 || cp == 0xF7) return true;      // multiplication and division signs
  if (cp >= 0x2000 && cp <= 0x2BFF) return true;  // punctuation, symbols, arrows, math, shapes
  if (cp >= 0x3000 && cp <= 0x303F) return true;  // CJK punctuation, ideographic space
  if (cp >= 0xE000 && cp <= 0xF8FF) return true;  // private use
  if (cp >= 0xFE10 && cp <= 0xFE6F) return true;  // vertical and small form punctuation
  if (cp >= 0xFF00 && cp <= 0xFF0F) return true;  // full-width punctuation
  if (cp >= 0xFFF0) return cp <= 0xFFFF || (cp >= 0x1F000 && cp <= 0x1FBFF);  // specials, emoji
  return false;
}

bool is_ascii_word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

extern "C" void flow_split_words(flow_ctx* ctx, const char* p, int64_t len, flow_list* out) {
  auto* s = reinterpret_cast<const unsigned char*>(p);
  auto* end = s + len;
  // Words are collected first so that the list is one contiguous arena allocation.
  thread_local std::vector<flow_str> words;
  words.clear();
  const unsigned char* word_start = nullptr;
  while (s < end) {
    int size = 1;
    bool word_char;
    if (*s < 0x80) {
      word_char = is_ascii_word_byte(*s);
    } else {
      uint32_t cp = flow::decode_utf8(s, end, &size);
      word_char = cp != 0xFFFD && !is_non_letter_block(cp);
    }
    if (word_char && !word_start) word_start = s;
    if (!word_char && word_start) {
      words.push_back(flow_str{reinterpret_cast<const char*>(word_start), s - word_start});
      word_start = nullptr;
    }
    s += size;
  }
  if (word_start) words.push_back(flow_str{reinterpret_cast<const char*>(word_start), end - word_start});
  std::size_t bytes = words.size() * sizeof(flow_str);
  auto* data = reinterpret_cast<flow_str*>(flow::call_arena(ctx).allocate(bytes, alignof(flow_str)));
  for (std::size_t i = 0; i < words.size(); ++i) data[i] = words[i];
  out->data = data;
  out->len = static_cast<int64_t>(words.size());
}

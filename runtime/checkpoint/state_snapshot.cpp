// Byte layout of a state snapshot (state_snapshot.h), little-endian:
//   magic "FLOWROWS" or "FLOWRECS", u32 version, u64 row size, u64 entries, then per entry:
//   i64 namespace, u32 key length, key, the row's bytes, then for each string slot its bytes
//   (u64 length + bytes) and, rows only, for each set slot: u8 present, u64 numbers + i64 each,
//   u64 strings + (u64 length + bytes) each.
#include "checkpoint/state_snapshot.h"

#include <cstring>

#include "agg/agg_table.h"
#include "checkpoint/byte_io.h"

namespace flow {
namespace {

constexpr uint32_t kVersion = 1;

using Writer = ByteWriter;
using Reader = ByteReader;

flow_str string_at(const uint8_t* row, int64_t offset) {
  flow_str s;
  std::memcpy(&s, row + offset, sizeof s);
  return s;
}

void write_header(Writer& w, const char* magic, int64_t row_size, uint64_t entries) {
  w.raw(magic, 8);
  w.u32(kVersion);
  w.u64(static_cast<uint64_t>(row_size));
  w.u64(entries);
}

bool read_header(Reader& r, const char* magic, int64_t row_size, uint64_t& entries, std::string& error) {
  uint32_t version = 0;
  uint64_t size = 0;
  if (!r.expect(std::string_view(magic, 8))) return error = "not a state snapshot", false;
  if (!r.number(version) || version != kVersion) return error = "unknown state snapshot version", false;
  if (!r.number(size) || !r.number(entries)) return error = "truncated state snapshot", false;
  if (static_cast<int64_t>(size) != row_size)
    return error = "state snapshot rows have " + std::to_string(size) + " bytes, the table's " + std::to_string(row_size), false;
  return true;
}

bool layout_fits(const RowLayout& layout, int64_t row_size, std::string& error) {
  for (int64_t at : layout.strings)
    if (at < 0 || at + static_cast<int64_t>(sizeof(flow_str)) > row_size) return error = "a string slot outside the row", false;
  for (int64_t at : layout.sets)
    if (at < 0 || at + static_cast<int64_t>(sizeof(void*)) > row_size) return error = "a set slot outside the row", false;
  return true;
}

void write_strings(Writer& w, const uint8_t* row, const RowLayout& layout) {
  for (int64_t at : layout.strings) {
    flow_str s = string_at(row, at);
    w.bytes(std::string_view(s.ptr ? s.ptr : "", static_cast<std::size_t>(s.len)));
  }
}

// Reads the strings of a row, copying each with `keep` and patching the slot.
template <typename Keep>
bool read_strings(Reader& r, uint8_t* row, const RowLayout& layout, Keep&& keep) {
  for (int64_t at : layout.strings) {
    std::string_view text;
    if (!r.bytes(text)) return false;
    flow_str s = keep(text);
    std::memcpy(row + at, &s, sizeof s);
  }
  return true;
}

// A row's bytes and what its pointer slots point to.
void write_row_value(Writer& w, const uint8_t* row, std::size_t row_size, const RowLayout& layout) {
  w.raw(row, row_size);
  write_strings(w, row, layout);
  for (int64_t at : layout.sets) {
    const flow_distinct_set* set;
    std::memcpy(&set, row + at, sizeof set);
    w.u8(set ? 1 : 0);
    if (!set) continue;
    std::vector<int64_t> numbers;
    std::vector<std::string_view> strings;
    set->for_each_i64([&](int64_t v) { numbers.push_back(v); });
    set->for_each_str([&](std::string_view s) { strings.push_back(s); });
    w.u64(numbers.size());
    for (int64_t v : numbers) w.i64(v);
    w.u64(strings.size());
    for (std::string_view s : strings) w.bytes(s);
  }
}

// One row: its namespace, key, and value.
void write_row(Writer& w, int64_t ns, std::string_view key, const uint8_t* row, std::size_t row_size, const RowLayout& layout) {
  w.i64(ns);
  w.u32(static_cast<uint32_t>(key.size()));
  w.raw(key.data(), key.size());
  write_row_value(w, row, row_size, layout);
}

// Reads a row's value (write_row_value) into `row` of `rows`.
bool read_row_value(Reader& r, uint8_t* row, std::size_t row_size, const RowLayout& layout, flow_agg_table& rows, std::string& error) {
  std::string_view bytes;
  if (!r.view(row_size, bytes)) return error = "truncated state snapshot", false;
  std::memcpy(row, bytes.data(), row_size);
  bool ok = read_strings(r, row, layout, [&](std::string_view text) {
    std::string_view copy = rows.storage().copy(text.data(), text.size());
    return flow_str{copy.data(), static_cast<int64_t>(copy.size())};
  });
  if (!ok) return error = "truncated state snapshot", false;
  for (int64_t at : layout.sets) {
    uint8_t present = 0;
    if (!r.number(present)) return error = "truncated state snapshot", false;
    flow_distinct_set* set = present ? rows.new_distinct_set() : nullptr;
    std::memcpy(row + at, &set, sizeof set);
    if (!set) continue;
    uint64_t numbers = 0, strings = 0;
    if (!r.number(numbers)) return error = "truncated state snapshot", false;
    for (uint64_t i = 0; i < numbers; ++i) {
      int64_t v = 0;
      if (!r.number(v)) return error = "truncated state snapshot", false;
      set->add_i64(v);
    }
    if (!r.number(strings)) return error = "truncated state snapshot", false;
    for (uint64_t i = 0; i < strings; ++i) {
      std::string_view text;
      if (!r.bytes(text)) return error = "truncated state snapshot", false;
      set->add_str(text.data(), text.size());
    }
  }
  return true;
}

// Reads one row into the table `rows_of(namespace)` gives.
// `replace`: a delta, whose rows replace those already there.
template <typename RowsOf>
bool read_row(Reader& r, std::size_t row_size, const RowLayout& layout, RowsOf&& rows_of, bool replace, std::string& error) {
  int64_t ns = 0;
  uint32_t key_len = 0;
  std::string_view key;
  if (!r.number(ns) || !r.number(key_len) || !r.view(key_len, key)) return error = "truncated state snapshot", false;
  flow_agg_table& rows = rows_of(ns);
  int32_t is_new = 0;
  uint8_t* row = rows.upsert(reinterpret_cast<const uint8_t*>(key.data()), key.size(), &is_new);
  if (!is_new && !replace) return error = "a key appears twice in a state snapshot", false;
  return read_row_value(r, row, row_size, layout, rows, error);
}

template <typename RowsOf>
bool read_rows(std::string_view snapshot, const char* magic, int64_t row_size, const RowLayout& layout, RowsOf&& rows_of,
               std::string& error, bool replace = false) {
  Reader r(snapshot);
  uint64_t entries = 0;
  if (!read_header(r, magic, row_size, entries, error) || !layout_fits(layout, row_size, error)) return false;
  for (uint64_t e = 0; e < entries; ++e)
    if (!read_row(r, static_cast<std::size_t>(row_size), layout, rows_of, replace, error)) return false;
  if (!r.done()) return error = "trailing bytes after a state snapshot", false;
  return true;
}

}  // namespace

void snapshot_rows(const StateTable& table, const RowLayout& layout, std::string& out) {
  Writer w(out);
  uint64_t entries = 0;
  table.for_each([&](std::string_view, const uint8_t*) { ++entries; });
  write_header(w, "FLOWROWS", table.row_size(), entries);
  table.for_each([&](std::string_view address, const uint8_t* row) {
    // address = key group (2 bytes), key, namespace (8 bytes, big-endian, sign bit flipped)
    std::string_view key = address.substr(2, address.size() - 10);
    uint64_t ns = 0;
    for (std::size_t i = address.size() - 8; i < address.size(); ++i) ns = ns << 8 | static_cast<uint8_t>(address[i]);
    write_row(w, static_cast<int64_t>(ns ^ (uint64_t{1} << 63)), key, row, static_cast<std::size_t>(table.row_size()), layout);
  });
}

bool restore_rows(std::string_view snapshot, const RowLayout& layout, StateTable& table, std::string& error) {
  return read_rows(snapshot, "FLOWROWS", table.row_size(), layout, [&](int64_t ns) -> flow_agg_table& { return table.rows(ns); },
                   error);
}

void snapshot_agg_table(const flow_agg_table& table, const RowLayout& layout, std::string& out) {
  Writer w(out);
  write_header(w, "FLOWAGGS", table.row_size(), table.size());
  table.for_each_entry([&](std::string_view key, const uint8_t* row) {
    write_row(w, 0, key, row, static_cast<std::size_t>(table.row_size()), layout);
  });
}

bool restore_agg_table(std::string_view snapshot, const RowLayout& layout, flow_agg_table& table, std::string& error) {
  return read_rows(snapshot, "FLOWAGGS", table.row_size(), layout, [&](int64_t) -> flow_agg_table& { return table; }, error);
}

void snapshot_agg_changes(const flow_agg_table& table, const RowLayout& layout, std::string& out) {
  Writer w(out);
  write_header(w, "FLOWAGGD", table.row_size(), table.changed());
  table.for_each_changed([&](std::string_view key, const uint8_t* row) {
    write_row(w, 0, key, row, static_cast<std::size_t>(table.row_size()), layout);
  });
}

bool apply_agg_changes(std::string_view delta, const RowLayout& layout, flow_agg_table& table, std::string& error) {
  return read_rows(delta, "FLOWAGGD", table.row_size(), layout, [&](int64_t) -> flow_agg_table& { return table; }, error, true);
}

void snapshot_records(const ListStateTable& table, const RowLayout& layout, std::string& out) {
  Writer w(out);
  write_header(w, "FLOWRECS", table.record_size(), table.size());
  for (int64_t ns : table.namespace_ids())
    table.for_each_key(ns, [&](std::string_view key, ListStateTable::Records records) {
      uint8_t* at = records.first;
      for (int64_t i = 0; i < records.count; ++i, at = ListStateTable::next(at)) {
        w.i64(ns);
        w.u32(static_cast<uint32_t>(key.size()));
        w.raw(key.data(), key.size());
        w.raw(at, static_cast<std::size_t>(table.record_size()));
        write_strings(w, at, layout);
      }
    });
}

bool restore_records(std::string_view snapshot, const RowLayout& layout, ListStateTable& table, std::string& error) {
  Reader r(snapshot);
  uint64_t entries = 0;
  if (!read_header(r, "FLOWRECS", table.record_size(), entries, error) || !layout_fits(layout, table.record_size(), error))
    return false;
  if (!layout.sets.empty()) return error = "records hold no sets", false;
  const auto size = static_cast<std::size_t>(table.record_size());
  for (uint64_t e = 0; e < entries; ++e) {
    int64_t ns = 0;
    uint32_t key_len = 0;
    std::string_view key, bytes;
    if (!r.number(ns) || !r.number(key_len) || !r.view(key_len, key) || !r.view(size, bytes))
      return error = "truncated state snapshot", false;
    uint8_t* record = table.append(ns, key);
    std::memcpy(record, bytes.data(), size);
    bool ok = read_strings(r, record, layout, [&](std::string_view text) {
      return table.copy_string(ns, text.data(), static_cast<int64_t>(text.size()));
    });
    if (!ok) return error = "truncated state snapshot", false;
  }
  if (!r.done()) return error = "trailing bytes after a state snapshot", false;
  return true;
}

void encode_row_value(const uint8_t* row, int64_t row_size, const RowLayout& layout, std::string& out) {
  Writer w(out);
  write_row_value(w, row, static_cast<std::size_t>(row_size), layout);
}

bool decode_row_value(std::string_view value, const RowLayout& layout, flow_agg_table& rows, std::string_view key, std::string& error) {
  if (!layout_fits(layout, rows.row_size(), error)) return false;
  Reader r(value);
  int32_t is_new = 0;
  uint8_t* row = rows.upsert(reinterpret_cast<const uint8_t*>(key.data()), key.size(), &is_new);
  if (!read_row_value(r, row, static_cast<std::size_t>(rows.row_size()), layout, rows, error)) return false;
  if (!r.done()) return error = "trailing bytes after a state row", false;
  return true;
}

void encode_record_value(const uint8_t* record, int64_t size, const RowLayout& layout, std::string& out) {
  Writer w(out);
  w.raw(record, static_cast<std::size_t>(size));
  write_strings(w, record, layout);
}

bool decode_record_value(std::string_view value, const RowLayout& layout, ListStateTable& table, int64_t ns, std::string_view key,
                         std::string& error) {
  if (!layout_fits(layout, table.record_size(), error)) return false;
  Reader r(value);
  std::string_view bytes;
  const auto size = static_cast<std::size_t>(table.record_size());
  if (!r.view(size, bytes)) return error = "truncated state record", false;
  uint8_t* record = table.append(ns, key);
  std::memcpy(record, bytes.data(), size);
  bool ok = read_strings(r, record, layout, [&](std::string_view text) {
    return table.copy_string(ns, text.data(), static_cast<int64_t>(text.size()));
  });
  if (!ok || !r.done()) return error = "damaged state record", false;
  return true;
}

}  // namespace flow

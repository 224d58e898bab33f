// Change-tracking tables: what a checkpoint of either backend writes, and how it is read back.
#include "state/tracked_tables.h"

#include "checkpoint/state_snapshot.h"

namespace flow {

namespace {

std::string with_index(std::string address, uint32_t index) {
  for (int shift = 24; shift >= 0; shift -= 8) address += static_cast<char>((index >> shift) & 0xFF);
  return address;
}

// Splits an address into key and namespace; false when it is too short to be one.
bool split_address(std::string_view address, std::size_t suffix, std::string_view& key, int64_t& name_space) {
  if (address.size() < 2 + 8 + suffix) return false;
  key = address.substr(2, address.size() - 10 - suffix);
  uint64_t ns = 0;
  for (std::size_t i = address.size() - 8 - suffix; i < address.size() - suffix; ++i) ns = ns << 8 | static_cast<uint8_t>(address[i]);
  name_space = static_cast<int64_t>(ns ^ (uint64_t{1} << 63));
  return true;
}

}  // namespace

// ------------------------------------------------------------------ rows

flow_agg_table& TrackedStateTable::live_rows(int64_t ns) {
  if (flow_agg_table* rows = heap_.find_rows(ns)) return *rows;
  flow_agg_table& rows = heap_.rows(ns);
  rows.track_changes();
  live_.insert(ns);
  return rows;
}

flow_agg_table* TrackedStateTable::find_rows(int64_t ns) {
  flow_agg_table* rows = heap_.find_rows(ns);
  if (rows) log_.touch(ns);
  return rows;
}

void TrackedStateTable::drop(int64_t ns) {
  if (log_.stored.erase(ns) > 0)
    if (flow_agg_table* rows = heap_.find_rows(ns))
      rows->for_each_entry([&](std::string_view key, const uint8_t*) { log_.erased.push_back(encode_state_key(layout_.key_group(key), key, ns)); });
  log_.forget(ns);
  live_.erase(ns);
  heap_.drop(ns);
}

void TrackedStateTable::put_row(ChangeSink& sink, int64_t ns, std::string_view key, const uint8_t* row, std::string& value) const {
  value.clear();
  encode_row_value(row, heap_.row_size(), layout_, value);
  sink.put(encode_state_key(layout_.key_group(key), key, ns), value);
}

void TrackedStateTable::write_changes(ChangeSink& sink, bool everything) {
  if (!everything)
    for (const std::string& address : log_.erased) sink.erase(address);
  log_.erased.clear();
  std::string value;
  for (int64_t ns : live_) {
    flow_agg_table* rows = heap_.find_rows(ns);
    if (!rows) continue;
    auto put = [&](std::string_view key, const uint8_t* row) { put_row(sink, ns, key, row, value); };
    if (everything || log_.touched.count(ns)) rows->for_each_entry(put);
    else rows->for_each_changed(put);
    rows->clear_changes();
    log_.stored.insert(ns);
  }
  log_.reset();
}

void TrackedStateTable::write_all(ChangeSink& sink) const {
  std::string value;
  for (int64_t ns : live_)
    if (const flow_agg_table* rows = heap_.find_rows(ns))
      rows->for_each_entry([&](std::string_view key, const uint8_t* row) { put_row(sink, ns, key, row, value); });
}

bool TrackedStateTable::load(StoredRows& stored, std::string& error) {
  std::string_view address, value, key;
  while (stored.next(address, value)) {
    int64_t ns = 0;
    if (!split_address(address, 0, key, ns)) return error = "a row address is too short", false;
    flow_agg_table& rows = live_rows(ns);
    if (!decode_row_value(value, layout_, rows, key, error)) return false;
    if (log_.tracking) log_.stored.insert(ns);
  }
  for (int64_t ns : live_)
    if (flow_agg_table* rows = heap_.find_rows(ns)) rows->clear_changes();  // as stored
  return true;
}

// ------------------------------------------------------------------ lists

void TrackedListStateTable::drop(int64_t ns) {
  if (log_.stored.erase(ns) > 0)
    heap_.for_each_key(ns, [&](std::string_view key, Records records) {
      std::string address = encode_state_key(key_group_of(key), key, ns);
      for (int64_t i = 0; i < records.count; ++i) log_.erased.push_back(with_index(address, static_cast<uint32_t>(i)));
    });
  log_.forget(ns);
  heap_.drop(ns);
}

// Records are only ever appended, so writing a namespace's records again under the same
// indexes is idempotent.
void TrackedListStateTable::put_namespace(ChangeSink& sink, int64_t ns, std::string& value) const {
  heap_.for_each_key(ns, [&](std::string_view key, Records records) {
    std::string address = encode_state_key(key_group_of(key), key, ns);
    uint8_t* at = records.first;
    for (int64_t i = 0; i < records.count; ++i, at = next(at)) {
      value.clear();
      encode_record_value(at, heap_.record_size(), layout_, value);
      sink.put(with_index(address, static_cast<uint32_t>(i)), value);
    }
  });
}

void TrackedListStateTable::write_changes(ChangeSink& sink, bool everything) {
  if (!everything)
    for (const std::string& address : log_.erased) sink.erase(address);
  log_.erased.clear();
  std::string value;
  if (everything) {
    for (int64_t ns : heap_.namespace_ids()) {
      put_namespace(sink, ns, value);
      log_.stored.insert(ns);
    }
  } else {
    for (int64_t ns : log_.touched) {
      put_namespace(sink, ns, value);
      log_.stored.insert(ns);
    }
  }
  log_.reset();
}

void TrackedListStateTable::write_all(ChangeSink& sink) const {
  std::string value;
  for (int64_t ns : heap_.namespace_ids()) put_namespace(sink, ns, value);
}

bool TrackedListStateTable::load(StoredRows& stored, std::string& error) {
  std::string_view address, value, key;
  while (stored.next(address, value)) {
    int64_t ns = 0;
    if (!split_address(address, 4, key, ns)) return error = "a record address is too short", false;
    if (!decode_record_value(value, layout_, heap_, ns, key, error)) return false;
    if (log_.tracking) log_.stored.insert(ns);
  }
  return true;
}

}  // namespace flow
